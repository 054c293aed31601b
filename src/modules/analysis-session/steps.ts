import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { assertDeletable, type Frame, runPipeline, type StepDef, type StepResult } from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import type { AnalysisCaches } from "./caches";
import * as repo from "./repository";
import { type StepRow, stepsOf } from "./repository";
import { inputOf, type StepView, stepView, toDef } from "./results";
import { lockAgainstTurn, writableSession } from "./service";

/*
 * Manual step editing on the current snapshot (analysis.md §3.2): the edited step must validate
 * against the stored input before anything is written.
 */

export type StepDeps = { db: Database; actor: AuditActor; caches: AnalysisCaches };

const stepNotFound = () => problem("STEP_NOT_FOUND");
const inputRequired = () => problem("INPUT_FILE_REQUIRED");

async function writableWithSnapshot(db: DbOrTx, access: ProjectAccess, caller: Caller, sessionId: string) {
  const session = await writableSession(db, access, caller, sessionId);
  if (!session.currentSnapshotId) throw inputRequired();
  return session;
}

/* Replays the would-be pipeline; the edited step must validate, others may stay invalid (§3.2). */
function validate(
  caches: AnalysisCaches,
  frame: Frame,
  hash: string,
  defs: StepDef[],
  editedKey: string,
): StepResult {
  const { byKey } = runPipeline(frame, hash, defs, { cache: caches.results });
  const result = byKey.get(editedKey)!;
  if (result.exception && result.status === "invalid") throw result.exception;
  return result;
}

export type StepInput = { name?: string; type?: StepRow["type"]; input?: string; config?: unknown };

export async function createStep(
  deps: StepDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  body: Required<Pick<StepInput, "name" | "type" | "input">> & { config?: unknown },
): Promise<StepView> {
  const session = await writableWithSnapshot(deps.db, access, caller, sessionId);
  const { frame, hash } = await inputOf(deps.db, session, deps.caches);
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
  const result = validate(deps.caches, frame, hash, [...existing, row].map(toDef), row.stepKey);
  await deps.db.transaction(async (tx) => {
    await lockAgainstTurn(tx, sessionId, snapshotId);
    await repo.insertStep(tx, row);
    await repo.setSession(tx, sessionId, {});
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
  const { frame, hash } = await inputOf(deps.db, session, deps.caches);
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
    deps.caches,
    frame,
    hash,
    steps.map((s) => toDef(s.id === stepId ? after : s)),
    after.stepKey,
  );
  await deps.db.transaction(async (tx) => {
    await lockAgainstTurn(tx, sessionId, before.snapshotId);
    await repo.updateStep(tx, after);
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
    await lockAgainstTurn(tx, sessionId, target.snapshotId);
    await repo.deleteStep(tx, target);
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
