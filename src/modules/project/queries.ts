import { and, eq, sql } from "drizzle-orm";
import { type DbOrTx, readRows } from "@/db/client";
import { analysisSession, driverTree, project, projectFile, projectMember } from "@/db/schema";
import { newId } from "@/lib/ids";
import type { Project } from "./model";

/*
 * The project reads behind every project page, as constant SQL (see `readRows`): one statement
 * for a project with its creator, the caller's role and the member/file/session counts, and one
 * statement per (sort order × filters) for the caller's page of projects. The page is chosen
 * first (with the total as a window count), then joined to its projects and creators; the counts
 * are columns kept by triggers (migration 0005), so no row counts another table — and no
 * optional filter is written as `$n is null or …`, which would cost a full evaluation per row
 * and a worse generic plan.
 */

/* Milliseconds since the epoch, truncated like a JavaScript Date (the caller prints ISO-8601). */
const ms = (col: string) => `floor(extract(epoch from ${col}) * 1000)::float8`;

/* Every column `toProject` reads; `p` is the project, `u` its creator (the admin view reads them too). */
export const PROJECT_COLUMNS = `p.id::text as id, p.name, p.code, p.description, p.is_active,
  p.start_date::text as start_date, p.end_date::text as end_date, p.budget::text as budget,
  p.storage_bytes::float8 as storage_bytes, ${ms("p.last_activity_at")} as last_activity_at,
  ${ms("p.deactivated_at")} as deactivated_at, ${ms("p.created_at")} as created_at,
  ${ms("p.updated_at")} as updated_at, u.id::text as creator_id, u.email as creator_email,
  u.display_name as creator_name, p.member_count, p.file_count, p.session_count, p.tree_count`;

export type ProjectRow = {
  id: string;
  name: string;
  code: string;
  description: string | null;
  is_active: boolean;
  start_date: string | null;
  end_date: string | null;
  budget: string | null;
  storage_bytes: number;
  last_activity_at: number;
  deactivated_at: number | null;
  created_at: number;
  updated_at: number;
  creator_id: string | null;
  creator_email: string | null;
  creator_name: string | null;
  my_role: string | null;
  member_count: number;
  file_count: number;
  session_count: number;
  tree_count: number;
};

const ONE = `select ${PROJECT_COLUMNS},
  (select m.role from project_member m where m.project_id = p.id and m.user_id = $2) as my_role
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

export type ProjectListFilter = {
  isActive: boolean | null;
  /* A LIKE pattern (already escaped) matched against name and code, case-insensitively. */
  like: string | null;
  sort: ProjectSort;
  skip: number;
  limit: number;
};

/* ISO-8601 in UTC with milliseconds, truncated like `Date#toISOString` of a driver-read value. */
const iso = (col: string) => `to_char(${col} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/*
 * A list item already in the API's shape (see `toProject`); the page arrives as one JSON array
 * in one row. Decoding twenty columns per row and re-shaping them in JavaScript cost ≈ 12 % of
 * the list route's CPU. `project-list.test.ts` holds every item equal to the single read.
 */
const ITEM = `json_build_object('id', p.id, 'name', p.name, 'code', p.code,
  'description', p.description, 'isActive', p.is_active, 'startDate', p.start_date::text,
  'endDate', p.end_date::text, 'budget', p.budget::float8,
  'createdBy', case when u.id is null then null
    else json_build_object('id', u.id, 'email', u.email, 'displayName', u.display_name) end,
  'myRole', page.role, 'viaSystemAdmin', false, 'lastActivityAt', ${iso("p.last_activity_at")},
  'deactivatedAt', ${iso("p.deactivated_at")},
  'stats', json_build_object('memberCount', p.member_count, 'fileCount', p.file_count,
    'sessionCount', p.session_count, 'treeCount', p.tree_count, 'storageBytes', p.storage_bytes::float8),
  'createdAt', ${iso("p.created_at")}, 'updatedAt', ${iso("p.updated_at")})`;

/* $1 caller, $2 offset, $3 limit, then $4 isActive and/or the pattern when those filters are on. */
function listText(order: string, active: boolean, like: boolean): string {
  const patternParam = active ? "$5" : "$4";
  const where = [
    "me.user_id = $1",
    ...(active ? ["p.is_active = $4"] : []),
    ...(like
      ? [`(lower(p.name) like lower(${patternParam}) or lower(p.code) like lower(${patternParam}))`]
      : []),
  ].join(" and ");
  return `with page as (
  select p.id, me.role, (count(*) over ())::int as total,
    row_number() over (order by ${order}, p.id) as ord
  from project_member me join project p on p.id = me.project_id
  where ${where}
  order by ${order}, p.id
  offset $2 limit $3
)
select min(page.total) as total, json_agg(${ITEM} order by page.ord)::text as items
from page join project p on p.id = page.id
left join user_account u on u.id = p.created_by`;
}

function countText(active: boolean, like: boolean): string {
  const patternParam = active ? "$3" : "$2";
  return `select count(*)::int as total from project_member me join project p on p.id = me.project_id
  where me.user_id = $1${active ? " and p.is_active = $2" : ""}${
    like
      ? ` and (lower(p.name) like lower(${patternParam}) or lower(p.code) like lower(${patternParam}))`
      : ""
  }`;
}

/* Every statement text is built once, at load; the key is sort + which filters are on. */
const variants = (build: (active: boolean, like: boolean) => string) =>
  Object.fromEntries(
    [false, true].flatMap((a) => [false, true].map((l) => [`${a ? "A" : "-"}${l ? "L" : "-"}`, build(a, l)])),
  );
const LIST = Object.fromEntries(
  Object.entries(PROJECT_SORTS).map(([sort, order]) => [sort, variants((a, l) => listText(order, a, l))]),
) as Record<ProjectSort, Record<string, string>>;
const COUNT = variants(countText);

export async function selectMyProjects(
  db: DbOrTx,
  callerId: string,
  filter: ProjectListFilter,
): Promise<{ items: Project[]; total: number }> {
  const active = filter.isActive !== null;
  const like = filter.like !== null;
  const key = `${active ? "A" : "-"}${like ? "L" : "-"}`;
  const extra = [...(active ? [filter.isActive] : []), ...(like ? [filter.like] : [])];
  const [page] = await readRows<{ total: number | null; items: string | null }>(db, LIST[filter.sort][key], [
    callerId,
    filter.skip,
    filter.limit,
    ...extra,
  ]);
  if (page?.items) return { items: JSON.parse(page.items), total: page.total ?? 0 };
  // An empty page (past the end, or nothing matches) still reports how many there are.
  const [{ total }] = await readRows<{ total: number }>(db, COUNT[key], [callerId, ...extra]);
  return { items: [], total };
}

/* The facts every project-scoped request checks: existence, display name, the read-only flag. */
export async function selectProjectFacts(db: DbOrTx, id: string) {
  const [row] = await db
    .select({ id: project.id, code: project.code, name: project.name, isActive: project.isActive })
    .from(project)
    .where(eq(project.id, id))
    .limit(1);
  return row ?? null;
}

export async function selectMemberRole(db: DbOrTx, projectId: string, userId: string) {
  const [row] = await db
    .select({ role: projectMember.role })
    .from(projectMember)
    .where(and(eq(projectMember.projectId, projectId), eq(projectMember.userId, userId)))
    .limit(1);
  return row?.role ?? null;
}

/* The writes behind creating, editing and deleting a project (service.ts keeps the rules). */

export type ProjectRecord = typeof project.$inferSelect;
export type ProjectValues = Omit<typeof project.$inferInsert, "createdAt" | "updatedAt" | "lastActivityAt">;
export type ProjectChanges = Partial<
  Pick<
    typeof project.$inferInsert,
    | "name"
    | "description"
    | "startDate"
    | "endDate"
    | "budget"
    | "isActive"
    | "deactivatedAt"
    | "updatedAt"
    | "lastActivityAt"
  >
>;

/** The id of the project with this code, compared case-insensitively. */
export async function selectProjectIdByCode(db: DbOrTx, code: string): Promise<string | null> {
  const [row] = await db
    .select({ id: project.id })
    .from(project)
    .where(sql`lower(${project.code}) = lower(${code})`)
    .limit(1);
  return row?.id ?? null;
}

export async function insertProject(tx: DbOrTx, values: ProjectValues): Promise<ProjectRecord> {
  const [created] = await tx.insert(project).values(values).returning();
  return created;
}

export async function insertProjectMember(
  tx: DbOrTx,
  values: { projectId: string; userId: string; role: string; addedBy: string },
): Promise<void> {
  await tx.insert(projectMember).values({ id: newId(), ...values });
}

/** The project row, locked FOR UPDATE until the transaction ends. */
export async function lockProject(tx: DbOrTx, id: string): Promise<ProjectRecord | null> {
  const [row] = await tx.select().from(project).where(eq(project.id, id)).for("update");
  return row ?? null;
}

/** Applies the changes (undefined fields stay as they are) and returns the updated row. */
export async function updateProjectRow(
  tx: DbOrTx,
  id: string,
  changes: ProjectChanges,
): Promise<ProjectRecord> {
  const [after] = await tx.update(project).set(changes).where(eq(project.id, id)).returning();
  return after;
}

export async function selectProjectMemberIds(tx: DbOrTx, projectId: string): Promise<string[]> {
  const rows = await tx
    .select({ userId: projectMember.userId })
    .from(projectMember)
    .where(eq(projectMember.projectId, projectId));
  return rows.map((m) => m.userId);
}

export async function selectProjectFileKeys(tx: DbOrTx, projectId: string): Promise<string[]> {
  const rows = await tx
    .select({ key: projectFile.storageKey })
    .from(projectFile)
    .where(eq(projectFile.projectId, projectId));
  return rows.map((f) => f.key);
}

export async function selectProjectSessionIds(tx: DbOrTx, projectId: string): Promise<string[]> {
  const rows = await tx
    .select({ id: analysisSession.id })
    .from(analysisSession)
    .where(eq(analysisSession.projectId, projectId));
  return rows.map((s) => s.id);
}

export async function selectProjectTreeIds(tx: DbOrTx, projectId: string): Promise<string[]> {
  const rows = await tx
    .select({ id: driverTree.id })
    .from(driverTree)
    .where(eq(driverTree.projectId, projectId));
  return rows.map((t) => t.id);
}

/** Deletes the project; the database cascades to everything inside it. */
export async function deleteProjectRow(tx: DbOrTx, id: string): Promise<void> {
  await tx.delete(project).where(eq(project.id, id));
}
