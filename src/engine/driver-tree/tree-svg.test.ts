import { describe, expect, test } from "bun:test";
import type { ChartFonts } from "@/engine/chart-render/svg";
import type { TreeRelationship } from "@/engine/driver-tree/graph";
import { formulaOf, treeOutline } from "@/engine/driver-tree/outline";
import { formatTreeValue, renderTreeSvg, type TreeImageModel } from "@/engine/driver-tree/tree-svg";

/* The export order (analysis.md §7.9) and the tree picture's layout, with stand-in font metrics. */

const metrics = {
  unitsPerEm: 1000,
  glyphId: () => 1,
  measure: (s: string, size: number) =>
    [...s].reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e80 ? 1 : 0.6), 0) * size,
};
const fonts: ChartFonts = { regular: metrics, bold: metrics };

const node = (
  id: string,
  nodeType: "calculation" | "input" | "constant" = "input",
  value: number | null = null,
) => ({
  id,
  label: id,
  nodeType,
  value,
});

describe("treeOutline / formulaOf", () => {
  const nodes = ["r", "a", "b", "c", "x", "y", "lone", "top", "under"].map((id) => node(id));
  const rels: TreeRelationship[] = [
    { parentId: "r", operator: "*", childIds: ["a", "b"] },
    { parentId: "a", operator: "+", childIds: ["x", "c"] },
    { parentId: "b", operator: "-", childIds: ["c", "y"] },
    { parentId: "top", operator: "/", childIds: ["under"] },
  ];

  test("depth-first from the root, children in order, each node once; detached parts last", () => {
    const o = treeOutline("r", nodes, rels);
    expect(o.map((e) => `${e.id}@${e.depth}`)).toEqual([
      "r@0",
      "a@1",
      "x@2",
      "c@2",
      "b@1",
      "y@2",
      "lone@0",
      "top@0",
      "under@1",
    ]);
    expect(o.find((e) => e.id === "c")).toMatchObject({ parentId: "a", detached: false });
    expect(o.find((e) => e.id === "under")).toMatchObject({ parentId: "top", detached: true });
  });

  test("an empty tree (no root) lists every node as detached", () => {
    expect(treeOutline(null, [node("p"), node("q")], []).map((e) => [e.id, e.detached])).toEqual([
      ["p", true],
      ["q", true],
    ]);
  });

  test("formulas: canonical operands, constants as numbers, quoted labels with operator characters", () => {
    const byId = new Map([
      ["s", { id: "s", label: "売上", nodeType: "calculation" as const }],
      ["u", { id: "u", label: "稼働部屋数", nodeType: "input" as const }],
      ["p", { id: "p", label: "単価", nodeType: "input" as const }],
      ["k", { id: "k", label: "1.1", nodeType: "constant" as const, value: 1.1 }],
      ["m", { id: "m", label: "粗利 - 販管費", nodeType: "calculation" as const }],
    ]);
    expect(formulaOf("s", byId, { parentId: "s", operator: "*", childIds: ["u", "p", "k"] })).toBe(
      "売上 = 稼働部屋数 * 単価 * 1.1",
    );
    expect(formulaOf("s", byId, { parentId: "s", operator: "-", childIds: ["m", "p"] })).toBe(
      "売上 = 「粗利 - 販管費」 - 単価",
    );
    expect(formulaOf("u", byId, undefined)).toBeNull();
  });
});

type Rect = { x: number; y: number; w: number; h: number };
/** The node boxes of a picture: the rounded rectangles (rx="6") that carry a fill. */
function boxes(svg: string): Rect[] {
  return [
    ...svg.matchAll(
      /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" rx="6" fill="#ffffff"/g,
    ),
  ].map((m) => ({ x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) }));
}
const overlap = (a: Rect, b: Rect) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

/** A tree of `n` nodes: a root with a few levels of calculation nodes, fan-out 3, plus one shared node. */
function bigTree(n: number): TreeImageModel {
  const nodes: TreeImageModel["nodes"] = [];
  const relationships: TreeRelationship[] = [];
  const ops = ["+", "*", "-", "/"] as const;
  for (let i = 0; i < n; i++) {
    const parent = i === 0 ? null : Math.floor((i - 1) / 3);
    nodes.push({
      id: `n${i}`,
      label: i === 0 ? "営業利益" : `ドライバー項目${i}`,
      nodeType: i * 3 + 1 < n ? "calculation" : "input",
      unit: i % 4 === 0 ? "円" : null,
      baseline: 1000 * (i + 1),
      simulated: 1000 * (i + 1) + (i % 5 === 0 ? 50 : 0),
      delta: i % 5 === 0 ? 50 : 0,
      policyCount: i % 5 === 0 ? 1 : 0,
    });
    if (parent !== null) {
      const rel = relationships.find((r) => r.parentId === `n${parent}`);
      if (rel) (rel.childIds as string[]).push(`n${i}`);
      else relationships.push({ parentId: `n${parent}`, operator: ops[parent % 4], childIds: [`n${i}`] });
    }
  }
  // A DAG edge: the last node is also a child of node 1.
  (relationships.find((r) => r.parentId === "n1")!.childIds as string[]).push(`n${n - 1}`);
  return {
    title: "30 ノードのツリー",
    subtitle: "期間 total",
    rootId: "n0",
    nodes,
    relationships,
    withPolicies: true,
  };
}

describe("renderTreeSvg", () => {
  test("a 30-node tree: one box per node, none overlapping, all inside the picture", () => {
    const image = renderTreeSvg(bigTree(30), fonts);
    const rects = boxes(image.svg);
    expect(rects).toHaveLength(30);
    for (let i = 0; i < rects.length; i++) {
      const a = rects[i];
      expect(a.x >= 0 && a.y >= 0 && a.x + a.w <= image.width && a.y + a.h <= image.height).toBe(true);
      for (let j = i + 1; j < rects.length; j++) expect(overlap(a, rects[j])).toBe(false);
    }
    // Operators sit on the links: one circle per relationship.
    expect(image.svg.match(/<circle [^>]*r="11"/g)).toHaveLength(10);
    expect(image.svg).toContain("stroke-dasharray"); // the shared node's second parent
    expect(image.svg).toContain("営業利益");
  });

  test("labels, units, values and markup are escaped and shown", () => {
    const image = renderTreeSvg(
      {
        title: "A & <B>",
        subtitle: "期間 2023",
        rootId: "s",
        withPolicies: true,
        nodes: [
          {
            id: "s",
            label: "売上",
            nodeType: "calculation",
            unit: "円",
            baseline: 48e6,
            simulated: 50.4e6,
            delta: 2.4e6,
            policyCount: 0,
          },
          {
            id: "p",
            label: "単価",
            nodeType: "input",
            unit: null,
            baseline: 10000,
            simulated: 10500,
            delta: 500,
            policyCount: 1,
          },
        ],
        relationships: [{ parentId: "s", operator: "*", childIds: ["p"] }],
      },
      fonts,
    );
    expect(image.svg).toContain("A &amp; &lt;B&gt;");
    expect(image.svg).toContain("基準 48,000,000");
    expect(image.svg).toContain("施策後 50,400,000");
    expect(image.svg).toContain("差分 +2,400,000 (+5.0%)");
    expect(image.svg).toContain(">×<");
    expect(image.svg).toContain("(円)");
  });

  test("an empty tree still draws its title", () => {
    const image = renderTreeSvg(
      { title: "空", subtitle: "", rootId: null, nodes: [], relationships: [], withPolicies: false },
      fonts,
    );
    expect(image.width).toBeGreaterThan(0);
    expect(boxes(image.svg)).toHaveLength(0);
  });

  test("value formatting", () => {
    expect([
      formatTreeValue(null),
      formatTreeValue(0.8),
      formatTreeValue(1234567.8),
      formatTreeValue(-2.34567),
    ]).toEqual(["—", "0.8", "1,234,568", "-2.35"]);
  });
});
