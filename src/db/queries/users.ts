import { and, asc, eq, isNull, or, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { userAccount, userSession } from "@/db/schema";
import { newId } from "@/lib/ids";

export type UserRow = typeof userAccount.$inferSelect;
export type UserSessionRow = typeof userSession.$inferSelect;

export async function findUserById(db: DbOrTx, id: string): Promise<UserRow | null> {
  const [row] = await db.select().from(userAccount).where(eq(userAccount.id, id)).limit(1);
  return row ?? null;
}

export async function findUserByOid(db: DbOrTx, oid: string): Promise<UserRow | null> {
  const [row] = await db.select().from(userAccount).where(eq(userAccount.azureOid, oid)).limit(1);
  return row ?? null;
}

export async function findUserByEmail(db: DbOrTx, email: string): Promise<UserRow | null> {
  const [row] = await db
    .select()
    .from(userAccount)
    .where(sql`lower(${userAccount.email}) = lower(${email})`)
    .limit(1);
  return row ?? null;
}

/** Locks the user row (and so serialises role/activation changes on it). */
export async function lockUser(db: DbOrTx, id: string): Promise<UserRow | null> {
  const [row] = await db.select().from(userAccount).where(eq(userAccount.id, id)).for("update").limit(1);
  return row ?? null;
}

/**
 * Locks every active system admin plus `userId`, in id order, and returns how many active admins
 * other than `userId` exist. The fixed lock order means two concurrent demotions of the last two
 * admins serialise (no deadlock) and the second sees only one admin left.
 */
export async function lockAdminsAndCountOthers(db: DbOrTx, userId: string): Promise<number> {
  const rows = await db
    .select({ id: userAccount.id, isActive: userAccount.isActive, roles: userAccount.roles })
    .from(userAccount)
    .where(
      or(
        eq(userAccount.id, userId),
        and(eq(userAccount.isActive, true), sql`'system_admin' = ANY(${userAccount.roles})`),
      ),
    )
    .orderBy(asc(userAccount.id))
    .for("update");
  return rows.filter((r) => r.id !== userId && r.isActive && r.roles.includes("system_admin")).length;
}

export async function findSessionByKey(db: DbOrTx, keyHash: string): Promise<UserSessionRow | null> {
  const [row] = await db.select().from(userSession).where(eq(userSession.sessionKeyHash, keyHash)).limit(1);
  return row ?? null;
}

export async function endActiveSessions(
  db: DbOrTx,
  userId: string,
  reason: "MANUAL" | "FORCED" | "EXPIRED" | "DEACTIVATED",
  endedBy: string | null,
): Promise<string[]> {
  const rows = await db
    .update(userSession)
    .set({ endedAt: new Date(), endReason: reason, endedBy, updatedAt: new Date() })
    .where(and(eq(userSession.userId, userId), isNull(userSession.endedAt)))
    .returning({ keyHash: userSession.sessionKeyHash });
  return rows.map((r) => r.keyHash);
}

/* The development system admin behind the dev token; true when this call created it. */
export async function insertDevAdmin(db: DbOrTx, email: string): Promise<boolean> {
  const inserted = await db
    .insert(userAccount)
    .values({
      id: newId(),
      email,
      displayName: "Development User",
      roles: ["system_admin", "user"],
      source: "seed",
    })
    .onConflictDoNothing()
    .returning({ id: userAccount.id });
  return inserted.length > 0;
}
