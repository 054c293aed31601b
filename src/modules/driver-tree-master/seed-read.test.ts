import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { childrenMap, findCycle, planImport } from "@/engine";
import { seededDriverTypeId, seededFormulaId } from "./seed";
import { KPI_LIST, readDriverTreeSeed } from "./seed-read";

/* The shipped driver-tree master set (analysis.md §7.10), read and validated without a database. */

const SEED = resolve(import.meta.dir, "../../../seed/driver-tree");

describe("shipped driver-tree masters (no database)", () => {
  const set = readDriverTreeSeed(SEED);

  test("six driver types × every KPI, ≥ 6 categories, ≥ 12 industries", () => {
    const types = new Set(set.categories.map((c) => c.state.driverType));
    expect([...types].sort()).toEqual(
      [
        "キャパシティ×稼働率型①",
        "客数×客単価型",
        "店舗数×店舗売上型",
        "数量×単価型",
        "サブスクリプション型",
        "人員×生産性型",
      ].sort(),
    );
    expect(new Set(set.categories.map((c) => c.state.categoryName)).size).toBeGreaterThanOrEqual(6);
    for (const name of ["宿泊・レジャー", "小売", "飲食", "製造", "IT・サービス", "医療・介護"])
      expect(set.categories.some((c) => c.state.categoryName === name)).toBe(true);
    expect(new Set(set.categories.map((c) => c.state.industryId)).size).toBeGreaterThanOrEqual(12);
    for (const t of types)
      expect(
        set.formulas
          .filter((f) => f.state.driverType === t)
          .map((f) => f.state.kpi)
          .sort(),
      ).toEqual([...KPI_LIST].sort());
    expect(set.formulas).toHaveLength(36);
  });

  test("every formula list builds one acyclic tree whose single root is its KPI", () => {
    for (const f of set.formulas) {
      let n = 0;
      const plan = planImport({ rootId: null, nodes: [], relationships: [] }, f.state.formulas, {
        newId: () => `n${n++}`,
      });
      if (!plan.ok) throw new Error(`${f.state.driverType}/${f.state.kpi}: ${JSON.stringify(plan)}`);
      const children = childrenMap(plan.createRelationships);
      const ids = plan.createNodes.map((x) => x.id);
      expect(findCycle(ids, (id) => children.get(id))).toBeNull();
      const used = new Set(plan.createRelationships.flatMap((r) => r.childIds));
      const roots = plan.createNodes.filter((x) => !used.has(x.id));
      expect([f.state.kpi, roots.map((r) => r.label)]).toEqual([f.state.kpi, [f.state.kpi]]);
      expect(plan.createNodes.find((x) => x.id === plan.rootId)?.label).toBe(f.state.kpi);
    }
  });

  test("the table of analysis.md §7.10 ships verbatim for 売上", () => {
    const sales = (key: string) =>
      set.formulas.find((f) => f.id === seededFormulaId(key, "売上"))?.state.formulas;
    expect(sales("capacity-utilisation")).toEqual([
      "売上 = 稼働部屋数 * 単価",
      "稼働部屋数 = キャパシティ * 稼働率 * 期間",
      "キャパシティ = 施設数 * 施設当たり部屋数",
    ]);
    expect(sales("subscription")).toEqual([
      "売上 = 契約数 * 月額単価 * 期間",
      "契約数 = 期首契約数 + 新規契約数 - 解約数",
      "解約数 = 期首契約数 * 解約率",
    ]);
    expect(
      set.formulas.find((f) => f.id === seededFormulaId("volume-price", "原価"))?.state.formulas,
    ).toEqual(["原価 = 販売数量 * 単位原価", "単位原価 = 材料費単価 + 加工費単価"]);
  });

  test("ids are UUIDv5 of the keys: the same on every read", () => {
    const again = readDriverTreeSeed(SEED);
    expect(again.formulas.map((f) => f.id)).toEqual(set.formulas.map((f) => f.id));
    expect(set.formulas[0].id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(set.formulas.find((f) => f.state.driverType === "数量×単価型")?.state.driverTypeId).toBe(
      seededDriverTypeId("volume-price"),
    );
  });
});
