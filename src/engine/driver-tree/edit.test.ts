import { describe, expect, test } from "bun:test";
import { checkAppendChild, checkNodeEdit, type EditTree, planNodeDelete } from "@/engine/driver-tree/edit";
import { applyImportPlan, planImport, type TreeState } from "@/engine/driver-tree/import-plan";
import { templateFromTree, treeFromTemplate } from "@/engine/driver-tree/template";

/* analysis.md §7.4 editing rules and api.md §2.8 templates, at the engine level. */

let seq = 0;
const newId = () => `e${++seq}`;

function tree(formulas: string[]): TreeState {
  const empty: TreeState = { rootId: null, nodes: [], relationships: [] };
  const plan = planImport(empty, formulas, { newId, positionX: 100, positionY: 100 });
  if (!plan.ok) throw new Error(JSON.stringify(plan));
  return applyImportPlan(empty, plan);
}

const t: EditTree = tree(["売上 = 客数 * 客単価", "客単価 = 買上点数 * 商品単価"]);
const id = (label: string) => t.nodes.find((n) => n.label === label)?.id as string;

describe("checkNodeEdit", () => {
  test("scenario 18: 客数 → [売上] is a cycle named from the root", () => {
    expect(
      checkNodeEdit(t, id("客数"), { nodeType: "calculation", operator: "*", childIds: [id("売上")] }),
    ).toEqual({
      ok: false,
      code: "TREE_CYCLE",
      cycle: ["売上", "客数", "売上"],
    });
  });

  test("creates a relationship on a childless node (type change to calculation in the same edit)", () => {
    const r = checkNodeEdit(t, id("客数"), {
      nodeType: "calculation",
      operator: "+",
      childIds: [id("商品単価")],
    });
    expect(r).toEqual({
      ok: true,
      nodeType: "calculation",
      relationship: { parentId: id("客数"), operator: "+", childIds: [id("商品単価")] },
      changed: true,
    });
  });

  test("replaces the ordered child list; keeps the operator when none is given", () => {
    const r = checkNodeEdit(t, id("売上"), { childIds: [id("客単価"), id("客数")] });
    expect(r).toMatchObject({
      ok: true,
      relationship: { operator: "*", childIds: [id("客単価"), id("客数")] },
      changed: true,
    });
    expect(checkNodeEdit(t, id("売上"), { childIds: [id("客数"), id("客単価")] })).toMatchObject({
      ok: true,
      changed: false,
    });
  });

  test("[] removes the relationship", () => {
    expect(checkNodeEdit(t, id("客単価"), { childIds: [] })).toMatchObject({
      ok: true,
      relationship: null,
      changed: true,
    });
  });

  test("OPERATOR_REQUIRED, NODE_NOT_IN_TREE, duplicates, and children on a non-calculation node", () => {
    expect(checkNodeEdit(t, id("客数"), { nodeType: "calculation", childIds: [id("商品単価")] })).toEqual({
      ok: false,
      code: "OPERATOR_REQUIRED",
    });
    expect(checkNodeEdit(t, id("売上"), { childIds: ["elsewhere"] })).toEqual({
      ok: false,
      code: "NODE_NOT_IN_TREE",
      nodeIds: ["elsewhere"],
    });
    expect(checkNodeEdit(t, id("売上"), { childIds: [id("客数"), id("客数")] })).toMatchObject({
      code: "VALIDATION_FAILED",
    });
    expect(checkNodeEdit(t, id("客数"), { operator: "+", childIds: [id("商品単価")] })).toMatchObject({
      code: "VALIDATION_FAILED",
      field: "childrenIdList",
    });
    expect(checkNodeEdit(t, id("客単価"), { nodeType: "input" })).toMatchObject({
      code: "VALIDATION_FAILED",
      field: "nodeType",
    });
    expect(checkNodeEdit(t, id("客単価"), { nodeType: "input", childIds: [] })).toMatchObject({
      ok: true,
      nodeType: "input",
    });
  });

  test("a node listing itself is a cycle", () => {
    expect(checkNodeEdit(t, id("客単価"), { childIds: [id("客単価")] })).toMatchObject({
      code: "TREE_CYCLE",
    });
  });
});

describe("checkAppendChild and planNodeDelete", () => {
  test("append to an existing relationship, or create one with an operator", () => {
    expect(checkAppendChild(t, id("売上"), "new")).toMatchObject({
      ok: true,
      created: false,
      relationship: { operator: "*", childIds: [id("客数"), id("客単価"), "new"] },
    });
    expect(checkAppendChild(t, id("客数"), "new")).toMatchObject({
      code: "VALIDATION_FAILED",
      field: "parentId",
    });
    const lone: EditTree = {
      rootId: "r",
      nodes: [{ id: "r", label: "R", nodeType: "calculation" }],
      relationships: [],
    };
    expect(checkAppendChild(lone, "r", "x")).toEqual({ ok: false, code: "OPERATOR_REQUIRED" });
    expect(checkAppendChild(lone, "r", "x", "+")).toMatchObject({ ok: true, created: true });
  });

  test("delete: leaves parents' lists, emptied relationships go, the root is protected", () => {
    expect(planNodeDelete(t, id("売上"))).toEqual({ ok: false, code: "ROOT_NODE_PROTECTED" });
    expect(planNodeDelete(t, id("客単価"))).toEqual({
      ok: true,
      update: [{ parentId: id("売上"), operator: "*", childIds: [id("客数")] }],
      remove: [id("客単価")],
    });
    const single: EditTree = tree(["X = a"]);
    const a = single.nodes.find((n) => n.label === "a")?.id as string;
    expect(planNodeDelete(single, a)).toEqual({ ok: true, update: [], remove: [single.rootId as string] });
  });
});

describe("templates", () => {
  test("structure, positions relative to the root and constants survive a round trip with new ids", () => {
    const src = tree(["売上 = 客数 * 客単価 * 1.1"]);
    const nodes = src.nodes.map((n) => ({
      ...n,
      value: n.nodeType === "constant" ? 1.1 : n.label === "客数" ? 99 : null,
    }));
    const config = templateFromTree({ ...src, nodes });
    expect(config.nodes[0]).toMatchObject({ key: "n0", label: "売上", relativeX: 0, relativeY: 0 });
    expect(config.nodes.find((n) => n.label === "客単価")).toMatchObject({
      relativeX: 200,
      relativeY: 120,
      value: null,
    });
    expect(config.nodes.find((n) => n.label === "客数")?.value).toBeNull();
    expect(config.nodes.find((n) => n.label === "1.1")?.value).toBe(1.1);
    expect(config.relationships).toEqual([{ parentKey: "n0", operator: "*", childKeys: ["n1", "n2", "n3"] }]);

    const applied = treeFromTemplate(config, { x: 10, y: 20 }, newId);
    expect(applied.rootId).toBe(applied.nodes[0].id);
    expect(applied.nodes.every((n) => !src.nodes.some((s) => s.id === n.id))).toBe(true);
    expect(applied.nodes.find((n) => n.label === "客単価")).toMatchObject({ positionX: 210, positionY: 140 });
    expect(templateFromTree(applied)).toEqual(config);
  });
});
