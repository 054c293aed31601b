import { describe, expect, test } from "bun:test";
import type { EvalInput, EvalPolicy } from "@/engine/driver-tree/evaluate";
import { applyImportPlan, planImport, type TreeState } from "@/engine/driver-tree/import-plan";
import { sensitivity, UnknownPeriodError } from "@/engine/driver-tree/sensitivity";

/* analysis.md §7.8 and scenario 31 of §8 at the engine level, over several periods. */

let seq = 0;
function tree(formulas: string[]): TreeState {
  const empty: TreeState = { rootId: null, nodes: [], relationships: [] };
  const plan = planImport(empty, formulas, { newId: () => `n${++seq}` });
  if (!plan.ok) throw new Error(JSON.stringify(plan));
  return applyImportPlan(empty, plan);
}

type Leaf = number | null | Record<string, number | null>;
function input(
  t: TreeState,
  periods: string[],
  leaves: Record<string, Leaf>,
  policies: EvalPolicy[] = [],
): EvalInput {
  return {
    periods,
    rootId: t.rootId,
    relationships: t.relationships,
    policies,
    nodes: t.nodes.map((n) => {
      const v = leaves[n.label];
      const base = { id: n.id, label: n.label, nodeType: n.nodeType };
      if (n.nodeType === "constant") return { ...base, value: Number(n.label) };
      if (v !== null && typeof v === "object") return { ...base, value: null, series: v };
      return { ...base, value: v ?? null };
    }),
  };
}
const idOf = (t: TreeState, label: string) => t.nodes.find((n) => n.label === label)?.id as string;
const close = (a: number | null, b: number) => {
  expect(a).not.toBeNull();
  expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(Math.max(1, Math.abs(b)) * 1e-9);
};

const HOTEL = tree([
  "売上 = 稼働部屋数 * 単価",
  "稼働部屋数 = キャパシティ * 稼働率 * 期間",
  "キャパシティ = 施設数 * 施設当たり部屋数",
]);
const PERIODS = ["2023", "2024"];
const HOTEL_LEAVES: Record<string, Leaf> = {
  施設数: { "2023": 10, "2024": 12 },
  施設当たり部屋数: { "2023": 20, "2024": 20 },
  稼働率: { "2023": 0.8, "2024": 0.8 },
  期間: 30,
  単価: 10000,
};

describe("scenario 31: every input of a product tree has the same impact", () => {
  test("at period 2023: ±4,800,000 and elasticity 1 for each of the five inputs", () => {
    const s = sensitivity(input(HOTEL, PERIODS, HOTEL_LEAVES), { deltaPct: 10, period: "2023" });
    expect(s.periods).toEqual(PERIODS);
    expect(s.items.map((x) => x.label)).toEqual(
      ["単価", "施設当たり部屋数", "施設数", "期間", "稼働率"].sort(),
    );
    for (const x of s.items) {
      expect(x.rootBase).toBe(48_000_000);
      close(x.impactUp, 4_800_000);
      close(x.impactDown, -4_800_000);
      close(x.elasticity, 1);
    }
    expect(s.items.find((x) => x.label === "施設数")?.baseValue).toBe(10);
    expect(s.skipped).toEqual([]);
  });

  test("at 2024 the root is read from the second period", () => {
    const s = sensitivity(input(HOTEL, PERIODS, HOTEL_LEAVES), { deltaPct: 10, period: "2024" });
    for (const x of s.items) {
      expect(x.rootBase).toBe(57_600_000);
      close(x.impactUp, 5_760_000);
    }
    expect(s.items.find((x) => x.label === "施設数")?.baseValue).toBe(12);
  });

  test("without a period the root and base values are sums over the periods", () => {
    const s = sensitivity(input(HOTEL, PERIODS, HOTEL_LEAVES), { deltaPct: 10 });
    expect(s.period).toBeNull();
    for (const x of s.items) {
      expect(x.rootBase).toBe(105_600_000);
      close(x.impactUp, 10_560_000);
      close(x.impactDown, -10_560_000);
      close(x.elasticity, 1);
    }
    expect(s.items.find((x) => x.label === "施設数")?.baseValue).toBe(22);
    expect(s.items.find((x) => x.label === "単価")?.baseValue).toBe(20_000);
  });

  test("round percentages of round values stay exact", () => {
    const s = sensitivity(
      input(HOTEL, ["total"], { 施設数: 10, 施設当たり部屋数: 20, 稼働率: 0.8, 期間: 30, 単価: 10000 }),
      {
        deltaPct: 10,
      },
    );
    const unit = s.items.find((x) => x.label === "単価");
    expect([unit?.rootUp, unit?.rootDown]).toEqual([52_800_000, 43_200_000]);
  });
});

describe("scenario 31: 粗利 = 売上 - 原価 with 100 and 60", () => {
  const t = tree(["粗利 = 売上 - 原価"]);
  test("売上 first (+10 / −10, elasticity 2.5), then 原価 (−6 / +6, elasticity −1.5)", () => {
    const s = sensitivity(input(t, ["total"], { 売上: 100, 原価: 60 }), { deltaPct: 10 });
    expect(s.items.map((x) => x.label)).toEqual(["売上", "原価"]);
    const [sales, cost] = s.items;
    expect([sales.rootBase, sales.impactUp, sales.impactDown, sales.elasticity]).toEqual([40, 10, -10, 2.5]);
    expect([cost.impactUp, cost.impactDown, cost.elasticity]).toEqual([-6, 6, -1.5]);
  });

  test("ties are ordered by label", () => {
    const s = sensitivity(input(tree(["z = b + a"]), ["total"], { a: 5, b: 5 }), { deltaPct: 50 });
    expect(s.items.map((x) => x.label)).toEqual(["a", "b"]);
    expect(s.items[0].impactUp).toBe(2.5);
  });
});

describe("options and edge cases", () => {
  const t = tree(["売上 = 数量 * 単価 * 1.1"]);

  test("constants only with includeConstants; null inputs are skipped", () => {
    const plain = sensitivity(input(t, ["total"], { 数量: null, 単価: 100 }), { deltaPct: 20 });
    expect(plain.items.map((x) => x.label)).toEqual(["単価"]);
    expect(plain.skipped.map((x) => x.label)).toEqual(["数量"]);
    // The root is null, so the impacts are too.
    expect(plain.items[0]).toMatchObject({ rootBase: null, impactUp: null, elasticity: null });

    const all = sensitivity(input(t, ["total"], { 数量: 3, 単価: 100 }), {
      deltaPct: 20,
      includeConstants: true,
    });
    expect(all.items.map((x) => x.label).sort()).toEqual(["1.1", "単価", "数量"]);
    expect(all.items.find((x) => x.label === "1.1")).toMatchObject({ nodeType: "constant", baseValue: 1.1 });
  });

  test("a series null in one period is skipped for the sum, kept at the other period", () => {
    const leaves = { 数量: { a: 3, b: null }, 単価: 100 };
    const sum = sensitivity(input(t, ["a", "b"], leaves), { deltaPct: 10 });
    expect(sum.skipped.map((x) => x.label)).toEqual(["数量"]);
    const atA = sensitivity(input(t, ["a", "b"], leaves), { deltaPct: 10, period: "a" });
    expect(atA.skipped).toEqual([]);
    close(atA.items.find((x) => x.label === "数量")?.impactUp ?? null, 33);
  });

  test("withPolicies: policies apply on top of the scaled value", () => {
    const policy: EvalPolicy = {
      id: "p",
      nodeId: idOf(t, "単価"),
      value: 50,
      valueKind: "absolute",
      startPeriod: null,
      cost: null,
    };
    const leaves = { 数量: 10, 単価: 100 };
    const off = sensitivity(input(t, ["total"], leaves, [policy]), { deltaPct: 10 });
    close(off.items[0].rootBase, 1100);
    const on = sensitivity(input(t, ["total"], leaves, [policy]), { deltaPct: 10, withPolicies: true });
    close(on.items[0].rootBase, 1650);
    // 単価: (110 + 50) · 10 · 1.1 = 1760 → +110; 数量: 11 · 150 · 1.1 = 1815 → +165.
    expect(on.items.map((x) => x.label)).toEqual(["数量", "単価"]);
    close(on.items[0].impactUp, 165);
    close(on.items[1].impactUp, 110);
  });

  test("rootBase 0 → elasticity null; bad arguments are refused", () => {
    const zero = sensitivity(input(tree(["r = x - y"]), ["total"], { x: 5, y: 5 }), { deltaPct: 10 });
    expect(zero.items.every((x) => x.elasticity === null && x.rootBase === 0)).toBe(true);
    expect(() => sensitivity(input(t, ["total"], {}), { deltaPct: 10, period: "2099" })).toThrow(
      UnknownPeriodError,
    );
    expect(() => sensitivity(input(t, ["total"], {}), { deltaPct: 0 })).toThrow(RangeError);
    expect(() => sensitivity(input(t, ["total"], {}), { deltaPct: 100.5 })).toThrow(RangeError);
  });
});
