import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import { page } from "@/lib/schema";
import { sessionPrefix } from "@/lib/storage/keys";
import type { Caller } from "@/modules/auth/service";
import * as notify from "@/modules/notification/producers";
import { assertOwnerOrModerator, type ProjectAccess } from "@/modules/project/access";
import type { AnalysisCaches } from "./caches";
import type {
  SessionCreate,
  SessionDetail,
  SessionListQuery,
  SessionPatch,
  SessionSummary,
  Snapshot,
} from "./model";
import * as q from "./queries";
import * as repo from "./repository";
import { type SessionRow, sessionNotFound } from "./repository";
import { currentResults } from "./results";

/*
 * Analysis sessions (api.md §2.7, analysis.md §2): creation with snapshot 0 and its recipe chat,
 * listing, detail, status changes and deletion. Files, steps, chat turns and snapshots beyond 0
 * build on this.
 */

export type SessionDeps = { db: Database; actor: AuditActor; caches: AnalysisCaches };
export { sessionNotFound };

function toSummary(r: q.SummaryRow): SessionSummary {
  const s = r.s;
  return {
    id: s.id,
    projectId: s.projectId,
    name: s.name,
    status: s.status as SessionSummary["status"],
    issueId: s.issueId,
    issueName: r.issueName,
    validationName: r.validationName,
    creator: r.cId ? { id: r.cId, email: r.cEmail!, displayName: r.cName } : null,
    inputFileId: s.inputFileId,
    inputFileName: r.inputFileName,
    currentSnapshot: Number(r.currentSnapshot),
    snapshotCount: Number(r.snapshotCount),
    completedAt: s.completedAt ? s.completedAt.toISOString() : null,
    createdAt: s.createdAt.toISOString(),
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** The session row of this project, or 404 for unknown ids and ids of other projects alike. */
export async function loadSession(db: DbOrTx, projectId: string, sessionId: string): Promise<SessionRow> {
  const row = await q.findSession(db, projectId, sessionId);
  if (!row) throw sessionNotFound();
  return row;
}

export async function listSessions(db: DbOrTx, projectId: string, query: SessionListQuery) {
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { rows, total } = await q.listSessionSummaries(db, projectId, query, { skip, limit });
  return page(rows.map(toSummary), total, skip, limit);
}

/** Snapshots with their chats and steps (steps without results), in order. */
export async function snapshotsOf(
  db: DbOrTx,
  sessionId: string,
  pageArgs?: { skip: number; limit: number },
): Promise<Snapshot[]> {
  const snaps = await q.snapshotsWithAuthors(db, sessionId, pageArgs);
  const ids = snaps.map((s) => s.s.id);
  if (ids.length === 0) return [];
  const [chats, steps] = await Promise.all([q.chatsWithAuthors(db, ids), q.stepsOfSnapshots(db, ids)]);
  return snaps.map(({ s, author }) => ({
    id: s.id,
    order: s.snapshotOrder,
    parentSnapshotId: s.parentSnapshotId,
    name: s.name,
    description: s.description,
    trigger: s.trigger as Snapshot["trigger"],
    createdBy: author,
    createdAt: s.createdAt.toISOString(),
    chat: chats.filter((c) => c.c.snapshotId === s.id).map(toChat),
    step: steps
      .filter((st) => st.snapshotId === s.id)
      .map((st) => ({
        id: st.id,
        stepKey: st.stepKey,
        name: st.name,
        type: st.type as Snapshot["step"][number]["type"],
        input: st.input,
        order: st.stepOrder,
        config: st.config,
        configured: st.config !== null && Object.keys(st.config as object).length > 0,
        error: null,
      })),
  }));
}

export function toChat({ c, author }: q.ChatWithAuthor): Snapshot["chat"][number] {
  return {
    id: c.id,
    order: c.chatOrder,
    role: c.role as Snapshot["chat"][number]["role"],
    message: c.message,
    author,
    toolTrace: (c.toolTrace as unknown[] | null) ?? null,
    createdAt: c.createdAt.toISOString(),
  };
}

/** An analysis file as the API shows it; `rows` only where the caller asked for data. */
export function toAnalysisFile(f: q.FileMeta, addedBy: q.UserRef | null, rows?: Record<string, unknown>[]) {
  return {
    id: f.id,
    projectFileId: f.projectFileId,
    fileName: f.sourceFilename,
    sheetName: f.sheetName,
    axisConfig: f.axisConfig as Record<string, string>,
    configList: f.configList as unknown[],
    rowCount: f.rowCount,
    addedBy,
    createdAt: f.createdAt.toISOString(),
    ...(rows ? { data: rows } : {}),
  };
}

export async function getSessionDetail(
  db: DbOrTx,
  projectId: string,
  sessionId: string,
  caches: AnalysisCaches,
): Promise<SessionDetail> {
  const row = await q.sessionSummary(db, sessionId, projectId);
  if (!row) throw sessionNotFound();
  const files = await q.filesWithAdders(db, sessionId);
  const snapshotList = await snapshotsOf(db, sessionId);
  // Results belong to the current snapshot only (api.md §2.7).
  const current = snapshotList.find((s) => s.id === row.s.currentSnapshotId);
  if (current && row.s.inputFileId && current.step.length > 0) {
    current.step = (await currentResults(db, row.s, caches)) as unknown as typeof current.step;
  }
  return {
    ...toSummary(row),
    customSystemPrompt: row.s.customSystemPrompt,
    initialMessage: row.s.initialMessage,
    snapshotList,
    fileList: files.map(({ f, addedBy }) => toAnalysisFile(f, addedBy)),
  };
}

/**
 * One transaction: the session with every request field, snapshot 0 (`create`), chat 0 with the
 * issue's recipe, and chat 1 with the initial message when there is one (analysis.md §2.1).
 */
export async function createSession(
  deps: SessionDeps,
  caller: Caller,
  access: ProjectAccess,
  body: SessionCreate,
): Promise<SessionDetail> {
  const projectId = access.project.id;
  const issue = await repo.issueForSession(deps.db, body.issueId);
  const sessionId = await deps.db.transaction(async (tx) => {
    const created = await repo.createSession(tx, {
      projectId,
      creatorId: caller.user.id,
      issue,
      name: body.name,
      customSystemPrompt: body.customSystemPrompt,
      initialMessage: body.initialMessage,
      trigger: "create",
    });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "analysis_session",
      resourceId: created.sessionId,
      projectId,
      newValue: { issueId: issue.id, name: body.name ?? null },
    });
    return created.sessionId;
  });
  return getSessionDetail(deps.db, projectId, sessionId, deps.caches);
}

const leaseHeld = (s: SessionRow) => s.chatLeaseUntil !== null && s.chatLeaseUntil.getTime() > Date.now();
const archived = () => problem("SESSION_ARCHIVED");

/**
 * The session a write may change: in this project, the caller its creator or a moderator/manager,
 * not archived, and no chat turn holding the lease.
 */
export async function writableSession(
  db: DbOrTx,
  access: ProjectAccess,
  caller: Caller,
  sessionId: string,
): Promise<SessionRow> {
  const session = await loadSession(db, access.project.id, sessionId);
  assertOwnerOrModerator(access, caller.user.id, session.creatorId);
  if (session.status === "archived") throw archived();
  assertNoTurn(session);
  return session;
}

/**
 * Re-checks the chat lease with the session row locked, inside the write's own transaction: a
 * turn takes its lease with an UPDATE of that row, so an in-place edit of the current snapshot
 * either commits before the turn loads it or is refused, never lost from the turn's snapshot.
 * `snapshotId`: the snapshot the edit was checked against; a restore or save that moved the
 * session in between refuses the edit too (its rows may be gone).
 */
export async function lockAgainstTurn(tx: DbOrTx, sessionId: string, snapshotId?: string): Promise<void> {
  const row = await repo.lockSession(tx, sessionId);
  assertNoTurn(row);
  if (snapshotId !== undefined && row.currentSnapshotId !== snapshotId) {
    throw problem("CHAT_IN_PROGRESS", { detail: "The session moved to another snapshot meanwhile." });
  }
}

/** CHAT_IN_PROGRESS while a chat turn holds the session's lease. */
export function assertNoTurn(session: SessionRow): void {
  if (leaseHeld(session)) throw problem("CHAT_IN_PROGRESS");
}

/* The session row locked for this transaction, after the Own|Mod+ check. */
async function lockOwnSession(tx: DbOrTx, access: ProjectAccess, caller: Caller, sessionId: string) {
  const row = await repo.lockSession(tx, sessionId, access.project.id);
  assertOwnerOrModerator(access, caller.user.id, row.creatorId);
  return row;
}

/** Status rules of analysis.md §2.2; an archived session accepts only a status change. */
export async function updateSession(
  deps: SessionDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  body: SessionPatch,
): Promise<SessionSummary> {
  const projectId = access.project.id;
  await deps.db.transaction(async (tx) => {
    const before = await lockOwnSession(tx, access, caller, sessionId);
    const onlyStatus = Object.keys(body).every((k) => k === "status");
    if (before.status === "archived" && !onlyStatus) throw archived();
    if (body.status === "draft") {
      throw problem("VALIDATION_FAILED", {
        detail: "A session cannot be set back to draft.",
        errors: [{ path: "/body/status", message: "draft is entered only at creation" }],
      });
    }
    let status = body.status ?? before.status;
    // Re-opening a session that never had an input puts it back in draft.
    if (body.status === "active" && !before.inputFileId) status = "draft";
    const completing = status === "completed" && before.status !== "completed";
    const after = await repo.setSession(tx, sessionId, {
      name: body.name === undefined ? undefined : body.name.trim() || before.name,
      status,
      customSystemPrompt:
        body.customSystemPrompt === undefined ? undefined : body.customSystemPrompt?.trim() || null,
      initialMessage: body.initialMessage === undefined ? undefined : body.initialMessage?.trim() || null,
      completedAt: completing ? new Date() : status === "completed" ? undefined : null,
    });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "analysis_session",
      resourceId: sessionId,
      projectId,
      oldValue: { name: before.name, status: before.status },
      newValue: { name: after.name, status: after.status },
    });
    if (completing) await notify.sessionCompleted(tx, { projectId, sessionId, actorId: caller.user.id });
  });
  const row = await q.sessionSummary(deps.db, sessionId);
  return toSummary(row!);
}

/** Deletes the session; returns the storage prefix queued for deletion (drain it after the commit). */
export async function deleteSession(
  deps: SessionDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
): Promise<string[]> {
  const projectId = access.project.id;
  const prefix = sessionPrefix(sessionId);
  await deps.db.transaction(async (tx) => {
    const before = await lockOwnSession(tx, access, caller, sessionId);
    assertNoTurn(before);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "analysis_session",
      resourceId: sessionId,
      projectId,
      oldValue: { name: before.name, status: before.status, issueId: before.issueId },
    });
    await repo.deleteSession(tx, sessionId);
    await repo.queueStorageDeletion(tx, prefix);
  });
  return [prefix];
}
