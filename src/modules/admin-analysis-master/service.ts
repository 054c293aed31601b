import { createHash } from "node:crypto";
import type { Tx } from "@/db/client";
import { problem } from "@/lib/errors";
import { iso } from "@/lib/schema";
import { archiveOrPurge, type MasterDeps, type MasterSpec, masterCrud, masterNotFound } from "./crud";
import {
  type DummyChartCreate,
  type DummyChartMaster,
  type DummyChartPatch,
  type DummyFormulaCreate,
  type DummyFormulaMaster,
  type DummyFormulaPatch,
  type GraphAxisCreate,
  type GraphAxisMaster,
  type GraphAxisPatch,
  type IssueCreate,
  type IssueMaster,
  type IssuePatch,
  MAX_CHART_BYTES,
  type ValidationCreate,
  type ValidationMaster,
  type ValidationPatch,
} from "./model";
import {
  countIssuesOf,
  issueChildCounts,
  issueReferences,
  STORES,
  shareLockIssue,
  shareLockValidation,
} from "./queries";

export { type MasterDeps, masterNotFound } from "./crud";

/*
 * The analysis masters (api.md §2.12.1) as specs for the shared CRUD in `crud.ts`. Validations
 * and issues are archived rather than deleted because sessions and templates keep pointing at
 * them; a purge is refused while anything still does.
 */

const nameTaken = (detail: string) => () => problem("NAME_TAKEN", { detail });

function trimmedName(name: string, path = "/body/name"): string {
  const v = name.trim();
  if (!v) {
    throw problem("VALIDATION_FAILED", {
      detail: "name must not be empty.",
      errors: [{ path, message: "must not be empty after trimming" }],
    });
  }
  return v;
}
const optName = (name: string | undefined, path?: string) =>
  name === undefined ? undefined : trimmedName(name, path);

/* The columns every master answer and audit row carry the same way. */
const stamps = (r: { createdAt: Date; updatedAt: Date }) => ({
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});
const activity = (r: { isActive: boolean; archivedAt: Date | null }) => ({
  isActive: r.isActive,
  archivedAt: iso(r.archivedAt),
});

const optText = (s: string | null | undefined): string | null | undefined =>
  s === undefined ? undefined : s === null ? null : s.trim() || null;

const digest = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);

/* Locks the parent row against a concurrent purge for the rest of the transaction. */
async function usableValidation(tx: Tx, id: string): Promise<void> {
  const v = await shareLockValidation(tx, id);
  if (!v) throw masterNotFound("validation");
  if (!v.isActive) throw problem("MASTER_ARCHIVED", { detail: "The validation master is archived." });
}

async function existingIssue(tx: Tx, id: string): Promise<void> {
  if (!(await shareLockIssue(tx, id))) throw masterNotFound("issue");
}
const ofIssue = { key: "issueId", check: existingIssue } as const;

/* ---------- validation ---------- */

const VALIDATIONS: MasterSpec<
  typeof STORES.validation.table,
  ValidationMaster,
  ValidationCreate,
  ValidationPatch
> = {
  store: STORES.validation,
  label: "validation",
  resourceType: "analysis_validation_master",
  view: ({ row: v, issueCount }) => ({
    id: v.id,
    name: v.name,
    validationOrder: v.validationOrder,
    ...activity(v),
    issueCount: Number(issueCount),
    ...stamps(v),
  }),
  auditView: (v) => ({
    name: v.name,
    validationOrder: v.validationOrder,
    ...activity(v),
  }),
  archivable: true,
  taken: nameTaken("Another validation master already has this name."),
  parentMissing: () => masterNotFound("validation"),
  insert: (body) => ({ name: trimmedName(body.name), validationOrder: body.validationOrder ?? 0 }),
  patch: (body) => ({ name: optName(body.name), validationOrder: body.validationOrder }),
};

export const validations = { ...masterCrud(VALIDATIONS), remove: deleteValidation };

function deleteValidation(deps: MasterDeps, id: string, purge: boolean): Promise<void> {
  const inUse = (issues: number) =>
    problem("MASTER_IN_USE", {
      detail: "Issues still belong to this validation master; archive it instead.",
      extensions: { usage: { issues } },
    });
  return archiveOrPurge(
    deps,
    VALIDATIONS,
    id,
    purge,
    () => inUse(1),
    async (tx) => {
      const n = await countIssuesOf(tx, id);
      if (n > 0) throw inUse(n);
      return {};
    },
  );
}

/* ---------- issue ---------- */

const ISSUES: MasterSpec<typeof STORES.issue.table, IssueMaster, IssueCreate, IssuePatch> = {
  store: STORES.issue,
  label: "issue",
  resourceType: "analysis_issue_master",
  view: ({ row: i, sessionCount }) => ({
    id: i.id,
    validationId: i.validationId,
    name: i.name,
    description: i.description,
    agentPrompt: i.agentPrompt,
    initialMessage: i.initialMsg,
    dummyHint: i.dummyHint,
    dummyInput: (i.dummyInput as IssueMaster["dummyInput"]) ?? null,
    issueOrder: i.issueOrder,
    ...activity(i),
    sessionCount: Number(sessionCount),
    ...stamps(i),
  }),
  /* Sample data can be 1000 rows; the audit row keeps its size and a digest, not the rows. */
  auditView: (i) => ({
    validationId: i.validationId,
    name: i.name,
    description: i.description,
    agentPrompt: i.agentPrompt,
    initialMessage: i.initialMsg,
    dummyHint: i.dummyHint,
    dummyInput: Array.isArray(i.dummyInput)
      ? { rows: i.dummyInput.length, digest: digest(i.dummyInput) }
      : null,
    issueOrder: i.issueOrder,
    ...activity(i),
  }),
  archivable: true,
  parent: { key: "validationId", check: usableValidation },
  taken: nameTaken("This validation master already has an issue with this name."),
  parentMissing: () => masterNotFound("validation"),
  insert: (body) => ({
    validationId: body.validationId,
    name: trimmedName(body.name),
    description: optText(body.description) ?? null,
    agentPrompt: body.agentPrompt,
    initialMsg: optText(body.initialMessage) ?? null,
    dummyHint: optText(body.dummyHint) ?? null,
    dummyInput: body.dummyInput ?? null,
    issueOrder: body.issueOrder ?? 0,
  }),
  patch: (body) => ({
    validationId: body.validationId,
    name: optName(body.name),
    description: optText(body.description),
    agentPrompt: body.agentPrompt,
    initialMsg: optText(body.initialMessage),
    dummyHint: optText(body.dummyHint),
    dummyInput: body.dummyInput,
    issueOrder: body.issueOrder,
  }),
};

export const issues = { ...masterCrud(ISSUES), remove: deleteIssue };

function deleteIssue(deps: MasterDeps, id: string, purge: boolean): Promise<void> {
  const inUse = (usage: { sessions: number; templates: number }) =>
    problem("MASTER_IN_USE", {
      detail: "Sessions or templates still reference this issue master; archive it instead.",
      extensions: { usage },
    });
  return archiveOrPurge(
    deps,
    ISSUES,
    id,
    purge,
    () => inUse({ sessions: 1, templates: 0 }),
    async (tx) => {
      const { sessions, templates } = await issueReferences(tx, id);
      if (sessions > 0 || templates > 0) throw inUse({ sessions, templates });
      // Axes, formulas and charts go with it (ON DELETE CASCADE); the audit row counts them.
      const cascaded = await issueChildCounts(tx, id);
      return { cascaded };
    },
  );
}

/* ---------- graph axis ---------- */

const AXIS_OPTIONS: Record<string, "subject" | "column"> = {
  subject: "subject",
  column: "column",
  科目: "subject",
  コラム: "column",
  軸: "column",
};

const axisView = (a: typeof STORES.axis.table.$inferSelect): GraphAxisMaster => ({
  id: a.id,
  issueId: a.issueId,
  name: a.name,
  option: a.option as GraphAxisMaster["option"],
  multiple: a.multiple,
  axisOrder: a.axisOrder,
  ...stamps(a),
});

const AXES: MasterSpec<typeof STORES.axis.table, GraphAxisMaster, GraphAxisCreate, GraphAxisPatch> = {
  store: STORES.axis,
  label: "graph-axis",
  resourceType: "analysis_graph_axis_master",
  view: ({ row }) => axisView(row),
  auditView: (a) => {
    const { createdAt: _c, updatedAt: _u, id: _i, ...rest } = axisView(a);
    return rest;
  },
  parent: ofIssue,
  taken: nameTaken("This issue already has a graph axis with this name."),
  parentMissing: () => masterNotFound("issue"),
  insert: (body) => ({
    issueId: body.issueId,
    name: trimmedName(body.name),
    option: AXIS_OPTIONS[body.option],
    multiple: body.multiple ?? false,
    axisOrder: body.axisOrder ?? 0,
  }),
  patch: (body) => ({
    issueId: body.issueId,
    name: optName(body.name),
    option: body.option === undefined ? undefined : AXIS_OPTIONS[body.option],
    multiple: body.multiple,
    axisOrder: body.axisOrder,
  }),
};

/* ---------- dummy formula ---------- */

const uniqueClash = nameTaken("Unique name clash.");

const FORMULAS: MasterSpec<
  typeof STORES.formula.table,
  DummyFormulaMaster,
  DummyFormulaCreate,
  DummyFormulaPatch
> = {
  store: STORES.formula,
  label: "dummy-formula",
  resourceType: "analysis_dummy_formula_master",
  view: ({ row: f }) => ({
    id: f.id,
    issueId: f.issueId,
    name: f.name,
    value: f.value,
    formulaOrder: f.formulaOrder,
    ...stamps(f),
  }),
  auditView: (f) => ({ issueId: f.issueId, name: f.name, value: f.value, formulaOrder: f.formulaOrder }),
  parent: ofIssue,
  taken: uniqueClash,
  parentMissing: () => masterNotFound("issue"),
  insert: (body) => ({
    issueId: body.issueId,
    name: trimmedName(body.name),
    value: trimmedName(body.value, "/body/value"),
    formulaOrder: body.formulaOrder ?? 0,
  }),
  patch: (body) => ({
    issueId: body.issueId,
    name: optName(body.name),
    value: optName(body.value, "/body/value"),
    formulaOrder: body.formulaOrder,
  }),
};

/* ---------- dummy chart ---------- */

function checkedChart<T>(chart: T): T {
  if (chart === undefined) return chart;
  const bytes = Buffer.byteLength(JSON.stringify(chart));
  if (bytes > MAX_CHART_BYTES) {
    throw problem("VALIDATION_FAILED", {
      detail: `chart is ${bytes} bytes serialised; the limit is ${MAX_CHART_BYTES}.`,
      errors: [{ path: "/body/chart", message: `must be at most ${MAX_CHART_BYTES} bytes serialised` }],
    });
  }
  return chart;
}

const CHARTS: MasterSpec<typeof STORES.chart.table, DummyChartMaster, DummyChartCreate, DummyChartPatch> = {
  store: STORES.chart,
  label: "dummy-chart",
  resourceType: "analysis_dummy_chart_master",
  view: ({ row: c }) => ({
    id: c.id,
    issueId: c.issueId,
    chart: c.chart as DummyChartMaster["chart"],
    chartOrder: c.chartOrder,
    ...stamps(c),
  }),
  /* A figure can be half a megabyte; the audit row keeps its size and a digest. */
  auditView: (c) => ({
    issueId: c.issueId,
    chart: { bytes: Buffer.byteLength(JSON.stringify(c.chart)), digest: digest(c.chart) },
    chartOrder: c.chartOrder,
  }),
  parent: ofIssue,
  taken: uniqueClash,
  parentMissing: () => masterNotFound("issue"),
  insert: (body) => ({
    issueId: body.issueId,
    chart: checkedChart(body.chart),
    chartOrder: body.chartOrder ?? 0,
  }),
  patch: (body) => ({ issueId: body.issueId, chart: checkedChart(body.chart), chartOrder: body.chartOrder }),
};

/* ---------- the per-issue masters: hard delete ---------- */

export const axes = masterCrud(AXES);
export const formulas = masterCrud(FORMULAS);
export const charts = masterCrud(CHARTS);
