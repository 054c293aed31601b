import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { loadMemberRole, loadProjectFacts, projectNotFound } from "@/modules/project/access";
import { authPlugin, denied } from "@/plugins/auth";
import { SearchQuery, SearchResults } from "./model";
import * as service from "./service";

export function searchController(deps: AppDeps) {
  const db = deps.database.db;
  const ttl = deps.config.cacheTtlS;

  return new Elysia({ name: "search", prefix: "/search" }).use(authPlugin(deps)).get(
    "",
    async ({ caller, auth, request, query }) => {
      const userId = caller.isSystemAdmin ? null : caller.user.id;
      if (query.projectId) {
        // The same answer as the project routes (api.md §1.4): 404 whether the project is missing
        // or not the caller's, and the refusal of an existing one is audited.
        const facts = await loadProjectFacts(db, deps.cache, ttl, query.projectId);
        if (!facts) throw projectNotFound();
        if (userId && !(await loadMemberRole(db, deps.cache, ttl, query.projectId, userId))) {
          throw await denied(deps, request, auth, projectNotFound(), {
            projectId: query.projectId,
            resourceType: "project",
          });
        }
      }
      return service.search(db, { userId, projectId: query.projectId ?? null }, query);
    },
    {
      auth: true,
      query: SearchQuery,
      response: SearchResults,
      detail: {
        tags: ["search"],
        operationId: "search.query",
        "x-problem-codes": ["PROJECT_NOT_FOUND"],
        summary: "Search projects, sessions, files and trees",
        description:
          "Case-insensitive substring search over the caller's projects (system admins: all projects): active projects by name, code or description; analysis sessions by name; files by the latest version's original file name; driver trees by name or description. Hits of all types are merged newest first (updatedAt, then id) and paged; `total` counts every hit.",
      },
    },
  );
}
