import { and, asc, eq } from "drizzle-orm";
import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { analysisChat, analysisFile, analysisSession, analysisSnapshot, analysisStep } from "@/db/schema";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import type { Snapshot } from "./model";
import { getSessionDetail, loadSession, lockAgainstTurn, writableSession } from "./service";
import { currentResults, jsonConfig } from "./steps";

/*
 * Snapshots and the chat of the current snapshot (analysis.md §2.3, §2.6): manual save copies the
 * current snapshot (same step keys, new row ids), deletion keeps 0 and the current one, and the
 * system recipe message cannot be deleted.
 */

export type SnapshotDeps = { db: Database; actor: AuditActor };

export async function listSnapshots(
  db: Database,
  projectId: string,
  sessionId: string,
  skip = 0,
  limit = 50,
) {
  const detail = await getSessionDetail(db, projectId, sessionId);
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
  const session = await writableSession(deps.db, access, caller, sessionId);
  const id = newId();
  await deps.db.transaction(async (tx) => {
    const snaps = await tx
      .select()
      .from(analysisSnapshot)
      .where(eq(analysisSnapshot.sessionId, sessionId))
      .orderBy(asc(analysisSnapshot.snapshotOrder))
      .for("update");
    const current = snaps.find((s) => s.id === session.currentSnapshotId) ?? snaps.at(-1)!;
    const order = snaps.at(-1)!.snapshotOrder + 1;
    await tx.insert(analysisSnapshot).values({
      id,
      sessionId,
      parentSnapshotId: current.id,
      snapshotOrder: order,
      name: body.name?.trim() || null,
      description: body.description?.trim() || null,
      trigger: "manual",
      createdBy: caller.user.id,
    });
    const [chats, steps] = await Promise.all([
      tx.select().from(analysisChat).where(eq(analysisChat.snapshotId, current.id)),
      tx.select().from(analysisStep).where(eq(analysisStep.snapshotId, current.id)),
    ]);
    const chatIds = new Map(chats.map((c) => [c.id, newId()]));
    if (chats.length > 0) {
      await tx
        .insert(analysisChat)
        .values(chats.map((c) => ({ ...c, id: chatIds.get(c.id)!, snapshotId: id, createdAt: undefined })));
    }
    if (steps.length > 0) {
      await tx.insert(analysisStep).values(
        steps.map((s) => ({
          ...s,
          id: newId(),
          snapshotId: id,
          config: jsonConfig(s.config),
          triggeredByChatId: s.triggeredByChatId ? (chatIds.get(s.triggeredByChatId) ?? null) : null,
          createdAt: undefined,
        })),
      );
    }
    await tx
      .update(analysisSession)
      .set({ currentSnapshotId: id, updatedAt: new Date() })
      .where(eq(analysisSession.id, sessionId));
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "analysis_snapshot",
      resourceId: id,
      projectId: access.project.id,
      newValue: { sessionId, order, trigger: "manual", name: body.name ?? null },
    });
  });
  const detail = await getSessionDetail(deps.db, access.project.id, sessionId);
  return detail.snapshotList.find((s) => s.id === id)!;
}

export async function deleteSnapshot(
  deps: SnapshotDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  snapshotId: string,
): Promise<void> {
  const session = await writableSession(deps.db, access, caller, sessionId);
  await deps.db.transaction(async (tx) => {
    const [target] = await tx
      .select()
      .from(analysisSnapshot)
      .where(and(eq(analysisSnapshot.id, snapshotId), eq(analysisSnapshot.sessionId, sessionId)));
    if (!target) throw problem("SNAPSHOT_NOT_FOUND");
    if (target.snapshotOrder === 0 || target.id === session.currentSnapshotId) {
      throw problem("SNAPSHOT_NOT_DELETABLE");
    }
    await tx
      .update(analysisSnapshot)
      .set({ parentSnapshotId: target.parentSnapshotId })
      .where(eq(analysisSnapshot.parentSnapshotId, target.id));
    await tx.delete(analysisSnapshot).where(eq(analysisSnapshot.id, snapshotId));
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

export async function listMessages(db: Database, projectId: string, sessionId: string, skip = 0, limit = 50) {
  const detail = await getSessionDetail(db, projectId, sessionId);
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
    await lockAgainstTurn(tx, sessionId);
    await tx.delete(analysisChat).where(eq(analysisChat.id, chatId));
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
export async function sessionResults(db: Database, projectId: string, sessionId: string) {
  const session = await loadSession(db, projectId, sessionId);
  if (!session.inputFileId) {
    throw problem("INPUT_FILE_REQUIRED");
  }
  const [snap] = await db
    .select({ order: analysisSnapshot.snapshotOrder })
    .from(analysisSnapshot)
    .where(eq(analysisSnapshot.id, session.currentSnapshotId ?? sessionId));
  const steps = await currentResults(db, session);
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
  const copyId = newId();
  await deps.db.transaction(async (tx) => {
    const files = await tx.select().from(analysisFile).where(eq(analysisFile.sessionId, sessionId));
    const fileIds = new Map(files.map((f) => [f.id, newId()]));
    let snaps = await tx
      .select()
      .from(analysisSnapshot)
      .where(eq(analysisSnapshot.sessionId, sessionId))
      .orderBy(asc(analysisSnapshot.snapshotOrder));
    if (!includeAll) snaps = snaps.filter((s) => s.id === source.currentSnapshotId);
    const snapIds = new Map(snaps.map((s) => [s.id, newId()]));
    await tx.insert(analysisSession).values({
      ...source,
      id: copyId,
      creatorId: caller.user.id,
      name: body.name?.trim() || `${source.name}（コピー）`,
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
    for (const s of snaps) {
      await tx.insert(analysisSnapshot).values({
        ...s,
        id: snapIds.get(s.id)!,
        sessionId: copyId,
        snapshotOrder: includeAll ? s.snapshotOrder : 0,
        trigger: includeAll ? s.trigger : "duplicate",
        parentSnapshotId: includeAll && s.parentSnapshotId ? (snapIds.get(s.parentSnapshotId) ?? null) : null,
        createdBy: includeAll ? s.createdBy : caller.user.id,
        createdAt: undefined,
        updatedAt: undefined,
      });
      const [chats, steps] = await Promise.all([
        tx.select().from(analysisChat).where(eq(analysisChat.snapshotId, s.id)),
        tx.select().from(analysisStep).where(eq(analysisStep.snapshotId, s.id)),
      ]);
      const chatIds = new Map(chats.map((c) => [c.id, newId()]));
      if (chats.length > 0) {
        await tx.insert(analysisChat).values(
          chats.map((c) => ({
            ...c,
            id: chatIds.get(c.id)!,
            snapshotId: snapIds.get(s.id)!,
            createdAt: undefined,
            updatedAt: undefined,
          })),
        );
      }
      if (steps.length > 0) {
        await tx.insert(analysisStep).values(
          steps.map((st) => ({
            ...st,
            id: newId(),
            snapshotId: snapIds.get(s.id)!,
            config: jsonConfig(st.config),
            triggeredByChatId: st.triggeredByChatId ? (chatIds.get(st.triggeredByChatId) ?? null) : null,
            createdAt: undefined,
            updatedAt: undefined,
          })),
        );
      }
    }
    await tx
      .update(analysisSession)
      .set({
        inputFileId: source.inputFileId ? (fileIds.get(source.inputFileId) ?? null) : null,
        currentSnapshotId: source.currentSnapshotId ? (snapIds.get(source.currentSnapshotId) ?? null) : null,
      })
      .where(eq(analysisSession.id, copyId));
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "analysis_session",
      resourceId: copyId,
      projectId: access.project.id,
      newValue: { duplicateOf: sessionId, includeSnapshots: includeAll },
    });
  });
  return getSessionDetail(deps.db, access.project.id, copyId);
}
