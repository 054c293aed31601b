import { describe, expect, test } from "bun:test";
import { createResultCache, dataHash, frameFromRows } from "@/engine";
import { stateBlock } from "./context";
import { capJson, executeTool } from "./tools";
import { WorkingCopy } from "./working-copy";

const F1 = frameFromRows(
  ["年度", "部門"],
  [
    ["2023", "営業", "売上", 1000],
    ["2023", "開発", "売上", 500],
    ["2024", "営業", "売上", 1200],
    ["2024", "開発", "売上", 600],
    ["2023", "営業", "コスト", 800],
    ["2023", "開発", "コスト", 400],
    ["2024", "営業", "コスト", 900],
    ["2024", "開発", "コスト", 450],
  ].map(([年度, 部門, 科目, 値]) => ({ 年度, 部門, 科目, 値 })),
);

function setup() {
  const copy = new WorkingCopy(F1, dataHash(F1), [], { cache: createResultCache(1 << 20) });
  let calls = 25;
  const ctx = { copy, toolCallsLeft: () => calls--, maxChars: 8000 };
  const call = (name: string, input: unknown) => {
    const r = executeTool(name, input, ctx);
    return { ...r, body: JSON.parse(r.content) };
  };
  return { copy, call };
}

describe("agent tools over the working copy", () => {
  test("add_step then set_aggregation builds scenario 7's first entries", () => {
    const { call, copy } = setup();
    const added = call("add_step", { name: "年度別集計", type: "aggregate", input: "original" });
    expect(added.ok).toBe(true);
    expect(added.body).toMatchObject({ order: 0, status: "not_configured" });
    expect(added.body.inputSubjects).toEqual(["売上", "コスト"]);
    expect(added.changes[0]).toMatchObject({ change: "added", name: "年度別集計" });
    const set = call("set_aggregation", {
      stepKey: added.body.stepKey,
      config: {
        groupByAxis: ["年度"],
        aggregationConfig: [
          { name: "売上合計", method: "sum", subject: "売上" },
          { name: "コスト合計", method: "sum", subject: "コスト" },
          { name: "粗利", method: "-", operands: ["売上合計", "コスト合計"] },
        ],
      },
    });
    expect(set.ok).toBe(true);
    expect(set.body).toMatchObject({ status: "ok", inputRowCount: 8, rowCount: 6 });
    expect(set.body.budget.toolCallsLeft).toBeNumber();
    expect(copy.result(added.body.stepKey)?.status).toBe("ok");
  });

  test("a bad subject fails with the valid choices and changes nothing", () => {
    const { call, copy } = setup();
    const { body } = call("add_step", { name: "集計", type: "aggregate", input: "original" });
    const bad = call("set_aggregation", {
      stepKey: body.stepKey,
      config: {
        groupByAxis: ["年度"],
        aggregationConfig: [{ name: "x", method: "sum", subject: "売り上げ" }],
      },
    });
    expect(bad.ok).toBe(false);
    expect(bad.body.error.code).toBe("STEP_CONFIG_INVALID");
    expect(bad.body.error.availableSubjects).toEqual(["売上", "コスト"]);
    expect(bad.body.error.suggestions).toContain("売上");
    expect(copy.steps[0].config).toBeNull();
  });

  test("schema errors, unknown tools, wrong getters and protected deletes answer with choices", () => {
    const { call } = setup();
    expect(call("add_step", { name: "x", type: "pivot", input: "original" }).body.error.code).toBe(
      "VALIDATION_FAILED",
    );
    expect(call("drop_table", {}).body.error.allowed).toContain("add_step");
    const a = call("add_step", { name: "A", type: "filter", input: "original" }).body.stepKey;
    call("set_filter", { stepKey: a, config: { categoryFilter: { 部門: ["営業"] } } });
    const mismatch = call("set_summary", { stepKey: a, config: null });
    expect(mismatch.body.error).toMatchObject({ code: "STEP_TYPE_MISMATCH", allowed: ["set_filter"] });
    const b = call("add_step", { name: "B", type: "summary", input: a });
    expect(b.ok).toBe(true);
    const del = call("delete_step", { stepKey: a });
    expect(del.body.error.code).toBe("STEP_NOT_DELETABLE");
    expect(del.body.error.dependants.map((d: any) => d.name)).toEqual(["B"]);
    expect(call("add_step", { name: "A", type: "filter", input: "original" }).body.error.code).toBe(
      "NAME_TAKEN",
    );
    expect(
      call("add_step", { name: "C", type: "filter", input: "nope" }).body.error.availableSteps,
    ).toHaveLength(1);
  });

  test("a dependant broken by a change is reported and counted by the repair gate", () => {
    const { call, copy } = setup();
    const agg = call("add_step", { name: "集計", type: "aggregate", input: "original" }).body.stepKey;
    call("set_aggregation", {
      stepKey: agg,
      config: {
        groupByAxis: ["年度"],
        aggregationConfig: [{ name: "売上合計", method: "sum", subject: "売上" }],
      },
    });
    const f = call("add_step", { name: "絞込", type: "filter", input: agg }).body.stepKey;
    expect(call("set_filter", { stepKey: f, config: { categoryFilter: { 科目: ["売上合計"] } } }).ok).toBe(
      true,
    );
    expect(copy.newlyInvalid()).toHaveLength(0);
    const renamed = call("set_aggregation", {
      stepKey: agg,
      config: {
        groupByAxis: ["年度"],
        aggregationConfig: [{ name: "売上総額", method: "sum", subject: "売上" }],
      },
    });
    expect(renamed.ok).toBe(true);
    expect(renamed.body.brokenDependants.map((d: any) => d.name)).toEqual(["絞込"]);
    expect(copy.newlyInvalid().map((r) => r.name)).toEqual(["絞込"]);
  });

  test("steps invalid in the base snapshot are not blamed on the turn", () => {
    const steps = [
      {
        stepKey: "k1",
        name: "壊れた",
        type: "filter" as const,
        input: "original",
        config: { categoryFilter: { 部門: ["販売"] } },
      },
    ];
    const copy = new WorkingCopy(F1, dataHash(F1), steps);
    expect(copy.results.steps[0].status).toBe("invalid");
    expect(copy.newlyInvalid()).toHaveLength(0);
  });

  test("get_value finds one number, counts several matches, and refuses unknown columns", () => {
    const { call } = setup();
    const one = call("get_value", {
      dataset: "original",
      where: { 年度: "2024", 部門: "営業" },
      subject: "売上",
    });
    expect(one.body).toMatchObject({ matches: 1, value: 1200 });
    expect(one.body.rows).toEqual([{ 年度: "2024", 部門: "営業", 科目: "売上", 値: 1200 }]);
    const many = call("get_value", { dataset: "original", where: { 年度: "2023" }, limit: 2 });
    expect(many.body.matches).toBe(4);
    expect(many.body.value).toBeUndefined();
    expect(many.body.rows).toHaveLength(2);
    expect(call("get_value", { dataset: "original", where: { 年度: "1999" } }).body.matches).toBe(0);
    expect(call("get_value", { dataset: "original", where: { 部門: null } }).body.matches).toBe(0);
    const bad = call("get_value", { dataset: "original", where: { 地域: "東京" } });
    expect(bad.body.error.availableColumns).toEqual(["年度", "部門", "科目"]);
  });

  test("a tool call past its deadline fails with TOOL_TIMEOUT and changes nothing", () => {
    const { call, copy } = setup();
    const key = call("add_step", { name: "集計", type: "aggregate", input: "original" }).body.stepKey;
    copy.setToolDeadline(performance.now() - 1);
    const late = call("set_aggregation", {
      stepKey: key,
      config: {
        groupByAxis: ["年度"],
        aggregationConfig: [{ name: "売上合計", method: "sum", subject: "売上" }],
      },
    });
    copy.setToolDeadline(null);
    expect(late.ok).toBe(false);
    expect(late.body.error.code).toBe("TOOL_TIMEOUT");
    expect(copy.steps[0].config).toBeNull();
  });

  test("results are capped as valid JSON with `more` counts; the state block fits its limit", () => {
    const big = { rows: Array.from({ length: 2000 }, (_, i) => ({ i, label: `値${i}` })) };
    const text = capJson(big, 2000);
    expect(text.length).toBeLessThanOrEqual(2000);
    expect(JSON.parse(text).rows.at(-1).more).toBeGreaterThan(0);
    const { copy } = setup();
    const state = stateBlock(copy, 1000);
    expect(state.length).toBeLessThanOrEqual(1000);
    expect(state).toContain("売上");
  });
});
