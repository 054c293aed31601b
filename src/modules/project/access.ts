import type { DbOrTx } from "@/db/client";
import { type Cache, cached, memberRoleKey, projectKey } from "@/lib/cache";
import { problem } from "@/lib/errors";
import { selectMemberRole, selectProjectFacts } from "./queries";

/*
 * Project roles and the access a request holds in a project (api.md §1.4). These are domain
 * rules: services take a `ProjectAccess` and decide with `ROLE_RANK`; the Elysia wiring that
 * resolves one per request lives in `plugins/project-access.ts`. Role and project facts are
 * cached under the seed's keys and invalidated by every write that changes them.
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

export const projectNotFound = () => problem("PROJECT_NOT_FOUND");

export const hasRole = (access: ProjectAccess, role: ProjectRole): boolean =>
  ROLE_RANK[access.role] >= ROLE_RANK[role];

export function loadProjectFacts(
  db: DbOrTx,
  cache: Cache,
  ttlS: number,
  id: string,
): Promise<CachedProject | null> {
  return cached(cache, projectKey(id), ttlS, () => selectProjectFacts(db, id));
}

export async function loadMemberRole(
  db: DbOrTx,
  cache: Cache,
  ttlS: number,
  projectId: string,
  userId: string,
): Promise<ProjectRole | null> {
  // "none" is cached too, so a non-member probing a project costs no query per request.
  const role = await cached(
    cache,
    memberRoleKey(projectId, userId),
    ttlS,
    async () => (await selectMemberRole(db, projectId, userId)) ?? "none",
  );
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

/** Own|Mod+ (api.md §1.4): moderators, managers and admins may act on anyone's item. */
export function assertOwnerOrModerator(
  access: ProjectAccess,
  callerId: string,
  ownerId: string | null,
): void {
  if (hasRole(access, "project_moderator")) return;
  if (ownerId !== null && ownerId === callerId) return;
  throw problem("NOT_OWNER");
}
