import { and, eq } from "drizzle-orm";
import { Elysia } from "elysia";
import type { DbOrTx } from "@/db/client";
import { writeAudit } from "@/db/queries/audit";
import { project, projectMember } from "@/db/schema";
import type { AppDeps } from "@/deps";
import { type Cache, cached, memberRoleKey, projectKey } from "@/lib/cache";
import { problem } from "@/lib/errors";
import {
  type AuthState,
  authenticateFirst,
  authPlugin,
  CALLER_PROBLEMS,
  denied,
  requireCaller,
} from "@/plugins/auth";

/*
 * The one guard every `/project/:projectId/...` route uses (api.md §1.4): membership or system
 * admin (404 otherwise, so existence is not revealed), role rank (403), read-only inactive
 * projects (409). Role and project facts are cached under the seed's keys and invalidated by
 * every write that changes them.
 */

export const PROJECT_ROLES = ["viewer", "member", "project_moderator", "project_manager"] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];
export const ROLE_RANK: Record<ProjectRole, number> = {
  viewer: 1,
  member: 2,
  project_moderator: 3,
  project_manager: 4,
};

export type CachedProject = { id: string; code: string; name: string; isActive: boolean };
export type ProjectAccess = {
  project: CachedProject;
  role: ProjectRole;
  isMember: boolean;
  viaSystemAdmin: boolean;
};

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export const projectNotFound = () => problem("PROJECT_NOT_FOUND");

export function loadProjectFacts(
  db: DbOrTx,
  cache: Cache,
  ttlS: number,
  id: string,
): Promise<CachedProject | null> {
  return cached(cache, projectKey(id), ttlS, async () => {
    const [row] = await db
      .select({ id: project.id, code: project.code, name: project.name, isActive: project.isActive })
      .from(project)
      .where(eq(project.id, id))
      .limit(1);
    return row ?? null;
  });
}

export async function loadMemberRole(
  db: DbOrTx,
  cache: Cache,
  ttlS: number,
  projectId: string,
  userId: string,
): Promise<ProjectRole | null> {
  // "none" is cached too, so a non-member probing a project costs no query per request.
  const role = await cached(cache, memberRoleKey(projectId, userId), ttlS, async () => {
    const [row] = await db
      .select({ role: projectMember.role })
      .from(projectMember)
      .where(and(eq(projectMember.projectId, projectId), eq(projectMember.userId, userId)))
      .limit(1);
    return row?.role ?? "none";
  });
  return role === "none" ? null : (role as ProjectRole);
}

export async function invalidateProject(
  cache: Cache,
  projectId: string,
  userIds: string[] = [],
): Promise<void> {
  await cache.delete(projectKey(projectId));
  for (const u of userIds) await cache.delete(memberRoleKey(projectId, u));
}

export type ProjectGuard = { role: ProjectRole; allowInactive?: boolean };

export async function checkProjectAccess(
  deps: AppDeps,
  request: Request,
  auth: AuthState,
  projectId: string,
  guard: ProjectGuard,
): Promise<ProjectAccess> {
  const caller = auth.caller!;
  const db = deps.database.db;
  const ttl = deps.config.cacheTtlS;
  const facts = await loadProjectFacts(db, deps.cache, ttl, projectId);
  if (!facts) throw projectNotFound();
  const memberRole = await loadMemberRole(db, deps.cache, ttl, projectId, caller.user.id);
  let access: ProjectAccess;
  if (memberRole) {
    access = { project: facts, role: memberRole, isMember: true, viaSystemAdmin: false };
  } else if (caller.isSystemAdmin) {
    access = { project: facts, role: "project_manager", isMember: false, viaSystemAdmin: true };
    await writeAudit(db, auth.actor, {
      eventType: "ACCESS",
      action: "ADMIN_PROJECT_ACCESS",
      resourceType: "project",
      resourceId: projectId,
      projectId,
      metadata: { method: request.method, route: new URL(request.url).pathname },
    });
  } else {
    throw await denied(deps, request, auth, projectNotFound(), { projectId, resourceType: "project" });
  }
  if (ROLE_RANK[access.role] < ROLE_RANK[guard.role]) {
    throw await denied(
      deps,
      request,
      auth,
      problem("ROLE_INSUFFICIENT", {
        detail: `This action needs the ${guard.role} role or higher in the project.`,
      }),
      { projectId, resourceType: "project" },
    );
  }
  if (WRITE_METHODS.has(request.method) && !facts.isActive && !guard.allowInactive) {
    throw problem("PROJECT_INACTIVE");
  }
  return access;
}

/** Own|Mod+ (api.md §1.4): moderators, managers and admins may act on anyone's item. */
export function assertOwnerOrModerator(
  access: ProjectAccess,
  callerId: string,
  ownerId: string | null,
): void {
  if (ROLE_RANK[access.role] >= ROLE_RANK.project_moderator) return;
  if (ownerId !== null && ownerId === callerId) return;
  throw problem("NOT_OWNER");
}

/**
 * `requireProjectRole` as an Elysia macro: routes declare `project: { role: "member" }` and get
 * `access` (and `caller`) in their context. A route under `/project/:projectId` without it is
 * caught by the route-walk test.
 */
export function projectAccessPlugin(deps: AppDeps) {
  return new Elysia({ name: "project-access" }).use(authPlugin(deps)).macro({
    project: (guard: ProjectGuard) => ({
      detail: {
        "x-problem-codes": [
          ...CALLER_PROBLEMS,
          "PROJECT_NOT_FOUND",
          "ROLE_INSUFFICIENT",
          ...(guard.allowInactive ? [] : (["PROJECT_INACTIVE"] as const)),
        ],
      },
      transform: authenticateFirst(deps),
      async resolve({ request, params }) {
        const { caller, auth } = await requireCaller(deps, request);
        const projectId = (params as Record<string, string>).projectId;
        const access = await checkProjectAccess(deps, request, auth, projectId, guard);
        return { caller, auth, access };
      },
    }),
  });
}

export const requireProjectRole = (
  role: ProjectRole,
  options: { allowInactive?: boolean } = {},
): ProjectGuard => ({
  role,
  ...options,
});
