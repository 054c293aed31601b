import { describe, expect, test } from "bun:test";
import {
  applyPolicy,
  type EvalInput,
  type EvalPolicy,
  evaluateTree,
  orderPeriods,
  policyValueIssue,
} from "@/engine/driver-tree/evaluate";
import { CycleError } from "@/engine/driver-tree/graph";
import { applyImportPlan, planImport, type TreeState } from "@/engine/driver-tree/import-plan";

/* analysis.md §7.6–7.7; scenarios 19, 30 and 32 of §8 at the engine level. */

let seq = 0;
const newId = () => `n${++seq}`;

function tree(formulas: string[]): TreeState {
  const empty: TreeState = { rootId: null, nodes: [], relationships: [] };
  const plan = planImport(empty, formulas, { newId });
  if (!plan.ok) throw new Error(JSON.stringify(plan));
  return applyImportPlan(empty, plan);
}

function input(
  t: TreeState,
  values: Record<string, number | null>,
  policies: (Omit<EvalPolicy, "id" | "nodeId" | "startPeriod" | "cost"> & {
    label: string;
    cost?: number | null;
    startPeriod?: string | null;
  })[] = [],
  extra: Partial<EvalInput> = {},
): EvalInput {
  const idOf = new Map(t.nodes.map((n) => [n.label, n.id]));
  return {
    periods: ["total"],
    rootId: t.rootId,
    nodes: t.nodes.map((n) => ({
      id: n.id,
      label: n.label,
      nodeType: n.nodeType,
      value: n.nodeType === "constant" ? Number(n.label) : (values[n.label] ?? null),
    })),
    relationships: t.relationships,
    policies: policies.map((p, i) => ({
      id: `p${i}`,
      nodeId: idOf.get(p.label) as string,
      value: p.value,
      valueKind: p.valueKind,
      startPeriod: p.startPeriod ?? null,
      cost: p.cost ?? null,
    })),
    ...extra,
  };
}

const byLabel = (r: ReturnType<typeof evaluateTree>) => Object.fromEntries(r.nodes.map((n) => [n.label, n]));

const HOTEL = [
  "売上 = 稼働部屋数 * 単価",
  "稼働部屋数 = キャパシティ * 稼働率 * 期間",
  "キャパシティ = 施設数 * 施設当たり部屋数",
];
const HOTEL_VALUES = { 施設数: 10, 施設当たり部屋数: 20, 稼働率: 0.8, 期間: 30, 単価: 10000 };

describe("scenario 19: multi-level tree and the +5 % policy", () => {
  const t = tree(HOTEL);

  test("baseline", () => {
    const r = evaluateTree(input(t, HOTEL_VALUES));
    const n = byLabel(r);
    expect(r.periods).toEqual(["total"]);
    expect(n.売上.baseline).toEqual([48_000_000]);
    expect(n.キャパシティ.baseline).toEqual([200]);
    expect(n.稼働部屋数.baseline).toEqual([4800]);
    expect(n.売上.warnings).toEqual([]);
    expect(r.summary).toEqual({
      rootBaseline: 48_000_000,
      rootSimulated: 48_000_000,
      totalPolicyCost: 0,
      roi: null,
    });
  });

  test("policy {value: 5} (percent by default) on 単価 → 売上 50,400,000, delta 2,400,000", () => {
    const r = evaluateTree(input(t, HOTEL_VALUES, [{ label: "単価", value: 5, valueKind: "percent" }]));
    const n = byLabel(r);
    expect(n.売上.simulated[0]).toBeCloseTo(50_400_000, 6);
    expect(n.売上.delta[0]).toBeCloseTo(2_400_000, 6);
    expect(n.単価.simulated[0]).toBeCloseTo(10_500, 9);
    expect(n.単価.baseline).toEqual([10_000]);
    // Nodes off the policy's path are unchanged.
    expect(n.キャパシティ.delta).toEqual([0]);
  });

  test("withPolicies=false: simulated equals baseline", () => {
    const r = evaluateTree({
      ...input(t, HOTEL_VALUES, [{ label: "単価", value: 5, valueKind: "percent" }]),
      withPolicies: false,
    });
    const n = byLabel(r);
    expect(n.売上.simulated).toEqual(n.売上.baseline);
    expect(n.売上.delta).toEqual([0]);
  });
});

describe("scenario 32: policy kinds, costs and ROI", () => {
  const t = tree(HOTEL);
  for (const [valueKind, value] of [
    ["percent", 5],
    ["factor", 1.05],
    ["absolute", 500],
  ] as const) {
    test(`${valueKind} ${value} → 売上 50,400,000`, () => {
      const r = evaluateTree(input(t, HOTEL_VALUES, [{ label: "単価", value, valueKind }]));
      expect(byLabel(r).売上.simulated[0]).toBeCloseTo(50_400_000, 6);
    });
  }

  test("percent 5 (cost 1,000,000) then absolute 100 (cost 500,000) → ROI 0.92", () => {
    const r = evaluateTree(
      input(t, HOTEL_VALUES, [
        { label: "単価", value: 5, valueKind: "percent", cost: 1_000_000 },
        { label: "単価", value: 100, valueKind: "absolute", cost: 500_000 },
      ]),
    );
    const n = byLabel(r);
    expect(n.単価.simulated[0]).toBeCloseTo(10_600, 9);
    expect(n.売上.simulated[0]).toBeCloseTo(50_880_000, 6);
    expect(n.単価.policyCost).toBe(1_500_000);
    expect(n.売上.policyCost).toBe(0);
    expect(r.summary.totalPolicyCost).toBe(1_500_000);
    expect(r.summary.roi).toBeCloseTo(0.92, 12);
  });

  test("creation order matters: absolute 100 then percent 5 → 単価 10,605", () => {
    const r = evaluateTree(
      input(t, HOTEL_VALUES, [
        { label: "単価", value: 100, valueKind: "absolute" },
        { label: "単価", value: 5, valueKind: "percent" },
      ]),
    );
    expect(byLabel(r).単価.simulated[0]).toBeCloseTo(10_605, 9);
  });

  test("a policy on a calculation node applies to the fold of its children, which carry their own", () => {
    const r = evaluateTree(
      input(t, HOTEL_VALUES, [
        { label: "キャパシティ", value: 10, valueKind: "percent" },
        { label: "施設数", value: 2, valueKind: "factor" },
      ]),
    );
    const n = byLabel(r);
    expect(n.施設数.simulated).toEqual([20]);
    expect(n.キャパシティ.simulated[0]).toBeCloseTo(440, 9);
    expect(n.売上.simulated[0]).toBeCloseTo(48_000_000 * 2.2, 3);
  });

  test("factor must be > 0", () => {
    expect(policyValueIssue("factor", 0)).toContain("greater than 0");
    expect(policyValueIssue("factor", -1)).not.toBeNull();
    expect(policyValueIssue("factor", 0.5)).toBeNull();
    expect(policyValueIssue("percent", -100)).toBeNull();
    expect(applyPolicy("percent", -100, 7)).toBe(0);
  });
});

describe("scenario 30: precedence, parentheses and unary minus evaluate as arithmetic", () => {
  test("営業利益 = 売上 * 粗利率 - 販管費 → 100", () => {
    const r = evaluateTree(
      input(tree(["営業利益 = 売上 * 粗利率 - 販管費"]), { 売上: 1000, 粗利率: 0.3, 販管費: 200 }),
    );
    expect(byLabel(r).営業利益.baseline).toEqual([100]);
  });
  test("X = (a + b) * c → 12; X = -a + b → b - a", () => {
    expect(byLabel(evaluateTree(input(tree(["X = (a + b) * c"]), { a: 1, b: 2, c: 4 }))).X.baseline).toEqual([
      12,
    ]);
    expect(byLabel(evaluateTree(input(tree(["X = -a + b"]), { a: 1, b: 2 }))).X.baseline).toEqual([1]);
  });
});

describe("evaluation rules", () => {
  test("child order is respected for - and /", () => {
    expect(byLabel(evaluateTree(input(tree(["X = a - b - c"]), { a: 10, b: 3, c: 2 }))).X.baseline).toEqual([
      5,
    ]);
    expect(byLabel(evaluateTree(input(tree(["X = a / b / c"]), { a: 24, b: 3, c: 2 }))).X.baseline).toEqual([
      4,
    ]);
  });

  test("a missing input is null with MISSING_INPUT, and null propagates to the root", () => {
    const r = evaluateTree(input(tree(["X = a * b + c"]), { a: 2, c: 1 }));
    const n = byLabel(r);
    expect(n.b.baseline).toEqual([null]);
    expect(n.b.warnings).toEqual(["MISSING_INPUT"]);
    expect(n.X.baseline).toEqual([null]);
    expect(n.X.delta).toEqual([null]);
    expect(r.summary.rootBaseline).toBeNull();
    expect(r.summary.roi).toBeNull();
  });

  test("x / 0 → null with DIVISION_BY_ZERO on the dividing node", () => {
    const r = evaluateTree(input(tree(["X = a + b / c"]), { a: 1, b: 2, c: 0 }));
    const n = byLabel(r);
    expect(n["b / c"].baseline).toEqual([null]);
    expect(n["b / c"].warnings).toEqual(["DIVISION_BY_ZERO"]);
    expect(n.X.baseline).toEqual([null]);
    expect(n.X.warnings).toEqual([]);
  });

  test("a policy that makes a divisor zero is reported in the simulated pass", () => {
    const r = evaluateTree(
      input(tree(["X = a / b"]), { a: 1, b: 2 }, [{ label: "b", value: -100, valueKind: "percent" }]),
    );
    const n = byLabel(r);
    expect(n.X.baseline).toEqual([0.5]);
    expect(n.X.simulated).toEqual([null]);
    expect(n.X.warnings).toEqual(["DIVISION_BY_ZERO"]);
  });

  test("overflow → null with NON_FINITE; -0 is emitted as 0", () => {
    const r = evaluateTree(input(tree(["X = a * b", "Y = 「c」 * 0"].slice(0, 1)), { a: 1e308, b: 10 }));
    expect(byLabel(r).X.baseline).toEqual([null]);
    expect(byLabel(r).X.warnings).toEqual(["NON_FINITE"]);
    const z = evaluateTree(input(tree(["Z = -a"]), { a: 0 }));
    expect(Object.is(byLabel(z).Z.baseline[0], 0)).toBe(true);
  });

  test("each node once per period over a DAG; bound series per period; startPeriod", () => {
    // d is shared by two parents.
    const t = tree(["X = (d + 1) * (d - 1)"]);
    const idOf = new Map(t.nodes.map((n) => [n.label, n.id]));
    const base = input(t, {});
    const r = evaluateTree({
      ...base,
      periods: ["2023", "2024", "2025"],
      nodes: base.nodes.map((n) =>
        n.label === "d" ? { ...n, series: { "2023": 2, "2024": 3, "2025": null } } : n,
      ),
      policies: [
        {
          id: "p1",
          nodeId: idOf.get("d") as string,
          value: 1,
          valueKind: "absolute",
          startPeriod: "2024",
          cost: 10,
        },
        {
          id: "p2",
          nodeId: idOf.get("X") as string,
          value: 1,
          valueKind: "absolute",
          startPeriod: "2099",
          cost: null,
        },
      ],
    });
    const n = byLabel(r);
    expect(n.X.baseline).toEqual([3, 8, null]);
    expect(n.X.simulated).toEqual([3, 15, null]);
    expect(n.d.warnings).toEqual(["MISSING_INPUT"]);
    expect(n.X.warnings).toEqual(["UNKNOWN_START_PERIOD"]);
    expect(r.summary.totalPolicyCost).toBe(10);
  });

  test("summary sums the root over periods; detached nodes are evaluated too", () => {
    const t = tree(["X = a + b"]);
    const base = input(t, { a: 1, b: 2 });
    const r = evaluateTree({
      ...base,
      periods: ["1", "2"],
      nodes: [...base.nodes, { id: "loose", label: "孤立", nodeType: "input", value: 5 }],
    });
    expect(r.summary.rootBaseline).toBe(6);
    expect(byLabel(r).孤立.baseline).toEqual([5, 5]);
  });

  test("a calculation without children is null with MISSING_INPUT", () => {
    const r = evaluateTree({
      periods: ["total"],
      rootId: "r",
      nodes: [{ id: "r", label: "R", nodeType: "calculation", value: null }],
      relationships: [],
      policies: [],
    });
    expect(r.nodes[0]).toMatchObject({ baseline: [null], warnings: ["MISSING_INPUT"] });
  });

  test("a cycle is an error naming it", () => {
    expect(() =>
      evaluateTree({
        periods: ["total"],
        rootId: "a",
        nodes: [
          { id: "a", label: "A", nodeType: "calculation", value: null },
          { id: "b", label: "B", nodeType: "calculation", value: null },
        ],
        relationships: [
          { parentId: "a", operator: "+", childIds: ["b"] },
          { parentId: "b", operator: "+", childIds: ["a"] },
        ],
        policies: [],
      }),
    ).toThrow(CycleError);
  });
});

describe("orderPeriods", () => {
  test("numeric, ISO dates, else first appearance; total when unbound", () => {
    expect(orderPeriods([])).toEqual(["total"]);
    expect(
      orderPeriods([
        ["2024", "2023"],
        ["10", "2023"],
      ]),
    ).toEqual(["10", "2023", "2024"]);
    expect(orderPeriods([["2024-03-01", "2023-12-01"], ["2024-01-15"]])).toEqual([
      "2023-12-01",
      "2024-01-15",
      "2024-03-01",
    ]);
    expect(orderPeriods([["FY24", "FY23"], ["2022"]])).toEqual(["FY24", "FY23", "2022"]);
  });
});
