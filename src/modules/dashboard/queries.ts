import { type SQL, sql } from "drizzle-orm";
import { type DbOrTx, rowsOf } from "@/db/client";

/*
 * The dashboard's aggregates (api.md §2.9). Each route is a single statement (charts: three run
 * together), never a loop over projects. Scope "all" drops the project filter altogether rather
 * than joining every project id; "mine" is a semi-join on the caller's membership rows.
 */

/** userId null = every project (system admins); else projects with the user's membership row. */
export type DashboardScope = { userId: string | null };

function inScope(column: SQL, scope: DashboardScope): SQL {
  return scope.userId
    ? sql`${column} in (select pm.project_id from project_member pm where pm.user_id = ${scope.userId})`
    : sql`true`;
}

const byStatus = (table: SQL, scope: DashboardScope, alias: string) => sql`(
  select count(*)::int as total,
    count(*) filter (where status = 'draft')::int as draft,
    count(*) filter (where status = 'active')::int as active,
    count(*) filter (where status = 'completed')::int as completed,
    count(*) filter (where status = 'archived')::int as archived
  from ${table} where ${inScope(sql`project_id`, scope)}) ${sql.raw(alias)}`;

export type StatsRow = {
  projects: { total: number; active: number; inactive: number };
  sessions: { total: number; draft: number; active: number; completed: number; archived: number };
  trees: { total: number; draft: number; active: number; completed: number; archived: number };
  files: { total: number; totalSizeBytes: number };
  members: { distinctUsers: number };
  users: { total: number; active: number } | null;
};

export async function selectStats(db: DbOrTx, scope: DashboardScope, withUsers: boolean): Promise<StatsRow> {
  const users = withUsers
    ? sql`(select json_build_object('total', count(*)::int, 'active', (count(*) filter (where is_active))::int)
        from user_account)`
    : sql`null::json`;
  const result = await db.execute(sql`
    select
      json_build_object('total', p.total, 'active', p.active, 'inactive', p.total - p.active) as projects,
      row_to_json(s) as sessions,
      row_to_json(t) as trees,
      json_build_object('total', f.total, 'totalSizeBytes', f.bytes) as files,
      json_build_object('distinctUsers', m.n) as members,
      ${users} as users
    from
      (select count(*)::int as total, (count(*) filter (where is_active))::int as active
        from project where ${inScope(sql`id`, scope)}) p,
      ${byStatus(sql`analysis_session`, scope, "s")},
      ${byStatus(sql`driver_tree`, scope, "t")},
      (select (count(*) filter (where is_latest))::int as total, coalesce(sum(size_bytes), 0)::float8 as bytes
        from project_file where ${inScope(sql`project_id`, scope)}) f,
      (select count(distinct user_id)::int as n from project_member where ${inScope(sql`project_id`, scope)}) m`);
  const row = rowsOf<Record<keyof StatsRow, unknown>>(result)[0] as Record<string, unknown>;
  // json columns arrive parsed on PGlite and as text on postgres.js raw execute.
  const parse = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, parse(v)])) as StatsRow;
}

/* Audit resource types of each activity type; other resource types never appear on the dashboard. */
export const ACTIVITY_RESOURCE_TYPES = {
  project: "project",
  member: "project_member",
  file: "project_file",
  session: "analysis_session",
  tree: "driver_tree",
} as const;

export type ActivityRow = {
  total: number;
  id: string | null;
  action: string;
  resourceType: string;
  resourceId: string | null;
  resourceName: string | null;
  projectId: string | null;
  projectName: string | null;
  oldStatus: string | null;
  newStatus: string | null;
  deactivated: boolean | null;
  actorId: string | null;
  actorEmail: string | null;
  actorName: string | null;
  occurredAt: string;
};

/**
 * Successful data changes and member joins/leaves of in-scope projects, newest first, one page
 * plus the count of all (the count row comes back even for a page past the end). The filter is
 * the predicate of the partial index ix_audit_dashboard (migration 0009), written the same way so
 * the planner can prove it; `nulls last` matches that index's order (the columns are NOT NULL, so
 * it changes nothing else) and makes the page an ordered index read instead of a sort.
 */
export async function selectActivities(
  db: DbOrTx,
  scope: DashboardScope,
  filter: { projectId: string | null; resourceTypes: string[] },
  skip: number,
  limit: number,
): Promise<{ rows: ActivityRow[]; total: number }> {
  const where = sql`a.outcome = 'success' and a.project_id is not null
    and ${inScope(sql`a.project_id`, scope)}
    ${filter.projectId ? sql`and a.project_id = ${filter.projectId}` : sql``}
    and a.resource_type in (${sql.join(
      filter.resourceTypes.map((t) => sql`${t}`),
      sql`, `,
    )})
    and ((a.event_type = 'DATA_CHANGE' and a.action in ('CREATE', 'UPDATE', 'DELETE'))
      or a.action in ('MEMBER_ADD', 'MEMBER_REMOVE'))`;
  const result = await db.execute(sql`
    select c.total, x.* from (select count(*)::int as total from audit_log a where ${where}) c
    left join lateral (
      select a.id, a.action, a.resource_type as "resourceType", a.resource_id as "resourceId",
        coalesce(a.new_value->>'name', a.old_value->>'name', a.new_value->>'originalFilename',
          a.old_value->>'originalFilename', mu.display_name, mu.email) as "resourceName",
        a.project_id as "projectId", p.name as "projectName",
        a.old_value->>'status' as "oldStatus", a.new_value->>'status' as "newStatus",
        (a.metadata->>'deactivated') = 'true' as deactivated,
        u.id as "actorId", u.email as "actorEmail", u.display_name as "actorName",
        to_char(a.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "occurredAt",
        a.created_at
      from (select * from audit_log a where ${where}
        order by a.created_at desc nulls last, a.id desc nulls last limit ${limit} offset ${skip}) a
      left join project p on p.id = a.project_id
      left join user_account u on u.id = a.user_id
      left join user_account mu on a.resource_type = 'project_member'
        and mu.id::text = coalesce(a.new_value->>'userId', a.old_value->>'userId')
    ) x on true
    order by x.created_at desc, x.id desc`);
  const rows = rowsOf<ActivityRow>(result);
  return { rows: rows.filter((r) => r.id !== null), total: rows[0]?.total ?? 0 };
}

/** The caller's time zone setting; the column default when the user never saved settings. */
export async function selectTimezone(db: DbOrTx, userId: string): Promise<string> {
  const rows = rowsOf<{ tz: string }>(
    await db.execute(sql`select timezone as tz from user_settings where user_id = ${userId}`),
  );
  return rows[0]?.tz ?? "Asia/Tokyo";
}

export type TrendRow = { date: string; sessions: number; trees: number; snapshots: number; files: number };

/** Per-day counts over the last `days` calendar days in `tz` (today included), zero-filled. */
export async function selectTrends(
  db: DbOrTx,
  scope: DashboardScope,
  days: number,
  tz: string,
): Promise<TrendRow[]> {
  const perDay = (table: SQL, column: string, where: SQL) => sql`
    select (${sql.raw(column)} at time zone ${tz})::date as day, count(*)::int as n
    from ${table}, bounds
    where ${sql.raw(column)} >= bounds.since and ${where}
    group by 1`;
  const result = await db.execute(sql`
    with bounds as (
      select d0, d1, (d0::timestamp at time zone ${tz}) as since
      from (select (now() at time zone ${tz})::date - ${days - 1}::int as d0, (now() at time zone ${tz})::date as d1) b
    ),
    s as (${perDay(sql`analysis_session`, "created_at", inScope(sql`project_id`, scope))}),
    t as (${perDay(sql`driver_tree`, "created_at", inScope(sql`project_id`, scope))}),
    n as (${perDay(
      sql`analysis_snapshot`,
      "created_at",
      scope.userId
        ? sql`session_id in (select id from analysis_session where ${inScope(sql`project_id`, scope)})`
        : sql`true`,
    )}),
    f as (${perDay(sql`project_file`, "uploaded_at", inScope(sql`project_id`, scope))}),
    days as (select generate_series(d0, d1, interval '1 day')::date as day from bounds)
    select to_char(days.day, 'YYYY-MM-DD') as date, coalesce(s.n, 0) as sessions, coalesce(t.n, 0) as trees,
      coalesce(n.n, 0) as snapshots, coalesce(f.n, 0) as files
    from days left join s using (day) left join t using (day) left join n using (day) left join f using (day)
    order by days.day`);
  return rowsOf<TrendRow>(result);
}

export type ProgressRow = { projectId: string; name: string; completed: number; total: number };

export async function selectProjectFigures(
  db: DbOrTx,
  scope: DashboardScope,
  progressLimit: number,
): Promise<{ active: number; inactive: number; progress: ProgressRow[] }> {
  const [counts, progress] = await Promise.all([
    db.execute(sql`select (count(*) filter (where is_active))::int as active,
        (count(*) filter (where not is_active))::int as inactive
      from project where ${inScope(sql`id`, scope)}`),
    db.execute(sql`
      select p.id as "projectId", p.name, coalesce(s.completed, 0) as completed, coalesce(s.total, 0) as total
      from (select id, name, last_activity_at from project
          where is_active and ${inScope(sql`id`, scope)}
          order by last_activity_at desc, id desc limit ${progressLimit}) p
      left join lateral (
        select count(*)::int as total, (count(*) filter (where status = 'completed'))::int as completed
        from analysis_session where project_id = p.id) s on true
      order by p.last_activity_at desc, p.id desc`),
  ]);
  const c = rowsOf<{ active: number; inactive: number }>(counts)[0] ?? { active: 0, inactive: 0 };
  return { ...c, progress: rowsOf<ProgressRow>(progress) };
}

/** Accounts active within the window (signed in since `days` calendar days ago in `tz`) vs the rest. */
export async function selectUserActivity(
  db: DbOrTx,
  days: number,
  tz: string,
): Promise<{ active: number; inactive: number }> {
  const rows = rowsOf<{ active: number; total: number }>(
    await db.execute(sql`
      select (count(*) filter (where is_active and last_login_at >=
          (((now() at time zone ${tz})::date - ${days - 1}::int)::timestamp at time zone ${tz})))::int as active,
        count(*)::int as total
      from user_account`),
  );
  const r = rows[0] ?? { active: 0, total: 0 };
  return { active: r.active, inactive: r.total - r.active };
}
