import { and, asc, eq, max, sql } from "drizzle-orm";
import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { analysisFile, analysisSession, analysisStep } from "@/db/schema";
import {
  assertDeletable,
  type ChartModel,
  type ColumnarJson,
  createResultCache,
  type Frame,
  frameBytes,
  fromColumnarJson,
  materialiseRows,
  ResultCache,
  runPipeline,
  type StepDef,
  type StepResult,
} from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import { DEFAULT_CHART_SIZE, graphIdOf } from "./chart-id";
import { lockAgainstTurn, writableSession } from "./service";

/*
 * Manual step editing on the current snapshot (analysis.md §3.2) and step results. Every result is
 * recomputed from the stored input through the engine; unchanged prefixes come from the
 * content-addressed result cache, so an edit near the end of a long pipeline is cheap.
 */

export type StepDeps = { db: Database; actor: AuditActor };
type StepRow = typeof analysisStep.$inferSelect;
type SessionRow = typeof analysisSession.$inferSelect;

// Process-wide and bounded by bytes (analysis.md §3.9); keys are content hashes, so it never serves stale data.
export const resultCache = createResultCache(256 * 1024 * 1024);

const stepNotFound = () => problem("STEP_NOT_FOUND");
const inputRequired = () => problem("INPUT_FILE_REQUIRED");

export type StepView = {
  id: string;
  stepKey: string;
  name: string;
  type: StepRow["type"];
  input: string;
  order: number;
  config: unknown;
  configured: boolean;
  status: string;
  error: string | null;
  errorBody: unknown;
  warnings: unknown[];
  resultData?: Record<string, unknown>[] | null;
  resultFormula?: unknown[] | null;
  resultChart?: unknown;
  /** graphId of the default-size image, so clients can build the chart URL (analysis.md §4.5). */
  chartId?: string | null;
  resultTable?: Record<string, unknown>[] | null;
  truncated?: boolean;
};

type Input = { frame: Frame; hash: string };
/*
 * Decoded inputs by (analysis file, version). A 1M-row input costs ~100 ms to load and decode
 * (bench P2c) and every read of the session needs it; frames are immutable, so requests share
 * them, and the only writer of `data` (re-parse) also moves `updated_at`.
 */
const inputs = new ResultCache<Input>(128 * 1024 * 1024);
export const inputCacheStats = () => ({ hits: inputs.hits, misses: inputs.misses });

export async function inputOf(db: DbOrTx, session: SessionRow): Promise<Input> {
  if (!session.inputFileId) throw inputRequired();
  const id = session.inputFileId;
  const [version] = await db
    .select({ updatedAt: analysisFile.updatedAt })
    .from(analysisFile)
    .where(eq(analysisFile.id, id));
  if (!version) throw inputRequired();
  const hit = inputs.get(`${id}:${version.updatedAt.getTime()}`);
  if (hit) return hit;
  const [f] = await db
    .select({ data: analysisFile.data, updatedAt: analysisFile.updatedAt })
    .from(analysisFile)
    .where(eq(analysisFile.id, id));
  const data = f?.data as ColumnarJson | undefined;
  if (!data || Array.isArray(data)) throw inputRequired();
  const input = { frame: fromColumnarJson(data), hash: data.hash };
  // Keyed by the version read together with the data, so a concurrent re-parse cannot mislabel it.
  inputs.set(`${id}:${f.updatedAt.getTime()}`, input, frameBytes(input.frame));
  return input;
}

/** A stored step as the engine sees it. */
export const toDef = (s: StepRow): StepDef => ({
  stepKey: s.stepKey,
  name: s.name,
  type: s.type as StepDef["type"],
  input: s.input,
  config: s.config,
});

export function stepView(row: StepRow, result: StepResult | undefined, rowLimit: number): StepView {
  const summary = result?.summary as
    | {
        resultFormula?: unknown[];
        resultChart?: unknown;
        resultTable?: { rows: Record<string, unknown>[]; truncated: boolean } | null;
        chartModel?: ChartModel | null;
      }
    | null
    | undefined;
  const rows = result?.frame ? materialiseRows(result.frame, 0, rowLimit) : null;
  return {
    id: row.id,
    stepKey: row.stepKey,
    name: row.name,
    type: row.type,
    input: row.input,
    order: row.stepOrder,
    config: row.config,
    configured: result?.configured ?? row.config !== null,
    status: result?.status ?? "not_configured",
    error: result?.error?.detail ?? null,
    errorBody: result?.error ?? null,
    warnings: result?.warnings ?? [],
    resultData: rows,
    resultFormula: summary?.resultFormula ?? null,
    resultChart: summary?.resultChart ?? null,
    chartId: summary?.chartModel ? graphIdOf(summary.chartModel, DEFAULT_CHART_SIZE) : null,
    // api.md §2.7: the wire shape is the rows themselves; `truncated` says either list was cut.
    resultTable: summary?.resultTable?.rows ?? null,
    truncated: summary?.resultTable
      ? summary.resultTable.truncated
      : result?.frame
        ? result.frame.rowCount > rowLimit
        : false,
  };
}

/** A snapshot's steps in order. */
export async function stepsOf(db: DbOrTx, snapshotId: string): Promise<StepRow[]> {
  return db
    .select()
    .from(analysisStep)
    .where(eq(analysisStep.snapshotId, snapshotId))
    .orderBy(asc(analysisStep.stepOrder));
}

/** Results of every step of the session's current snapshot (empty without an input). */
export async function currentResults(db: DbOrTx, session: SessionRow, rowLimit = 1000): Promise<StepView[]> {
  if (!session.currentSnapshotId) return [];
  const rows = await stepsOf(db, session.currentSnapshotId);
  if (!session.inputFileId || rows.length === 0) return rows.map((r) => stepView(r, undefined, rowLimit));
  const { frame, hash } = await inputOf(db, session);
  const { byKey } = runPipeline(frame, hash, rows.map(toDef), { cache: resultCache });
  return rows.map((r) => stepView(r, byKey.get(r.stepKey), rowLimit));
}

async function writableWithSnapshot(db: DbOrTx, access: ProjectAccess, caller: Caller, sessionId: string) {
  const session = await writableSession(db, access, caller, sessionId);
  if (!session.currentSnapshotId) throw inputRequired();
  return session;
}

/* Replays the would-be pipeline; the edited step must validate, others may stay invalid (§3.2). */
function validate(frame: Frame, hash: string, defs: StepDef[], editedKey: string): StepResult {
  const { byKey } = runPipeline(frame, hash, defs, { cache: resultCache });
  const result = byKey.get(editedKey)!;
  if (result.exception && result.status === "invalid") throw result.exception;
  return result;
}

/* "Not configured" is a JSON null in the NOT NULL jsonb column (SQL NULL is not allowed there). */
export const jsonConfig = (config: unknown) =>
  config === null || config === undefined ? sql`'null'::jsonb` : config;

export type StepInput = { name?: string; type?: StepRow["type"]; input?: string; config?: unknown };

export async function createStep(
  deps: StepDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  body: Required<Pick<StepInput, "name" | "type" | "input">> & { config?: unknown },
): Promise<StepView> {
  const session = await writableWithSnapshot(deps.db, access, caller, sessionId);
  const { frame, hash } = await inputOf(deps.db, session);
  const snapshotId = session.currentSnapshotId!;
  const existing = await stepsOf(deps.db, snapshotId);
  const row: StepRow = {
    id: newId(),
    snapshotId,
    stepKey: newId(),
    stepOrder: (existing.at(-1)?.stepOrder ?? -1) + 1,
    name: body.name.trim(),
    type: body.type,
    input: body.input,
    config: body.config ?? null,
    triggeredByChatId: null,
    createdAt: new Date(),
    updatedAt: new Date(),
  };
  const result = validate(frame, hash, [...existing, row].map(toDef), row.stepKey);
  await deps.db.transaction(async (tx) => {
    await lockAgainstTurn(tx, sessionId);
    const [{ top }] = await tx
      .select({ top: max(analysisStep.stepOrder) })
      .from(analysisStep)
      .where(eq(analysisStep.snapshotId, snapshotId));
    row.stepOrder = (top ?? -1) + 1;
    await tx.insert(analysisStep).values({ ...row, config: jsonConfig(row.config) });
    await tx.update(analysisSession).set({ updatedAt: new Date() }).where(eq(analysisSession.id, sessionId));
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "analysis_step",
      resourceId: row.id,
      projectId: access.project.id,
      newValue: { sessionId, stepKey: row.stepKey, name: row.name, type: row.type, input: row.input },
    });
  });
  return stepView(row, result, 1000);
}

export async function updateStep(
  deps: StepDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  stepId: string,
  body: StepInput,
): Promise<StepView> {
  const session = await writableWithSnapshot(deps.db, access, caller, sessionId);
  const { frame, hash } = await inputOf(deps.db, session);
  const steps = await stepsOf(deps.db, session.currentSnapshotId!);
  const before = steps.find((s) => s.id === stepId);
  if (!before) throw stepNotFound();
  const after: StepRow = {
    ...before,
    name: body.name?.trim() || before.name,
    type: body.type ?? before.type,
    input: body.input ?? before.input,
    // `config: null` resets the step to "not configured" (analysis.md §10).
    config: body.config === undefined ? before.config : body.config,
    updatedAt: new Date(),
  };
  const result = validate(
    frame,
    hash,
    steps.map((s) => toDef(s.id === stepId ? after : s)),
    after.stepKey,
  );
  await deps.db.transaction(async (tx) => {
    await lockAgainstTurn(tx, sessionId);
    await tx
      .update(analysisStep)
      .set({
        name: after.name,
        type: after.type,
        input: after.input,
        config: jsonConfig(after.config),
        updatedAt: after.updatedAt,
      })
      .where(eq(analysisStep.id, stepId));
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "analysis_step",
      resourceId: stepId,
      projectId: access.project.id,
      oldValue: { name: before.name, type: before.type, input: before.input, config: before.config },
      newValue: { name: after.name, type: after.type, input: after.input, config: after.config },
    });
  });
  return stepView(after, result, 1000);
}

export async function deleteStep(
  deps: StepDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  stepId: string,
): Promise<void> {
  const session = await writableWithSnapshot(deps.db, access, caller, sessionId);
  const steps = await stepsOf(deps.db, session.currentSnapshotId!);
  const target = steps.find((s) => s.id === stepId);
  if (!target) throw stepNotFound();
  assertDeletable(steps.map(toDef), target.stepKey);
  await deps.db.transaction(async (tx) => {
    await lockAgainstTurn(tx, sessionId);
    await tx
      .delete(analysisStep)
      .where(and(eq(analysisStep.id, stepId), eq(analysisStep.snapshotId, target.snapshotId)));
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "analysis_step",
      resourceId: stepId,
      projectId: access.project.id,
      oldValue: { name: target.name, type: target.type, stepKey: target.stepKey },
    });
  });
}
