import { type Static, Type as T, type TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import {
  dependantsOf,
  dictColumn,
  EngineError,
  type Frame,
  KIND_NUMBER,
  materialiseRows,
  ORIGINAL_INPUT,
  type StepResult,
  SUBJECT,
  VALUE,
} from "@/engine";
import { newId } from "@/lib/ids";
import type { ToolDef } from "@/lib/llm/types";
import { CONFIG_SCHEMAS } from "./config-schemas";
import type { StepChange, WorkingCopy, WorkingStep } from "./working-copy";

/*
 * The agent's typed tools (analysis.md §5.3) as thin calls onto the working copy and the engine.
 * Every result is JSON text; a failure carries the same code, errors and valid choices as the
 * REST 422 (§5.4), so the model can correct itself.
 */

const StepType = T.Union([
  T.Literal("filter"),
  T.Literal("aggregate"),
  T.Literal("transform"),
  T.Literal("summary"),
]);
const StepKey = T.String({ minLength: 1, description: "the step's stepKey" });
const Dataset = T.String({ minLength: 1, description: '"original" or the stepKey of a dataset step' });

const INPUTS = {
  data_overview: T.Object(
    {
      dataset: T.Optional(Dataset),
      topN: T.Optional(T.Integer({ minimum: 1, maximum: 100 })),
      columns: T.Optional(T.Array(T.String())),
    },
    { additionalProperties: false },
  ),
  step_overview: T.Object({}, { additionalProperties: false }),
  get_value: T.Object(
    {
      dataset: Dataset,
      where: T.Record(T.String(), T.Union([T.String(), T.Null()])),
      subject: T.Optional(T.String()),
      limit: T.Optional(T.Integer({ minimum: 1, maximum: 50 })),
    },
    { additionalProperties: false },
  ),
  add_step: T.Object(
    {
      name: T.String({ minLength: 1, maxLength: 255 }),
      type: StepType,
      input: T.String({
        minLength: 1,
        description: '"original" or the stepKey of an earlier filter/aggregate/transform step',
      }),
    },
    { additionalProperties: false },
  ),
  update_step: T.Object(
    {
      stepKey: StepKey,
      name: T.Optional(T.String({ minLength: 1, maxLength: 255 })),
      input: T.Optional(T.String({ minLength: 1 })),
    },
    { additionalProperties: false },
  ),
  delete_step: T.Object({ stepKey: StepKey }, { additionalProperties: false }),
  get_filter: T.Object({ stepKey: StepKey }, { additionalProperties: false }),
  get_aggregation: T.Object({ stepKey: StepKey }, { additionalProperties: false }),
  get_transform: T.Object({ stepKey: StepKey }, { additionalProperties: false }),
  get_summary: T.Object({ stepKey: StepKey }, { additionalProperties: false }),
  set_filter: T.Object(
    { stepKey: StepKey, config: T.Union([CONFIG_SCHEMAS.filter, T.Null()]) },
    { additionalProperties: false },
  ),
  set_aggregation: T.Object(
    { stepKey: StepKey, config: T.Union([CONFIG_SCHEMAS.aggregate, T.Null()]) },
    { additionalProperties: false },
  ),
  set_transform: T.Object(
    { stepKey: StepKey, config: T.Union([CONFIG_SCHEMAS.transform, T.Null()]) },
    { additionalProperties: false },
  ),
  set_summary: T.Object(
    { stepKey: StepKey, config: T.Union([CONFIG_SCHEMAS.summary, T.Null()]) },
    { additionalProperties: false },
  ),
} satisfies Record<string, TSchema>;

export type ToolName = keyof typeof INPUTS;

const DESCRIPTIONS: Record<ToolName, string> = {
  data_overview:
    "Overview of a dataset: row count, columns (axis / 科目 / 値) with distinct counts and most frequent values, and 値 statistics.",
  step_overview:
    "Every step of the pipeline with its stepKey, input, status, errors and a short result summary.",
  get_value:
    "Rows of a dataset matching column values (and a 科目), with the value when exactly one matches.",
  add_step: "Append a pipeline step (not configured yet). Returns its stepKey and a config template.",
  update_step: "Rename a step or change its input.",
  delete_step: "Delete a step that no other step uses.",
  get_filter: "Read a filter step's config.",
  get_aggregation: "Read an aggregate step's config.",
  get_transform: "Read a transform step's config.",
  get_summary: "Read a summary step's config.",
  set_filter: "Replace a filter step's whole config (null = not configured). Returns the resulting rows.",
  set_aggregation:
    "Replace an aggregate step's whole config (null = not configured). Returns the resulting rows.",
  set_transform:
    "Replace a transform step's whole config (null = not configured). Returns the resulting rows.",
  set_summary:
    "Replace a summary step's whole config: formulas, chartConfig, tableConfig (null = not configured). Returns formula values and the chart outline.",
};

const TYPE_OF_TOOL: Partial<Record<ToolName, WorkingStep["type"]>> = {
  get_filter: "filter",
  set_filter: "filter",
  get_aggregation: "aggregate",
  set_aggregation: "aggregate",
  get_transform: "transform",
  set_transform: "transform",
  get_summary: "summary",
  set_summary: "summary",
};
const GET_TOOL = {
  filter: "get_filter",
  aggregate: "get_aggregation",
  transform: "get_transform",
  summary: "get_summary",
};
const SET_TOOL = {
  filter: "set_filter",
  aggregate: "set_aggregation",
  transform: "set_transform",
  summary: "set_summary",
};

/** Plain JSON schemas (TypeBox's symbol keys dropped) for the providers. */
export const TOOL_DEFS: ToolDef[] = (Object.keys(INPUTS) as ToolName[]).map((name) => ({
  name,
  description: DESCRIPTIONS[name],
  inputSchema: JSON.parse(JSON.stringify(INPUTS[name])) as Record<string, unknown>,
}));

export const isToolName = (name: string): name is ToolName => Object.hasOwn(INPUTS, name);

export type ToolOutcome = {
  ok: boolean;
  /** JSON text sent back to the model. */
  content: string;
  /** One line for the `tool` SSE event and the log. */
  summary: string;
  changes: StepChange[];
};

type Ctx = { copy: WorkingCopy; toolCallsLeft: () => number; maxChars: number };

const CONFIG_TEMPLATES: Record<WorkingStep["type"], unknown> = {
  filter: { categoryFilter: { [SUBJECT]: ["<科目>"] }, numericFilter: null, tableFilter: null },
  aggregate: {
    groupByAxis: ["<axis>"],
    aggregationConfig: [{ name: "<名前>", method: "sum", subject: "<科目>" }],
  },
  transform: {
    operations: [
      {
        operationType: "add_subject",
        targetName: "<新しい科目>",
        calculation: { type: "formula", formulaType: "-", operands: ["<科目A>", "<科目B>"] },
      },
    ],
  },
  summary: {
    formulas: [{ name: "<名前>", method: "sum", subject: "<科目>", unit: "円" }],
    chartConfig: { graphType: "bar", xAxis: "<axis>", yAxis: VALUE },
    tableConfig: null,
  },
};

function topValues(frame: Frame, name: string, topN: number) {
  const col = name === SUBJECT ? frame.subject : frame.axes.find((a) => a.name === name)!;
  const counts = new Map<number, number>();
  for (let i = 0; i < frame.rowCount; i++) counts.set(col.codes[i], (counts.get(col.codes[i]) ?? 0) + 1);
  const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  return {
    name,
    kind: name === SUBJECT ? "subject" : "axis",
    distinct: counts.size,
    top: sorted.slice(0, topN).map(([code, count]) => ({ value: code < 0 ? null : col.dict[code], count })),
    more: Math.max(0, sorted.length - topN),
  };
}

export function valueStats(frame: Frame) {
  let numeric = 0;
  let text = 0;
  let nul = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let sum = 0;
  for (let i = 0; i < frame.rowCount; i++) {
    const k = frame.kinds[i];
    if (k === 1) {
      numeric++;
      const v = frame.values[i];
      if (v < min) min = v;
      if (v > max) max = v;
      sum += v;
    } else if (k === 2) text++;
    else nul++;
  }
  return {
    numeric,
    text,
    null: nul,
    min: numeric ? min : null,
    max: numeric ? max : null,
    sum: Number.isFinite(sum) ? sum : null,
  };
}

/** The overview of `data_overview` and of the state block (§5.2 C). */
export function overview(frame: Frame, topN: number, columns?: string[]) {
  const names = [...frame.axes.map((a) => a.name), SUBJECT].filter((n) => !columns || columns.includes(n));
  return {
    rowCount: frame.rowCount,
    columns: [
      ...names.map((n) => topValues(frame, n, n === SUBJECT ? Math.max(topN, 50) : topN)),
      { name: VALUE, kind: "value" },
    ],
    valueStats: valueStats(frame),
  };
}

function datasetFrame(copy: WorkingCopy, dataset: string): Frame {
  if (dataset === ORIGINAL_INPUT) return copy.frame;
  const step = copy.find(dataset);
  const result = copy.result(step.stepKey);
  if (step.type === "summary") {
    throw new EngineError(
      "STEP_REFERENCE_INVALID",
      422,
      `${step.name} is a summary step and has no dataset`,
      {
        availableSteps: copy.availableInputs(),
      },
    );
  }
  if (!result?.frame) {
    throw new EngineError("STEP_NOT_READY", 422, `${step.name} has no result (status ${result?.status})`, {
      error: result?.error ?? null,
    });
  }
  return result.frame;
}

function configSummary(step: WorkingStep): string {
  const c = step.config as Record<string, unknown> | null;
  if (c === null || c === undefined) return "not configured";
  const text = JSON.stringify(c);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

export function resultSummary(r: StepResult | undefined): string {
  if (!r) return "";
  if (r.status !== "ok") return r.error?.detail ?? r.status;
  if (r.frame) return `${r.frame.rowCount} rows`;
  const s = r.summary;
  if (!s) return "";
  const parts = s.resultFormula.map((f) => `${f.name}=${f.display}`);
  if (s.chartModel) parts.push(`chart ${s.chartModel.type}`);
  if (s.resultTable) parts.push(`table ${s.resultTable.total} rows`);
  return parts.join(", ") || "empty";
}

export function stepOverview(copy: WorkingCopy) {
  return copy.steps.map((s, order) => {
    const r = copy.result(s.stepKey);
    return {
      stepKey: s.stepKey,
      order,
      name: s.name,
      type: s.type,
      input: s.input,
      status: r?.status ?? "not_configured",
      ...(r?.error ? { error: r.error.detail } : {}),
      dependsOn: [
        s.input,
        ...((s.config as { tableFilter?: { sourceStepKey?: string } } | null)?.tableFilter?.sourceStepKey
          ? [(s.config as { tableFilter: { sourceStepKey: string } }).tableFilter.sourceStepKey]
          : []),
      ],
      dependants: dependantsOf(copy.steps as WorkingStep[], s.stepKey).map((d) => d.stepKey),
      configSummary: configSummary(s),
      resultSummary: resultSummary(r),
    };
  });
}

function datasetResult(copy: WorkingCopy, step: WorkingStep, r: StepResult) {
  const inputFrame = step.input === ORIGINAL_INPUT ? copy.frame : copy.result(step.input)?.frame;
  return {
    status: r.status,
    inputRowCount: inputFrame?.rowCount ?? null,
    rowCount: r.frame?.rowCount ?? null,
    overview: r.frame ? overview(r.frame, 10).columns : null,
    ...(r.warnings.length ? { warnings: r.warnings } : {}),
  };
}

function summaryResult(r: StepResult) {
  const s = r.summary;
  return {
    status: r.status,
    formulas: s?.resultFormula ?? [],
    chart: s?.chartModel
      ? {
          graphType: s.chartModel.type,
          series: s.chartModel.series.map((x) => x.name),
          points: s.chartModel.series.reduce((n, x) => n + x.points.length, 0),
        }
      : null,
    table: s?.resultTable ? { rowCount: s.resultTable.total } : null,
    ...(r.warnings.length ? { warnings: r.warnings } : {}),
  };
}

const change = (kind: StepChange["change"], step: WorkingStep, status: string): StepChange => ({
  change: kind,
  stepKey: step.stepKey,
  name: step.name,
  type: step.type,
  status,
});

/** Caps a JSON text; arrays are cut first so the result stays valid JSON with `more` counts. */
export function capJson(value: unknown, maxChars: number): string {
  let text = JSON.stringify(value);
  if (text.length <= maxChars) return text;
  let limit = 50;
  while (text.length > maxChars && limit >= 1) {
    text = JSON.stringify(trimArrays(value, limit));
    limit = Math.floor(limit / 2);
  }
  return text.length <= maxChars ? text : `${text.slice(0, maxChars - 20)}…(truncated)`;
}

function trimArrays(value: unknown, limit: number): unknown {
  if (Array.isArray(value)) {
    const items = value.slice(0, limit).map((v) => trimArrays(v, limit));
    return value.length > limit ? [...items, { more: value.length - limit }] : items;
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, trimArrays(v, limit)]));
  }
  return value;
}

function failure(e: EngineError, ctx: Ctx, name: string): ToolOutcome {
  const error = { code: e.code, message: e.detail, errors: e.errors, ...e.extensions };
  return {
    ok: false,
    content: capJson({ ok: false, error, budget: { toolCallsLeft: ctx.toolCallsLeft() } }, ctx.maxChars),
    summary: `${name}: ${e.code} ${e.detail}`.slice(0, 300),
    changes: [],
  };
}

export function toolError(code: string, message: string, ctx: Ctx, name: string, extra = {}): ToolOutcome {
  return failure(new EngineError(code, 422, message, extra), ctx, name);
}

function schemaErrors(schema: TSchema, input: unknown) {
  return [...Value.Errors(schema, input)]
    .slice(0, 10)
    .map((e) => ({ path: e.path || "/", message: e.message }));
}

/**
 * Runs one tool call against the working copy. Engine errors become `ok:false` results; anything
 * else is a bug and propagates (the turn reports it as INTERNAL without the stack).
 */
export function executeTool(name: string, input: unknown, ctx: Ctx): ToolOutcome {
  if (!isToolName(name)) {
    return toolError("UNKNOWN_TOOL", `There is no tool named ${name}`, ctx, name, {
      allowed: Object.keys(INPUTS),
    });
  }
  if (!Value.Check(INPUTS[name], input)) {
    const errors = schemaErrors(INPUTS[name], input);
    return failure(
      new EngineError("VALIDATION_FAILED", 422, "The tool input does not match its schema", {}, errors),
      ctx,
      name,
    );
  }
  try {
    return run(name, input as never, ctx);
  } catch (e) {
    if (e instanceof EngineError) return failure(e, ctx, name);
    throw e;
  }
}

function ok(
  ctx: Ctx,
  body: Record<string, unknown>,
  summary: string,
  changes: StepChange[] = [],
): ToolOutcome {
  return {
    ok: true,
    content: capJson({ ok: true, ...body, budget: { toolCallsLeft: ctx.toolCallsLeft() } }, ctx.maxChars),
    summary,
    changes,
  };
}

function run<N extends ToolName>(name: N, input: Static<(typeof INPUTS)[N]>, ctx: Ctx): ToolOutcome {
  const { copy } = ctx;
  switch (name) {
    case "data_overview": {
      const i = input as Static<(typeof INPUTS)["data_overview"]>;
      const dataset = i.dataset ?? ORIGINAL_INPUT;
      const frame = datasetFrame(copy, dataset);
      return ok(
        ctx,
        { dataset, ...overview(frame, i.topN ?? 20, i.columns) },
        `${dataset}: ${frame.rowCount} rows`,
      );
    }
    case "step_overview": {
      const steps = stepOverview(copy);
      return ok(ctx, { steps }, `${steps.length} steps`);
    }
    case "get_value": {
      const i = input as Static<(typeof INPUTS)["get_value"]>;
      const frame = datasetFrame(copy, i.dataset);
      const where = { ...i.where, ...(i.subject !== undefined ? { [SUBJECT]: i.subject } : {}) };
      const names = [...frame.axes.map((a) => a.name), SUBJECT];
      const unknown = Object.keys(where).filter((k) => !names.includes(k));
      if (unknown.length) {
        throw new EngineError("STEP_CONFIG_INVALID", 422, `Unknown column ${unknown.join(", ")}`, {
          availableColumns: names,
        });
      }
      // Compare dictionary codes, so a lookup in a million-row dataset materialises only the matches.
      const tests = Object.entries(where).map(([name, value]) => {
        const col = dictColumn(frame, name)!;
        // A null value matches null cells (negative codes); an unknown label matches nothing.
        return { codes: col.codes, code: value === null ? null : col.dict.indexOf(value) };
      });
      const hits: number[] = [];
      if (tests.every((t) => t.code !== -1)) {
        for (let r = 0; r < frame.rowCount; r++) {
          if (tests.every((t) => (t.code === null ? t.codes[r] < 0 : t.codes[r] === t.code))) hits.push(r);
        }
      }
      const limit = i.limit ?? 10;
      const rows = hits.slice(0, limit).map((r) => materialiseRows(frame, r, 1)[0]);
      const numeric = hits.filter((r) => frame.kinds[r] === KIND_NUMBER);
      return ok(
        ctx,
        {
          matches: hits.length,
          ...(hits.length === 1 && numeric.length === 1 ? { value: frame.values[numeric[0]] } : {}),
          rows,
        },
        `${hits.length} matches`,
      );
    }
    case "add_step": {
      const i = input as Static<(typeof INPUTS)["add_step"]>;
      const stepKey = newId();
      const r = copy.add({ stepKey, name: i.name.trim(), type: i.type, input: i.input });
      const step = copy.find(stepKey);
      const inputFrame = datasetFrame(copy, i.input);
      return ok(
        ctx,
        {
          stepKey,
          order: copy.steps.length - 1,
          status: r.status,
          configTemplate: CONFIG_TEMPLATES[i.type],
          inputColumns: [...inputFrame.axes.map((a) => a.name), SUBJECT, VALUE],
          inputSubjects: inputFrame.subject.dict.slice(0, 50),
        },
        `added ${i.type} ${step.name}`,
        [change("added", step, r.status)],
      );
    }
    case "update_step": {
      const i = input as Static<(typeof INPUTS)["update_step"]>;
      const r = copy.update(i.stepKey, { name: i.name?.trim(), input: i.input });
      const step = copy.find(i.stepKey);
      const broken = copy.brokenDependants(i.stepKey);
      return ok(
        ctx,
        {
          step: {
            stepKey: step.stepKey,
            name: step.name,
            type: step.type,
            input: step.input,
            status: r.status,
          },
          ...(broken.length ? { brokenDependants: broken } : {}),
        },
        `updated ${step.name}`,
        [change("updated", step, r.status)],
      );
    }
    case "delete_step": {
      const i = input as Static<(typeof INPUTS)["delete_step"]>;
      const step = copy.delete(i.stepKey);
      return ok(ctx, { deleted: step.stepKey }, `deleted ${step.name}`, [change("deleted", step, "deleted")]);
    }
    case "get_filter":
    case "get_aggregation":
    case "get_transform":
    case "get_summary": {
      const i = input as { stepKey: string };
      const step = copy.find(i.stepKey);
      assertType(step, name);
      const r = copy.result(step.stepKey);
      return ok(
        ctx,
        {
          stepKey: step.stepKey,
          name: step.name,
          input: step.input,
          status: r?.status ?? "not_configured",
          ...(r?.error ? { error: r.error } : {}),
          config: step.config ?? null,
        },
        `read ${step.name}`,
      );
    }
    case "set_filter":
    case "set_aggregation":
    case "set_transform":
    case "set_summary": {
      const i = input as { stepKey: string; config: unknown };
      assertType(copy.find(i.stepKey), name);
      const r = copy.setConfig(i.stepKey, i.config);
      const step = copy.find(i.stepKey);
      const broken = copy.brokenDependants(i.stepKey);
      const body = step.type === "summary" ? summaryResult(r) : datasetResult(copy, step, r);
      return ok(
        ctx,
        { ...body, ...(broken.length ? { brokenDependants: broken } : {}) },
        `${step.name}: ${resultSummary(r)}`.slice(0, 300),
        [change("updated", step, r.status)],
      );
    }
  }
  throw new Error(`unhandled tool ${name}`);
}

function assertType(step: WorkingStep, tool: ToolName) {
  const expected = TYPE_OF_TOOL[tool]!;
  if (step.type !== expected) {
    const right = tool.startsWith("get_") ? GET_TOOL[step.type] : SET_TOOL[step.type];
    throw new EngineError(
      "STEP_TYPE_MISMATCH",
      422,
      `${step.name} is a ${step.type} step; use ${right} instead of ${tool}`,
      { allowed: [right] },
    );
  }
}
