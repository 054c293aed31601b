import { describe, expect, test } from "bun:test";
import { findCycle } from "@/engine/driver-tree/graph";
import {
  applyImportPlan,
  formulaListIssue,
  type ImportPlan,
  type ImportRefusal,
  planImport,
  type TreeState,
} from "@/engine/driver-tree/import-plan";

/* analysis.md §7.3 and scenarios 18, 19, 30 of §8 (structure part). */

const EMPTY: TreeState = { rootId: null, nodes: [], relationships: [] };

let counter = 0;
/* One sequence for the whole file: ids of nodes created by different plans never collide. */
function ids() {
  return () => `id${++counter}`;
}

function plan(tree: TreeState, formulas: string[], pos = { positionX: 0, positionY: 0 }) {
  return planImport(tree, formulas, { ...pos, newId: ids() });
}

function ok(r: ImportPlan | ImportRefusal): ImportPlan {
  if (!r.ok) throw new Error(JSON.stringify(r));
  return r;
}

function refused(r: ImportPlan | ImportRefusal): ImportRefusal {
  if (r.ok) throw new Error("expected a refusal");
  return r;
}

function shape(tree: TreeState) {
  const label = new Map(tree.nodes.map((n) => [n.id, n.label]));
  return {
    root: tree.rootId ? label.get(tree.rootId) : null,
    nodes: Object.fromEntries(tree.nodes.map((n) => [n.label, n.nodeType])),
    relationships: Object.fromEntries(
      tree.relationships.map((r) => [
        label.get(r.parentId),
        `${r.operator} [${r.childIds.map((c) => label.get(c)).join(", ")}]`,
      ]),
    ),
  };
}

describe("import into an empty tree", () => {
  test("scenario 18: one formula → root, children in order, one relationship, layout", () => {
    const p = ok(plan(EMPTY, ["売上 = 客数 * 客単価 * 1.1"], { positionX: 100, positionY: 100 }));
    const tree = applyImportPlan(EMPTY, p);
    expect(shape(tree)).toEqual({
      root: "売上",
      nodes: { 売上: "calculation", 客数: "input", 客単価: "input", "1.1": "constant" },
      relationships: { 売上: "* [客数, 客単価, 1.1]" },
    });
    expect(p.rootChanged).toBe(true);
    expect(p.createNodes.find((n) => n.label === "1.1")?.value).toBe(1.1);
    const at = Object.fromEntries(p.createNodes.map((n) => [n.label, [n.positionX, n.positionY]]));
    expect(at).toEqual({ 売上: [100, 100], 客数: [100, 220], 客単価: [300, 220], "1.1": [500, 220] });
    expect(p.createdInputs.map((n) => n.label)).toEqual(["客数", "客単価"]);
  });

  test("scenario 19: three formulas of the master build one connected tree without duplicate labels", () => {
    const tree = applyImportPlan(
      EMPTY,
      ok(
        plan(EMPTY, [
          "売上 = 稼働部屋数 * 単価",
          "稼働部屋数 = キャパシティ * 稼働率 * 期間",
          "キャパシティ = 施設数 * 施設当たり部屋数",
        ]),
      ),
    );
    expect(shape(tree)).toEqual({
      root: "売上",
      nodes: {
        売上: "calculation",
        稼働部屋数: "calculation",
        単価: "input",
        キャパシティ: "calculation",
        稼働率: "input",
        期間: "input",
        施設数: "input",
        施設当たり部屋数: "input",
      },
      relationships: {
        売上: "* [稼働部屋数, 単価]",
        稼働部屋数: "* [キャパシティ, 稼働率, 期間]",
        キャパシティ: "* [施設数, 施設当たり部屋数]",
      },
    });
    const labels = tree.nodes.map((n) => n.label);
    expect(new Set(labels).size).toBe(labels.length);
    // Depth-first leaves: 施設数 0, 施設当たり部屋数 1, 稼働率 2, 期間 3, 単価 4.
    const at = Object.fromEntries(tree.nodes.map((n) => [n.label, [n.positionX, n.positionY]]));
    expect(at.売上).toEqual([0, 0]);
    expect(at.稼働部屋数).toEqual([0, 120]);
    expect(at.単価).toEqual([800, 120]);
    expect(at.キャパシティ).toEqual([0, 240]);
    expect(at.期間).toEqual([600, 240]);
    expect(at.施設当たり部屋数).toEqual([200, 360]);
  });

  test("scenario 30: precedence makes an intermediate calculation node labelled with its text", () => {
    const tree = applyImportPlan(EMPTY, ok(plan(EMPTY, ["営業利益 = 売上 * 粗利率 - 販管費"])));
    expect(shape(tree)).toEqual({
      root: "営業利益",
      nodes: {
        営業利益: "calculation",
        "売上 * 粗利率": "calculation",
        売上: "input",
        粗利率: "input",
        販管費: "input",
      },
      relationships: { 営業利益: "- [売上 * 粗利率, 販管費]", "売上 * 粗利率": "* [売上, 粗利率]" },
    });
  });

  test("unary minus becomes - [0, x] with a constant 0; a bare operand is a one-child sum", () => {
    const tree = applyImportPlan(EMPTY, ok(plan(EMPTY, ["X = -a + b", "Y = 5%"].slice(0, 1))));
    expect(shape(tree).relationships).toEqual({ X: "+ [-a, b]", "-a": "- [0, a]" });
    expect(shape(tree).nodes["0"]).toBe("constant");
    const t2 = applyImportPlan(EMPTY, ok(plan(EMPTY, ["Y = 5%"])));
    expect(shape(t2).relationships).toEqual({ Y: "+ [0.05]" });
  });

  test("shared sub-expressions and repeated formulas reuse one node", () => {
    const tree = applyImportPlan(
      EMPTY,
      ok(plan(EMPTY, ["X = (a + b) * c + (a + b) / d", "X = (a+b)*c + (a+b)/d"])),
    );
    expect(tree.nodes.filter((n) => n.label === "a + b")).toHaveLength(1);
    expect(shape(tree).relationships).toEqual({
      X: "+ [(a + b) * c, (a + b) / d]",
      "(a + b) * c": "* [a + b, c]",
      "a + b": "+ [a, b]",
      "(a + b) / d": "/ [a + b, d]",
    });
  });

  test("several roots → FORMULA_INVALID listing them", () => {
    const r = refused(plan(EMPTY, ["売上 = a * b", "原価 = c + d"]));
    expect(r).toMatchObject({
      code: "FORMULA_INVALID",
      errors: [{ labels: ["売上", "原価"], lines: [0, 1] }],
    });
  });

  test("every syntax error is reported with its line", () => {
    const r = refused(plan(EMPTY, ["売上 客数", "ok = a", "X = (a", "1 = b"]));
    expect(r.code).toBe("FORMULA_INVALID");
    if (r.code !== "FORMULA_INVALID") return;
    expect(r.errors.map((e) => [e.line, e.index])).toEqual([
      [0, 5],
      [2, 6],
      [3, 0],
    ]);
  });

  test("two different formulas for one label name both lines", () => {
    const r = refused(plan(EMPTY, ["売上 = a * b", "a = c + d", "売上 = a + b"]));
    expect(r).toMatchObject({
      code: "FORMULA_INVALID",
      errors: [{ line: 2, lines: [0, 2], labels: ["売上"] }],
    });
  });

  test("a node twice among one relationship's children is refused (one child row per node)", () => {
    const r = refused(plan(EMPTY, ["面積 = 辺 * 辺"]));
    expect(r).toMatchObject({ code: "FORMULA_INVALID", errors: [{ line: 0, labels: ["面積", "辺"] }] });
  });

  test("cycles → TREE_CYCLE with the cycle as labels", () => {
    const r = refused(plan(EMPTY, ["X = a + b", "a = c * d", "c = a - 1"]));
    expect(r).toEqual({ ok: false, code: "TREE_CYCLE", cycle: ["a", "c", "a"] });
    expect(refused(plan(EMPTY, ["a = a + 1"]))).toMatchObject({ code: "TREE_CYCLE", cycle: ["a", "a"] });
  });

  test("a label longer than 255 characters is refused", () => {
    const long = "長".repeat(256);
    expect(refused(plan(EMPTY, [`X = ${long} + 1`]))).toMatchObject({
      code: "FORMULA_INVALID",
      errors: [{ line: 0 }],
    });
  });
});

describe("import into an existing tree", () => {
  const base = applyImportPlan(EMPTY, ok(plan(EMPTY, ["売上 = 客数 * 客単価"])));
  const withBinding: TreeState = {
    ...base,
    nodes: base.nodes.map((n) =>
      n.label === "客数" ? { ...n, bound: true, positionX: 7, positionY: 9 } : n,
    ),
  };

  test("nodes are found by label; an input that gains a formula is promoted and unbound", () => {
    const p = ok(
      planImport(withBinding, ["客数 = 新規客数 + リピート客数"], {
        newId: ids(),
        positionX: 0,
        positionY: 0,
      }),
    );
    const customers = withBinding.nodes.find((n) => n.label === "客数");
    expect(p.promoteNodes).toEqual([{ id: customers?.id as string, label: "客数", unbind: true }]);
    expect(p.warnings).toEqual([{ code: "BINDING_REMOVED", nodeId: customers?.id as string, label: "客数" }]);
    expect(p.rootId).toBe(base.rootId);
    expect(p.rootChanged).toBe(false);
    expect(p.createNodes.map((n) => n.label)).toEqual(["新規客数", "リピート客数"]);
    // New nodes are laid out under the tree's root: 客数 is at depth 1, its children at depth 2.
    expect(p.createNodes.map((n) => [n.positionX, n.positionY])).toEqual([
      [0, 240],
      [200, 240],
    ]);
    const tree = applyImportPlan(withBinding, p);
    expect(shape(tree).nodes.客数).toBe("calculation");
    // Existing nodes keep their position.
    expect(tree.nodes.find((n) => n.label === "客数")).toMatchObject({ positionX: 7, positionY: 9 });
  });

  test("the same relationship again is a no-op; a different one names the line", () => {
    const same = ok(planImport(base, ["売上 = 客数 * 客単価"], { newId: ids() }));
    expect(same.createNodes).toEqual([]);
    expect(same.createRelationships).toEqual([]);
    const other = refused(planImport(base, ["x = 1", "売上 = 客数 + 客単価"], { newId: ids() }));
    expect(other).toMatchObject({ code: "FORMULA_INVALID", errors: [{ line: 1, labels: ["売上"] }] });
  });

  test("a formula that closes a loop through existing relationships → TREE_CYCLE", () => {
    expect(refused(planImport(base, ["客数 = 売上 * 0.1"], { newId: ids() }))).toEqual({
      ok: false,
      code: "TREE_CYCLE",
      cycle: ["売上", "客数", "売上"],
    });
  });

  test("a constant node cannot get a formula", () => {
    const t = applyImportPlan(EMPTY, ok(plan(EMPTY, ["X = a * 2"])));
    expect(refused(planImport(t, ["2 = b"], { newId: ids() }))).toMatchObject({ code: "FORMULA_INVALID" });
    expect(refused(planImport(t, ["「2」 = b"], { newId: ids() }))).toMatchObject({
      code: "FORMULA_INVALID",
      errors: [{ labels: ["2"] }],
    });
  });
});

describe("findCycle", () => {
  test("returns the first cycle as a closed path, or null", () => {
    const g = new Map<string, string[]>([
      ["a", ["b", "c"]],
      ["b", ["d"]],
      ["c", ["d"]],
    ]);
    expect(findCycle(["a"], (id) => g.get(id))).toBeNull();
    g.set("d", ["c"]);
    expect(findCycle(["a"], (id) => g.get(id))).toEqual(["d", "c", "d"]);
  });
});

describe("formulaListIssue (masters, §7.10)", () => {
  const SALES: Record<string, string[]> = {
    "キャパシティ×稼働率型①": [
      "売上 = 稼働部屋数 * 単価",
      "稼働部屋数 = キャパシティ * 稼働率 * 期間",
      "キャパシティ = 施設数 * 施設当たり部屋数",
    ],
    客数客単価型: ["売上 = 客数 * 客単価", "客数 = 新規客数 + リピート客数", "客単価 = 買上点数 * 商品単価"],
    店舗数店舗売上型: ["売上 = 店舗数 * 店舗当たり売上", "店舗当たり売上 = 売場面積 * 坪効率"],
    数量単価型: ["売上 = 販売数量 * 販売単価"],
    サブスクリプション型: [
      "売上 = 契約数 * 月額単価 * 期間",
      "契約数 = 期首契約数 + 新規契約数 - 解約数",
      "解約数 = 期首契約数 * 解約率",
    ],
    人員生産性型: ["売上 = 稼働人数 * 稼働時間 * 時間単価", "稼働時間 = 所定時間 * 稼働率"],
  };
  for (const [type, list] of Object.entries(SALES)) {
    test(`${type}: the 売上 list of the spec is valid`, () => {
      expect(formulaListIssue(list, "売上")).toBeNull();
    });
  }

  test("数量×単価型 as printed in §7.10 mixes 原価 into the 売上 list: two roots", () => {
    const list = [
      "売上 = 販売数量 * 販売単価",
      "原価 = 販売数量 * 単位原価",
      "単位原価 = 材料費単価 + 加工費単価",
    ];
    expect(formulaListIssue(list, "売上")).toMatchObject({
      code: "FORMULA_INVALID",
      errors: [{ labels: ["売上", "原価"] }],
    });
    expect(formulaListIssue(list.slice(1), "原価")).toBeNull();
  });

  test("wrong root, empty list, cycle", () => {
    expect(formulaListIssue(["粗利 = 売上 - 原価"], "売上")).toMatchObject({ code: "FORMULA_INVALID" });
    expect(formulaListIssue([])).toMatchObject({ code: "FORMULA_INVALID" });
    expect(formulaListIssue(["a = b + 1", "b = a * 2"])).toMatchObject({ code: "TREE_CYCLE" });
  });
});
