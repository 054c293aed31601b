import { and, asc, eq, gt, isNull, lt, ne, notInArray, or, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import {
  analysisChat,
  analysisFile,
  analysisIssueMaster,
  analysisSession,
  analysisSnapshot,
  analysisStep,
  analysisValidationMaster,
  project,
  storageDeletionQueue,
} from "@/db/schema";
import type { StepDef } from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";

/*
 * The one writer of the session aggregate (session, snapshots, chats, steps, analysis files):
 * every INSERT, UPDATE and DELETE of those rows is a function here taking the transaction first.
 * Services decide and audit; they never write these tables themselves.
 *
 * Copies (snapshot save, duplicate, template apply, chat turn) all go through `copySnapshot`,
 * which fixes what a copy keeps:
 * - chats and steps get new ids; `triggeredByChatId` points at the copied chat;
 * - `conversationSummary` comes along unless the caller writes a new one;
 * - copied chat and step rows are new rows: `createdAt` and `updatedAt` are the copy's time (the
 *   column defaults), never the source's, whoever copies.
 */

export type SessionRow = typeof analysisSession.$inferSelect;
export type SnapshotRow = typeof analysisSnapshot.$inferSelect;
export type ChatRow = typeof analysisChat.$inferSelect;
export type StepRow = typeof analysisStep.$inferSelect;
type FileRow = typeof analysisFile.$inferSelect;
type SnapshotTrigger = "create" | "template" | "manual" | "duplicate" | "chat";

export const sessionNotFound = () => problem("SESSION_NOT_FOUND");

/* "Not configured" is a JSON null in the NOT NULL jsonb column (SQL NULL is not allowed there). */
export const jsonConfig = (config: unknown) =>
  config === null || config === undefined ? sql`'null'::jsonb` : config;

const ymd = (d: Date) => d.toISOString().slice(0, 10);

/* ---------- reads the writers share ---------- */

/** A snapshot's steps in order. */
export function stepsOf(db: DbOrTx, snapshotId: string): Promise<StepRow[]> {
  return db
    .select()
    .from(analysisStep)
    .where(eq(analysisStep.snapshotId, snapshotId))
    .orderBy(asc(analysisStep.stepOrder));
}

/** A snapshot's chats in order. */
export function chatsOf(db: DbOrTx, snapshotId: string): Promise<ChatRow[]> {
  return db
    .select()
    .from(analysisChat)
    .where(eq(analysisChat.snapshotId, snapshotId))
    .orderBy(asc(analysisChat.chatOrder));
}

/**
 * The session row locked for the rest of the transaction. Every write that numbers snapshots or
 * moves the current one takes this lock first, so concurrent writers queue on one row instead of
 * computing the same next `snapshot_order` (a lock on existing snapshot rows cannot cover the row
 * being inserted).
 */
export async function lockSession(tx: DbOrTx, sessionId: string, projectId?: string): Promise<SessionRow> {
  const [row] = await tx
    .select()
    .from(analysisSession)
    .where(
      and(
        eq(analysisSession.id, sessionId),
        projectId ? eq(analysisSession.projectId, projectId) : undefined,
      ),
    )
    .for("update");
  if (!row) throw sessionNotFound();
  return row;
}

/** The next free snapshot order; call with the session row locked. */
async function nextSnapshotOrder(tx: DbOrTx, sessionId: string): Promise<number> {
  const [{ top }] = await tx
    .select({ top: sql<number | null>`max(${analysisSnapshot.snapshotOrder})` })
    .from(analysisSnapshot)
    .where(eq(analysisSnapshot.sessionId, sessionId));
  return top === null ? 0 : Number(top) + 1;
}

/** The issue fields a new session copies (analysis.md §2.1); archived issues are refused. */
export async function issueForSession(db: DbOrTx, issueId: string): Promise<NewSessionIssue> {
  const [row] = await db
    .select({
      id: analysisIssueMaster.id,
      name: analysisIssueMaster.name,
      agentPrompt: analysisIssueMaster.agentPrompt,
      initialMessage: analysisIssueMaster.initialMsg,
      active: sql<boolean>`${analysisIssueMaster.isActive} and ${analysisValidationMaster.isActive}`,
    })
    .from(analysisIssueMaster)
    .innerJoin(analysisValidationMaster, eq(analysisValidationMaster.id, analysisIssueMaster.validationId))
    .where(eq(analysisIssueMaster.id, issueId));
  if (!row) throw problem("ISSUE_NOT_FOUND");
  if (!row.active) throw problem("MASTER_ARCHIVED");
  return row;
}

/* ---------- session ---------- */

export type NewSessionIssue = {
  id: string;
  name: string;
  agentPrompt: string;
  initialMessage: string | null;
};

/**
 * A new session with snapshot 0 (`trigger`), chat 0 holding the issue's recipe and chat 1 with the
 * opening message when there is one (analysis.md §2.1); touches the project's activity.
 */
export async function createSession(
  tx: DbOrTx,
  args: {
    projectId: string;
    creatorId: string;
    issue: NewSessionIssue;
    name?: string | null;
    customSystemPrompt?: string | null;
    initialMessage?: string | null;
    trigger: "create" | "template";
  },
): Promise<{ sessionId: string; name: string }> {
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
    .values([
      { id: newId(), snapshotId, chatOrder: 0, role: "system", message: issue.agentPrompt },
      ...(opening ? [{ id: newId(), snapshotId, chatOrder: 1, role: "assistant", message: opening }] : []),
    ]);
  await setSession(tx, sessionId, { currentSnapshotId: snapshotId }, { touch: false });
  await touchProject(tx, projectId);
  return { sessionId, name };
}

type SessionPatch = Partial<
  Pick<
    SessionRow,
    | "name"
    | "status"
    | "customSystemPrompt"
    | "initialMessage"
    | "completedAt"
    | "inputFileId"
    | "currentSnapshotId"
    | "chatLeaseUntil"
  >
>;

/** Updates the session row; `updatedAt` moves unless `touch: false`. */
export async function setSession(
  tx: DbOrTx,
  sessionId: string,
  patch: SessionPatch,
  options: { touch?: boolean } = {},
): Promise<SessionRow> {
  const [row] = await tx
    .update(analysisSession)
    .set({ ...patch, updatedAt: options.touch === false ? undefined : new Date() })
    .where(eq(analysisSession.id, sessionId))
    .returning();
  return row;
}

export async function touchProject(tx: DbOrTx, projectId: string): Promise<void> {
  await tx.update(project).set({ lastActivityAt: new Date() }).where(eq(project.id, projectId));
}

export async function deleteSession(tx: DbOrTx, sessionId: string): Promise<void> {
  await tx.delete(analysisSession).where(eq(analysisSession.id, sessionId));
}

/** Queues a deleted session's storage prefix; the drain after the commit removes the objects. */
export async function queueStorageDeletion(tx: DbOrTx, prefix: string): Promise<void> {
  await tx
    .insert(storageDeletionQueue)
    .values({ id: newId(), container: "analysis", storageKey: prefix, reason: "session_deleted" })
    .onConflictDoNothing();
}

/** Status after a write that gives the session content: draft and completed become active. */
export function reopened(row: SessionRow): Pick<SessionPatch, "status" | "completedAt"> {
  return {
    status: row.status === "draft" || row.status === "completed" ? "active" : row.status,
    completedAt: row.status === "completed" ? null : undefined,
  };
}

/* ---------- chat lease (analysis.md §5.1) ---------- */

/** Takes the lease with a conditional update; false when another turn holds it. */
export async function takeChatLease(db: DbOrTx, sessionId: string, until: Date): Promise<boolean> {
  const taken = await db
    .update(analysisSession)
    .set({ chatLeaseUntil: until })
    .where(
      and(
        eq(analysisSession.id, sessionId),
        or(isNull(analysisSession.chatLeaseUntil), lt(analysisSession.chatLeaseUntil, new Date())),
      ),
    )
    .returning({ id: analysisSession.id });
  return taken.length > 0;
}

/** Releases the lease only if it is still this turn's (`lease` is its token). */
export async function releaseChatLease(db: DbOrTx, sessionId: string, lease: Date): Promise<void> {
  await db
    .update(analysisSession)
    .set({ chatLeaseUntil: null })
    .where(and(eq(analysisSession.id, sessionId), eq(analysisSession.chatLeaseUntil, lease)));
}

/* ---------- snapshots ---------- */

export type NewSnapshot = {
  id?: string;
  sessionId: string;
  snapshotOrder: number;
  parentSnapshotId: string | null;
  trigger: SnapshotTrigger;
  createdBy: string | null;
  name?: string | null;
  description?: string | null;
  /** Omitted: the source's summary comes along. */
  conversationSummary?: string | null;
};

/** A step of a copy that is not a plain copy of the source's. */
export type StepSpec = Pick<StepDef, "stepKey" | "name" | "type" | "input"> & {
  config: unknown;
  /** Omitted: the trigger of the source step with the same key, pointed at its copied chat. */
  triggeredByChatId?: string | null;
};

export type NewChat = {
  id: string;
  role: "user" | "assistant";
  message: string;
  authorId?: string | null;
  toolTrace?: unknown;
  tokenUsage?: unknown;
};

/**
 * Copies snapshot `sourceId` into a new snapshot row `target`: its chats (new ids, same orders),
 * then `appendChats`, and its steps (new ids, same keys) — or `steps` in their place — then
 * `appendSteps`. Returns the new snapshot id and the old→new chat ids.
 */
export async function copySnapshot(
  tx: DbOrTx,
  sourceId: string,
  target: NewSnapshot,
  options: {
    steps?: readonly StepSpec[];
    appendSteps?: readonly StepSpec[];
    appendChats?: readonly NewChat[];
  } = {},
): Promise<{ snapshotId: string; chatIds: Map<string, string> }> {
  const snapshotId = target.id ?? newId();
  const [[source], chats, steps] = await Promise.all([
    tx.select().from(analysisSnapshot).where(eq(analysisSnapshot.id, sourceId)),
    chatsOf(tx, sourceId),
    stepsOf(tx, sourceId),
  ]);
  await tx.insert(analysisSnapshot).values({
    id: snapshotId,
    sessionId: target.sessionId,
    parentSnapshotId: target.parentSnapshotId,
    snapshotOrder: target.snapshotOrder,
    name: target.name ?? null,
    description: target.description ?? null,
    trigger: target.trigger,
    conversationSummary:
      target.conversationSummary === undefined
        ? (source?.conversationSummary ?? null)
        : target.conversationSummary,
    createdBy: target.createdBy,
  });
  const chatIds = new Map(chats.map((c) => [c.id, newId()]));
  const remap = (chatId: string | null) => (chatId ? (chatIds.get(chatId) ?? null) : null);
  let chatOrder = (chats.at(-1)?.chatOrder ?? -1) + 1;
  const chatRows = [
    ...chats.map((c) => ({
      ...c,
      id: chatIds.get(c.id)!,
      snapshotId,
      createdAt: undefined,
      updatedAt: undefined,
    })),
    ...(options.appendChats ?? []).map((c) => ({ ...c, snapshotId, chatOrder: chatOrder++ })),
  ];
  if (chatRows.length > 0) await tx.insert(analysisChat).values(chatRows);

  const prior = new Map(steps.map((s) => [s.stepKey, s]));
  const fromSpec = (s: StepSpec, stepOrder: number) => ({
    id: newId(),
    snapshotId,
    stepKey: s.stepKey,
    stepOrder,
    name: s.name,
    type: s.type,
    input: s.input,
    config: jsonConfig(s.config),
    triggeredByChatId:
      s.triggeredByChatId === undefined
        ? remap(prior.get(s.stepKey)?.triggeredByChatId ?? null)
        : s.triggeredByChatId,
  });
  const base = options.steps
    ? options.steps.map((s, i) => fromSpec(s, i))
    : steps.map((s) => ({
        ...s,
        id: newId(),
        snapshotId,
        config: jsonConfig(s.config),
        triggeredByChatId: remap(s.triggeredByChatId),
        createdAt: undefined,
        updatedAt: undefined,
      }));
  let stepOrder = (base.at(-1)?.stepOrder ?? -1) + 1;
  const stepRows = [...base, ...(options.appendSteps ?? []).map((s) => fromSpec(s, stepOrder++))];
  if (stepRows.length > 0) await tx.insert(analysisStep).values(stepRows);
  return { snapshotId, chatIds };
}

/**
 * A new snapshot on top of the current one (next order, parent = current), which becomes current.
 * Locks the session row first; `check` sees the locked row and may refuse.
 */
export async function appendSnapshot(
  tx: DbOrTx,
  sessionId: string,
  snapshot: Omit<NewSnapshot, "sessionId" | "snapshotOrder" | "parentSnapshotId">,
  options: Parameters<typeof copySnapshot>[3] & {
    check?: (row: SessionRow) => void;
    session?: (row: SessionRow) => SessionPatch;
  } = {},
): Promise<{ snapshotId: string; order: number; before: SessionRow }> {
  const before = await lockSession(tx, sessionId);
  options.check?.(before);
  const order = await nextSnapshotOrder(tx, sessionId);
  const currentId = before.currentSnapshotId ?? (await snapshotAt(tx, sessionId, order - 1))!.id;
  const { snapshotId } = await copySnapshot(
    tx,
    currentId,
    { ...snapshot, sessionId, snapshotOrder: order, parentSnapshotId: currentId },
    options,
  );
  await setSession(tx, sessionId, { ...options.session?.(before), currentSnapshotId: snapshotId });
  return { snapshotId, order, before };
}

export async function snapshotAt(tx: DbOrTx, sessionId: string, order: number): Promise<SnapshotRow | null> {
  const [row] = await tx
    .select()
    .from(analysisSnapshot)
    .where(and(eq(analysisSnapshot.sessionId, sessionId), eq(analysisSnapshot.snapshotOrder, order)));
  return row ?? null;
}

/**
 * The reset of analysis.md §2.4 (input selection, re-parsing the selected file): snapshots above 0
 * go, snapshot 0 keeps only the recipe and the opening message and no steps, and becomes current.
 */
export async function resetToZero(tx: DbOrTx, sessionId: string, patch: SessionPatch = {}): Promise<string> {
  await lockSession(tx, sessionId);
  const zero = (await snapshotAt(tx, sessionId, 0))!;
  await tx
    .delete(analysisSnapshot)
    .where(and(eq(analysisSnapshot.sessionId, sessionId), gt(analysisSnapshot.snapshotOrder, 0)));
  await tx.delete(analysisStep).where(eq(analysisStep.snapshotId, zero.id));
  const keep = await tx
    .select({ id: analysisChat.id })
    .from(analysisChat)
    .where(
      and(
        eq(analysisChat.snapshotId, zero.id),
        sql`${analysisChat.chatOrder} <= 1`,
        ne(analysisChat.role, "user"),
      ),
    );
  await tx.delete(analysisChat).where(
    and(
      eq(analysisChat.snapshotId, zero.id),
      keep.length > 0
        ? notInArray(
            analysisChat.id,
            keep.map((k) => k.id),
          )
        : undefined,
    ),
  );
  await setSession(tx, sessionId, { ...patch, currentSnapshotId: zero.id });
  return zero.id;
}

/** Moves the session back to snapshot `order`, deleting every later one (analysis.md §2.3). */
export async function restoreTo(tx: DbOrTx, sessionId: string, order: number): Promise<SnapshotRow | null> {
  await lockSession(tx, sessionId);
  const target = await snapshotAt(tx, sessionId, order);
  if (!target) return null;
  await tx
    .delete(analysisSnapshot)
    .where(and(eq(analysisSnapshot.sessionId, sessionId), gt(analysisSnapshot.snapshotOrder, order)));
  await setSession(tx, sessionId, { currentSnapshotId: target.id });
  return target;
}

/** Deletes one snapshot; its children take its parent. */
export async function deleteSnapshot(tx: DbOrTx, target: SnapshotRow): Promise<void> {
  await tx
    .update(analysisSnapshot)
    .set({ parentSnapshotId: target.parentSnapshotId })
    .where(eq(analysisSnapshot.parentSnapshotId, target.id));
  await tx.delete(analysisSnapshot).where(eq(analysisSnapshot.id, target.id));
}

/**
 * Copies a whole session (analysis.md §2.5): files with their parsed data, then every snapshot
 * (orders, triggers and parents kept) or only the current one as snapshot 0 (`duplicate`).
 */
export async function copySession(
  tx: DbOrTx,
  source: SessionRow,
  args: { creatorId: string; name: string; includeSnapshots: boolean },
): Promise<string> {
  const copyId = newId();
  const files = await tx.select().from(analysisFile).where(eq(analysisFile.sessionId, source.id));
  const fileIds = new Map(files.map((f) => [f.id, newId()]));
  let snaps = await tx
    .select()
    .from(analysisSnapshot)
    .where(eq(analysisSnapshot.sessionId, source.id))
    .orderBy(asc(analysisSnapshot.snapshotOrder));
  if (!args.includeSnapshots) snaps = snaps.filter((s) => s.id === source.currentSnapshotId);
  const snapIds = new Map(snaps.map((s) => [s.id, newId()]));
  await tx.insert(analysisSession).values({
    ...source,
    id: copyId,
    creatorId: args.creatorId,
    name: args.name,
    status: source.status === "archived" ? "active" : source.status,
    inputFileId: null,
    currentSnapshotId: null,
    chatLeaseUntil: null,
    createdAt: undefined,
    updatedAt: undefined,
  });
  if (files.length > 0) {
    await tx.insert(analysisFile).values(
      files.map((f) => ({
        ...f,
        id: fileIds.get(f.id)!,
        sessionId: copyId,
        createdAt: undefined,
        updatedAt: undefined,
      })),
    );
  }
  const all = args.includeSnapshots;
  for (const s of snaps) {
    await copySnapshot(tx, s.id, {
      id: snapIds.get(s.id)!,
      sessionId: copyId,
      snapshotOrder: all ? s.snapshotOrder : 0,
      trigger: all ? (s.trigger as SnapshotTrigger) : "duplicate",
      parentSnapshotId: all && s.parentSnapshotId ? (snapIds.get(s.parentSnapshotId) ?? null) : null,
      createdBy: all ? s.createdBy : args.creatorId,
      name: s.name,
      description: s.description,
    });
  }
  await setSession(
    tx,
    copyId,
    {
      inputFileId: source.inputFileId ? (fileIds.get(source.inputFileId) ?? null) : null,
      currentSnapshotId: source.currentSnapshotId ? (snapIds.get(source.currentSnapshotId) ?? null) : null,
    },
    { touch: false },
  );
  return copyId;
}

/* ---------- steps and chats of the current snapshot (in-place edits) ---------- */

export async function insertStep(tx: DbOrTx, row: StepRow): Promise<void> {
  const [{ top }] = await tx
    .select({ top: sql<number | null>`max(${analysisStep.stepOrder})` })
    .from(analysisStep)
    .where(eq(analysisStep.snapshotId, row.snapshotId));
  row.stepOrder = top === null ? 0 : Number(top) + 1;
  await tx.insert(analysisStep).values({ ...row, config: jsonConfig(row.config) });
}

export async function updateStep(tx: DbOrTx, row: StepRow): Promise<void> {
  await tx
    .update(analysisStep)
    .set({
      name: row.name,
      type: row.type,
      input: row.input,
      config: jsonConfig(row.config),
      updatedAt: row.updatedAt,
    })
    .where(eq(analysisStep.id, row.id));
}

export async function deleteStep(tx: DbOrTx, row: StepRow): Promise<void> {
  await tx
    .delete(analysisStep)
    .where(and(eq(analysisStep.id, row.id), eq(analysisStep.snapshotId, row.snapshotId)));
}

export async function deleteChat(tx: DbOrTx, chatId: string): Promise<void> {
  await tx.delete(analysisChat).where(eq(analysisChat.id, chatId));
}

/* ---------- the chat turn's commit (analysis.md §5.1) ---------- */

/**
 * Writes a finished turn as snapshot current+1 (`chat`): the base's chats, the user message and
 * the assistant reply, and the working copy's steps (changed ones triggered by the reply). Refuses
 * with CHAT_IN_PROGRESS when the base is no longer current or the lease is no longer this turn's.
 * Releases the lease and reopens a draft or completed session.
 */
export async function commitTurn(
  tx: DbOrTx,
  args: {
    sessionId: string;
    baseId: string;
    lease: Date;
    userId: string;
    message: string;
    reply: { text: string; toolTrace: unknown; tokenUsage: unknown };
    steps: readonly Omit<StepSpec, "triggeredByChatId">[];
    changed: Set<string>;
    conversationSummary: string | null;
  },
): Promise<{ snapshotId: string; order: number }> {
  const replyId = newId();
  const { snapshotId, order } = await appendSnapshot(
    tx,
    args.sessionId,
    { trigger: "chat", createdBy: args.userId, conversationSummary: args.conversationSummary },
    {
      check: (row) => {
        if (row.currentSnapshotId !== args.baseId || row.chatLeaseUntil?.getTime() !== args.lease.getTime()) {
          throw problem("CHAT_IN_PROGRESS");
        }
      },
      appendChats: [
        { id: newId(), role: "user", message: args.message, authorId: args.userId },
        {
          id: replyId,
          role: "assistant",
          message: args.reply.text,
          toolTrace: args.reply.toolTrace,
          tokenUsage: args.reply.tokenUsage,
        },
      ],
      steps: args.steps.map((s) => ({
        ...s,
        triggeredByChatId: args.changed.has(s.stepKey) ? replyId : undefined,
      })),
      session: (row) => ({ ...reopened(row), chatLeaseUntil: null }),
    },
  );
  return { snapshotId, order };
}

/* ---------- analysis files ---------- */

export async function insertFile(
  tx: DbOrTx,
  values: typeof analysisFile.$inferInsert,
): Promise<FileRow | null> {
  const rows = await tx.insert(analysisFile).values(values).onConflictDoNothing().returning();
  return rows[0] ?? null;
}

export async function setFileSheet(
  tx: DbOrTx,
  fileId: string,
  patch: Pick<FileRow, "sheetName" | "axisConfig" | "data" | "rowCount">,
): Promise<FileRow> {
  const [row] = await tx
    .update(analysisFile)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(analysisFile.id, fileId))
    .returning();
  return row;
}

export async function deleteFile(tx: DbOrTx, fileId: string): Promise<void> {
  await tx.delete(analysisFile).where(eq(analysisFile.id, fileId));
}
