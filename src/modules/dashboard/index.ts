import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { problem } from "@/lib/errors";
import { Page } from "@/lib/schema";
import type { Caller } from "@/modules/auth/service";
import { type AuthState, authPlugin, denied } from "@/plugins/auth";
import {
  ActivitiesQuery,
  ChartsQuery,
  DashboardActivity,
  DashboardCharts,
  DashboardStats,
  StatsQuery,
} from "./model";
import * as service from "./service";

export function dashboardController(deps: AppDeps) {
  const tags = ["dashboard"];
  const dashDeps: service.DashboardDeps = {
    db: deps.database.db,
    cache: deps.cache,
    cacheTtlS: deps.config.cacheTtlS,
  };
  const codes = { "x-problem-codes": ["ADMIN_REQUIRED" as const] };
  const scopeNote =
    "Scope: projects where the caller is a member; system admins see every project unless they pass scope=mine (scope=all by anyone else is 403 ADMIN_REQUIRED). Cached per user, scope and query for CACHE_TTL seconds, at most 60.";

  /* scope=all is an admin view; a non-admin asking for it is refused (and audited) like an admin route. */
  async function viewer(
    request: Request,
    caller: Caller,
    auth: AuthState,
    asked: "mine" | "all" | undefined,
  ): Promise<service.Viewer> {
    if (asked === "all" && !caller.isSystemAdmin) {
      throw await denied(
        deps,
        request,
        auth,
        problem("ADMIN_REQUIRED", { detail: "scope=all is for system administrators." }),
      );
    }
    return {
      userId: caller.user.id,
      isSystemAdmin: caller.isSystemAdmin,
      scope: asked ?? (caller.isSystemAdmin ? "all" : "mine"),
    };
  }

  return new Elysia({ name: "dashboard", prefix: "/dashboard" })
    .use(authPlugin(deps))
    .get(
      "/stats",
      async ({ request, caller, auth, query }) =>
        service.stats(dashDeps, await viewer(request, caller, auth, query.scope)),
      {
        auth: true,
        query: StatsQuery,
        response: DashboardStats,
        detail: {
          tags,
          operationId: "dashboard.stats",
          ...codes,
          summary: "Counts of projects, sessions, trees, files and members",
          description: `${scopeNote} files.total counts files (latest versions); totalSizeBytes every stored version. users (all accounts) only for system admins with scope=all.`,
        },
      },
    )
    .get(
      "/activities",
      async ({ request, caller, auth, query }) =>
        service.activities(dashDeps, await viewer(request, caller, auth, query.scope), query),
      {
        auth: true,
        query: ActivitiesQuery,
        response: Page(DashboardActivity),
        detail: {
          tags,
          operationId: "dashboard.activities",
          ...codes,
          summary: "Recent changes in the caller's projects",
          description: `${scopeNote} Read from successful audit entries (creates, updates and deletes of projects, files, sessions and trees; member joins and removals), newest first.`,
        },
      },
    )
    .get(
      "/charts",
      async ({ request, caller, auth, query }) =>
        service.charts(dashDeps, await viewer(request, caller, auth, query.scope), query),
      {
        auth: true,
        query: ChartsQuery,
        response: DashboardCharts,
        detail: {
          tags,
          operationId: "dashboard.charts",
          ...codes,
          summary: "Daily trends, project distribution and progress",
          description: `${scopeNote} Trends count per calendar day in the caller's time zone setting, today included, zero-filled.`,
        },
      },
    );
}
