import { and, asc, count, eq, gt, inArray, lt, ne, not, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { project, userAccount, userSession } from "@/db/schema";
import { newId } from "@/lib/ids";

/* The bulk operations' reads and writes (api.md §2.12.9). */

/** The lower-cased e-mails among `emails` that an account already has. */
export async function existingEmails(db: DbOrTx, emails: string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const rows = await db
    .select({ email: sql<string>`lower(${userAccount.email})` })
    .from(userAccount)
    .where(inArray(sql`lower(${userAccount.email})`, emails));
  return new Set(rows.map((r) => r.email));
}

export type NewImportedUser = { email: string; displayName: string | null; roles: string[] };

/**
 * Inserts the accounts without an Entra oid (linked by e-mail at first sign-in, auth/service.ts
 * provisionUser). One that a concurrent sign-in or import created meanwhile is skipped (the unique
 * index on lower(email)); answers the rows actually inserted.
 */
export async function insertImportedUsers(
  tx: DbOrTx,
  users: NewImportedUser[],
): Promise<{ id: string; email: string }[]> {
  if (users.length === 0) return [];
  return tx
    .insert(userAccount)
    .values(
      users.map((u) => ({
        id: newId(),
        azureOid: null,
        email: u.email,
        displayName: u.displayName,
        roles: u.roles,
        source: "import",
      })),
    )
    .onConflictDoNothing()
    .returning({ id: userAccount.id, email: userAccount.email });
}

export type ExportFilter = { isActive?: boolean; role?: string };

export type ExportUserRow = {
  id: string;
  email: string;
  displayName: string | null;
  roles: string[];
  isActive: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
};

/** The next `limit` accounts after `afterId` (id order, so a streamed export never repeats a row). */
export function exportUserBatch(
  db: DbOrTx,
  filter: ExportFilter,
  afterId: string | null,
  limit: number,
): Promise<ExportUserRow[]> {
  return db
    .select({
      id: userAccount.id,
      email: userAccount.email,
      displayName: userAccount.displayName,
      roles: userAccount.roles,
      isActive: userAccount.isActive,
      lastLoginAt: userAccount.lastLoginAt,
      createdAt: userAccount.createdAt,
    })
    .from(userAccount)
    .where(
      and(
        filter.isActive === undefined ? undefined : eq(userAccount.isActive, filter.isActive),
        filter.role ? sql`${filter.role} = ANY(${userAccount.roles})` : undefined,
        afterId ? gt(userAccount.id, afterId) : undefined,
      ),
    )
    .orderBy(asc(userAccount.id))
    .limit(limit);
}

export async function countUsers(db: DbOrTx, filter: ExportFilter): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(userAccount)
    .where(
      and(
        filter.isActive === undefined ? undefined : eq(userAccount.isActive, filter.isActive),
        filter.role ? sql`${filter.role} = ANY(${userAccount.roles})` : undefined,
      ),
    );
  return Number(row?.n ?? 0);
}

/*
 * Active non-admin accounts other than the caller with no sign-in and no session activity since
 * the cutoff. An account created after the cutoff has not been idle that long, so it is spared.
 */
function idleSince(cutoff: Date, callerId: string) {
  // Bound as text: postgres.js takes no Date inside a raw fragment (no column type to map it).
  const at = sql`${cutoff.toISOString()}::timestamptz`;
  return and(
    eq(userAccount.isActive, true),
    not(sql`'system_admin' = ANY(${userAccount.roles})`),
    ne(userAccount.id, callerId),
    sql`coalesce(${userAccount.lastLoginAt}, ${userAccount.createdAt}) < ${at}`,
    sql`not exists (select 1 from ${userSession} where ${userSession.userId} = ${userAccount.id} and ${userSession.lastActivityAt} >= ${at})`,
  );
}

export async function idleUsers(
  db: DbOrTx,
  cutoff: Date,
  callerId: string,
): Promise<{ id: string; email: string; displayName: string | null }[]> {
  return db
    .select({ id: userAccount.id, email: userAccount.email, displayName: userAccount.displayName })
    .from(userAccount)
    .where(idleSince(cutoff, callerId))
    .orderBy(asc(sql`lower(${userAccount.email})`), asc(userAccount.id));
}

export type IdleProject = { id: string; name: string; code: string; lastActivityAt: Date };

export function idleProjects(db: DbOrTx, cutoff: Date): Promise<IdleProject[]> {
  return db
    .select({
      id: project.id,
      name: project.name,
      code: project.code,
      lastActivityAt: project.lastActivityAt,
    })
    .from(project)
    .where(and(eq(project.isActive, true), lt(project.lastActivityAt, cutoff)))
    .orderBy(asc(project.lastActivityAt), asc(project.id));
}

/** Deactivates the projects still active and idle (re-checked under the write); answers their ids. */
export async function archiveProjects(tx: DbOrTx, ids: string[], cutoff: Date): Promise<string[]> {
  if (ids.length === 0) return [];
  const now = new Date();
  const rows = await tx
    .update(project)
    .set({ isActive: false, deactivatedAt: now, updatedAt: now })
    .where(and(inArray(project.id, ids), eq(project.isActive, true), lt(project.lastActivityAt, cutoff)))
    .returning({ id: project.id });
  return rows.map((r) => r.id);
}
