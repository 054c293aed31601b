import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import type { AnalysisCaches } from "./caches";
import type { Snapshot } from "./model";
import * as q from "./queries";
import * as repo from "./repository";
import { currentResults } from "./results";
import {
  assertNoTurn,
  getSessionDetail,
  loadSession,
  lockAgainstTurn,
  snapshotsOf,
  toChat,
  writableSession,
} from "./service";

/*
 * Snapshots and the chat of the current snapshot (analysis.md §2.3, §2.6): manual save copies the
 * current snapshot (same step keys, new row ids), deletion keeps 0 and the current one, and the
 * system recipe message cannot be deleted.
 */

type PageQuery = { skip?: number; limit?: number };

export type SnapshotDeps = { db: Database; actor: AuditActor; caches: AnalysisCaches };

/* Listing carries no results (api.md §2.7): the steps are read, never run. */
export async function listSnapshots(
  db: Database,
  projectId: string,
  sessionId: string,
  { skip = 0, limit = 50 }: PageQuery,
) {
  await loadSession(db, projectId, sessionId);
  const [items, total] = await Promise.all([
    snapshotsOf(db, sessionId, { skip, limit }),
    q.countSnapshots(db, sessionId),
  ]);
  return { items, total, skip, limit };
}

export async function saveSnapshot(
  deps: SnapshotDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  body: { name?: string; description?: string },
): Promise<Snapshot> {
  await writableSession(deps.db, access, caller, sessionId);
  // The answer is read inside the transaction: a restore committed right after may already have
  // removed the snapshot again, and a 201 must still describe what was created.
  return deps.db.transaction(async (tx) => {
    const saved = await repo.appendSnapshot(
      tx,
      sessionId,
      {
        trigger: "manual",
        name: body.name?.trim() || null,
        description: body.description?.trim() || null,
        createdBy: caller.user.id,
      },
      { check: assertNoTurn },
    );
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "analysis_snapshot",
      resourceId: saved.snapshotId,
      projectId: access.project.id,
      newValue: { sessionId, order: saved.order, trigger: "manual", name: body.name ?? null },
    });
    const created = (await snapshotsOf(tx, sessionId)).find((s) => s.id === saved.snapshotId);
    if (!created) throw new Error("a snapshot saved in this transaction is missing");
    return created;
  });
}

export async function deleteSnapshot(
  deps: SnapshotDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  snapshotId: string,
): Promise<void> {
  await writableSession(deps.db, access, caller, sessionId);
  await deps.db.transaction(async (tx) => {
    // Under the session lock the current snapshot cannot move, and deletions queue behind restores.
    const session = await repo.lockSession(tx, sessionId);
    const target = await q.findSessionSnapshot(tx, sessionId, snapshotId);
    if (!target) throw problem("SNAPSHOT_NOT_FOUND");
    if (target.snapshotOrder === 0 || target.id === session.currentSnapshotId) {
      throw problem("SNAPSHOT_NOT_DELETABLE");
    }
    await repo.deleteSnapshot(tx, target);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "analysis_snapshot",
      resourceId: snapshotId,
      projectId: access.project.id,
      oldValue: { order: target.snapshotOrder, trigger: target.trigger },
    });
  });
}

/* The chat of the session's latest snapshot (the `currentSnapshot` of its summary), paged in SQL. */
export async function listMessages(
  db: Database,
  projectId: string,
  sessionId: string,
  { skip = 0, limit = 50 }: PageQuery,
) {
  await loadSession(db, projectId, sessionId);
  const latest = await q.latestSnapshotId(db, sessionId);
  if (!latest) return { items: [], total: 0, skip, limit };
  const { rows, total } = await q.chatPage(db, latest, { skip, limit });
  return { items: rows.map(toChat), total, skip, limit };
}

export async function deleteMessage(
  deps: SnapshotDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  chatId: string,
): Promise<void> {
  const session = await writableSession(deps.db, access, caller, sessionId);
  const chat = await q.findChat(deps.db, session.currentSnapshotId ?? chatId, chatId);
  if (!chat) throw problem("CHAT_NOT_FOUND");
  if (chat.role === "system") {
    throw problem("CHAT_NOT_DELETABLE");
  }
  await deps.db.transaction(async (tx) => {
    await lockAgainstTurn(tx, sessionId, chat.snapshotId);
    await repo.deleteChat(tx, chatId);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "analysis_chat",
      resourceId: chatId,
      projectId: access.project.id,
      oldValue: { role: chat.role, order: chat.chatOrder },
    });
  });
}

/** Summary results of the current snapshot (api.md §2.7 `/result`). */
export async function sessionResults(
  db: Database,
  projectId: string,
  sessionId: string,
  caches: AnalysisCaches,
) {
  const session = await loadSession(db, projectId, sessionId);
  if (!session.inputFileId) {
    throw problem("INPUT_FILE_REQUIRED");
  }
  const order = await q.snapshotOrder(db, session.currentSnapshotId ?? sessionId);
  const steps = await currentResults(db, session, caches);
  return {
    sessionId,
    snapshot: order ?? 0,
    results: steps
      .filter((s) => s.type === "summary")
      .map((s) => ({
        stepId: s.id,
        stepName: s.name,
        formulas: (s.resultFormula ?? []) as { name: string; value: number | null; unit: string }[],
        chart: s.resultChart ?? null,
        table: (s.resultTable ?? null) as Record<string, unknown>[] | null,
      })),
  };
}

/**
 * Copies a session in one transaction (analysis.md §2.5): files with their parsed data, every
 * snapshot (orders kept, parents remapped) or only the current one as snapshot 0, with steps under
 * the same step keys, so the copy's results are cache hits of the source's.
 */
export async function duplicateSession(
  deps: SnapshotDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  body: { name?: string; includeSnapshots?: boolean },
) {
  const source = await loadSession(deps.db, access.project.id, sessionId);
  const includeAll = body.includeSnapshots ?? true;
  const copyId = await deps.db.transaction(async (tx) => {
    const copyId = await repo.copySession(tx, source, {
      creatorId: caller.user.id,
      name: body.name?.trim() || `${source.name}（コピー）`,
      includeSnapshots: includeAll,
    });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "analysis_session",
      resourceId: copyId,
      projectId: access.project.id,
      newValue: { duplicateOf: sessionId, includeSnapshots: includeAll },
    });
    return copyId;
  });
  return getSessionDetail(deps.db, access.project.id, copyId, deps.caches);
}
