import { eq, sql } from "drizzle-orm";
import type { Database, DbOrTx } from "@/db/client";
import { isUniqueViolation } from "@/db/pg-errors";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import {
  analysisSession,
  project,
  projectFile,
  projectMember,
  roleHistory,
  storageDeletionQueue,
} from "@/db/schema";
import type { Cache } from "@/lib/cache";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { likePattern, page } from "@/lib/schema";
import { sessionPrefix } from "@/lib/storage/keys";
import type { Caller } from "@/modules/auth/service";
import { invalidateProject, type ProjectAccess, type ProjectRole, projectNotFound } from "./access";
import type { Project, ProjectCreate, ProjectListQuery, ProjectPatch } from "./model";
import { type ProjectRow, selectMyProjects, selectProject } from "./queries";

export type ProjectDeps = { db: Database; cache: Cache; actor: AuditActor };

const isoMs = (ms: number) => new Date(ms).toISOString();

function toProject(r: ProjectRow, viaSystemAdmin = false): Project {
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
      treeCount: 0,
      storageBytes: r.storage_bytes,
    },
    createdAt: isoMs(r.created_at),
    updatedAt: isoMs(r.updated_at),
  };
}

const auditView = (p: typeof project.$inferSelect) => ({
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

export async function findProjectIdByCode(db: DbOrTx, code: string): Promise<string | null> {
  const [row] = await db
    .select({ id: project.id })
    .from(project)
    .where(sql`lower(${project.code}) = lower(${code})`)
    .limit(1);
  return row?.id ?? null;
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
      const [created] = await tx
        .insert(project)
        .values({
          id,
          name,
          code: body.code,
          description: body.description?.trim() || null,
          startDate: body.startDate ?? null,
          endDate: body.endDate ?? null,
          budget: body.budget === undefined ? null : String(body.budget),
          createdBy: caller.user.id,
        })
        .returning();
      await tx.insert(projectMember).values({
        id: newId(),
        projectId: id,
        userId: caller.user.id,
        role: "project_manager",
        addedBy: caller.user.id,
      });
      await tx.insert(roleHistory).values({
        id: newId(),
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
    const [before] = await tx.select().from(project).where(eq(project.id, id)).for("update");
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
    const [after] = await tx
      .update(project)
      .set({
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
      })
      .where(eq(project.id, id))
      .returning();
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
    const [before] = await tx.select().from(project).where(eq(project.id, id)).for("update");
    if (!before) throw projectNotFound();
    memberIds = (
      await tx
        .select({ userId: projectMember.userId })
        .from(projectMember)
        .where(eq(projectMember.projectId, id))
    ).map((m) => m.userId);
    const files = await tx
      .select({ key: projectFile.storageKey })
      .from(projectFile)
      .where(eq(projectFile.projectId, id));
    const sessions = await tx
      .select({ id: analysisSession.id })
      .from(analysisSession)
      .where(eq(analysisSession.projectId, id));
    const queued = [
      ...files.map((f) => ({ container: "uploads", storageKey: f.key })),
      ...sessions.map((s) => ({ container: "analysis", storageKey: sessionPrefix(s.id) })),
    ];
    if (queued.length > 0) {
      await tx
        .insert(storageDeletionQueue)
        .values(queued.map((q) => ({ id: newId(), ...q, reason: "project_deleted" })))
        .onConflictDoNothing();
    }
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
    await tx.delete(project).where(eq(project.id, id));
    return queued.map((q) => q.storageKey);
  });
  await invalidateProject(deps.cache, id, memberIds);
  return keys;
}

export type MembershipView = { role: ProjectRole; isMember: boolean; viaSystemAdmin: boolean };
