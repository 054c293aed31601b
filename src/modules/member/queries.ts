import { and, count, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "@/db/client";
import { userMatches, userRef } from "@/db/queries/user-ref";
import { project, projectMember, userAccount } from "@/db/schema";
import type { MemberListQuery } from "./model";

export type MemberRow = typeof projectMember.$inferSelect;

const adder = alias(userAccount, "adder");

function memberSelect(db: DbOrTx) {
  return db
    .select({
      m: projectMember,
      user: { ...userRef, isActive: userAccount.isActive },
      addedBy: { id: adder.id, email: adder.email, displayName: adder.displayName },
    })
    .from(projectMember)
    .innerJoin(userAccount, eq(userAccount.id, projectMember.userId))
    .leftJoin(adder, eq(adder.id, projectMember.addedBy));
}

/** A member row with its user and the user who added it. */
export type MemberView = Awaited<ReturnType<ReturnType<typeof memberSelect>["execute"]>>[number];

/** Members by rank (managers first), then name; with the count of all matching members. */
export async function listProjectMembers(
  db: DbOrTx,
  projectId: string,
  q: MemberListQuery,
  skip: number,
  limit: number,
): Promise<{ rows: MemberView[]; total: number }> {
  const where = and(
    eq(projectMember.projectId, projectId),
    q.role ? eq(projectMember.role, q.role) : undefined,
    q.q ? userMatches(q.q) : undefined,
  );
  const rank = sql`case ${projectMember.role} when 'project_manager' then 4 when 'project_moderator' then 3 when 'member' then 2 else 1 end`;
  const rows = await memberSelect(db)
    .where(where)
    .orderBy(
      sql`${rank} desc`,
      sql`lower(coalesce(${userAccount.displayName}, ${userAccount.email}))`,
      projectMember.id,
    )
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db
    .select({ n: count() })
    .from(projectMember)
    .innerJoin(userAccount, eq(userAccount.id, projectMember.userId))
    .where(where);
  return { rows, total: n };
}

export async function findMember(
  db: DbOrTx,
  projectId: string,
  memberId: string,
): Promise<MemberView | undefined> {
  const [row] = await memberSelect(db).where(
    and(eq(projectMember.id, memberId), eq(projectMember.projectId, projectId)),
  );
  return row;
}

/* Locks every member row of the project: the serialisation point of last-manager checks. */
export function lockMembers(tx: DbOrTx, projectId: string): Promise<MemberRow[]> {
  return tx
    .select()
    .from(projectMember)
    .where(eq(projectMember.projectId, projectId))
    .orderBy(projectMember.id)
    .for("update");
}

/** False when the user already is a member of the project. */
export async function insertMember(
  tx: DbOrTx,
  values: { id: string; projectId: string; userId: string; role: string; addedBy: string },
): Promise<boolean> {
  const inserted = await tx
    .insert(projectMember)
    .values(values)
    .onConflictDoNothing()
    .returning({ id: projectMember.id });
  return inserted.length > 0;
}

export async function updateMemberRole(tx: DbOrTx, memberId: string, role: string): Promise<void> {
  await tx.update(projectMember).set({ role, updatedAt: new Date() }).where(eq(projectMember.id, memberId));
}

export async function deleteMember(tx: DbOrTx, memberId: string): Promise<void> {
  await tx.delete(projectMember).where(eq(projectMember.id, memberId));
}

export async function touchProject(tx: DbOrTx, projectId: string): Promise<void> {
  await tx.update(project).set({ lastActivityAt: new Date() }).where(eq(project.id, projectId));
}
