import { and, eq, inArray, isNotNull, isNull, lt, or, type SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import type { Database, DbOrTx } from "@/db/client";
import {
  analysisSession,
  auditLog,
  projectFile,
  userActivity,
  userNotification,
  userSession,
} from "@/db/schema";

/*
 * The row targets of api.md §2.12.10: which rows are past a cutoff, their statistics, and the
 * batched delete. Every target is "rows whose age column is before the cutoff".
 */

export type RowTarget = "ACTIVITY_LOGS" | "AUDIT_LOGS" | "AUTH_SESSIONS" | "READ_NOTIFICATIONS";

type Spec = { table: PgTable & { id: PgColumn }; name: string; age: SQL; past: (cutoff: Date) => SQL };

const SPECS: Record<RowTarget, Spec> = {
  ACTIVITY_LOGS: {
    table: userActivity,
    name: "user_activity",
    age: sql`${userActivity.createdAt}`,
    past: (c) => lt(userActivity.createdAt, c),
  },
  AUDIT_LOGS: {
    table: auditLog,
    name: "audit_log",
    age: sql`${auditLog.createdAt}`,
    past: (c) => lt(auditLog.createdAt, c),
  },
  // Ended sessions by when they ended; lapsed ones the expiry job has not marked yet by expiry.
  AUTH_SESSIONS: {
    table: userSession,
    name: "user_session",
    age: sql`coalesce(${userSession.endedAt}, ${userSession.expiresAt})`,
    past: (c) =>
      or(
        and(isNotNull(userSession.endedAt), lt(userSession.endedAt, c)),
        and(isNull(userSession.endedAt), lt(userSession.expiresAt, c)),
      )!,
  },
  READ_NOTIFICATIONS: {
    table: userNotification,
    name: "user_notification",
    age: sql`${userNotification.readAt}`,
    past: (c) => and(eq(userNotification.isRead, true), lt(userNotification.readAt, c))!,
  },
};

export type TargetStats = { count: number; oldestMs: number | null; newestMs: number | null; bytes: number };

export async function rowStats(db: DbOrTx, target: RowTarget, cutoff: Date): Promise<TargetStats> {
  const s = SPECS[target];
  const [row] = await db
    .select({
      count: sql<number>`count(*)::int`,
      oldestMs: sql<number | null>`(extract(epoch from min(${s.age})) * 1000)::float8`,
      newestMs: sql<number | null>`(extract(epoch from max(${s.age})) * 1000)::float8`,
      bytes: sql<number>`coalesce(sum(pg_column_size(${sql.identifier(s.name)}.*)), 0)::float8`,
    })
    .from(s.table)
    .where(s.past(cutoff));
  return {
    count: Number(row?.count ?? 0),
    oldestMs: row?.oldestMs == null ? null : Number(row.oldestMs),
    newestMs: row?.newestMs == null ? null : Number(row.newestMs),
    bytes: Number(row?.bytes ?? 0),
  };
}

/**
 * Deletes at most `batchSize` rows past the cutoff in one short transaction and answers how many
 * went. audit_log's append-only trigger (drizzle/0001) lets a delete through only when the
 * transaction-local `camp.retention` is on, so only this path can remove audit rows.
 */
export async function deleteBatch(db: Database, target: RowTarget, cutoff: Date, batchSize: number) {
  const s = SPECS[target];
  return db.transaction(async (tx) => {
    if (target === "AUDIT_LOGS") await tx.execute(sql`select set_config('camp.retention', 'on', true)`);
    const ids = tx.select({ id: s.table.id }).from(s.table).where(s.past(cutoff)).limit(batchSize);
    const gone = await tx.delete(s.table).where(inArray(s.table.id, ids)).returning({ id: s.table.id });
    return gone.length;
  });
}

/** The keys among `keys` that a project file row names. */
export async function referencedFileKeys(db: DbOrTx, keys: string[]): Promise<Set<string>> {
  if (keys.length === 0) return new Set();
  const rows = await db
    .select({ key: projectFile.storageKey })
    .from(projectFile)
    .where(inArray(projectFile.storageKey, keys));
  return new Set(rows.map((r) => r.key));
}

/** The ids among `ids` (UUIDs) that are analysis sessions. */
export async function existingSessionIds(db: DbOrTx, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await db
    .select({ id: analysisSession.id })
    .from(analysisSession)
    .where(inArray(analysisSession.id, ids));
  return new Set(rows.map((r) => r.id));
}
