import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { insertRoleHistory } from "@/db/queries/role-history";
import {
  endActiveSessions,
  findUserById,
  lockAdminsAndCountOthers,
  lockUser,
  type UserRow,
} from "@/db/queries/users";
import type { Cache } from "@/lib/cache";
import { problem } from "@/lib/errors";
import { iso, page } from "@/lib/schema";
import { countCurrent as countCurrentAnnouncements } from "@/modules/announcement/service";
import { type Caller, invalidateUser, isAdmin } from "@/modules/auth/service";
import { unreadCount as unreadNotifications } from "@/modules/notification/service";
import type {
  RoleHistoryEntry,
  RoleHistoryQuery,
  UserAccount,
  UserContext,
  UserListQuery,
  UserSettings,
  UserSettingsPatch,
} from "./model";
import {
  activeProjectsOf,
  deleteUserRow,
  endSession,
  ensureSettings,
  listRoleHistoryRows,
  listUserRows,
  lockProjectsSolelyManagedBy,
  type SettingsRow,
  settingsOfCategory,
  updateSettingsRow,
  updateUser,
} from "./queries";

export type AccountDeps = { db: Database; cache: Cache; actor: AuditActor };

const userNotFound = () => problem("USER_NOT_FOUND");
const selfForbidden = (detail: string) => problem("SELF_ACTION_FORBIDDEN", { detail });

export function toUserAccount(row: UserRow): UserAccount {
  return {
    id: row.id,
    azureOid: row.azureOid,
    email: row.email,
    displayName: row.displayName,
    roles: row.roles as UserAccount["roles"],
    isSystemAdmin: isAdmin(row.roles),
    isActive: row.isActive,
    source: row.source as UserAccount["source"],
    lastLoginAt: iso(row.lastLoginAt),
    loginCount: row.loginCount,
    deactivatedAt: iso(row.deactivatedAt),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/* What the audit trail keeps of an account: no tokens, no ids of other systems beyond the oid. */
const auditView = (row: UserRow) => ({
  email: row.email,
  displayName: row.displayName,
  roles: row.roles,
  isActive: row.isActive,
});

export async function getUser(db: DbOrTx, userId: string): Promise<UserAccount> {
  const row = await findUserById(db, userId);
  if (!row) throw userNotFound();
  return toUserAccount(row);
}

export async function updateMe(
  deps: AccountDeps,
  userId: string,
  body: { displayName?: string; roles?: unknown; isActive?: unknown },
): Promise<UserAccount> {
  if (body.roles !== undefined || body.isActive !== undefined) {
    throw selfForbidden("Your own roles and activation cannot be changed here.");
  }
  return deps.db.transaction(async (tx) => {
    const before = await lockUser(tx, userId);
    if (!before) throw userNotFound();
    if (body.displayName === undefined) return toUserAccount(before);
    const displayName = body.displayName.trim();
    if (!displayName) {
      throw problem("VALIDATION_FAILED", {
        detail: "displayName must not be empty.",
        errors: [{ path: "/body/displayName", message: "must not be empty after trimming" }],
      });
    }
    const after = await updateUser(tx, userId, { displayName });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "user_account",
      resourceId: userId,
      oldValue: auditView(before),
      newValue: auditView(after),
    });
    await invalidateUser(deps.cache, userId);
    return toUserAccount(after);
  });
}

function toSettings(row: SettingsRow): UserSettings {
  return {
    theme: row.theme as UserSettings["theme"],
    language: row.language as UserSettings["language"],
    timezone: row.timezone,
    notifications: {
      email: row.notifyEmail,
      memberChanges: row.notifyMemberChanges,
      fileUploaded: row.notifyFileUploaded,
      sessionCompleted: row.notifySessionCompleted,
      treeUpdated: row.notifyTreeUpdated,
      systemAnnouncement: row.notifyAnnouncement,
    },
    display: {
      itemsPerPage: row.itemsPerPage,
      defaultProjectView: row.defaultProjectView as UserSettings["display"]["defaultProjectView"],
      showWelcomeMessage: row.showWelcomeMessage,
    },
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function getSettings(db: DbOrTx, userId: string): Promise<UserSettings> {
  return toSettings(await ensureSettings(db, userId));
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

export async function updateSettings(
  deps: AccountDeps,
  userId: string,
  patch: UserSettingsPatch,
): Promise<UserSettings> {
  if (patch.timezone !== undefined && !isTimeZone(patch.timezone)) {
    throw problem("VALIDATION_FAILED", {
      detail: "Unknown time zone.",
      errors: [{ path: "/body/timezone", message: `'${patch.timezone}' is not an IANA time zone name` }],
    });
  }
  return deps.db.transaction(async (tx) => {
    const before = await ensureSettings(tx, userId);
    const n = patch.notifications ?? {};
    const d = patch.display ?? {};
    const after = await updateSettingsRow(tx, userId, {
      theme: patch.theme,
      language: patch.language,
      timezone: patch.timezone,
      notifyEmail: n.email,
      notifyMemberChanges: n.memberChanges,
      notifyFileUploaded: n.fileUploaded,
      notifySessionCompleted: n.sessionCompleted,
      notifyTreeUpdated: n.treeUpdated,
      notifyAnnouncement: n.systemAnnouncement,
      itemsPerPage: d.itemsPerPage,
      defaultProjectView: d.defaultProjectView,
      showWelcomeMessage: d.showWelcomeMessage,
    });
    const oldValue = toSettings(before);
    const newValue = toSettings(after);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "user_settings",
      resourceId: before.id,
      oldValue: { ...oldValue, updatedAt: undefined },
      newValue: { ...newValue, updatedAt: undefined },
    });
    return newValue;
  });
}

const SECTIONS = ["dashboard", "project", "analysis", "driver-tree", "file"];
const ADMIN_SECTIONS = ["system-admin", "monitoring", "operations"];

export async function getContext(db: DbOrTx, caller: Caller): Promise<UserContext> {
  const row = await findUserById(db, caller.user.id);
  if (!row) throw userNotFound();
  const admin = isAdmin(row.roles);
  const { first: projects, total: projectCount } = await activeProjectsOf(db, row.id, 2);
  const maintenance = await settingsOfCategory(db, "MAINTENANCE");
  const [{ unreadCount }, activeCount] = await Promise.all([
    unreadNotifications(db, row.id),
    countCurrentAnnouncements(db, row.roles),
  ]);
  const setting = (key: string) => maintenance.find((m) => m.key === key)?.value;
  const single = projectCount === 1 ? projects[0] : null;
  return {
    user: toUserAccount(row),
    permissions: {
      isSystemAdmin: admin,
      canAccessAdminPanel: admin,
      canManageUsers: admin,
      canManageMasters: admin,
      canViewAuditLogs: admin,
    },
    navigation: {
      projectCount,
      defaultProjectId: single?.id ?? null,
      defaultProjectName: single?.name ?? null,
      projectNavigationType: single ? "detail" : "list",
    },
    notifications: { unreadCount },
    announcements: { activeCount },
    maintenance: {
      enabled: setting("maintenance_mode") === true,
      message:
        typeof setting("maintenance_message") === "string"
          ? (setting("maintenance_message") as string)
          : null,
    },
    sidebar: admin
      ? { visibleSections: [...SECTIONS, ...ADMIN_SECTIONS], hiddenSections: [] }
      : { visibleSections: SECTIONS, hiddenSections: ADMIN_SECTIONS },
  };
}

export async function listUsers(db: DbOrTx, q: UserListQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listUserRows(db, q, skip, limit);
  return page(rows.map(toUserAccount), total, skip, limit);
}

/* Locks the admin set (see lockAdminsAndCountOthers) and then reads the target row. */
async function lockForAdminChange(
  tx: DbOrTx,
  userId: string,
): Promise<{ user: UserRow | null; otherAdmins: number }> {
  const otherAdmins = await lockAdminsAndCountOthers(tx, userId);
  return { user: await lockUser(tx, userId), otherAdmins };
}

function assertNotLastAdmin(user: UserRow, otherAdmins: number): void {
  if (isAdmin(user.roles) && user.isActive && otherAdmins === 0) {
    throw problem("LAST_SYSTEM_ADMIN");
  }
}

export async function setActive(
  deps: AccountDeps,
  caller: Caller,
  userId: string,
  active: boolean,
  reason: string | undefined,
): Promise<UserAccount> {
  if (!active && userId === caller.user.id) throw selfForbidden("You cannot deactivate yourself.");
  let endedKeys: string[] = [];
  const result = await deps.db.transaction(async (tx) => {
    const { user: before, otherAdmins } = await lockForAdminChange(tx, userId);
    if (!before) throw userNotFound();
    if (before.isActive === active) return toUserAccount(before);
    if (!active) assertNotLastAdmin(before, otherAdmins);
    const after = await updateUser(tx, userId, {
      isActive: active,
      deactivatedAt: active ? null : new Date(),
    });
    if (!active) endedKeys = await endActiveSessions(tx, userId, "DEACTIVATED", caller.user.id);
    await writeAudit(tx, deps.actor, {
      eventType: "SECURITY",
      action: active ? "USER_ACTIVATE" : "USER_DEACTIVATE",
      resourceType: "user_account",
      resourceId: userId,
      severity: "WARNING",
      oldValue: auditView(before),
      newValue: auditView(after),
      metadata: reason ? { reason } : null,
    });
    return toUserAccount(after);
  });
  await invalidateUser(deps.cache, userId, endedKeys);
  return result;
}

export async function setRoles(
  deps: AccountDeps,
  caller: Caller,
  userId: string,
  roles: string[],
  reason: string | undefined,
): Promise<UserAccount> {
  if (userId === caller.user.id) throw selfForbidden("You cannot change your own roles.");
  // `user` is the base role every account keeps; admins hold both.
  const next = roles.includes("system_admin") ? ["system_admin", "user"] : ["user"];
  const result = await deps.db.transaction(async (tx) => {
    const { user: before, otherAdmins } = await lockForAdminChange(tx, userId);
    if (!before) throw userNotFound();
    const same = before.roles.length === next.length && next.every((r) => before.roles.includes(r));
    if (same) return toUserAccount(before);
    if (!next.includes("system_admin")) assertNotLastAdmin(before, otherAdmins);
    const after = await updateUser(tx, userId, { roles: next });
    await insertRoleHistory(tx, {
      userId,
      changedById: caller.user.id,
      roleType: "system",
      action: "update",
      oldRoles: before.roles,
      newRoles: next,
      reason: reason ?? null,
    });
    await writeAudit(tx, deps.actor, {
      eventType: "SECURITY",
      action: "ROLE_CHANGE",
      resourceType: "user_account",
      resourceId: userId,
      severity: "WARNING",
      oldValue: { roles: before.roles },
      newValue: { roles: next },
      metadata: reason ? { reason } : null,
    });
    return toUserAccount(after);
  });
  await invalidateUser(deps.cache, userId);
  return result;
}

export async function deleteUser(deps: AccountDeps, caller: Caller, userId: string): Promise<void> {
  if (userId === caller.user.id) throw selfForbidden("You cannot delete your own account.");
  await deps.db.transaction(async (tx) => {
    const { user: before, otherAdmins } = await lockForAdminChange(tx, userId);
    if (!before) throw userNotFound();
    assertNotLastAdmin(before, otherAdmins);
    const projects = await lockProjectsSolelyManagedBy(tx, userId);
    if (projects.length > 0) {
      throw problem("LAST_PROJECT_MANAGER", {
        detail: "The user is the only manager of some projects.",
        extensions: { projects },
      });
    }
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "user_account",
      resourceId: userId,
      severity: "WARNING",
      oldValue: auditView(before),
    });
    await deleteUserRow(tx, userId);
  });
  await invalidateUser(deps.cache, userId);
}

export async function logout(deps: AccountDeps, caller: Caller): Promise<void> {
  await deps.db.transaction(async (tx) => {
    await endSession(tx, caller.sessionId, caller.user.id);
    await writeAudit(tx, deps.actor, {
      eventType: "ACCESS",
      action: "LOGOUT",
      resourceType: "user_session",
      resourceId: caller.sessionId,
    });
  });
  await invalidateUser(deps.cache, caller.user.id, [caller.sessionKey]);
}

export async function listRoleHistory(db: DbOrTx, caller: Caller, userId: string, q: RoleHistoryQuery) {
  if (userId !== caller.user.id && !caller.isSystemAdmin) {
    throw problem("ADMIN_REQUIRED", { detail: "Only administrators can read another user's role history." });
  }
  if (!(await findUserById(db, userId))) throw userNotFound();
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listRoleHistoryRows(db, userId, q, skip, limit);
  const items: RoleHistoryEntry[] = rows.map((r) => ({
    id: r.h.id,
    userId: r.h.userId,
    roleType: r.h.roleType as RoleHistoryEntry["roleType"],
    action: r.h.action as RoleHistoryEntry["action"],
    projectId: r.h.projectId,
    projectName: r.projectName,
    oldRoles: r.h.oldRoles,
    newRoles: r.h.newRoles,
    reason: r.h.reason,
    changedBy: r.changedBy,
    changedAt: r.h.changedAt.toISOString(),
  }));
  return page(items, total, skip, limit);
}
