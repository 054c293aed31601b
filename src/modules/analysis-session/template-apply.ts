import type { DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { runPipeline, type StepDef, type StepResult } from "@/engine";
import type { AnalysisCaches } from "./caches";
import type { NewSessionIssue, SessionRow, StepRow } from "./repository";
import * as repo from "./repository";
import { inputOf, toDef } from "./results";

/*
 * Session writes that saved analysis templates (analysis.md §6.5) need inside their own
 * transaction, so that the template's usage counter commits or rolls back with them. The rows are
 * written by the session repository; this adds the audit record of each.
 */

export type { NewSessionIssue };

/**
 * Writes a session exactly as `POST …/session` does (analysis.md §2.1) with the given snapshot-0
 * trigger: the session, snapshot 0, the recipe chat and the opening message when there is one.
 */
export async function insertSessionTx(
  tx: DbOrTx,
  actor: AuditActor,
  args: Parameters<typeof repo.createSession>[1] & { metadata?: Record<string, unknown> },
): Promise<string> {
  const { metadata, ...values } = args;
  const { sessionId, name } = await repo.createSession(tx, values);
  await writeAudit(tx, actor, {
    eventType: "DATA_CHANGE",
    action: "CREATE",
    resourceType: "analysis_session",
    resourceId: sessionId,
    projectId: args.projectId,
    newValue: { issueId: args.issue.id, name, trigger: args.trigger },
    metadata: metadata ?? null,
  });
  return sessionId;
}

export type AppendedStep = {
  stepKey: string;
  name: string;
  type: StepDef["type"];
  input: string;
  config: unknown;
};

/** The steps of the session's current snapshot, in order. */
export async function currentSteps(db: DbOrTx, session: SessionRow): Promise<StepRow[]> {
  return session.currentSnapshotId ? repo.stepsOf(db, session.currentSnapshotId) : [];
}

/**
 * Replays the current steps followed by `appended` against the session's input (analysis.md
 * §3.1) and returns the result of every appended step, in order. Throws INPUT_FILE_REQUIRED
 * without an input.
 */
export async function replayWithAppended(
  db: DbOrTx,
  session: SessionRow,
  existing: StepRow[],
  appended: AppendedStep[],
  caches: AnalysisCaches,
): Promise<StepResult[]> {
  const { frame, hash } = await inputOf(db, session, caches);
  const defs: StepDef[] = [...existing.map(toDef), ...appended];
  const { byKey } = runPipeline(frame, hash, defs, { cache: caches.results });
  return appended.map((s) => byKey.get(s.stepKey)!);
}

/**
 * New snapshot current+1 (`trigger: template`, parent = the current one) holding the current
 * chats and steps (same step keys) followed by `appended`; it becomes current.
 */
export async function appendSnapshotTx(
  tx: DbOrTx,
  actor: AuditActor,
  args: {
    session: SessionRow;
    projectId: string;
    createdBy: string;
    appended: AppendedStep[];
    metadata?: Record<string, unknown>;
  },
): Promise<{ snapshotId: string; order: number }> {
  const { session } = args;
  const { snapshotId, order } = await repo.appendSnapshot(
    tx,
    session.id,
    { trigger: "template", createdBy: args.createdBy },
    { appendSteps: args.appended.map((s) => ({ ...s, triggeredByChatId: null })) },
  );
  await repo.touchProject(tx, args.projectId);
  await writeAudit(tx, actor, {
    eventType: "DATA_CHANGE",
    action: "CREATE",
    resourceType: "analysis_snapshot",
    resourceId: snapshotId,
    projectId: args.projectId,
    newValue: {
      sessionId: session.id,
      order,
      trigger: "template",
      appendedStepKeys: args.appended.map((s) => s.stepKey),
    },
    metadata: args.metadata ?? null,
  });
  return { snapshotId, order };
}
