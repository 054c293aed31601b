import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { authSessionKey, type Cache } from "@/lib/cache";
import { problem } from "@/lib/errors";
import { iso } from "@/lib/schema";
import { invalidateUser } from "@/modules/auth/service";
import {
  expireLapsedSessions,
  forceEndSession,
  getSession,
  listSessions,
  type SessionRow,
  type SessionState,
  sessionStats,
  terminateAllOf,
  userExists,
} from "./queries";

/*
 * Auth sessions and forced logout (api.md §2.12.8). Ending a session or raising the watermark
 * drops the cached auth state through the shared cache, so the next request on any instance
 * re-reads the database and is refused with 401 SESSION_REVOKED.
 */

export type SessionDeps = { db: Database; cache: Cache; actor: AuditActor };

export type AuthSessionView = ReturnType<typeof toView>;

function toView(row: SessionRow) {
  const now = Date.now();
  return {
    id: row.id,
    user: row.user,
    keySource: row.keySource as "sid" | "token" | "dev",
    ipAddress: row.ipAddress,
    userAgent: row.userAgent,
    startedAt: row.startedAt.toISOString(),
    lastActivityAt: row.lastActivityAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    endedAt: iso(row.endedAt),
    endReason: row.endReason as "MANUAL" | "FORCED" | "EXPIRED" | "DEACTIVATED" | null,
    endedBy: row.endedBy?.id ? row.endedBy : null,
    isActive: row.endedAt === null && row.expiresAt.getTime() > now,
  };
}

type ListQuery = { skip?: number; limit?: number; userId?: string; ipAddress?: string; state?: SessionState };

export async function list(db: Database, q: ListQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const [{ rows, total }, stats] = await Promise.all([
    listSessions(db, { userId: q.userId, ipAddress: q.ipAddress, state: q.state }, skip, limit),
    sessionStats(db),
  ]);
  return { items: rows.map(toView), total, skip, limit, stats };
}

export async function listOfUser(db: Database, userId: string, q: Omit<ListQuery, "userId" | "ipAddress">) {
  if (!(await userExists(db, userId))) throw problem("USER_NOT_FOUND");
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listSessions(db, { userId, state: q.state }, skip, limit);
  return { items: rows.map(toView), total, skip, limit };
}

export async function terminate(deps: SessionDeps, sessionId: string, reason: string | undefined) {
  const endedBy = deps.actor.userId as string;
  const ended = await deps.db.transaction(async (tx) => {
    const before = await getSession(tx, sessionId);
    if (!before) throw problem("AUTH_SESSION_NOT_FOUND");
    const done = await forceEndSession(tx, sessionId, endedBy, reason?.trim() || null);
    if (!done) throw problem("SESSION_ALREADY_ENDED");
    await writeAudit(tx, deps.actor, {
      eventType: "SECURITY",
      action: "SESSION_TERMINATE",
      resourceType: "user_session",
      resourceId: sessionId,
      severity: "WARNING",
      oldValue: { endedAt: null },
      newValue: { endReason: "FORCED" },
      metadata: { userId: done.userId, ...(reason ? { reason } : {}) },
    });
    return done;
  });
  await invalidateUser(deps.cache, ended.userId, [ended.keyHash]);
  return toView((await getSession(deps.db, sessionId)) as SessionRow);
}

export async function terminateAll(deps: SessionDeps, userId: string, reason: string | undefined) {
  const endedBy = deps.actor.userId as string;
  const out = await deps.db.transaction(async (tx) => {
    if (!(await userExists(tx, userId))) throw problem("USER_NOT_FOUND");
    const r = await terminateAllOf(tx, userId, endedBy, reason?.trim() || null);
    await writeAudit(tx, deps.actor, {
      eventType: "SECURITY",
      action: "SESSION_TERMINATE",
      resourceType: "user_account",
      resourceId: userId,
      severity: "WARNING",
      newValue: { tokensValidAfter: r.tokensValidAfter.toISOString() },
      metadata: { terminatedCount: r.keyHashes.length, all: true, ...(reason ? { reason } : {}) },
    });
    return r;
  });
  await invalidateUser(deps.cache, userId, out.keyHashes);
  return { terminatedCount: out.keyHashes.length, tokensValidAfter: out.tokensValidAfter.toISOString() };
}

/** The session-expiry job: lapsed sessions become EXPIRED, in bounded batches. */
export async function expireSessions(db: Database, cache: Cache): Promise<{ expired: number }> {
  let expired = 0;
  for (let round = 0; round < 20; round++) {
    const keys = await expireLapsedSessions(db);
    expired += keys.length;
    for (const k of keys) await cache.delete(authSessionKey(k));
    if (keys.length < 1000) break;
  }
  return { expired };
}
