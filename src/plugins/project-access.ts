import { Elysia } from "elysia";
import { writeAudit } from "@/db/queries/audit";
import type { AppDeps } from "@/deps";
import { problem } from "@/lib/errors";
import {
  hasRole,
  loadMemberRole,
  loadProjectFacts,
  type ProjectAccess,
  type ProjectRole,
  projectNotFound,
} from "@/modules/project/access";
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
 * projects (409). The rules themselves live in `modules/project/access.ts`; this file is the
 * per-request wiring (audit of admin access, denial logging, the HTTP method).
 */

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

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
  if (!hasRole(access, guard.role)) {
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
