import { asc, eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { analysisChat, analysisSession, analysisSnapshot, analysisStep, project } from "@/db/schema";
import { runPipeline, type StepDef, type StepResult } from "@/engine";
import { newId } from "@/lib/ids";
import { inputOf, jsonConfig, resultCache, toDef } from "./steps";

/*
 * Session writes that saved analysis templates (analysis.md §6.5) need inside their own
 * transaction, so that the template's usage counter commits or rolls back with them.
 */

type SessionRow = typeof analysisSession.$inferSelect;
type StepRow = typeof analysisStep.$inferSelect;

export type NewSessionIssue = {
  id: string;
  name: string;
  agentPrompt: string;
  initialMessage: string | null;
};

const ymd = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Writes a session exactly as `POST …/session` does (analysis.md §2.1) with the given snapshot-0
 * trigger: the session, snapshot 0, the recipe chat and the opening message when there is one.
 */
export async function insertSessionTx(
  tx: DbOrTx,
  actor: AuditActor,
  args: {
    projectId: string;
    creatorId: string;
    issue: NewSessionIssue;
    name?: string | null;
    customSystemPrompt?: string | null;
    initialMessage?: string | null;
    trigger: "create" | "template";
    metadata?: Record<string, unknown>;
  },
): Promise<string> {
  const { projectId, issue } = args;
  const sessionId = newId();
  const snapshotId = newId();
  const initialMessage = args.initialMessage?.trim() || null;
  const opening = initialMessage ?? issue.initialMessage;
  const name = args.name?.trim() || `${issue.name} ${ymd(new Date())}`;
  await tx.insert(analysisSession).values({
    id: sessionId,
    projectId,
    issueId: issue.id,
    creatorId: args.creatorId,
    name,
    status: "draft",
    customSystemPrompt: args.customSystemPrompt?.trim() || null,
    initialMessage,
  });
  await tx.insert(analysisSnapshot).values({
    id: snapshotId,
    sessionId,
    snapshotOrder: 0,
    trigger: args.trigger,
    createdBy: args.creatorId,
  });
  await tx
    .insert(analysisChat)
    .values({ id: newId(), snapshotId, chatOrder: 0, role: "system", message: issue.agentPrompt });
  if (opening) {
    await tx
      .insert(analysisChat)
      .values({ id: newId(), snapshotId, chatOrder: 1, role: "assistant", message: opening });
  }
  await tx
    .update(analysisSession)
    .set({ currentSnapshotId: snapshotId })
    .where(eq(analysisSession.id, sessionId));
  await tx.update(project).set({ lastActivityAt: new Date() }).where(eq(project.id, projectId));
  await writeAudit(tx, actor, {
    eventType: "DATA_CHANGE",
    action: "CREATE",
    resourceType: "analysis_session",
    resourceId: sessionId,
    projectId,
    newValue: { issueId: issue.id, name, trigger: args.trigger },
    metadata: args.metadata ?? null,
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

export async function currentSteps(db: DbOrTx, session: SessionRow): Promise<StepRow[]> {
  if (!session.currentSnapshotId) return [];
  return db
    .select()
    .from(analysisStep)
    .where(eq(analysisStep.snapshotId, session.currentSnapshotId))
    .orderBy(asc(analysisStep.stepOrder));
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
): Promise<StepResult[]> {
  const { frame, hash } = await inputOf(db, session);
  const defs: StepDef[] = [...existing.map(toDef), ...appended];
  const { byKey } = runPipeline(frame, hash, defs, { cache: resultCache });
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
  const snaps = await tx
    .select()
    .from(analysisSnapshot)
    .where(eq(analysisSnapshot.sessionId, session.id))
    .orderBy(asc(analysisSnapshot.snapshotOrder));
  const current = snaps.find((s) => s.id === session.currentSnapshotId) ?? snaps.at(-1)!;
  const order = snaps.at(-1)!.snapshotOrder + 1;
  const snapshotId = newId();
  await tx.insert(analysisSnapshot).values({
    id: snapshotId,
    sessionId: session.id,
    parentSnapshotId: current.id,
    snapshotOrder: order,
    trigger: "template",
    conversationSummary: current.conversationSummary,
    createdBy: args.createdBy,
  });
  const [chats, steps] = await Promise.all([
    tx.select().from(analysisChat).where(eq(analysisChat.snapshotId, current.id)),
    tx
      .select()
      .from(analysisStep)
      .where(eq(analysisStep.snapshotId, current.id))
      .orderBy(asc(analysisStep.stepOrder)),
  ]);
  const chatIds = new Map(chats.map((c) => [c.id, newId()]));
  if (chats.length > 0) {
    await tx.insert(analysisChat).values(
      chats.map((c) => ({
        ...c,
        id: chatIds.get(c.id)!,
        snapshotId,
        createdAt: undefined,
        updatedAt: undefined,
      })),
    );
  }
  let nextOrder = (steps.at(-1)?.stepOrder ?? -1) + 1;
  const rows = [
    ...steps.map((s) => ({
      ...s,
      id: newId(),
      snapshotId,
      config: jsonConfig(s.config),
      triggeredByChatId: s.triggeredByChatId ? (chatIds.get(s.triggeredByChatId) ?? null) : null,
      createdAt: undefined,
      updatedAt: undefined,
    })),
    ...args.appended.map((s) => ({
      id: newId(),
      snapshotId,
      stepKey: s.stepKey,
      stepOrder: nextOrder++,
      name: s.name,
      type: s.type,
      input: s.input,
      config: jsonConfig(s.config),
      triggeredByChatId: null,
    })),
  ];
  if (rows.length > 0) await tx.insert(analysisStep).values(rows);
  await tx
    .update(analysisSession)
    .set({ currentSnapshotId: snapshotId, updatedAt: new Date() })
    .where(eq(analysisSession.id, session.id));
  await tx.update(project).set({ lastActivityAt: new Date() }).where(eq(project.id, args.projectId));
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
