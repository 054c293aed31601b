import { describe, expect, test } from "bun:test";
import { EngineError } from "@/engine/errors";
import { type Frame, frameFromRows, materialiseRows, type Row } from "@/engine/frame";
import { DEFAULT_LIMITS } from "@/engine/limits";
import { applyAggregate } from "@/engine/steps/aggregate";
import { type StepContext, Warnings } from "@/engine/steps/common";
import { parseExpression } from "@/engine/steps/expression";
import { applyFilter } from "@/engine/steps/filter";
import { applySummary, formatDisplay } from "@/engine/steps/summary";
import { applyTransform } from "@/engine/steps/transform";
import { F1_RECORDS } from "../../../tests/fixtures/analysis/fixtures";

const ctx: StepContext = { limits: DEFAULT_LIMITS };
const f1 = () => frameFromRows(["年度", "部門"], F1_RECORDS);
const f2 = () =>
  frameFromRows(
    ["製品"],
    [
      ...["A", "B", "C", "D"].map((p, i) => ({ 製品: p, 科目: "売上高", 値: [100, 200, 150, 50][i] })),
      ...["A", "B", "C", "D"].map((p, i) => ({ 製品: p, 科目: "利益", 値: [10, -20, 30, -5][i] })),
    ],
  );

const rows = (f: Frame) => materialiseRows(f);
const vals = (f: Frame) => rows(f).map((r) => r.値);

function err(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (e) {
    if (e instanceof EngineError) return e;
    throw e;
  }
  throw new Error("expected an EngineError");
}

describe("filter (§3.3, scenario 6)", () => {
  test("{} passes everything through", () => {
    expect(applyFilter({}, f1(), ctx).rowCount).toBe(8);
  });
  test("categoryFilter, topk, percentage, range", () => {
    const only = applyFilter({ categoryFilter: { 部門: ["営業"] } }, f1(), ctx);
    expect(rows(only).every((r) => r.部門 === "営業")).toBe(true);
    expect(only.rowCount).toBe(4);
    expect(
      vals(applyFilter({ numericFilter: { filterType: "topk", k: 2, order: "desc" } }, f1(), ctx)),
    ).toEqual([1000, 1200]);
    expect(
      vals(
        applyFilter(
          { numericFilter: { filterType: "percentage", minPercentile: 80, maxPercentile: 100 } },
          f1(),
          ctx,
        ),
      ),
    ).toEqual([1000, 1200]);
    expect(applyFilter({ numericFilter: { filterType: "range", min: 600 } }, f1(), ctx).rowCount).toBe(5);
    expect(
      applyFilter({ numericFilter: { filterType: "range", min: 600, minInclusive: false } }, f1(), ctx)
        .rowCount,
    ).toBe(4);
  });
  test("unknown value → availableValues; 値 → points to numericFilter; unknown key → allowed", () => {
    const e = err(() => applyFilter({ categoryFilter: { 部門: ["販売"] } }, f1(), ctx));
    expect(e.code).toBe("STEP_CONFIG_INVALID");
    expect(e.extensions.availableValues).toEqual({ column: "部門", values: ["営業", "開発"], more: false });
    expect(e.errors[0].path).toBe("/config/categoryFilter/部門/0");
    expect(err(() => applyFilter({ categoryFilter: { 値: ["1"] } }, f1(), ctx)).detail).toContain(
      "numericFilter",
    );
    const k = err(() => applyFilter({ categoryFilters: {} }, f1(), ctx));
    expect(k.extensions.suggestions?.[0]).toBe("categoryFilter");
    expect(
      err(() => applyFilter({ numericFilter: { filterType: "topk", k: 0 } }, f1(), ctx)).errors[0].path,
    ).toBe("/config/numericFilter/k");
  });
  test("empty list keeps nothing; exclude; null matches null cells", () => {
    expect(applyFilter({ categoryFilter: { 部門: [] } }, f1(), ctx).rowCount).toBe(0);
    expect(applyFilter({ categoryExclude: { 年度: ["2023"] } }, f1(), ctx).rowCount).toBe(4);
    const f = frameFromRows(
      ["a"],
      [
        { a: null, 科目: "s", 値: 1 },
        { a: "x", 科目: "s", 値: 2 },
      ],
    );
    expect(vals(applyFilter({ categoryFilter: { a: [null] } }, f, ctx))).toEqual([1]);
  });
  test("topk ties keep input order; non-numeric rows are dropped by numeric filters", () => {
    const f = frameFromRows(
      ["i"],
      [5, 7, 7, "t", null, 7, 1].map((v, i) => ({ i: String(i), 科目: "s", 値: v as Row["値"] })),
    );
    expect(
      rows(applyFilter({ numericFilter: { filterType: "topk", k: 2 } }, f, ctx)).map((r) => r.i),
    ).toEqual(["1", "2"]);
    expect(
      rows(applyFilter({ numericFilter: { filterType: "topk", k: 3, order: "asc" } }, f, ctx)).map(
        (r) => r.i,
      ),
    ).toEqual(["0", "1", "6"]);
    expect(applyFilter({ numericFilter: { filterType: "range" } }, f, ctx).rowCount).toBe(5);
  });
  test("tableFilter keep/exclude never duplicates rows", () => {
    const source = frameFromRows(
      ["製品"],
      [
        { 製品: "B", 科目: "利益", 値: -20 },
        { 製品: "B", 科目: "x", 値: 1 },
        { 製品: "D", 科目: "利益", 値: -5 },
      ],
    );
    const c: StepContext = { ...ctx, dataset: () => source };
    const keep = applyFilter(
      { tableFilter: { sourceStepKey: "s1", keyColumns: ["製品"], mode: "keep" } },
      f2(),
      c,
    );
    expect(rows(keep).map((r) => r.製品)).toEqual(["B", "D", "B", "D"]);
    const ex = applyFilter(
      { tableFilter: { sourceStepKey: "s1", keyColumns: ["製品"], mode: "exclude" } },
      f2(),
      c,
    );
    expect(rows(ex).map((r) => r.製品)).toEqual(["A", "C", "A", "C"]);
    const bad = err(() =>
      applyFilter({ tableFilter: { sourceStepKey: "s1", keyColumns: ["年度"], mode: "keep" } }, f2(), c),
    );
    expect(bad.extensions.availableColumns).toEqual(["製品", "科目"]);
  });
});

describe("aggregate (§3.4, scenario 7)", () => {
  const cfg = {
    groupByAxis: ["年度"],
    aggregationConfig: [
      { name: "売上合計", method: "sum", subject: "売上" },
      { name: "コスト合計", method: "sum", subject: "コスト" },
      { name: "粗利", method: "-", operands: ["売上合計", "コスト合計"] },
    ],
  };
  test("worked numbers", () => {
    const out = applyAggregate(cfg, f1(), ctx, new Warnings());
    expect(rows(out).map((r) => [r.年度, r.科目, r.値])).toEqual([
      ["2023", "売上合計", 1500],
      ["2023", "コスト合計", 1200],
      ["2023", "粗利", 300],
      ["2024", "売上合計", 1800],
      ["2024", "コスト合計", 1350],
      ["2024", "粗利", 450],
    ]);
  });
  test("operand before definition lists the names so far; unknown subject suggests", () => {
    const e = err(() =>
      applyAggregate(
        { groupByAxis: [], aggregationConfig: [{ name: "x", method: "+", operands: ["a", "b"] }] },
        f1(),
        ctx,
        new Warnings(),
      ),
    );
    expect(e.extensions.allowed).toEqual([]);
    const s = err(() =>
      applyAggregate(
        { groupByAxis: ["年度"], aggregationConfig: [{ name: "x", method: "sum", subject: "売り上げ" }] },
        f1(),
        ctx,
        new Warnings(),
      ),
    );
    expect(s.extensions.availableSubjects).toEqual(["売上", "コスト"]);
    expect(s.extensions.suggestions).toEqual(["売上"]);
    expect(s.detail).toBe("Unknown subject 売り上げ in aggregationConfig[0]");
    expect(
      err(() =>
        applyAggregate(
          { groupByAxis: ["科目"], aggregationConfig: cfg.aggregationConfig },
          f1(),
          ctx,
          new Warnings(),
        ),
      ).errors[0].path,
    ).toBe("/config/groupByAxis/0");
  });
  test("methods, text ignored, null groups, empty groups and x/0", () => {
    const f = frameFromRows(
      ["g"],
      [
        { g: "a", 科目: "v", 値: 1 },
        { g: "a", 科目: "v", 値: "text" },
        { g: null, 科目: "v", 値: 3 },
        { g: "b", 科目: "v", 値: "only text" },
        { g: "c", 科目: "w", 値: 0 },
      ],
    );
    const w = new Warnings();
    const out = applyAggregate(
      {
        groupByAxis: ["g"],
        aggregationConfig: [
          { name: "sum", method: "sum", subject: "v" },
          { name: "mean", method: "mean", subject: "v" },
          { name: "count", method: "count", subject: "v" },
          { name: "max", method: "max", subject: "v" },
          { name: "w", method: "min", subject: "w" },
          { name: "ratio", method: "/", operands: ["sum", "w"] },
        ],
      },
      f,
      ctx,
      w,
    );
    expect(rows(out).map((r) => `${r.g}|${r.科目}|${r.値}`)).toEqual([
      "a|sum|1",
      "a|mean|1",
      "a|count|1",
      "a|max|1",
      "a|ratio|null",
      "null|sum|3",
      "null|mean|3",
      "null|count|1",
      "null|max|3",
      "null|ratio|null",
      "b|sum|0",
      "b|mean|null",
      "b|count|0",
      "b|max|null",
      "b|ratio|null",
      "c|w|0",
      "c|ratio|null",
    ]);
    // Every ratio has a missing operand, so none divides by zero.
    expect(w.list()).toEqual([]);
  });
  test("compensated summation", () => {
    const f = frameFromRows(
      [],
      [1e16, 1, -1e16, 1].map((v) => ({ 科目: "v", 値: v })),
    );
    expect(
      vals(
        applyAggregate(
          { groupByAxis: [], aggregationConfig: [{ name: "s", method: "sum", subject: "v" }] },
          f,
          ctx,
          new Warnings(),
        ),
      ),
    ).toEqual([2]);
  });
  test("overflow → null + NON_FINITE", () => {
    const f = frameFromRows(
      [],
      [
        { 科目: "v", 値: 1e308 },
        { 科目: "v", 値: 1e308 },
      ],
    );
    const w = new Warnings();
    expect(
      vals(
        applyAggregate(
          { groupByAxis: [], aggregationConfig: [{ name: "s", method: "sum", subject: "v" }] },
          f,
          ctx,
          w,
        ),
      ),
    ).toEqual([null]);
    expect(w.list()[0].code).toBe("NON_FINITE");
  });
});

describe("transform (§3.5, scenario 8)", () => {
  test("add_subject formula", () => {
    const out = applyTransform(
      {
        operations: [
          {
            operationType: "add_subject",
            targetName: "利益",
            calculation: { type: "formula", formulaType: "-", operands: ["売上", "コスト"] },
          },
        ],
      },
      f1(),
      ctx,
      new Warnings(),
    );
    expect(out.rowCount).toBe(12);
    expect(
      rows(out)
        .slice(8)
        .map((r) => [r.年度, r.部門, r.値]),
    ).toEqual([
      ["2023", "営業", 200],
      ["2023", "開発", 100],
      ["2024", "営業", 300],
      ["2024", "開発", 150],
    ]);
  });
  test("axis operations: constant, copy, mapping with default, formula, expression", () => {
    const w = new Warnings();
    const out = applyTransform(
      {
        operations: [
          { operationType: "add_axis", targetName: "国", calculation: { type: "constant", value: "日本" } },
          { operationType: "add_axis", targetName: "年度2", calculation: { type: "copy", copyFrom: "年度" } },
          {
            operationType: "modify_axis",
            targetName: "部門",
            calculation: { type: "mapping", operands: ["部門"], mappingDict: { 営業: "Sales" } },
          },
          {
            operationType: "add_axis",
            targetName: "翌年",
            calculation: { type: "formula", formulaType: "+", operands: ["年度"], constantValue: 1 },
          },
          {
            operationType: "add_axis",
            targetName: "式",
            calculation: { type: "formula", expression: "(翌年 - 年度) * 2 / 0" },
          },
        ],
      },
      f1(),
      ctx,
      w,
    );
    expect(rows(out)[1]).toEqual({
      年度: "2023",
      部門: "開発",
      国: "日本",
      年度2: "2023",
      翌年: "2024",
      式: null,
      科目: "売上",
      値: 500,
    });
    expect(rows(out)[0].部門).toBe("Sales");
    expect(w.list()).toEqual([{ code: "DIVISION_BY_ZERO", count: 8, message: "division by zero gave null" }]);
  });
  test("modify 科目 only with mapping; duplicates warn", () => {
    const w = new Warnings();
    const out = applyTransform(
      {
        operations: [
          {
            operationType: "modify_axis",
            targetName: "科目",
            calculation: { type: "mapping", operands: ["科目"], mappingDict: { コスト: "売上" } },
          },
        ],
      },
      f1(),
      ctx,
      w,
    );
    expect(rows(out).every((r) => r.科目 === "売上")).toBe(true);
    expect(w.list()[0]).toMatchObject({ code: "DUPLICATE_ROWS_CREATED", count: 4 });
    expect(
      err(() =>
        applyTransform(
          {
            operations: [
              {
                operationType: "modify_axis",
                targetName: "科目",
                calculation: { type: "constant", value: "x" },
              },
            ],
          },
          f1(),
          ctx,
          new Warnings(),
        ),
      ).extensions.allowed,
    ).toEqual(["mapping"]);
  });
  test("subject operations: constant, copy, mapping of grades, modify in place", () => {
    const f = frameFromRows(
      ["p"],
      [
        { p: "a", 科目: "grade", 値: "A" },
        { p: "b", 科目: "grade", 値: "C" },
        { p: "c", 科目: "grade", 値: "Z" },
        { p: "a", 科目: "v", 値: 10 },
      ],
    );
    const out = applyTransform(
      {
        operations: [
          {
            operationType: "add_subject",
            targetName: "score",
            calculation: { type: "mapping", operands: ["grade"], mappingDict: { A: 3, B: 2, C: "1" } },
          },
          { operationType: "add_subject", targetName: "k", calculation: { type: "constant", value: 5 } },
          { operationType: "add_subject", targetName: "v2", calculation: { type: "copy", copyFrom: "v" } },
          {
            operationType: "modify_subject",
            targetName: "v",
            calculation: { type: "formula", expression: "v * k + score" },
          },
        ],
      },
      f,
      ctx,
      new Warnings(),
    );
    expect(rows(out).map((r) => `${r.p}|${r.科目}|${r.値}`)).toEqual([
      "a|grade|A",
      "b|grade|C",
      "c|grade|Z",
      "a|v|53",
      "a|score|3",
      "b|score|1",
      "c|score|Z",
      "a|k|5",
      "b|k|5",
      "c|k|5",
      "a|v2|10",
    ]);
  });
  test("validation: unknown operand, duplicate rows, existing subject, bad expression", () => {
    const unknown = err(() =>
      applyTransform(
        {
          operations: [
            {
              operationType: "add_subject",
              targetName: "x",
              calculation: { type: "copy", copyFrom: "売り上げ" },
            },
          ],
        },
        f1(),
        ctx,
        new Warnings(),
      ),
    );
    expect(unknown.extensions.availableSubjects).toEqual(["売上", "コスト"]);
    const noYear = frameFromRows(
      ["部門"],
      F1_RECORDS.map(({ 年度: _, ...r }) => r),
    );
    const dup = err(() =>
      applyTransform(
        {
          operations: [
            {
              operationType: "add_subject",
              targetName: "x",
              calculation: { type: "copy", copyFrom: "売上" },
            },
          ],
        },
        noYear,
        ctx,
        new Warnings(),
      ),
    );
    expect(dup.detail).toContain("aggregate first");
    expect(
      err(() =>
        applyTransform(
          {
            operations: [
              {
                operationType: "add_subject",
                targetName: "売上",
                calculation: { type: "constant", value: 1 },
              },
            ],
          },
          f1(),
          ctx,
          new Warnings(),
        ),
      ).errors[0].path,
    ).toBe("/config/operations/0/targetName");
    const bad = err(() =>
      applyTransform(
        {
          operations: [
            {
              operationType: "add_subject",
              targetName: "x",
              calculation: { type: "formula", expression: "(売上 - " },
            },
          ],
        },
        f1(),
        ctx,
        new Warnings(),
      ),
    );
    expect(bad.extensions.index).toBe(6);
  });
  test("expression grammar: precedence, unary minus, full-width operators, quoted identifiers", () => {
    expect(parseExpression("a + b * c")).toEqual({
      kind: "bin",
      op: "+",
      left: { kind: "id", name: "a" },
      right: { kind: "bin", op: "*", left: { kind: "id", name: "b" }, right: { kind: "id", name: "c" } },
    });
    expect(parseExpression("－「売上-原価」×５％")).toEqual({
      kind: "bin",
      op: "*",
      left: { kind: "neg", arg: { kind: "id", name: "売上-原価" } },
      right: { kind: "num", value: 0.05 },
    });
    expect(parseExpression("コーヒー 売上 / 2")).toMatchObject({ left: { name: "コーヒー 売上" } });
  });
});

describe("summary (§3.6, scenarios 9, 11, 23)", () => {
  const formulas = [
    { name: "利益合計", method: "sum", subject: "利益", unit: "円" },
    { name: "売上高合計", method: "sum", subject: "売上高", unit: "円", portion: 1 },
    { name: "利益率", method: "/", operands: ["利益合計", "売上高合計"], unit: "%" },
  ];
  test("F2 worked numbers and display", () => {
    const r = applySummary({ formulas }, f2(), ctx, new Warnings());
    expect(r.resultFormula).toEqual([
      { name: "利益合計", value: 15, unit: "円", display: "15円" },
      { name: "売上高合計", value: 500, unit: "円", display: "500円" },
      { name: "利益率", value: 0.03, unit: "%", display: "3.0%" },
    ]);
    expect(r.resultChart).toBeNull();
  });
  test("unit outside the closed set → allowed", () => {
    const e = err(() =>
      applySummary({ formulas: [{ ...formulas[0], unit: "ドル" }] }, f2(), ctx, new Warnings()),
    );
    expect(e.extensions.allowed).toEqual(["円", "%", "個"]);
  });
  test("portion applies after aggregation; arithmetic sees earlier results", () => {
    const r = applySummary(
      {
        formulas: [
          { name: "p", method: "sum", subject: "利益", unit: "円", portion: -1 },
          { name: "c", method: "count", subject: "利益", unit: "個" },
          { name: "pc", method: "*", operands: ["p", "c"], unit: "円", portion: 0.5 },
        ],
      },
      f2(),
      ctx,
      new Warnings(),
    );
    expect(r.resultFormula.map((f) => [f.value, f.display])).toEqual([
      [-15, "-15円"],
      [4, "4個"],
      [-30, "-30円"],
    ]);
  });
  test("scenario 23: text 値 ignored, x/0 → null + DIVISION_BY_ZERO, JSON-safe", () => {
    const f = frameFromRows(
      ["製品"],
      [
        ...["A", "B", "C", "D"].map((p, i) => ({
          製品: p,
          科目: "売上高",
          値: [100, 200, 150, "未集計"][i],
        })),
        ...["A", "B", "C", "D"].map((p) => ({ 製品: p, 科目: "返品", 値: 0 })),
      ],
    );
    const w = new Warnings();
    const r = applySummary(
      {
        formulas: [
          { name: "売上高合計", method: "sum", subject: "売上高", unit: "円" },
          { name: "件数", method: "count", subject: "売上高", unit: "個" },
          { name: "返品合計", method: "sum", subject: "返品", unit: "円" },
          { name: "比", method: "/", operands: ["売上高合計", "返品合計"], unit: "%" },
        ],
        tableConfig: { showSourceData: true, tableName: "元データ" },
      },
      f,
      ctx,
      w,
      3,
    );
    expect(r.resultFormula.map((x) => x.value)).toEqual([450, 3, 0, null]);
    expect(r.resultFormula[3].display).toBe("—");
    expect(w.list().map((x) => x.code)).toEqual(["DIVISION_BY_ZERO"]);
    expect(r.resultTable).toMatchObject({ tableName: "元データ", total: 8, truncated: true });
    expect(r.resultTable!.rows).toHaveLength(3);
    const json = JSON.stringify(r);
    expect(json).not.toMatch(/NaN|Infinity/);
  });
  test("display formats", () => {
    expect(formatDisplay(1500.4, "円")).toBe("1,500円");
    expect(formatDisplay(2, "個")).toBe("2個");
    expect(formatDisplay(2.345, "個")).toBe("2.35個");
    expect(formatDisplay(0.03, "%")).toBe("3.0%");
    expect(formatDisplay(null, "%")).toBe("—");
    expect(formatDisplay(-0.4, "円")).toBe("0円");
  });
  test("an empty summary config is valid", () => {
    expect(applySummary({}, f2(), ctx, new Warnings())).toEqual({
      resultFormula: [],
      chartModel: null,
      resultChart: null,
      resultTable: null,
    });
  });
});
