import { and, count, eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { findUserById } from "@/db/queries/users";
import { project, projectMember, roleHistory, userAccount } from "@/db/schema";
import type { Cache } from "@/lib/cache";
import { AppError, problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { likePattern, page } from "@/lib/schema";
import type { Caller } from "@/modules/auth/service";
import { invalidateProject, type ProjectAccess, type ProjectRole, ROLE_RANK } from "@/modules/project/access";
import type { Member, MemberBulkResult, MemberListQuery, MyMembership } from "./model";

export type MemberDeps = { db: Database; cache: Cache; actor: AuditActor };

/*
 * Membership rules (decisions.md role matrix, api.md §2.4): moderators manage only viewers and
 * members; nobody changes their own role; a project always keeps a manager. Manager checks lock
 * the project's member rows so concurrent demotions cannot both pass.
 */

const memberNotFound = () => problem("MEMBER_NOT_FOUND");
const notGrantable = () => problem("ROLE_NOT_GRANTABLE");
const lastManager = () => problem("LAST_PROJECT_MANAGER");

const adder = alias(userAccount, "adder");

function memberSelect(db: DbOrTx) {
  return db
    .select({
      m: projectMember,
      uId: userAccount.id,
      uEmail: userAccount.email,
      uName: userAccount.displayName,
      uActive: userAccount.isActive,
      aId: adder.id,
      aEmail: adder.email,
      aName: adder.displayName,
    })
    .from(projectMember)
    .innerJoin(userAccount, eq(userAccount.id, projectMember.userId))
    .leftJoin(adder, eq(adder.id, projectMember.addedBy));
}

type MemberRowView = Awaited<ReturnType<ReturnType<typeof memberSelect>["execute"]>>[number];

function toMember(r: MemberRowView): Member {
  return {
    id: r.m.id,
    projectId: r.m.projectId,
    userId: r.m.userId,
    role: r.m.role as ProjectRole,
    joinedAt: r.m.joinedAt.toISOString(),
    addedBy: r.aId ? { id: r.aId, email: r.aEmail!, displayName: r.aName } : null,
    lastActivityAt: r.m.lastActivityAt ? r.m.lastActivityAt.toISOString() : null,
    user: { id: r.uId, email: r.uEmail, displayName: r.uName, isActive: r.uActive },
  };
}

const canManage = (access: ProjectAccess, role: ProjectRole) =>
  access.role === "project_manager" ||
  (access.role === "project_moderator" && ROLE_RANK[role] <= ROLE_RANK.member);

export async function listMembers(db: DbOrTx, projectId: string, q: MemberListQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const where = and(
    eq(projectMember.projectId, projectId),
    q.role ? eq(projectMember.role, q.role) : undefined,
    q.q
      ? sql`(lower(${userAccount.email}) like lower(${likePattern(q.q)}) or lower(coalesce(${userAccount.displayName}, '')) like lower(${likePattern(q.q)}))`
      : undefined,
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
  return page(rows.map(toMember), n, skip, limit);
}

export function myMembership(access: ProjectAccess): MyMembership {
  const rank = ROLE_RANK[access.role];
  return {
    projectId: access.project.id,
    role: access.role,
    isMember: access.isMember,
    viaSystemAdmin: access.viaSystemAdmin,
    permissions: {
      read: true,
      write: rank >= ROLE_RANK.member,
      manageMembers: rank >= ROLE_RANK.project_moderator,
      manageModerators: rank >= ROLE_RANK.project_manager,
      manageProject: rank >= ROLE_RANK.project_manager,
    },
  };
}

async function getMember(db: DbOrTx, projectId: string, memberId: string): Promise<Member> {
  const [row] = await memberSelect(db).where(
    and(eq(projectMember.id, memberId), eq(projectMember.projectId, projectId)),
  );
  if (!row) throw memberNotFound();
  return toMember(row);
}

/* Locks every member row of the project: the serialisation point of last-manager checks. */
async function lockMembers(tx: DbOrTx, projectId: string) {
  return tx
    .select()
    .from(projectMember)
    .where(eq(projectMember.projectId, projectId))
    .orderBy(projectMember.id)
    .for("update");
}

async function touchProject(tx: DbOrTx, projectId: string) {
  await tx.update(project).set({ lastActivityAt: new Date() }).where(eq(project.id, projectId));
}

async function addOne(
  deps: MemberDeps,
  caller: Caller,
  access: ProjectAccess,
  userId: string,
  role: ProjectRole,
): Promise<Member> {
  if (!canManage(access, role)) throw notGrantable();
  const projectId = access.project.id;
  const id = newId();
  // The answer is read inside the transaction: once COMMIT succeeded the request must not fail on
  // a second round trip (a database restart between the two answered 503 for a saved write).
  const member = await deps.db.transaction(async (tx) => {
    const user = await findUserById(tx, userId);
    if (!user) throw problem("USER_NOT_FOUND");
    if (!user.isActive) throw problem("USER_INACTIVE");
    const inserted = await tx
      .insert(projectMember)
      .values({ id, projectId, userId, role, addedBy: caller.user.id })
      .onConflictDoNothing()
      .returning({ id: projectMember.id });
    if (inserted.length === 0) throw problem("ALREADY_MEMBER");
    await tx.insert(roleHistory).values({
      id: newId(),
      userId,
      changedById: caller.user.id,
      roleType: "project",
      projectId,
      action: "grant",
      newRoles: [role],
    });
    await writeAudit(tx, deps.actor, {
      eventType: "SECURITY",
      action: "MEMBER_ADD",
      resourceType: "project_member",
      resourceId: id,
      projectId,
      severity: "WARNING",
      newValue: { userId, role },
    });
    await touchProject(tx, projectId);
    // Notification hook point: `member_added` rows are written here once user_notification exists.
    return getMember(tx, projectId, id);
  });
  await invalidateProject(deps.cache, projectId, [userId]);
  return member;
}

export async function addMember(
  deps: MemberDeps,
  caller: Caller,
  access: ProjectAccess,
  body: { userId: string; role?: ProjectRole },
): Promise<Member> {
  return addOne(deps, caller, access, body.userId, body.role ?? "member");
}

export async function bulkAddMembers(
  deps: MemberDeps,
  caller: Caller,
  access: ProjectAccess,
  items: { userId: string; role?: ProjectRole }[],
): Promise<MemberBulkResult> {
  const ids = items.map((i) => i.userId);
  if (new Set(ids).size !== ids.length) {
    throw problem("VALIDATION_FAILED", {
      detail: "Each userId may appear only once.",
      errors: [{ path: "/body/members", message: "duplicate userId" }],
    });
  }
  const added: Member[] = [];
  const failed: MemberBulkResult["failed"] = [];
  for (const item of items) {
    const role = item.role ?? "member";
    try {
      added.push(await addOne(deps, caller, access, item.userId, role));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      failed.push({ userId: item.userId, role, code: error.code, detail: error.message });
    }
  }
  return {
    added,
    failed,
    totalRequested: items.length,
    totalAdded: added.length,
    totalFailed: failed.length,
  };
}

export async function changeRole(
  deps: MemberDeps,
  caller: Caller,
  access: ProjectAccess,
  memberId: string,
  role: ProjectRole,
  reason: string | undefined,
): Promise<Member> {
  const projectId = access.project.id;
  let userId = "";
  const member = await deps.db.transaction(async (tx) => {
    const members = await lockMembers(tx, projectId);
    const target = members.find((m) => m.id === memberId);
    if (!target) throw memberNotFound();
    userId = target.userId;
    if (target.userId === caller.user.id)
      throw problem("SELF_ACTION_FORBIDDEN", { detail: "You cannot change your own role." });
    const oldRole = target.role as ProjectRole;
    if (!canManage(access, oldRole) || !canManage(access, role)) throw notGrantable();
    if (oldRole === role) return getMember(tx, projectId, memberId);
    if (oldRole === "project_manager" && members.filter((m) => m.role === "project_manager").length <= 1) {
      throw lastManager();
    }
    await tx.update(projectMember).set({ role, updatedAt: new Date() }).where(eq(projectMember.id, memberId));
    await tx.insert(roleHistory).values({
      id: newId(),
      userId: target.userId,
      changedById: caller.user.id,
      roleType: "project",
      projectId,
      action: "update",
      oldRoles: [oldRole],
      newRoles: [role],
      reason: reason ?? null,
    });
    await writeAudit(tx, deps.actor, {
      eventType: "SECURITY",
      action: "ROLE_CHANGE",
      resourceType: "project_member",
      resourceId: memberId,
      projectId,
      severity: "WARNING",
      oldValue: { role: oldRole },
      newValue: { role },
      metadata: reason ? { reason } : null,
    });
    await touchProject(tx, projectId);
    return getMember(tx, projectId, memberId);
  });
  await invalidateProject(deps.cache, projectId, [userId]);
  return member;
}

async function removeMembership(
  deps: MemberDeps,
  caller: Caller,
  projectId: string,
  pick: (members: (typeof projectMember.$inferSelect)[]) => typeof projectMember.$inferSelect,
  check: (target: typeof projectMember.$inferSelect) => void,
  action: "MEMBER_REMOVE" | "MEMBER_LEAVE",
): Promise<void> {
  let userId = "";
  await deps.db.transaction(async (tx) => {
    const members = await lockMembers(tx, projectId);
    const target = pick(members);
    userId = target.userId;
    check(target);
    if (
      target.role === "project_manager" &&
      members.filter((m) => m.role === "project_manager").length <= 1
    ) {
      throw lastManager();
    }
    await tx.delete(projectMember).where(eq(projectMember.id, target.id));
    await tx.insert(roleHistory).values({
      id: newId(),
      userId: target.userId,
      changedById: caller.user.id,
      roleType: "project",
      projectId,
      action: "revoke",
      oldRoles: [target.role],
    });
    await writeAudit(tx, deps.actor, {
      eventType: "SECURITY",
      action: "MEMBER_REMOVE",
      resourceType: "project_member",
      resourceId: target.id,
      projectId,
      severity: "WARNING",
      oldValue: { userId: target.userId, role: target.role },
      metadata: action === "MEMBER_LEAVE" ? { leave: true } : null,
    });
    await touchProject(tx, projectId);
    // Notification hook point: `member_removed` rows are written here once user_notification exists.
  });
  await invalidateProject(deps.cache, projectId, [userId]);
}

export async function removeMember(
  deps: MemberDeps,
  caller: Caller,
  access: ProjectAccess,
  memberId: string,
) {
  await removeMembership(
    deps,
    caller,
    access.project.id,
    (members) => {
      const t = members.find((m) => m.id === memberId);
      if (!t) throw memberNotFound();
      return t;
    },
    (target) => {
      if (target.userId === caller.user.id) {
        throw problem("SELF_ACTION_FORBIDDEN", { detail: "Use DELETE …/member/me to leave a project." });
      }
      if (!canManage(access, target.role as ProjectRole)) throw notGrantable();
    },
    "MEMBER_REMOVE",
  );
}

export async function leaveProject(deps: MemberDeps, caller: Caller, access: ProjectAccess) {
  await removeMembership(
    deps,
    caller,
    access.project.id,
    (members) => {
      const t = members.find((m) => m.userId === caller.user.id);
      if (!t) throw memberNotFound();
      return t;
    },
    () => {},
    "MEMBER_LEAVE",
  );
}
