import { type SQL, sql } from "drizzle-orm";
import { type DbOrTx, rowsOf } from "@/db/client";
import { likePattern } from "@/lib/schema";
import type { SearchType } from "./model";

/*
 * The search (api.md §2.11) as one statement: one branch per type, UNION ALL, counted and paged in
 * the database. Every branch matches `lower(col) LIKE lower(pattern)`, the shape the trigram
 * indexes of migration 0009 are built for (they serve patterns of 3+ characters; shorter ones scan).
 * The union carries only (type, id, project, time); the page's 50 rows get their details by key.
 */

/** Which projects the caller may see: all (system admins), or those with a membership row. */
export type SearchScope = { userId: string | null; projectId: string | null };

export type SearchRow = {
  total: number;
  type: SearchType | null;
  id: string;
  name: string;
  description: string | null;
  matchedField: string;
  matchedText: string;
  projectId: string;
  projectName: string;
  chainId: string | null;
  updatedAt: string;
};

function inScope(column: SQL, scope: SearchScope): SQL {
  const parts: SQL[] = [];
  if (scope.projectId) parts.push(sql`${column} = ${scope.projectId}`);
  if (scope.userId) {
    // `= any(array(...))`: the membership list is read once and each table gets one index condition,
    // where `in (subquery)` let the planner re-run the trigram scan once per project (bench).
    parts.push(
      sql`${column} = any(array(select pm.project_id from project_member pm where pm.user_id = ${scope.userId}))`,
    );
  }
  return parts.length ? sql.join(parts, sql` and `) : sql`true`;
}

const likeOf = (pattern: string) => (column: SQL) => sql`lower(${column}) like lower(${pattern})`;

/*
 * Only what ordering and paging need: the page's details are joined for its rows alone. Every
 * branch names its columns: a UNION takes the names of its first branch, and any type may be first.
 */
function branches(types: readonly SearchType[], pattern: string, scope: SearchScope): SQL[] {
  const like = likeOf(pattern);
  const out: SQL[] = [];
  if (types.includes("project")) {
    out.push(sql`select 'project' as type, p.id, p.id as project_id, p.updated_at from project p
      where p.is_active and (${like(sql`p.name`)} or ${like(sql`p.code`)} or ${like(sql`p.description`)})
        and ${inScope(sql`p.id`, scope)}`);
  }
  if (types.includes("session")) {
    out.push(sql`select 'session' as type, s.id, s.project_id, s.updated_at from analysis_session s
      where ${like(sql`s.name`)} and ${inScope(sql`s.project_id`, scope)}`);
  }
  if (types.includes("file")) {
    out.push(sql`select 'file' as type, f.id, f.project_id, f.uploaded_at as updated_at from project_file f
      where f.is_latest and ${like(sql`f.original_filename`)} and ${inScope(sql`f.project_id`, scope)}`);
  }
  if (types.includes("tree")) {
    out.push(sql`select 'tree' as type, d.id, d.project_id, d.updated_at from driver_tree d
      where (${like(sql`d.name`)} or ${like(sql`d.description`)}) and ${inScope(sql`d.project_id`, scope)}`);
  }
  return out;
}

/** The statement of `searchAll`, exposed so the benchmark can EXPLAIN exactly what runs. */
export function searchStatement(
  q: string,
  types: readonly SearchType[],
  scope: SearchScope,
  skip: number,
  limit: number,
): SQL {
  const pattern = likePattern(q);
  const like = likeOf(pattern);
  const union = sql.join(branches(types, pattern, scope), sql` union all `);
  // The first matching field, in the order api.md lists them.
  const field = sql`case pg.type
      when 'project' then case when ${like(sql`p.name`)} then 'name' when ${like(sql`p.code`)} then 'code'
        else 'description' end
      when 'session' then 'name'
      when 'file' then 'originalFilename'
      else case when ${like(sql`d.name`)} then 'name' else 'description' end
    end`;
  return sql`
    with hits as (${union}),
    pg as (select * from hits order by updated_at desc, id desc limit ${limit} offset ${skip}),
    page as (
      select pg.type, pg.id, pg.project_id, pg.updated_at, ${field} as matched_field,
        coalesce(p.name, s.name, f.original_filename, d.name)::text as name,
        case pg.type when 'project' then p.description when 'file' then f.comment::text
          when 'tree' then nullif(d.description, '') end as description,
        p.code::text as code, p.description as p_description, d.description as d_description, f.chain_id
      from pg
      left join project p on pg.type = 'project' and p.id = pg.id
      left join analysis_session s on pg.type = 'session' and s.id = pg.id
      left join project_file f on pg.type = 'file' and f.id = pg.id
      left join driver_tree d on pg.type = 'tree' and d.id = pg.id
    )
    select c.total, page.type, page.id, page.name, page.description, page.matched_field as "matchedField",
      case page.matched_field when 'code' then page.code
        when 'description' then coalesce(page.p_description, page.d_description) else page.name end as "matchedText",
      page.project_id as "projectId", pr.name::text as "projectName", page.chain_id as "chainId",
      to_char(page.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
    from (select count(*)::int as total from hits) c
    left join page on true
    left join project pr on pr.id = page.project_id
    order by page.updated_at desc, page.id desc`;
}

/**
 * One page of hits, newest first (ties by id), and the count of all hits. The count row always
 * comes back, so a page past the end still reports the total (its hit columns are null).
 */
export async function searchAll(
  db: DbOrTx,
  q: string,
  types: readonly SearchType[],
  scope: SearchScope,
  skip: number,
  limit: number,
): Promise<{ rows: SearchRow[]; total: number }> {
  const rows = rowsOf<SearchRow>(await db.execute(searchStatement(q, types, scope, skip, limit)));
  return { rows: rows.filter((r) => r.type !== null), total: rows[0]?.total ?? 0 };
}
