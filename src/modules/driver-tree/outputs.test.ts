import { describe, expect, test } from "bun:test";
import { type EvalInput, evaluateTree, sensitivity } from "@/engine";
import { type EvaluatedTree, evalInputOf } from "./evaluated";
import { treeRows } from "./export";
import type { TreeState } from "./queries";

/* The outputs over a multi-period evaluation (bound series), without a database. */

const state: TreeState = {
  rootId: "s",
  nodes: [
    {
      id: "s",
      label: "売上",
      nodeType: "calculation",
      positionX: 0,
      positionY: 0,
      value: null,
      unit: "円",
      bound: false,
    },
    {
      id: "q",
      label: "数量",
      nodeType: "input",
      positionX: 0,
      positionY: 0,
      value: null,
      unit: null,
      bound: true,
    },
    {
      id: "p",
      label: "単価",
      nodeType: "input",
      positionX: 0,
      positionY: 0,
      value: 100,
      unit: "円",
      bound: false,
    },
    {
      id: "k",
      label: "1.1",
      nodeType: "constant",
      positionX: 0,
      positionY: 0,
      value: 1.1,
      unit: null,
      bound: false,
    },
    {
      id: "x",
      label: "=メモ",
      nodeType: "input",
      positionX: 0,
      positionY: 0,
      value: null,
      unit: null,
      bound: false,
    },
  ],
  relationships: [{ parentId: "s", operator: "*", childIds: ["q", "p", "k"] }],
};
const periods = ["2023", "2024", "2025"];
const policies = [
  { id: "a", nodeId: "p", value: 10, valueKind: "percent" as const, startPeriod: "2024", cost: 100 },
];
// What the stored evaluation (bound series for 数量) produces.
const original: EvalInput = {
  periods,
  rootId: "s",
  relationships: state.relationships,
  policies,
  nodes: state.nodes.map((n) =>
    n.id === "q"
      ? { ...n, series: { "2023": 10, "2024": 20, "2025": null } }
      : { id: n.id, label: n.label, nodeType: n.nodeType, value: n.value, unit: n.unit },
  ),
};
const evaluated: EvaluatedTree = {
  tree: { id: "t", name: "ツリー" } as EvaluatedTree["tree"],
  state,
  policies,
  result: evaluateTree(original),
  policyRows: [],
};

describe("outputs over several periods", () => {
  test("evalInputOf reproduces the evaluation it was made from", () => {
    const again = evaluateTree(evalInputOf(evaluated));
    expect(again.periods).toEqual(periods);
    expect(again.nodes.map((n) => [n.baseline, n.simulated])).toEqual(
      evaluated.result.nodes.map((n) => [n.baseline, n.simulated]),
    );
  });

  test("sensitivity at a period and over the sum: the null 2025 of 数量 only matters for the sum", () => {
    const at = sensitivity(evalInputOf(evaluated), { deltaPct: 10, period: "2024", withPolicies: true });
    expect(at.items.map((x) => x.label)).toEqual(["単価", "数量"]);
    expect(at.items[0].rootBase).toBeCloseTo(20 * 110 * 1.1, 9);
    expect(at.items[1].baseValue).toBe(20);
    const sum = sensitivity(evalInputOf(evaluated), { deltaPct: 10 });
    expect(sum.skipped.map((x) => x.label)).toEqual(["数量", "=メモ"]);
    expect(sum.items.map((x) => x.label)).toEqual(["単価"]);
    expect(sum.items[0].rootBase).toBeNull();
  });

  test("export rows: node × period, depth-first, detached last, policies from their start period", () => {
    const rows = [...treeRows(evaluated)];
    expect(rows.map((r) => `${r[2]}@${r[5]}`)).toEqual(
      ["売上", "数量", "単価", "1.1", "=メモ"].flatMap((l) => periods.map((p) => `${l}@${p}`)),
    );
    const sales = rows.slice(0, 3);
    expect(sales.map((r) => r[4])).toEqual(Array(3).fill("売上 = 数量 * 単価 * 1.1"));
    expect(sales.slice(0, 2).map((r) => Math.round(r[6] as number))).toEqual([1100, 2200]);
    expect(sales[2].slice(6)).toEqual([null, null, null]);
    const unit = rows.slice(6, 9);
    expect(unit.map((r) => Math.round((r[7] as number) * 1e6) / 1e6)).toEqual([100, 110, 110]);
    expect(rows.at(-1)?.slice(0, 2)).toEqual(["x", 0]);
  });
});
