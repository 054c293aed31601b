import { and, eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { analysisChat, analysisSnapshot } from "@/db/schema";
import { problem } from "@/lib/errors";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import type { AnalysisCaches } from "./caches";
import type { Snapshot } from "./model";
import * as repo from "./repository";
import { currentResults } from "./results";
import {
  assertNoTurn,
  getSessionDetail,
  loadSession,
  lockAgainstTurn,
  snapshotsOf,
  writableSession,
} from "./service";

/*
 * Snapshots and the chat of the current snapshot (analysis.md §2.3, §2.6): manual save copies the
 * current snapshot (same step keys, new row ids), deletion keeps 0 and the current one, and the
 * system recipe message cannot be deleted.
 */

type PageQuery = { skip?: number; limit?: number };

export type SnapshotDeps = { db: Database; actor: AuditActor; caches: AnalysisCaches };

export async function listSnapshots(
  db: Database,
  projectId: string,
  sessionId: string,
  { skip = 0, limit = 50 }: PageQuery,
  caches: AnalysisCaches,
) {
  const detail = await getSessionDetail(db, projectId, sessionId, caches);
  // Listing carries no results (api.md §2.7).
  const items: Snapshot[] = detail.snapshotList.map((s) => ({
    ...s,
    step: s.step.map(({ id, stepKey, name, type, input, order, config, configured, error }) => ({
      id,
      stepKey,
      name,
      type,
      input,
      order,
      config,
      configured,
      error,
    })),
  }));
  return { items: items.slice(skip, skip + limit), total: items.length, skip, limit };
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
    const [target] = await tx
      .select()
      .from(analysisSnapshot)
      .where(and(eq(analysisSnapshot.id, snapshotId), eq(analysisSnapshot.sessionId, sessionId)));
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

export async function listMessages(
  db: Database,
  projectId: string,
  sessionId: string,
  { skip = 0, limit = 50 }: PageQuery,
  caches: AnalysisCaches,
) {
  const detail = await getSessionDetail(db, projectId, sessionId, caches);
  const current = detail.snapshotList.find((s) => s.order === detail.currentSnapshot);
  const chat = current?.chat ?? [];
  return { items: chat.slice(skip, skip + limit), total: chat.length, skip, limit };
}

export async function deleteMessage(
  deps: SnapshotDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  chatId: string,
): Promise<void> {
  const session = await writableSession(deps.db, access, caller, sessionId);
  const [chat] = await deps.db
    .select()
    .from(analysisChat)
    .where(
      and(eq(analysisChat.id, chatId), eq(analysisChat.snapshotId, session.currentSnapshotId ?? chatId)),
    );
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
  const [snap] = await db
    .select({ order: analysisSnapshot.snapshotOrder })
    .from(analysisSnapshot)
    .where(eq(analysisSnapshot.id, session.currentSnapshotId ?? sessionId));
  const steps = await currentResults(db, session, caches);
  return {
    sessionId,
    snapshot: snap?.order ?? 0,
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
