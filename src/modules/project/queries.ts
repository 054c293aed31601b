import { type DbOrTx, readRows } from "@/db/client";

/*
 * The project reads every request of the project pages makes, as constant SQL (see `readRows`):
 * one statement for a project with its creator, the caller's role and the member/file/session
 * counts, and one per sort order for the caller's page of projects, whose counts come from
 * grouped joins over the page (not correlated sub-selects per row) and whose total rides along.
 */

/* ISO-8601 with milliseconds in UTC, exactly what `Date.prototype.toISOString` prints. */
const iso = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const COLUMNS = `p.id::text as id, p.name, p.code, p.description, p.is_active,
  p.start_date::text as start_date, p.end_date::text as end_date, p.budget::text as budget,
  p.storage_bytes::text as storage_bytes, ${iso("p.last_activity_at")} as last_activity_at,
  ${iso("p.deactivated_at")} as deactivated_at, ${iso("p.created_at")} as created_at,
  ${iso("p.updated_at")} as updated_at, u.id::text as creator_id, u.email as creator_email,
  u.display_name as creator_name`;

export type ProjectRow = {
  id: string;
  name: string;
  code: string;
  description: string | null;
  is_active: boolean;
  start_date: string | null;
  end_date: string | null;
  budget: string | null;
  storage_bytes: string;
  last_activity_at: string;
  deactivated_at: string | null;
  created_at: string;
  updated_at: string;
  creator_id: string | null;
  creator_email: string | null;
  creator_name: string | null;
  my_role: string | null;
  member_count: number;
  file_count: number;
  session_count: number;
};

const ONE = `select ${COLUMNS},
  (select m.role from project_member m where m.project_id = p.id and m.user_id = $2) as my_role,
  (select count(*)::int from project_member m where m.project_id = p.id) as member_count,
  (select count(*)::int from project_file f where f.project_id = p.id and f.is_latest) as file_count,
  (select count(*)::int from analysis_session s where s.project_id = p.id) as session_count
from project p left join user_account u on u.id = p.created_by
where p.id = $1`;

export async function selectProject(db: DbOrTx, id: string, callerId: string): Promise<ProjectRow | null> {
  const [row] = await readRows<ProjectRow>(db, ONE, [id, callerId]);
  return row ?? null;
}

export const PROJECT_SORTS = {
  "-updatedAt": "p.updated_at desc",
  name: "lower(p.name) asc",
  code: "lower(p.code) asc",
  "-createdAt": "p.created_at desc",
  "-lastActivityAt": "p.last_activity_at desc",
} as const;
export type ProjectSort = keyof typeof PROJECT_SORTS;

/* $1 caller, $2 isActive or null, $3 LIKE pattern or null, $4 offset, $5 limit. */
const MINE = `from project_member me join project p on p.id = me.project_id
  where me.user_id = $1
    and ($2::boolean is null or p.is_active = $2::boolean)
    and ($3::text is null or lower(p.name) like lower($3::text) or lower(p.code) like lower($3::text))`;

const listText = (order: string) => `with page as (
  select p.id, me.role, row_number() over (order by ${order}, p.id) as ord
  ${MINE}
  order by ${order}, p.id
  offset $4 limit $5
),
members as (select project_id, count(*)::int as n from project_member
  where project_id = any(array(select id from page)) group by project_id),
files as (select project_id, count(*)::int as n from project_file
  where project_id = any(array(select id from page)) and is_latest group by project_id),
sessions as (select project_id, count(*)::int as n from analysis_session
  where project_id = any(array(select id from page)) group by project_id)
select ${COLUMNS}, page.role as my_role,
  coalesce(members.n, 0) as member_count, coalesce(files.n, 0) as file_count,
  coalesce(sessions.n, 0) as session_count,
  (select count(*)::int ${MINE}) as total
from page join project p on p.id = page.id
left join user_account u on u.id = p.created_by
left join members on members.project_id = p.id
left join files on files.project_id = p.id
left join sessions on sessions.project_id = p.id
order by page.ord`;

const LIST = Object.fromEntries(
  Object.entries(PROJECT_SORTS).map(([sort, order]) => [sort, listText(order)]),
) as Record<ProjectSort, string>;
const COUNT = `select count(*)::int as total ${MINE}`;

export async function selectMyProjects(
  db: DbOrTx,
  callerId: string,
  filter: { isActive: boolean | null; like: string | null; sort: ProjectSort; skip: number; limit: number },
): Promise<{ rows: ProjectRow[]; total: number }> {
  const params = [callerId, filter.isActive, filter.like, filter.skip, filter.limit];
  const rows = await readRows<ProjectRow & { total: number }>(db, LIST[filter.sort], params);
  if (rows.length > 0) return { rows, total: rows[0].total };
  // An empty page (past the end, or nothing matches) still reports how many there are.
  const [{ total }] = await readRows<{ total: number }>(db, COUNT, params.slice(0, 3));
  return { rows, total };
}
