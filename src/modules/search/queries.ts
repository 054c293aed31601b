import { type SQL, sql } from "drizzle-orm";
import { type DbOrTx, rowsOf } from "@/db/client";
import { likePattern } from "@/lib/schema";
import type { SearchType } from "./model";

/*
 * The search (api.md §2.11) as one statement: one branch per type, UNION ALL, counted and paged in
 * the database. Every branch matches `lower(col) LIKE lower(pattern)`, the shape the trigram
 * indexes of migration 0009 are built for (they serve patterns of 3+ characters; shorter ones scan).
 * Every branch names every column: a UNION takes its names from its first branch, and any type may
 * come first.
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
    parts.push(
      sql`${column} in (select pm.project_id from project_member pm where pm.user_id = ${scope.userId})`,
    );
  }
  return parts.length ? sql.join(parts, sql` and `) : sql`true`;
}

function branches(types: readonly SearchType[], pattern: string, scope: SearchScope): SQL[] {
  const like = (column: SQL) => sql`lower(${column}) like lower(${pattern})`;
  const out: SQL[] = [];
  if (types.includes("project")) {
    const [name, code, desc] = [like(sql`p.name`), like(sql`p.code`), like(sql`p.description`)];
    out.push(sql`select 'project' as type, p.id, p.name::text as name, p.description,
        case when ${name} then 'name' when ${code} then 'code' else 'description' end as matched_field,
        case when ${name} then p.name::text when ${code} then p.code::text else p.description end as matched_text,
        p.id as project_id, p.updated_at, null::uuid as chain_id
      from project p
      where p.is_active and (${name} or ${code} or ${desc}) and ${inScope(sql`p.id`, scope)}`);
  }
  if (types.includes("session")) {
    out.push(sql`select 'session' as type, s.id, s.name::text as name, null::text as description, 'name' as matched_field,
        s.name::text as matched_text, s.project_id, s.updated_at, null::uuid as chain_id
      from analysis_session s
      where ${like(sql`s.name`)} and ${inScope(sql`s.project_id`, scope)}`);
  }
  if (types.includes("file")) {
    out.push(sql`select 'file' as type, f.id, f.original_filename::text as name, f.comment::text as description,
        'originalFilename' as matched_field, f.original_filename::text as matched_text, f.project_id,
        f.uploaded_at as updated_at, f.chain_id
      from project_file f
      where f.is_latest and ${like(sql`f.original_filename`)} and ${inScope(sql`f.project_id`, scope)}`);
  }
  if (types.includes("tree")) {
    const name = like(sql`d.name`);
    out.push(sql`select 'tree' as type, d.id, d.name::text as name, nullif(d.description, '') as description,
        case when ${name} then 'name' else 'description' end as matched_field,
        case when ${name} then d.name::text else d.description end as matched_text, d.project_id, d.updated_at,
        null::uuid as chain_id
      from driver_tree d
      where (${name} or ${like(sql`d.description`)}) and ${inScope(sql`d.project_id`, scope)}`);
  }
  return out;
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
  const union = sql.join(branches(types, likePattern(q), scope), sql` union all `);
  const result = await db.execute(sql`
    with hits as (${union})
    select c.total, pg.type, pg.id, pg.name, pg.description, pg.matched_field as "matchedField",
      pg.matched_text as "matchedText", pg.project_id as "projectId", pg.project_name as "projectName",
      pg.chain_id as "chainId",
      to_char(pg.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt"
    from (select count(*)::int as total from hits) c
    left join lateral (
      select h.*, pr.name::text as project_name
      from hits h join project pr on pr.id = h.project_id
      order by h.updated_at desc, h.id desc
      limit ${limit} offset ${skip}
    ) pg on true
    order by pg.updated_at desc, pg.id desc`);
  const rows = rowsOf<SearchRow>(result);
  return { rows: rows.filter((r) => r.type !== null), total: rows[0]?.total ?? 0 };
}
