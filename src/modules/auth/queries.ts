import { eq, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import type { UserRow } from "@/db/queries/users";
import { userAccount, userSession } from "@/db/schema";
import { newId } from "@/lib/ids";

/*
 * The writes of sign-in: provisioning an account, opening an auth session, counting the login and
 * the throttled activity stamp. The user and session lookups are in `@/db/queries/users`.
 */

/** Columns a sign-in may refresh from the directory. */
export type UserSync = Partial<Pick<UserRow, "email" | "idpName" | "displayName" | "azureOid">>;

export async function updateUserIdentity(tx: DbOrTx, userId: string, patch: UserSync): Promise<UserRow> {
  const [row] = await tx
    .update(userAccount)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(userAccount.id, userId))
    .returning();
  return row;
}

export type NewSsoUser = {
  azureOid: string | null;
  email: string;
  name: string | null;
  roles: string[];
};

/** Inserts the account, or nothing (null) when a concurrent sign-in created it first. */
export async function insertSsoUser(tx: DbOrTx, u: NewSsoUser): Promise<UserRow | null> {
  const [created] = await tx
    .insert(userAccount)
    .values({
      id: newId(),
      azureOid: u.azureOid,
      email: u.email,
      displayName: u.name,
      idpName: u.name,
      roles: u.roles,
      source: "sso",
    })
    // A new user's first page load sends several requests at once: the losers of the race
    // wait for the winner's commit, insert nothing, and read its row like any later request.
    .onConflictDoNothing()
    .returning();
  return created ?? null;
}

export type NewAuthSession = {
  userId: string;
  sessionKeyHash: string;
  keySource: "sid" | "token" | "dev";
  ipAddress: string | null;
  userAgent: string | null;
  expiresAt: Date;
};

/** The new session's id, or null when a concurrent request opened the same key first. */
export async function insertAuthSession(tx: DbOrTx, s: NewAuthSession): Promise<string | null> {
  const [created] = await tx
    .insert(userSession)
    .values({ id: newId(), ...s })
    .onConflictDoNothing()
    .returning({ id: userSession.id });
  return created?.id ?? null;
}

export async function countLogin(tx: DbOrTx, userId: string): Promise<void> {
  await tx
    .update(userAccount)
    .set({ lastLoginAt: new Date(), loginCount: sql`${userAccount.loginCount} + 1` })
    .where(eq(userAccount.id, userId));
}

export async function touchAuthSession(db: DbOrTx, sessionId: string, at: Date): Promise<void> {
  await db.update(userSession).set({ lastActivityAt: at }).where(eq(userSession.id, sessionId));
}
