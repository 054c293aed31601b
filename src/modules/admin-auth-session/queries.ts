import {
  aliasedTable,
  and,
  count,
  desc,
  eq,
  gt,
  gte,
  isNotNull,
  isNull,
  lte,
  or,
  type SQL,
  sql,
} from "drizzle-orm";
import { type DbOrTx, rowsOf } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import { userAccount, userSession } from "@/db/schema";

/* Auth sessions (user_session) as the admin routes of api.md §2.12.8 read and end them. */

export type SessionState = "active" | "ended" | "all";

export type SessionFilter = {
  userId?: string;
  ipAddress?: string;
  state?: SessionState;
};

const endedByUser = aliasedTable(userAccount, "ended_by_user");

const sessionColumns = {
  id: userSession.id,
  user: userRef,
  keySource: userSession.keySource,
  ipAddress: sql<string | null>`host(${userSession.ipAddress})`,
  userAgent: userSession.userAgent,
  startedAt: userSession.startedAt,
  lastActivityAt: userSession.lastActivityAt,
  expiresAt: userSession.expiresAt,
  endedAt: userSession.endedAt,
  endReason: userSession.endReason,
  endedBy: { id: endedByUser.id, email: endedByUser.email, displayName: endedByUser.displayName },
};

export type SessionRow = {
  id: string;
  user: { id: string; email: string; displayName: string | null };
  keySource: string;
  ipAddress: string | null;
  userAgent: string | null;
  startedAt: Date;
  lastActivityAt: Date;
  expiresAt: Date;
  endedAt: Date | null;
  endReason: string | null;
  endedBy: { id: string; email: string; displayName: string | null } | null;
};

/* "Active" = not ended and not past its expiry (api.md §2.12.8). */
const activeNow = () => and(isNull(userSession.endedAt), gt(userSession.expiresAt, sql`now()`));

function whereOf(f: SessionFilter): SQL | undefined {
  const state = f.state ?? "active";
  return and(
    f.userId ? eq(userSession.userId, f.userId) : undefined,
    f.ipAddress ? sql`${userSession.ipAddress} = ${f.ipAddress}::inet` : undefined,
    state === "active"
      ? activeNow()
      : state === "ended"
        ? or(isNotNull(userSession.endedAt), lte(userSession.expiresAt, sql`now()`))
        : undefined,
  );
}

export async function listSessions(
  db: DbOrTx,
  f: SessionFilter,
  skip: number,
  limit: number,
): Promise<{ rows: SessionRow[]; total: number }> {
  const where = whereOf(f);
  const rows = await db
    .select(sessionColumns)
    .from(userSession)
    .innerJoin(userAccount, eq(userAccount.id, userSession.userId))
    .leftJoin(endedByUser, eq(endedByUser.id, userSession.endedBy))
    .where(where)
    .orderBy(desc(userSession.startedAt), desc(userSession.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(userSession).where(where);
  return { rows: rows as SessionRow[], total: n };
}

export async function sessionStats(db: DbOrTx): Promise<{ activeSessions: number; loginsToday: number }> {
  const [active] = await db.select({ n: count() }).from(userSession).where(activeNow());
  const [today] = await db
    .select({ n: count() })
    .from(userSession)
    .where(gte(userSession.startedAt, sql`date_trunc('day', now() at time zone 'UTC') at time zone 'UTC'`));
  return { activeSessions: active.n, loginsToday: today.n };
}

export async function getSession(db: DbOrTx, id: string): Promise<SessionRow | null> {
  const [row] = await db
    .select(sessionColumns)
    .from(userSession)
    .innerJoin(userAccount, eq(userAccount.id, userSession.userId))
    .leftJoin(endedByUser, eq(endedByUser.id, userSession.endedBy))
    .where(eq(userSession.id, id))
    .limit(1);
  return (row as SessionRow | undefined) ?? null;
}

/** Ends one session (row locked first); null when it had already ended. */
export async function forceEndSession(
  tx: DbOrTx,
  id: string,
  endedBy: string,
  note: string | null,
): Promise<{ keyHash: string; userId: string } | null> {
  const [row] = await tx
    .update(userSession)
    .set({ endedAt: sql`now()`, endReason: "FORCED", endedBy, endNote: note, updatedAt: sql`now()` })
    .where(and(eq(userSession.id, id), isNull(userSession.endedAt)))
    .returning({ keyHash: userSession.sessionKeyHash, userId: userSession.userId });
  return row ?? null;
}

/** Ends every open session of the user and raises the watermark; returns the ended keys and the mark. */
export async function terminateAllOf(
  tx: DbOrTx,
  userId: string,
  endedBy: string,
  note: string | null,
): Promise<{ keyHashes: string[]; tokensValidAfter: Date }> {
  const ended = await tx
    .update(userSession)
    .set({ endedAt: sql`now()`, endReason: "FORCED", endedBy, endNote: note, updatedAt: sql`now()` })
    .where(and(eq(userSession.userId, userId), isNull(userSession.endedAt)))
    .returning({ keyHash: userSession.sessionKeyHash });
  const [mark] = await tx
    .update(userAccount)
    .set({ tokensValidAfter: sql`now()`, updatedAt: sql`now()` })
    .where(eq(userAccount.id, userId))
    .returning({ at: userAccount.tokensValidAfter });
  return {
    keyHashes: ended.map((r) => r.keyHash),
    tokensValidAfter: mark.at as Date,
  };
}

export async function userExists(db: DbOrTx, userId: string): Promise<boolean> {
  const [row] = await db.select({ id: userAccount.id }).from(userAccount).where(eq(userAccount.id, userId));
  return row !== undefined;
}

/**
 * Marks lapsed sessions EXPIRED (the session-expiry job), a bounded batch per call so the update
 * never holds many row locks; returns the ended keys so cached copies can be dropped.
 */
export async function expireLapsedSessions(db: DbOrTx, batch = 1000): Promise<string[]> {
  const rows = await db.execute(sql`
    update user_session set ended_at = now(), end_reason = 'EXPIRED', updated_at = now()
     where id in (
       select id from user_session
        where ended_at is null and expires_at <= now()
        order by expires_at
        limit ${batch}
        for update skip locked)
    returning session_key_hash as "keyHash"`);
  return rowsOf<{ keyHash: string }>(rows).map((r) => r.keyHash);
}
