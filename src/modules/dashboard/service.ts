import type { DbOrTx } from "@/db/client";
import { type Cache, cached } from "@/lib/cache";
import { ACTIVITY_TYPES, type ActivityType } from "./model";
import {
  ACTIVITY_RESOURCE_TYPES,
  type ActivityRow,
  type DashboardScope,
  selectActivities,
  selectProjectFigures,
  selectStats,
  selectTimezone,
  selectTrends,
  selectUserActivity,
} from "./queries";

/*
 * Dashboard figures (api.md §2.9). The controller settles the scope (and refuses scope=all to a
 * non-admin); here every answer is read through the cache, keyed by user, scope and query, for
 * CACHE_TTL capped at 60 s: the figures may lag a write by that much and nothing invalidates them.
 */

export type DashboardDeps = { db: DbOrTx; cache: Cache; cacheTtlS: number };
export type Viewer = { userId: string; isSystemAdmin: boolean; scope: "mine" | "all" };

export const DASHBOARD_PREFIX = "dashboard:";
const MAX_TTL_S = 60;
const PROGRESS_PROJECTS = 20;

const scopeOf = (v: Viewer): DashboardScope => ({ userId: v.scope === "all" ? null : v.userId });

function viaCache<T>(deps: DashboardDeps, v: Viewer, what: string, load: () => Promise<T>): Promise<T> {
  const key = `${DASHBOARD_PREFIX}${v.userId}:${v.scope}:${what}`;
  return cached(deps.cache, key, Math.min(deps.cacheTtlS, MAX_TTL_S), load);
}

export function stats(deps: DashboardDeps, v: Viewer) {
  return viaCache(deps, v, "stats", async () => {
    const withUsers = v.isSystemAdmin && v.scope === "all";
    const s = await selectStats(deps.db, scopeOf(v), withUsers);
    return {
      scope: v.scope,
      projects: s.projects,
      sessions: s.sessions,
      trees: s.trees,
      files: s.files,
      members: s.members,
      ...(withUsers && s.users ? { users: s.users } : {}),
      generatedAt: new Date().toISOString(),
    };
  });
}

type Action = "created" | "updated" | "deleted" | "uploaded" | "completed" | "joined" | "left";
const TYPE_OF_RESOURCE = Object.fromEntries(
  Object.entries(ACTIVITY_RESOURCE_TYPES).map(([type, resource]) => [resource, type]),
) as Record<string, ActivityType>;

function actionOf(r: ActivityRow, type: ActivityType): Action {
  if (r.action === "MEMBER_ADD") return "joined";
  if (r.action === "MEMBER_REMOVE") return "left";
  // A project deactivation is audited as DELETE, but nothing is gone.
  if (r.action === "DELETE") return r.deactivated ? "updated" : "deleted";
  if (r.action === "CREATE") return type === "file" ? "uploaded" : "created";
  const finished = r.newStatus === "completed" && r.oldStatus !== "completed";
  return finished && (type === "session" || type === "tree") ? "completed" : "updated";
}

/**
 * One page of the activity feed, uncached: the dashboard reads it through its cache, the admin
 * project detail (api.md §2.12.11 `recentActivity`) reads one project's first page directly, so
 * both describe an audit row the same way.
 */
export async function activityFeed(
  db: DbOrTx,
  scope: DashboardScope,
  q: { skip: number; limit: number; projectId?: string | null; types?: readonly ActivityType[] },
) {
  const types = q.types ?? ACTIVITY_TYPES;
  const { rows, total } = await selectActivities(
    db,
    scope,
    { projectId: q.projectId ?? null, resourceTypes: types.map((t) => ACTIVITY_RESOURCE_TYPES[t]) },
    q.skip,
    q.limit,
  );
  const items = rows.map((r) => {
    const type = TYPE_OF_RESOURCE[r.resourceType] as ActivityType;
    return {
      id: r.id as string,
      action: actionOf(r, type),
      resourceType: type,
      resourceId: r.resourceId,
      resourceName: r.resourceName,
      projectId: r.projectId,
      projectName: r.projectName,
      actor: r.actorId ? { id: r.actorId, email: r.actorEmail as string, displayName: r.actorName } : null,
      occurredAt: r.occurredAt,
    };
  });
  return { items, total };
}

export function activities(
  deps: DashboardDeps,
  v: Viewer,
  q: { skip?: number; limit?: number; projectId?: string; types?: string },
) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const wanted = q.types ? new Set(q.types.split(",")) : null;
  const types = ACTIVITY_TYPES.filter((t) => !wanted || wanted.has(t));
  const what = `activities:${skip}:${limit}:${q.projectId ?? ""}:${types.join(",")}`;
  return viaCache(deps, v, what, async () => {
    const { items, total } = await activityFeed(deps.db, scopeOf(v), {
      skip,
      limit,
      projectId: q.projectId,
      types,
    });
    return { items, total, skip, limit };
  });
}

export function charts(deps: DashboardDeps, v: Viewer, q: { days?: number }) {
  const days = q.days ?? 30;
  return viaCache(deps, v, `charts:${days}`, async () => {
    const scope = scopeOf(v);
    const withUsers = v.isSystemAdmin && v.scope === "all";
    const tz = await selectTimezone(deps.db, v.userId);
    const [trend, projects, users] = await Promise.all([
      selectTrends(deps.db, scope, days, tz),
      selectProjectFigures(deps.db, scope, PROGRESS_PROJECTS),
      withUsers ? selectUserActivity(deps.db, days, tz) : Promise.resolve(null),
    ]);
    const series = (k: "sessions" | "trees" | "snapshots" | "files") =>
      trend.map((d) => ({ date: d.date, count: d[k] }));
    return {
      days,
      sessionTrend: series("sessions"),
      treeTrend: series("trees"),
      snapshotTrend: series("snapshots"),
      fileUploadTrend: series("files"),
      projectDistribution: { active: projects.active, inactive: projects.inactive },
      projectProgress: projects.progress.map((p) => ({
        projectId: p.projectId,
        name: p.name,
        completedSessions: p.completed,
        totalSessions: p.total,
        percent: p.total === 0 ? 0 : Math.round((100 * p.completed) / p.total),
      })),
      ...(users ? { userActivity: users } : {}),
    };
  });
}
