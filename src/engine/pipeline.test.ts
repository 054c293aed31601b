import { describe, expect, test } from "bun:test";
import { dataHash, type Frame, frameFromRows, materialiseRows } from "@/engine/frame";
import { assertDeletable, createResultCache, runPipeline, type StepDef } from "@/engine/pipeline";
import { F1_RECORDS } from "../../tests/fixtures/analysis/fixtures";

const f1 = frameFromRows(["年度", "部門"], F1_RECORDS);
const f2 = frameFromRows(
  ["製品"],
  [
    ...["A", "B", "C", "D"].map((p, i) => ({ 製品: p, 科目: "売上高", 値: [100, 200, 150, 50][i] })),
    ...["A", "B", "C", "D"].map((p, i) => ({ 製品: p, 科目: "利益", 値: [10, -20, 30, -5][i] })),
  ],
);
const run = (input: Frame, steps: StepDef[], cache = createResultCache()) =>
  runPipeline(input, dataHash(input), steps, { cache });

const aggregate: StepDef = {
  stepKey: "agg",
  name: "年度別集計",
  type: "aggregate",
  input: "original",
  config: {
    groupByAxis: ["年度"],
    aggregationConfig: [
      { name: "売上合計", method: "sum", subject: "売上" },
      { name: "コスト合計", method: "sum", subject: "コスト" },
      { name: "粗利", method: "-", operands: ["売上合計", "コスト合計"] },
    ],
  },
};

describe("scenario 11: unprofitable products with stable keys", () => {
  const steps: StepDef[] = [
    {
      stepKey: "s0",
      name: "s0",
      type: "summary",
      input: "original",
      config: {
        formulas: [
          { name: "利益合計", method: "sum", subject: "利益", unit: "円" },
          { name: "売上高合計", method: "sum", subject: "売上高", unit: "円" },
        ],
        chartConfig: { graphType: "scatter", xSubject: "売上高", ySubject: "利益", title: "散布" },
      },
    },
    {
      stepKey: "s1",
      name: "s1",
      type: "filter",
      input: "original",
      config: {
        categoryFilter: { 科目: ["利益"] },
        numericFilter: { filterType: "range", max: 0, maxInclusive: false },
      },
    },
    {
      stepKey: "s2",
      name: "s2",
      type: "filter",
      input: "original",
      config: { tableFilter: { sourceStepKey: "s1", keyColumns: ["製品"], mode: "exclude" } },
    },
    {
      stepKey: "s3",
      name: "s3",
      type: "summary",
      input: "s2",
      config: {
        formulas: [
          { name: "利益", method: "sum", subject: "利益", unit: "円" },
          { name: "売上高", method: "sum", subject: "売上高", unit: "円" },
        ],
      },
    },
    {
      stepKey: "s4",
      name: "s4",
      type: "summary",
      input: "s1",
      config: {
        formulas: [
          { name: "p", method: "sum", subject: "利益", unit: "円", portion: -1 },
          { name: "c", method: "count", subject: "利益", unit: "個" },
        ],
      },
    },
  ];
  test("worked numbers, scatter figure and dependants", () => {
    const r = run(f2, steps);
    expect(r.steps.map((s) => s.status)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
    expect(materialiseRows(r.byKey.get("s1")!.frame!).map((x) => x.製品)).toEqual(["B", "D"]);
    expect(new Set(materialiseRows(r.byKey.get("s2")!.frame!).map((x) => x.製品))).toEqual(
      new Set(["A", "C"]),
    );
    expect(r.byKey.get("s3")!.summary!.resultFormula.map((f) => f.value)).toEqual([40, 250]);
    expect(r.byKey.get("s4")!.summary!.resultFormula.map((f) => [f.value, f.unit])).toEqual([
      [25, "円"],
      [2, "個"],
    ]);
    const chart = r.byKey.get("s0")!.summary!.resultChart!;
    expect(chart.data[0].type).toBe("scatter");
    expect((chart.data[0].x as number[]).length).toBe(4);
    expect((chart.layout.title as { text: string }).text).toBe("散布");
    expect(JSON.stringify(chart)).not.toContain("bdata");
    try {
      assertDeletable(steps, "s1");
      throw new Error("deletable");
    } catch (e) {
      expect((e as { code: string }).code).toBe("STEP_NOT_DELETABLE");
      expect((e as { extensions: { dependants: unknown } }).extensions.dependants).toEqual([
        { stepKey: "s2", name: "s2" },
        { stepKey: "s4", name: "s4" },
      ]);
    }
  });
  test("deterministic: identical results byte for byte, and from the cache", () => {
    const cache = createResultCache();
    const a = run(f2, steps, cache);
    const b = run(f2, steps, cache);
    const c = run(f2, steps);
    expect(b.steps.every((s) => s.cached)).toBe(true);
    const dump = (r: typeof a) =>
      JSON.stringify(r.steps.map((s) => [s.resultKey, s.summary, s.frame && materialiseRows(s.frame)]));
    expect(dump(b)).toBe(dump(a));
    expect(dump(c)).toBe(dump(a));
  });
});

describe("scenario 10: charts", () => {
  test("bar on F1 original needs aggregation; bar on the aggregate works; area lists the types", () => {
    const filter: StepDef = {
      stepKey: "f",
      name: "f",
      type: "filter",
      input: "agg",
      config: { categoryFilter: { 科目: ["売上合計"] } },
    };
    const bar = (input: string, graphType = "bar"): StepDef => ({
      stepKey: `c-${input}-${graphType}`,
      name: `c-${input}-${graphType}`,
      type: "summary",
      input,
      config: { chartConfig: { graphType, xAxis: "年度", yAxis: "値" } },
    });
    const r = run(f1, [aggregate, filter, bar("original"), bar("f"), bar("f", "area")]);
    const [, , dup, ok, area] = r.steps;
    expect(dup.status).toBe("invalid");
    expect(dup.error!.detail).toContain("aggregation needed");
    expect(ok.summary!.resultChart!.data).toEqual([
      { type: "bar", name: "値", x: ["2023", "2024"], y: [1500, 1800], marker: { color: "#4e79a7" } },
    ]);
    expect(ok.summary!.resultChart!.layout).toMatchObject({
      barmode: "group",
      xaxis: { type: "category", title: { text: "年度" } },
    });
    expect(area.error!.allowed).toHaveLength(8);
  });
  test("pie of profits names negative values; other chart types build", () => {
    const charts: Record<string, unknown>[] = [
      { graphType: "pie", valueAxis: "値", legendAxis: "製品" },
      { graphType: "horizontal bar", xAxis: "値", yAxis: "製品", legendAxis: "科目" },
      { graphType: "stacked bar", xAxis: "製品", yAxis: "値", stackAxis: "科目" },
      { graphType: "line", xAxis: "製品", yAxis: "値", legendAxis: "科目", sortBy: "valueDesc" },
      {
        graphType: "line&bar",
        xAxis: "製品",
        yLeftSubject: "売上高",
        yLeftType: "bar",
        yRightSubject: "利益",
        yRightType: "line",
      },
      {
        graphType: "waterfall",
        xAxis: "製品",
        yAxis: "値",
        measureType: "relative",
        legendAxis: "科目",
        baseValue: 5,
        showTotal: true,
      },
      { graphType: "bar", xAxis: "製品", yAxis: "値", legend: "科目" },
    ];
    const profit: StepDef = {
      stepKey: "p",
      name: "p",
      type: "filter",
      input: "original",
      config: { categoryFilter: { 科目: ["利益"] } },
    };
    const steps: StepDef[] = charts.map((c, i) => ({
      stepKey: `c${i}`,
      name: `c${i}`,
      type: "summary",
      input: i === 0 ? "p" : "original",
      config: { chartConfig: c },
    }));
    const r = run(f2, [profit, ...steps]);
    r.steps.shift();
    expect(r.steps.map((s) => s.status)).toEqual(["invalid", "ok", "invalid", "ok", "ok", "ok", "invalid"]);
    expect(r.steps[0].error!.detail).toContain("negative");
    expect(r.steps[2].error!.detail).toContain("negative");
    expect(r.steps[6].error!.suggestions).toEqual(["legendAxis"]);
    const line = r.steps[3].summary!.chartModel!;
    expect(line.categories).toEqual(["B", "C", "A", "D"]);
    const wf = r.steps[5].summary!.chartModel!.series[1].points;
    expect(wf.map((p) => [p.x, p.measure, p.start, p.end])).toEqual([
      ["基準", "absolute", 0, 5],
      ["A", "relative", 5, 15],
      ["B", "relative", 15, -5],
      ["C", "relative", -5, 25],
      ["D", "relative", 25, 20],
      ["合計", "total", 0, 20],
    ]);
    const hbar = r.steps[1].summary!.resultChart!;
    expect(hbar.layout.yaxis).toMatchObject({ type: "category", autorange: "reversed" });
    expect(hbar.data[0]).toMatchObject({ orientation: "h", y: ["A", "B", "C", "D"] });
    const lb = r.steps[4].summary!.resultChart!;
    expect(lb.layout.yaxis2).toEqual({ title: { text: "利益" }, overlaying: "y", side: "right" });
    expect(lb.data.map((d) => [d.type, d.yaxis])).toEqual([
      ["bar", "y"],
      ["scatter", "y2"],
    ]);
  });
});

describe("replay statuses (§3.1)", () => {
  test("not configured, blocked, invalid references and independent steps", () => {
    const steps: StepDef[] = [
      { stepKey: "a", name: "a", type: "aggregate", input: "original" },
      { stepKey: "b", name: "b", type: "filter", input: "a", config: {} },
      { stepKey: "c", name: "c", type: "filter", input: "original", config: {} },
      { stepKey: "d", name: "d", type: "filter", input: "zzz", config: {} },
      { stepKey: "e", name: "e", type: "summary", input: "c", config: {} },
      { stepKey: "f", name: "f", type: "filter", input: "e", config: {} },
    ];
    const r = run(f1, steps);
    expect(r.steps.map((s) => s.status)).toEqual([
      "not_configured",
      "blocked",
      "ok",
      "invalid",
      "ok",
      "invalid",
    ]);
    expect(r.steps[0]).toMatchObject({ configured: false, error: null });
    expect(r.steps[1].error!.detail).toContain("a");
    expect(r.steps[3].error!.code).toBe("STEP_REFERENCE_INVALID");
    expect(r.steps[3].error!.availableSteps).toEqual([
      { stepKey: "a", name: "a", type: "aggregate" },
      { stepKey: "b", name: "b", type: "filter" },
      { stepKey: "c", name: "c", type: "filter" },
    ]);
  });
  test("scenario 24: renaming an aggregate entry invalidates the dependent filter with choices", () => {
    const renamed = JSON.parse(JSON.stringify(aggregate));
    renamed.config.aggregationConfig[0].name = "売上総額";
    renamed.config.aggregationConfig[2].operands[0] = "売上総額";
    const filter: StepDef = {
      stepKey: "f",
      name: "f",
      type: "filter",
      input: "agg",
      config: { categoryFilter: { 科目: ["売上合計"] } },
    };
    const r = run(f1, [renamed, filter]);
    expect(r.steps[1].status).toBe("invalid");
    expect(r.steps[1].error!.detail).toContain("売上合計");
    expect(r.steps[1].error!.availableValues).toEqual({
      column: "科目",
      values: ["売上総額", "コスト合計", "粗利"],
      more: false,
    });
  });
  test("the rows limit makes a step invalid; cache keys change only for edited steps and dependants", () => {
    const big = runPipeline(
      f1,
      dataHash(f1),
      [{ stepKey: "t", name: "t", type: "filter", input: "original", config: {} }],
      { limits: { maxRows: 5 } },
    );
    expect(big.steps[0].error).toMatchObject({
      code: "ANALYSIS_LIMIT_EXCEEDED",
      limitName: "rows",
      limit: 5,
      actual: 8,
    });
    const cache = createResultCache();
    const steps: StepDef[] = [
      aggregate,
      {
        stepKey: "x",
        name: "x",
        type: "filter",
        input: "original",
        config: { categoryFilter: { 部門: ["営業"] } },
      },
      { stepKey: "y", name: "y", type: "filter", input: "agg", config: {} },
    ];
    const a = run(f1, steps, cache);
    const edited = [
      { ...aggregate, config: { ...(aggregate.config as object), groupByAxis: ["部門"] } },
      steps[1],
      steps[2],
    ];
    const b = run(f1, edited, cache);
    expect(b.steps.map((s) => s.cached)).toEqual([false, true, false]);
    expect(b.steps[1].resultKey).toBe(a.steps[1].resultKey);
    expect(b.steps[2].resultKey).not.toBe(a.steps[2].resultKey);
  });
  test("an aborted signal stops the replay", () => {
    const ac = new AbortController();
    ac.abort();
    expect(() => runPipeline(f1, "h", [aggregate], { signal: ac.signal })).toThrow();
  });
});
