import type { Database, DbOrTx } from "@/db/client";
import { isUniqueViolation } from "@/db/pg-errors";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { insertRoleHistory } from "@/db/queries/role-history";
import type { Cache } from "@/lib/cache";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { likePattern, page } from "@/lib/schema";
import { sessionPrefix, treeImagePrefix } from "@/lib/storage/keys";
import type { Caller } from "@/modules/auth/service";
import { queueDeletions } from "@/modules/storage-deletion/queries";
import { invalidateProject, type ProjectAccess, type ProjectRole, projectNotFound } from "./access";
import type { Project, ProjectCreate, ProjectListQuery, ProjectPatch } from "./model";
import {
  deleteProjectRow,
  insertProject,
  insertProjectMember,
  lockProject,
  type ProjectRecord,
  type ProjectRow,
  selectMyProjects,
  selectProject,
  selectProjectFileKeys,
  selectProjectIdByCode,
  selectProjectMemberIds,
  selectProjectSessionIds,
  selectProjectTreeIds,
  updateProjectRow,
} from "./queries";

export type ProjectDeps = { db: Database; cache: Cache; actor: AuditActor };

const isoMs = (ms: number) => new Date(ms).toISOString();

export function toProject(r: ProjectRow, viaSystemAdmin = false): Project {
  return {
    id: r.id,
    name: r.name,
    code: r.code,
    description: r.description,
    isActive: r.is_active,
    startDate: r.start_date,
    endDate: r.end_date,
    budget: r.budget === null ? null : Number(r.budget),
    createdBy: r.creator_id
      ? { id: r.creator_id, email: r.creator_email!, displayName: r.creator_name }
      : null,
    myRole: (r.my_role as Project["myRole"]) ?? (viaSystemAdmin ? "project_manager" : null),
    viaSystemAdmin: viaSystemAdmin && !r.my_role,
    lastActivityAt: isoMs(r.last_activity_at),
    deactivatedAt: r.deactivated_at === null ? null : isoMs(r.deactivated_at),
    stats: {
      memberCount: r.member_count,
      fileCount: r.file_count,
      sessionCount: r.session_count,
      // Driver trees arrive with their issue; none can exist before.
      treeCount: r.tree_count,
      storageBytes: r.storage_bytes,
    },
    createdAt: isoMs(r.created_at),
    updatedAt: isoMs(r.updated_at),
  };
}

const auditView = (p: ProjectRecord) => ({
  name: p.name,
  code: p.code,
  description: p.description,
  isActive: p.isActive,
  startDate: p.startDate,
  endDate: p.endDate,
  budget: p.budget,
});

function checkDates(start: string | null | undefined, end: string | null | undefined): void {
  if (start && end && end < start) {
    throw problem("INVALID_DATE_RANGE", { detail: "endDate must not be before startDate." });
  }
}

export async function getProject(db: DbOrTx, caller: Caller, access: ProjectAccess): Promise<Project> {
  const row = await selectProject(db, access.project.id, caller.user.id);
  if (!row) throw projectNotFound();
  return toProject(row, access.viaSystemAdmin);
}

export function findProjectIdByCode(db: DbOrTx, code: string): Promise<string | null> {
  return selectProjectIdByCode(db, code);
}

export async function listMyProjects(db: DbOrTx, caller: Caller, q: ProjectListQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { items, total } = await selectMyProjects(db, caller.user.id, {
    isActive: q.isActive ?? null,
    like: q.q ? likePattern(q.q) : null,
    sort: q.sort ?? "-updatedAt",
    skip,
    limit,
  });
  return page(items, total, skip, limit);
}

export async function createProject(
  deps: ProjectDeps,
  caller: Caller,
  body: ProjectCreate,
): Promise<Project> {
  const name = body.name.trim();
  if (!name) {
    throw problem("VALIDATION_FAILED", {
      detail: "name must not be empty.",
      errors: [{ path: "/body/name", message: "must not be empty after trimming" }],
    });
  }
  checkDates(body.startDate, body.endDate);
  const id = newId();
  try {
    await deps.db.transaction(async (tx) => {
      const created = await insertProject(tx, {
        id,
        name,
        code: body.code,
        description: body.description?.trim() || null,
        startDate: body.startDate ?? null,
        endDate: body.endDate ?? null,
        budget: body.budget === undefined ? null : String(body.budget),
        createdBy: caller.user.id,
      });
      await insertProjectMember(tx, {
        projectId: id,
        userId: caller.user.id,
        role: "project_manager",
        addedBy: caller.user.id,
      });
      await insertRoleHistory(tx, {
        userId: caller.user.id,
        changedById: caller.user.id,
        roleType: "project",
        projectId: id,
        action: "grant",
        newRoles: ["project_manager"],
        reason: "project created",
      });
      await writeAudit(tx, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "CREATE",
        resourceType: "project",
        resourceId: id,
        projectId: id,
        newValue: auditView(created),
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw problem("PROJECT_CODE_TAKEN", { detail: `Project code '${body.code}' is already used.` });
    }
    throw error;
  }
  await invalidateProject(deps.cache, id, [caller.user.id]);
  const row = await selectProject(deps.db, id, caller.user.id);
  if (!row) throw projectNotFound();
  return toProject(row);
}

export async function updateProject(
  deps: ProjectDeps,
  caller: Caller,
  access: ProjectAccess,
  body: ProjectPatch,
): Promise<Project> {
  const id = access.project.id;
  await deps.db.transaction(async (tx) => {
    const before = await lockProject(tx, id);
    if (!before) throw projectNotFound();
    if (!before.isActive && body.isActive !== true) {
      throw problem("PROJECT_INACTIVE", {
        detail: "The project is deactivated; reactivate it with isActive: true.",
      });
    }
    const name = body.name?.trim();
    if (body.name !== undefined && !name) {
      throw problem("VALIDATION_FAILED", {
        detail: "name must not be empty.",
        errors: [{ path: "/body/name", message: "must not be empty after trimming" }],
      });
    }
    const start = body.startDate === undefined ? before.startDate : body.startDate;
    const end = body.endDate === undefined ? before.endDate : body.endDate;
    checkDates(start, end);
    const now = new Date();
    const after = await updateProjectRow(tx, id, {
      name,
      description: body.description === undefined ? undefined : body.description?.trim() || null,
      startDate: body.startDate,
      endDate: body.endDate,
      budget: body.budget === undefined ? undefined : body.budget === null ? null : String(body.budget),
      isActive: body.isActive,
      deactivatedAt:
        body.isActive === false && before.isActive ? now : body.isActive === true ? null : undefined,
      updatedAt: now,
      lastActivityAt: now,
    });
    const deactivating = body.isActive === false && before.isActive;
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: deactivating ? "DELETE" : "UPDATE",
      resourceType: "project",
      resourceId: id,
      projectId: id,
      severity: deactivating ? "WARNING" : "INFO",
      oldValue: auditView(before),
      newValue: auditView(after),
      metadata: deactivating ? { deactivated: true } : null,
    });
  });
  await invalidateProject(deps.cache, id);
  return getProject(deps.db, caller, access);
}

/**
 * Deletes the project; the database cascades to everything inside it, and every stored object is
 * queued for deletion in the same transaction so a storage failure leaves a retried queue row,
 * never an orphan object or a dangling database row.
 */
export async function deleteProject(deps: ProjectDeps, access: ProjectAccess): Promise<string[]> {
  const id = access.project.id;
  let memberIds: string[] = [];
  const keys = await deps.db.transaction(async (tx) => {
    const before = await lockProject(tx, id);
    if (!before) throw projectNotFound();
    memberIds = await selectProjectMemberIds(tx, id);
    const files = await selectProjectFileKeys(tx, id);
    const sessions = await selectProjectSessionIds(tx, id);
    const trees = await selectProjectTreeIds(tx, id);
    const queued = [
      ...files.map((key) => ({ container: "uploads", storageKey: key })),
      ...sessions.map((sid) => ({ container: "analysis", storageKey: sessionPrefix(sid) })),
      // Driver-tree pictures (driver-tree/{treeId}/image_*.png).
      ...trees.map((tid) => ({ container: "analysis", storageKey: treeImagePrefix(tid) })),
    ];
    await queueDeletions(tx, queued, "project_deleted");
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "project",
      resourceId: id,
      projectId: id,
      severity: "WARNING",
      oldValue: auditView(before),
      metadata: { files: files.length, members: memberIds.length },
    });
    await deleteProjectRow(tx, id);
    return queued.map((q) => q.storageKey);
  });
  await invalidateProject(deps.cache, id, memberIds);
  return keys;
}

export type MembershipView = { role: ProjectRole; isMember: boolean; viaSystemAdmin: boolean };
