import { and, isNotNull, lt, sql } from "drizzle-orm";
import type { DbOrTx, ReservedSession } from "@/db/client";
import { analysisSession } from "@/db/schema";

/*
 * The runner's leadership lock: a session-level advisory lock on a connection of its own, so it
 * is held exactly as long as that PostgreSQL session lives (a killed holder's lock is released by
 * the server when its socket closes). The two-int form keeps the key readable in pg_locks.
 */

export type LockKey = { space: number; id: number };

export async function tryLeaderLock(session: ReservedSession, key: LockKey): Promise<boolean> {
  const [row] = await session.query<{ ok: boolean }>("select pg_try_advisory_lock($1::int, $2::int) as ok", [
    key.space,
    key.id,
  ]);
  return row?.ok === true;
}

/* Whether this session still holds the lock (a re-run of try_lock would stack a second hold). */
export async function holdsLeaderLock(session: ReservedSession, key: LockKey): Promise<boolean> {
  const [row] = await session.query<{ held: boolean }>(
    `select exists(
       select 1 from pg_locks
        where locktype = 'advisory' and pid = pg_backend_pid() and granted
          and classid = $1::int::oid and objid = $2::int::oid and objsubid = 2
     ) as held`,
    [key.space, key.id],
  );
  return row?.held === true;
}

export async function releaseLeaderLocks(session: ReservedSession): Promise<void> {
  await session.query("select pg_advisory_unlock_all()");
}

/* Chat leases outlive their turn only when the process died mid-turn; they are cleared here. */
export async function clearExpiredChatLeases(db: DbOrTx): Promise<number> {
  const rows = await db
    .update(analysisSession)
    .set({ chatLeaseUntil: null })
    .where(and(isNotNull(analysisSession.chatLeaseUntil), lt(analysisSession.chatLeaseUntil, sql`now()`)))
    .returning({ id: analysisSession.id });
  return rows.length;
}
