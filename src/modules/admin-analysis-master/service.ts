import { createHash } from "node:crypto";
import { and, asc, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Database, DbOrTx, Tx } from "@/db/client";
import { pgErrorCode } from "@/db/pg-errors";
import { type AuditActor, type AuditEntry, writeAudit } from "@/db/queries/audit";
import {
  analysisDummyChartMaster,
  analysisDummyFormulaMaster,
  analysisGraphAxisMaster,
  analysisIssueMaster,
  analysisSession,
  analysisTemplate,
  analysisValidationMaster,
} from "@/db/schema";
import type { Cache } from "@/lib/cache";
import { AppError, problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { iso, likePattern, page } from "@/lib/schema";
import {
  type DummyChartCreate,
  type DummyChartListQuery,
  type DummyChartMaster,
  type DummyChartPatch,
  type DummyFormulaCreate,
  type DummyFormulaListQuery,
  type DummyFormulaMaster,
  type DummyFormulaPatch,
  type GraphAxisCreate,
  type GraphAxisListQuery,
  type GraphAxisMaster,
  type GraphAxisPatch,
  type IssueCreate,
  type IssueListQuery,
  type IssueMaster,
  type IssuePatch,
  MAX_CHART_BYTES,
  type ValidationCreate,
  type ValidationListQuery,
  type ValidationMaster,
  type ValidationPatch,
} from "./model";

/*
 * Admin CRUD for the analysis masters (api.md §2.12.1). Validations and issues are archived rather
 * than deleted because sessions and templates keep pointing at them; a purge is refused while
 * anything still does. Name uniqueness is left to the unique indexes so concurrent writers cannot
 * both win; the violation is translated here.
 */

export type MasterDeps = { db: Database; cache: Cache; actor: AuditActor };

const V = analysisValidationMaster;
const I = analysisIssueMaster;
const A = analysisGraphAxisMaster;
const F = analysisDummyFormulaMaster;
const C = analysisDummyChartMaster;

const RES = {
  validation: "analysis_validation_master",
  issue: "analysis_issue_master",
  axis: "analysis_graph_axis_master",
  formula: "analysis_dummy_formula_master",
  chart: "analysis_dummy_chart_master",
} as const;

export const masterNotFound = (what: string) =>
  problem("MASTER_NOT_FOUND", { detail: `No such ${what} master.` });
const nameTaken = (detail: string) => problem("NAME_TAKEN", { detail });

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

const optText = (s: string | null | undefined): string | null | undefined =>
  s === undefined ? undefined : s === null ? null : s.trim() || null;

/* Runs a write and turns the constraint violations a race can still produce into domain errors. */
async function write<T>(
  deps: MasterDeps,
  onUnique: () => AppError,
  onForeignKey: () => AppError,
  run: (tx: Tx) => Promise<T>,
): Promise<T> {
  let out: T;
  try {
    out = await deps.db.transaction(run);
  } catch (error) {
    const code = error instanceof AppError ? null : pgErrorCode(error);
    if (code === "23505") throw onUnique();
    if (code === "23503") throw onForeignKey();
    throw error;
  }
  // The project-facing catalogue may be cached under any `catalogue:` key (api.md §4.3).
  await deps.cache.deleteByPrefix("catalogue:").catch(() => 0);
  return out;
}

const audit = (tx: Tx, deps: MasterDeps, entry: Omit<AuditEntry, "eventType">) =>
  writeAudit(tx, deps.actor, { eventType: "DATA_CHANGE", ...entry });

const skipLimit = (q: { skip?: number; limit?: number }) => ({ skip: q.skip ?? 0, limit: q.limit ?? 50 });

function orderBy(
  sort: string | undefined,
  order: AnyPgColumn,
  name: SQL | null,
  cols: { createdAt: AnyPgColumn; updatedAt: AnyPgColumn; id: AnyPgColumn },
): SQL[] {
  const nameOrder = name ? [asc(name)] : [];
  if (sort === "name" && name) return [asc(name), asc(cols.id)];
  if (sort === "-createdAt") return [desc(cols.createdAt), asc(cols.id)];
  if (sort === "-updatedAt") return [desc(cols.updatedAt), asc(cols.id)];
  return [asc(order), ...nameOrder, asc(cols.id)];
}

/* ---------- validation ---------- */

/* Spelled out: drizzle leaves columns unqualified in a single-table select, and a bare "id" here
   would bind to the subquery's own table. */
const issueCount = sql<number>`(select count(*)::int from analysis_issue_master i where i.validation_id = analysis_validation_master.id)`;

function validationSelect(db: DbOrTx) {
  return db.select({ v: V, issueCount }).from(V);
}

function toValidation(r: { v: typeof V.$inferSelect; issueCount: number }): ValidationMaster {
  return {
    id: r.v.id,
    name: r.v.name,
    validationOrder: r.v.validationOrder,
    isActive: r.v.isActive,
    archivedAt: iso(r.v.archivedAt),
    issueCount: Number(r.issueCount),
    createdAt: r.v.createdAt.toISOString(),
    updatedAt: r.v.updatedAt.toISOString(),
  };
}

const validationAudit = (v: typeof V.$inferSelect) => ({
  name: v.name,
  validationOrder: v.validationOrder,
  isActive: v.isActive,
  archivedAt: iso(v.archivedAt),
});

const validationNameTaken = () => nameTaken("Another validation master already has this name.");

async function readValidation(db: DbOrTx, id: string): Promise<ValidationMaster> {
  const [row] = await validationSelect(db).where(eq(V.id, id));
  if (!row) throw masterNotFound("validation");
  return toValidation(row);
}

export async function listValidations(db: DbOrTx, q: ValidationListQuery) {
  const { skip, limit } = skipLimit(q);
  const where = and(
    q.includeArchived ? undefined : eq(V.isActive, true),
    q.q ? sql`lower(${V.name}) like lower(${likePattern(q.q)})` : undefined,
  );
  const rows = await validationSelect(db)
    .where(where)
    .orderBy(...orderBy(q.sort, V.validationOrder, sql`lower(${V.name})`, V))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(V).where(where);
  return page(rows.map(toValidation), n, skip, limit);
}

export const getValidation = readValidation;

export async function createValidation(deps: MasterDeps, body: ValidationCreate): Promise<ValidationMaster> {
  const name = trimmedName(body.name);
  return write(
    deps,
    validationNameTaken,
    () => masterNotFound("validation"),
    async (tx) => {
      const [row] = await tx
        .insert(V)
        .values({ id: newId(), name, validationOrder: body.validationOrder ?? 0 })
        .returning();
      await audit(tx, deps, {
        action: "CREATE",
        resourceType: RES.validation,
        resourceId: row.id,
        newValue: validationAudit(row),
      });
      return readValidation(tx, row.id);
    },
  );
}

/** Archiving or restoring through `isActive`; archiving keeps the first archive time. */
function activeChange(before: { isActive: boolean; archivedAt: Date | null }, isActive?: boolean) {
  if (isActive === undefined || isActive === before.isActive) return {};
  return { isActive, archivedAt: isActive ? null : new Date() };
}

export async function updateValidation(
  deps: MasterDeps,
  id: string,
  body: ValidationPatch,
): Promise<ValidationMaster> {
  const name = body.name === undefined ? undefined : trimmedName(body.name);
  return write(
    deps,
    validationNameTaken,
    () => masterNotFound("validation"),
    async (tx) => {
      const [before] = await tx.select().from(V).where(eq(V.id, id)).for("update");
      if (!before) throw masterNotFound("validation");
      const [after] = await tx
        .update(V)
        .set({
          name,
          validationOrder: body.validationOrder,
          ...activeChange(before, body.isActive),
          updatedAt: new Date(),
        })
        .where(eq(V.id, id))
        .returning();
      const archiving = before.isActive && !after.isActive;
      await audit(tx, deps, {
        action: archiving ? "ARCHIVE" : "UPDATE",
        severity: archiving ? "WARNING" : "INFO",
        resourceType: RES.validation,
        resourceId: id,
        oldValue: validationAudit(before),
        newValue: validationAudit(after),
        metadata: !before.isActive && after.isActive ? { restored: true } : null,
      });
      return readValidation(tx, id);
    },
  );
}

export async function deleteValidation(deps: MasterDeps, id: string, purge: boolean): Promise<void> {
  const inUse = (issues: number) =>
    problem("MASTER_IN_USE", {
      detail: "Issues still belong to this validation master; archive it instead.",
      extensions: { usage: { issues } },
    });
  await write(
    deps,
    validationNameTaken,
    () => inUse(1),
    async (tx) => {
      const [before] = await tx.select().from(V).where(eq(V.id, id)).for("update");
      if (!before) throw masterNotFound("validation");
      if (purge) {
        const [{ n }] = await tx.select({ n: count() }).from(I).where(eq(I.validationId, id));
        if (n > 0) throw inUse(n);
        await tx.delete(V).where(eq(V.id, id));
        await audit(tx, deps, {
          action: "DELETE",
          severity: "WARNING",
          resourceType: RES.validation,
          resourceId: id,
          oldValue: validationAudit(before),
          metadata: { purge: true },
        });
        return;
      }
      if (!before.isActive) return;
      const [after] = await tx
        .update(V)
        .set({ isActive: false, archivedAt: new Date(), updatedAt: new Date() })
        .where(eq(V.id, id))
        .returning();
      await audit(tx, deps, {
        action: "ARCHIVE",
        severity: "WARNING",
        resourceType: RES.validation,
        resourceId: id,
        oldValue: validationAudit(before),
        newValue: validationAudit(after),
      });
    },
  );
}

/* ---------- issue ---------- */

const sessionCount = sql<number>`(select count(*)::int from analysis_session s where s.issue_id = analysis_issue_master.id)`;

function issueSelect(db: DbOrTx) {
  return db.select({ i: I, sessionCount }).from(I);
}

function toIssue(r: { i: typeof I.$inferSelect; sessionCount: number }): IssueMaster {
  const i = r.i;
  return {
    id: i.id,
    validationId: i.validationId,
    name: i.name,
    description: i.description,
    agentPrompt: i.agentPrompt,
    initialMessage: i.initialMsg,
    dummyHint: i.dummyHint,
    dummyInput: (i.dummyInput as IssueMaster["dummyInput"]) ?? null,
    issueOrder: i.issueOrder,
    isActive: i.isActive,
    archivedAt: iso(i.archivedAt),
    sessionCount: Number(r.sessionCount),
    createdAt: i.createdAt.toISOString(),
    updatedAt: i.updatedAt.toISOString(),
  };
}

const digest = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("hex").slice(0, 16);

/* Sample data can be 1000 rows; the audit row keeps its size and a digest, not the rows. */
const issueAudit = (i: typeof I.$inferSelect) => ({
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
  isActive: i.isActive,
  archivedAt: iso(i.archivedAt),
});

const issueNameTaken = () => nameTaken("This validation master already has an issue with this name.");

async function readIssue(db: DbOrTx, id: string): Promise<IssueMaster> {
  const [row] = await issueSelect(db).where(eq(I.id, id));
  if (!row) throw masterNotFound("issue");
  return toIssue(row);
}

/* Locks the parent row against a concurrent purge for the rest of the transaction. */
async function usableValidation(tx: Tx, id: string): Promise<void> {
  const [v] = await tx.select({ isActive: V.isActive }).from(V).where(eq(V.id, id)).for("share");
  if (!v) throw masterNotFound("validation");
  if (!v.isActive) throw problem("MASTER_ARCHIVED", { detail: "The validation master is archived." });
}

async function existingIssue(tx: Tx, id: string): Promise<void> {
  const [i] = await tx.select({ id: I.id }).from(I).where(eq(I.id, id)).for("share");
  if (!i) throw masterNotFound("issue");
}

export async function listIssues(db: DbOrTx, q: IssueListQuery) {
  const { skip, limit } = skipLimit(q);
  const where = and(
    q.validationId ? eq(I.validationId, q.validationId) : undefined,
    q.includeArchived ? undefined : eq(I.isActive, true),
    q.q ? sql`lower(${I.name}) like lower(${likePattern(q.q)})` : undefined,
  );
  const rows = await issueSelect(db)
    .where(where)
    .orderBy(...orderBy(q.sort, I.issueOrder, sql`lower(${I.name})`, I))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(I).where(where);
  return page(rows.map(toIssue), n, skip, limit);
}

export const getIssue = readIssue;

export async function createIssue(deps: MasterDeps, body: IssueCreate): Promise<IssueMaster> {
  const name = trimmedName(body.name);
  return write(
    deps,
    issueNameTaken,
    () => masterNotFound("validation"),
    async (tx) => {
      await usableValidation(tx, body.validationId);
      const [row] = await tx
        .insert(I)
        .values({
          id: newId(),
          validationId: body.validationId,
          name,
          description: optText(body.description) ?? null,
          agentPrompt: body.agentPrompt,
          initialMsg: optText(body.initialMessage) ?? null,
          dummyHint: optText(body.dummyHint) ?? null,
          dummyInput: body.dummyInput ?? null,
          issueOrder: body.issueOrder ?? 0,
        })
        .returning();
      await audit(tx, deps, {
        action: "CREATE",
        resourceType: RES.issue,
        resourceId: row.id,
        newValue: issueAudit(row),
      });
      return readIssue(tx, row.id);
    },
  );
}

export async function updateIssue(deps: MasterDeps, id: string, body: IssuePatch): Promise<IssueMaster> {
  const name = body.name === undefined ? undefined : trimmedName(body.name);
  return write(
    deps,
    issueNameTaken,
    () => masterNotFound("validation"),
    async (tx) => {
      const [before] = await tx.select().from(I).where(eq(I.id, id)).for("update");
      if (!before) throw masterNotFound("issue");
      if (body.validationId !== undefined && body.validationId !== before.validationId) {
        await usableValidation(tx, body.validationId);
      }
      const [after] = await tx
        .update(I)
        .set({
          validationId: body.validationId,
          name,
          description: optText(body.description),
          agentPrompt: body.agentPrompt,
          initialMsg: optText(body.initialMessage),
          dummyHint: optText(body.dummyHint),
          dummyInput: body.dummyInput,
          issueOrder: body.issueOrder,
          ...activeChange(before, body.isActive),
          updatedAt: new Date(),
        })
        .where(eq(I.id, id))
        .returning();
      const archiving = before.isActive && !after.isActive;
      await audit(tx, deps, {
        action: archiving ? "ARCHIVE" : "UPDATE",
        severity: archiving ? "WARNING" : "INFO",
        resourceType: RES.issue,
        resourceId: id,
        oldValue: issueAudit(before),
        newValue: issueAudit(after),
        metadata: !before.isActive && after.isActive ? { restored: true } : null,
      });
      return readIssue(tx, id);
    },
  );
}

export async function deleteIssue(deps: MasterDeps, id: string, purge: boolean): Promise<void> {
  const inUse = (usage: { sessions: number; templates: number }) =>
    problem("MASTER_IN_USE", {
      detail: "Sessions or templates still reference this issue master; archive it instead.",
      extensions: { usage },
    });
  await write(
    deps,
    issueNameTaken,
    () => inUse({ sessions: 1, templates: 0 }),
    async (tx) => {
      const [before] = await tx.select().from(I).where(eq(I.id, id)).for("update");
      if (!before) throw masterNotFound("issue");
      if (purge) {
        const [{ sessions }] = await tx
          .select({ sessions: count() })
          .from(analysisSession)
          .where(eq(analysisSession.issueId, id));
        const [{ templates }] = await tx
          .select({ templates: count() })
          .from(analysisTemplate)
          .where(eq(analysisTemplate.issueId, id));
        if (sessions > 0 || templates > 0) throw inUse({ sessions, templates });
        const cascaded: Record<string, number> = {};
        for (const [key, tbl] of [
          ["axes", A],
          ["formulas", F],
          ["charts", C],
        ] as const) {
          const [{ n }] = await tx.select({ n: count() }).from(tbl).where(eq(tbl.issueId, id));
          cascaded[key] = n;
        }
        // Axes, formulas and charts go with it (ON DELETE CASCADE).
        await tx.delete(I).where(eq(I.id, id));
        await audit(tx, deps, {
          action: "DELETE",
          severity: "WARNING",
          resourceType: RES.issue,
          resourceId: id,
          oldValue: issueAudit(before),
          metadata: { purge: true, cascaded },
        });
        return;
      }
      if (!before.isActive) return;
      const [after] = await tx
        .update(I)
        .set({ isActive: false, archivedAt: new Date(), updatedAt: new Date() })
        .where(eq(I.id, id))
        .returning();
      await audit(tx, deps, {
        action: "ARCHIVE",
        severity: "WARNING",
        resourceType: RES.issue,
        resourceId: id,
        oldValue: issueAudit(before),
        newValue: issueAudit(after),
      });
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

const toAxis = (a: typeof A.$inferSelect): GraphAxisMaster => ({
  id: a.id,
  issueId: a.issueId,
  name: a.name,
  option: a.option as GraphAxisMaster["option"],
  multiple: a.multiple,
  axisOrder: a.axisOrder,
  createdAt: a.createdAt.toISOString(),
  updatedAt: a.updatedAt.toISOString(),
});
const axisAudit = (a: typeof A.$inferSelect) => {
  const { createdAt: _c, updatedAt: _u, id: _i, ...rest } = toAxis(a);
  return rest;
};
const axisNameTaken = () => nameTaken("This issue already has a graph axis with this name.");

export async function createAxis(deps: MasterDeps, body: GraphAxisCreate): Promise<GraphAxisMaster> {
  const name = trimmedName(body.name);
  return write(
    deps,
    axisNameTaken,
    () => masterNotFound("issue"),
    async (tx) => {
      await existingIssue(tx, body.issueId);
      const [row] = await tx
        .insert(A)
        .values({
          id: newId(),
          issueId: body.issueId,
          name,
          option: AXIS_OPTIONS[body.option],
          multiple: body.multiple ?? false,
          axisOrder: body.axisOrder ?? 0,
        })
        .returning();
      await audit(tx, deps, {
        action: "CREATE",
        resourceType: RES.axis,
        resourceId: row.id,
        newValue: axisAudit(row),
      });
      return toAxis(row);
    },
  );
}

export async function updateAxis(
  deps: MasterDeps,
  id: string,
  body: GraphAxisPatch,
): Promise<GraphAxisMaster> {
  const name = body.name === undefined ? undefined : trimmedName(body.name);
  return write(
    deps,
    axisNameTaken,
    () => masterNotFound("issue"),
    async (tx) => {
      const [before] = await tx.select().from(A).where(eq(A.id, id)).for("update");
      if (!before) throw masterNotFound("graph-axis");
      if (body.issueId !== undefined && body.issueId !== before.issueId)
        await existingIssue(tx, body.issueId);
      const [after] = await tx
        .update(A)
        .set({
          issueId: body.issueId,
          name,
          option: body.option === undefined ? undefined : AXIS_OPTIONS[body.option],
          multiple: body.multiple,
          axisOrder: body.axisOrder,
          updatedAt: new Date(),
        })
        .where(eq(A.id, id))
        .returning();
      await audit(tx, deps, {
        action: "UPDATE",
        resourceType: RES.axis,
        resourceId: id,
        oldValue: axisAudit(before),
        newValue: axisAudit(after),
      });
      return toAxis(after);
    },
  );
}

/* ---------- dummy formula ---------- */

const toFormula = (f: typeof F.$inferSelect): DummyFormulaMaster => ({
  id: f.id,
  issueId: f.issueId,
  name: f.name,
  value: f.value,
  formulaOrder: f.formulaOrder,
  createdAt: f.createdAt.toISOString(),
  updatedAt: f.updatedAt.toISOString(),
});
const formulaAudit = (f: typeof F.$inferSelect) => ({
  issueId: f.issueId,
  name: f.name,
  value: f.value,
  formulaOrder: f.formulaOrder,
});
const noUniqueFormula = () => problem("NAME_TAKEN", { detail: "Unique name clash." });

export async function createFormula(deps: MasterDeps, body: DummyFormulaCreate): Promise<DummyFormulaMaster> {
  const name = trimmedName(body.name);
  const value = trimmedName(body.value, "/body/value");
  return write(
    deps,
    noUniqueFormula,
    () => masterNotFound("issue"),
    async (tx) => {
      await existingIssue(tx, body.issueId);
      const [row] = await tx
        .insert(F)
        .values({ id: newId(), issueId: body.issueId, name, value, formulaOrder: body.formulaOrder ?? 0 })
        .returning();
      await audit(tx, deps, {
        action: "CREATE",
        resourceType: RES.formula,
        resourceId: row.id,
        newValue: formulaAudit(row),
      });
      return toFormula(row);
    },
  );
}

export async function updateFormula(
  deps: MasterDeps,
  id: string,
  body: DummyFormulaPatch,
): Promise<DummyFormulaMaster> {
  const name = body.name === undefined ? undefined : trimmedName(body.name);
  const value = body.value === undefined ? undefined : trimmedName(body.value, "/body/value");
  return write(
    deps,
    noUniqueFormula,
    () => masterNotFound("issue"),
    async (tx) => {
      const [before] = await tx.select().from(F).where(eq(F.id, id)).for("update");
      if (!before) throw masterNotFound("dummy-formula");
      if (body.issueId !== undefined && body.issueId !== before.issueId)
        await existingIssue(tx, body.issueId);
      const [after] = await tx
        .update(F)
        .set({ issueId: body.issueId, name, value, formulaOrder: body.formulaOrder, updatedAt: new Date() })
        .where(eq(F.id, id))
        .returning();
      await audit(tx, deps, {
        action: "UPDATE",
        resourceType: RES.formula,
        resourceId: id,
        oldValue: formulaAudit(before),
        newValue: formulaAudit(after),
      });
      return toFormula(after);
    },
  );
}

/* ---------- dummy chart ---------- */

const toChart = (c: typeof C.$inferSelect): DummyChartMaster => ({
  id: c.id,
  issueId: c.issueId,
  chart: c.chart as DummyChartMaster["chart"],
  chartOrder: c.chartOrder,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});
/* A figure can be half a megabyte; the audit row keeps its size and a digest. */
const chartAudit = (c: typeof C.$inferSelect) => ({
  issueId: c.issueId,
  chart: { bytes: Buffer.byteLength(JSON.stringify(c.chart)), digest: digest(c.chart) },
  chartOrder: c.chartOrder,
});
const noUniqueChart = noUniqueFormula;

function checkChartSize(chart: unknown): void {
  const bytes = Buffer.byteLength(JSON.stringify(chart));
  if (bytes > MAX_CHART_BYTES) {
    throw problem("VALIDATION_FAILED", {
      detail: `chart is ${bytes} bytes serialised; the limit is ${MAX_CHART_BYTES}.`,
      errors: [{ path: "/body/chart", message: `must be at most ${MAX_CHART_BYTES} bytes serialised` }],
    });
  }
}

export async function createChart(deps: MasterDeps, body: DummyChartCreate): Promise<DummyChartMaster> {
  checkChartSize(body.chart);
  return write(
    deps,
    noUniqueChart,
    () => masterNotFound("issue"),
    async (tx) => {
      await existingIssue(tx, body.issueId);
      const [row] = await tx
        .insert(C)
        .values({ id: newId(), issueId: body.issueId, chart: body.chart, chartOrder: body.chartOrder ?? 0 })
        .returning();
      await audit(tx, deps, {
        action: "CREATE",
        resourceType: RES.chart,
        resourceId: row.id,
        newValue: chartAudit(row),
      });
      return toChart(row);
    },
  );
}

export async function updateChart(
  deps: MasterDeps,
  id: string,
  body: DummyChartPatch,
): Promise<DummyChartMaster> {
  if (body.chart !== undefined) checkChartSize(body.chart);
  return write(
    deps,
    noUniqueChart,
    () => masterNotFound("issue"),
    async (tx) => {
      const [before] = await tx.select().from(C).where(eq(C.id, id)).for("update");
      if (!before) throw masterNotFound("dummy-chart");
      if (body.issueId !== undefined && body.issueId !== before.issueId)
        await existingIssue(tx, body.issueId);
      const [after] = await tx
        .update(C)
        .set({ issueId: body.issueId, chart: body.chart, chartOrder: body.chartOrder, updatedAt: new Date() })
        .where(eq(C.id, id))
        .returning();
      await audit(tx, deps, {
        action: "UPDATE",
        resourceType: RES.chart,
        resourceId: id,
        oldValue: chartAudit(before),
        newValue: chartAudit(after),
      });
      return toChart(after);
    },
  );
}

/* ---------- list, read and delete, shared by the three per-issue masters ---------- */

/*
 * Graph axes, dummy formulas and dummy charts hang off an issue with the same id, issue_id,
 * created/updated columns, so listing, reading and deleting them is one piece of code.
 */
type ChildTable = typeof A | typeof F | typeof C;
type Child<T extends ChildTable, R> = {
  table: T;
  label: string;
  resourceType: string;
  order: AnyPgColumn;
  name: SQL | null;
  view: (row: T["$inferSelect"]) => R;
  auditView: (row: T["$inferSelect"]) => unknown;
  taken: () => AppError;
};

const AXES: Child<typeof A, GraphAxisMaster> = {
  table: A,
  label: "graph-axis",
  resourceType: RES.axis,
  order: A.axisOrder,
  name: sql`lower(${A.name})`,
  view: toAxis,
  auditView: axisAudit,
  taken: axisNameTaken,
};
const FORMULAS: Child<typeof F, DummyFormulaMaster> = {
  table: F,
  label: "dummy-formula",
  resourceType: RES.formula,
  order: F.formulaOrder,
  name: sql`lower(${F.name})`,
  view: toFormula,
  auditView: formulaAudit,
  taken: noUniqueFormula,
};
const CHARTS: Child<typeof C, DummyChartMaster> = {
  table: C,
  label: "dummy-chart",
  resourceType: RES.chart,
  order: C.chartOrder,
  name: null,
  view: toChart,
  auditView: chartAudit,
  taken: noUniqueChart,
};

// The three tables share the columns used here; typing the query on one keeps drizzle's inference.
const tableOf = (table: ChildTable) => table as typeof C;

async function listChildren<T extends ChildTable, R>(
  db: DbOrTx,
  child: Child<T, R>,
  q: { skip?: number; limit?: number; sort?: string; issueId?: string },
) {
  const t = tableOf(child.table);
  const { skip, limit } = skipLimit(q);
  const where = q.issueId ? eq(t.issueId, q.issueId) : undefined;
  const rows = await db
    .select()
    .from(t)
    .where(where)
    .orderBy(...orderBy(q.sort, child.order, child.name, t))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(t).where(where);
  return page(
    rows.map((r) => child.view(r as T["$inferSelect"])),
    n,
    skip,
    limit,
  );
}

async function getChild<T extends ChildTable, R>(db: DbOrTx, child: Child<T, R>, id: string): Promise<R> {
  const t = tableOf(child.table);
  const [row] = await db.select().from(t).where(eq(t.id, id));
  if (!row) throw masterNotFound(child.label);
  return child.view(row as T["$inferSelect"]);
}

async function deleteChild<T extends ChildTable, R>(deps: MasterDeps, child: Child<T, R>, id: string) {
  const t = tableOf(child.table);
  await write(
    deps,
    child.taken,
    () => masterNotFound(child.label),
    async (tx) => {
      const [before] = await tx.delete(t).where(eq(t.id, id)).returning();
      if (!before) throw masterNotFound(child.label);
      await audit(tx, deps, {
        action: "DELETE",
        resourceType: child.resourceType,
        resourceId: id,
        oldValue: child.auditView(before as T["$inferSelect"]),
      });
    },
  );
}

export const listAxes = (db: DbOrTx, q: GraphAxisListQuery) => listChildren(db, AXES, q);
export const getAxis = (db: DbOrTx, id: string) => getChild(db, AXES, id);
export const deleteAxis = (deps: MasterDeps, id: string) => deleteChild(deps, AXES, id);
export const listFormulas = (db: DbOrTx, q: DummyFormulaListQuery) => listChildren(db, FORMULAS, q);
export const getFormula = (db: DbOrTx, id: string) => getChild(db, FORMULAS, id);
export const deleteFormula = (deps: MasterDeps, id: string) => deleteChild(deps, FORMULAS, id);
export const listCharts = (db: DbOrTx, q: DummyChartListQuery) => listChildren(db, CHARTS, q);
export const getChart = (db: DbOrTx, id: string) => getChild(db, CHARTS, id);
export const deleteChart = (deps: MasterDeps, id: string) => deleteChild(deps, CHARTS, id);
