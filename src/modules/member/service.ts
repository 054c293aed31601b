import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { insertRoleHistory } from "@/db/queries/role-history";
import { findUserById } from "@/db/queries/users";
import type { Cache } from "@/lib/cache";
import { AppError, problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { page } from "@/lib/schema";
import type { Caller } from "@/modules/auth/service";
import * as notify from "@/modules/notification/producers";
import { invalidateProject, type ProjectAccess, type ProjectRole, ROLE_RANK } from "@/modules/project/access";
import type { Member, MemberBulkResult, MemberListQuery, MyMembership } from "./model";
import {
  deleteMember,
  findMember,
  insertMember,
  listProjectMembers,
  lockMembers,
  type MemberRow,
  type MemberView,
  touchProject,
  updateMemberRole,
} from "./queries";

export type MemberDeps = { db: Database; cache: Cache; actor: AuditActor };

/*
 * Membership rules (decisions.md role matrix, api.md §2.4): moderators manage only viewers and
 * members; nobody changes their own role; a project always keeps a manager. Manager checks lock
 * the project's member rows so concurrent demotions cannot both pass.
 */

const memberNotFound = () => problem("MEMBER_NOT_FOUND");
const notGrantable = () => problem("ROLE_NOT_GRANTABLE");
const lastManager = () => problem("LAST_PROJECT_MANAGER");

function toMember(r: MemberView): Member {
  return {
    id: r.m.id,
    projectId: r.m.projectId,
    userId: r.m.userId,
    role: r.m.role as ProjectRole,
    joinedAt: r.m.joinedAt.toISOString(),
    addedBy: r.addedBy,
    lastActivityAt: r.m.lastActivityAt ? r.m.lastActivityAt.toISOString() : null,
    user: r.user,
  };
}

const canManage = (access: ProjectAccess, role: ProjectRole) =>
  access.role === "project_manager" ||
  (access.role === "project_moderator" && ROLE_RANK[role] <= ROLE_RANK.member);

export async function listMembers(db: DbOrTx, projectId: string, q: MemberListQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listProjectMembers(db, projectId, q, skip, limit);
  return page(rows.map(toMember), total, skip, limit);
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
  const row = await findMember(db, projectId, memberId);
  if (!row) throw memberNotFound();
  return toMember(row);
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
    if (!(await insertMember(tx, { id, projectId, userId, role, addedBy: caller.user.id }))) {
      throw problem("ALREADY_MEMBER");
    }
    await insertRoleHistory(tx, {
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
    await notify.memberAdded(tx, { projectId, userId, role, actorId: caller.user.id });
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
    await updateMemberRole(tx, memberId, role);
    await insertRoleHistory(tx, {
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
  pick: (members: MemberRow[]) => MemberRow,
  check: (target: MemberRow) => void,
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
    await deleteMember(tx, target.id);
    await insertRoleHistory(tx, {
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
    // Leaving is the user's own act: nobody is told.
    if (action === "MEMBER_REMOVE") {
      await notify.memberRemoved(tx, { projectId, userId: target.userId, actorId: caller.user.id });
    }
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
