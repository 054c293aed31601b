import { and, asc, count, desc, eq, sql } from "drizzle-orm";
import { type DbOrTx, rowsOf } from "@/db/client";
import { userMatches, userRef } from "@/db/queries/user-ref";
import type { UserRow } from "@/db/queries/users";
import { project, projectMember, roleHistory, systemSetting, userAccount, userSettings } from "@/db/schema";
import { newId } from "@/lib/ids";
import type { RoleHistoryQuery, UserListQuery } from "./model";

export type SettingsRow = typeof userSettings.$inferSelect;
export type SettingsPatch = Partial<Omit<typeof userSettings.$inferInsert, "id" | "userId" | "updatedAt">>;

/** Sets the given columns (and `updatedAt`) of the account; answers the row after the update. */
export async function updateUser(
  tx: DbOrTx,
  userId: string,
  values: Partial<Pick<UserRow, "displayName" | "isActive" | "deactivatedAt" | "roles">>,
): Promise<UserRow> {
  const [after] = await tx
    .update(userAccount)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(userAccount.id, userId))
    .returning();
  return after;
}

export async function deleteUserRow(tx: DbOrTx, userId: string): Promise<void> {
  await tx.delete(userAccount).where(eq(userAccount.id, userId));
}

/** The user's settings row, created with the defaults on first use. */
export async function ensureSettings(db: DbOrTx, userId: string): Promise<SettingsRow> {
  await db.insert(userSettings).values({ id: newId(), userId }).onConflictDoNothing();
  const [row] = await db.select().from(userSettings).where(eq(userSettings.userId, userId));
  return row;
}

export async function updateSettingsRow(
  tx: DbOrTx,
  userId: string,
  values: SettingsPatch,
): Promise<SettingsRow> {
  const [after] = await tx
    .update(userSettings)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(userSettings.userId, userId))
    .returning();
  return after;
}

/** The user's active projects: the first `limit` by name and how many there are. */
export async function activeProjectsOf(
  db: DbOrTx,
  userId: string,
  limit: number,
): Promise<{ first: { id: string; name: string }[]; total: number }> {
  const where = and(eq(projectMember.userId, userId), eq(project.isActive, true));
  const first = await db
    .select({ id: project.id, name: project.name })
    .from(projectMember)
    .innerJoin(project, eq(project.id, projectMember.projectId))
    .where(where)
    .orderBy(asc(project.name))
    .limit(limit);
  const [{ n }] = await db
    .select({ n: count() })
    .from(projectMember)
    .innerJoin(project, eq(project.id, projectMember.projectId))
    .where(where);
  return { first, total: n };
}

export function settingsOfCategory(db: DbOrTx, category: string): Promise<{ key: string; value: unknown }[]> {
  return db
    .select({ key: systemSetting.key, value: systemSetting.value })
    .from(systemSetting)
    .where(eq(systemSetting.category, category));
}

export async function listUserRows(
  db: DbOrTx,
  q: UserListQuery,
  skip: number,
  limit: number,
): Promise<{ rows: UserRow[]; total: number }> {
  const where = and(
    q.q ? userMatches(q.q) : undefined,
    q.isActive !== undefined ? eq(userAccount.isActive, q.isActive) : undefined,
    q.role ? sql`${q.role} = ANY(${userAccount.roles})` : undefined,
    q.azureOid ? eq(userAccount.azureOid, q.azureOid) : undefined,
    q.email ? sql`lower(${userAccount.email}) = lower(${q.email})` : undefined,
  );
  const order =
    q.sort === "-createdAt"
      ? [desc(userAccount.createdAt), asc(userAccount.id)]
      : q.sort === "-lastLoginAt"
        ? [sql`${userAccount.lastLoginAt} desc nulls last`, asc(userAccount.id)]
        : [asc(sql`lower(${userAccount.email})`), asc(userAccount.id)];
  const rows = await db
    .select()
    .from(userAccount)
    .where(where)
    .orderBy(...order)
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(userAccount).where(where);
  return { rows, total: n };
}

/** Projects the user alone manages, locked so no manager can be added or removed meanwhile. */
export async function lockProjectsSolelyManagedBy(
  tx: DbOrTx,
  userId: string,
): Promise<{ id: string; name: string }[]> {
  const result = await tx.execute(sql`
      select p.id, p.name from project p
      join project_member m on m.project_id = p.id and m.user_id = ${userId} and m.role = 'project_manager'
      where not exists (
        select 1 from project_member o
        where o.project_id = p.id and o.role = 'project_manager' and o.user_id <> ${userId}
      )
      for update of p`);
  return rowsOf<{ id: string; name: string }>(result).map((r) => ({ id: r.id, name: r.name }));
}

/** Ends one login session (a logout); a session already ended stays as it was. */
export async function endSession(tx: DbOrTx, sessionId: string, endedBy: string): Promise<void> {
  await tx.execute(
    sql`update user_session set ended_at = now(), end_reason = 'MANUAL', ended_by = ${endedBy}, updated_at = now()
        where id = ${sessionId} and ended_at is null`,
  );
}

/** The user's role changes, newest first, with the project's name and who changed them. */
export async function listRoleHistoryRows(
  db: DbOrTx,
  userId: string,
  q: RoleHistoryQuery,
  skip: number,
  limit: number,
) {
  const where = and(
    eq(roleHistory.userId, userId),
    q.roleType ? eq(roleHistory.roleType, q.roleType) : undefined,
    q.projectId ? eq(roleHistory.projectId, q.projectId) : undefined,
  );
  const rows = await db
    .select({
      h: roleHistory,
      projectName: project.name,
      changedBy: userRef,
    })
    .from(roleHistory)
    .leftJoin(project, eq(project.id, roleHistory.projectId))
    .leftJoin(userAccount, eq(userAccount.id, roleHistory.changedById))
    .where(where)
    .orderBy(desc(roleHistory.changedAt), desc(roleHistory.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(roleHistory).where(where);
  return { rows, total: n };
}
