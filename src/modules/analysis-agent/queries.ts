import { and, asc, count, eq, gt } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { auditLog } from "@/db/schema";

/*
 * The chat-turn quota reads the audit log: every turn, completed or failed, leaves one
 * CHAT_TURN record of its user.
 */

const turnsSince = (userId: string, since: Date) =>
  and(eq(auditLog.userId, userId), eq(auditLog.action, "CHAT_TURN"), gt(auditLog.createdAt, since));

export async function countTurnsSince(db: DbOrTx, userId: string, since: Date): Promise<number> {
  const [{ n }] = await db.select({ n: count() }).from(auditLog).where(turnsSince(userId, since));
  return n;
}

/** When the user's oldest turn after `since` started, or null without one. */
export async function oldestTurnSince(db: DbOrTx, userId: string, since: Date): Promise<Date | null> {
  const [row] = await db
    .select({ at: auditLog.createdAt })
    .from(auditLog)
    .where(turnsSince(userId, since))
    .orderBy(asc(auditLog.createdAt))
    .limit(1);
  return row?.at ?? null;
}
