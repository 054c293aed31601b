import { asc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { type DbOrTx, rowsOf } from "@/db/client";
import { projectMember, userAccount } from "@/db/schema";
import { PROJECT_COLUMNS, type ProjectRow } from "@/modules/project/queries";

/*
 * The all-projects view (api.md §2.12.11). Project rows are read with the project module's own
 * column list, so `toProject` maps them exactly as it maps a member's view; member, file and
 * storage figures are the trigger-kept columns on `project`, and the storage page sums the
 * `project_file` rows themselves (every version is a stored object).
 */

export const ADMIN_PROJECT_SORTS = {
  "-createdAt": "p.created_at desc",
  "-lastActivityAt": "p.last_activity_at desc",
  "-storageBytes": "p.storage_bytes desc",
  name: "lower(p.name) asc",
  // Not offered to clients: the inactive view lists the longest-idle first.
  lastActivityAt: "p.last_activity_at asc",
} as const;
export type AdminProjectSort = keyof typeof ADMIN_PROJECT_SORTS;

export type AdminProjectFilter = {
  isActive: boolean | null;
  managerId: string | null;
  inactiveDays: number | null;
  /* A LIKE pattern (already escaped) matched against name and code, case-insensitively. */
  like: string | null;
  sort: AdminProjectSort;
  skip: number;
  limit: number;
};

async function rows<T>(db: DbOrTx, query: SQL): Promise<T[]> {
  return rowsOf<T>(await db.execute(query));
}

function whereOf(f: AdminProjectFilter): SQL {
  const parts: SQL[] = [sql`true`];
  if (f.isActive !== null) parts.push(sql`p.is_active = ${f.isActive}`);
  if (f.managerId !== null) {
    parts.push(sql`exists (select 1 from project_member m
      where m.project_id = p.id and m.user_id = ${f.managerId} and m.role = 'project_manager')`);
  }
  if (f.inactiveDays !== null) {
    parts.push(sql`p.last_activity_at < now() - make_interval(days => ${f.inactiveDays}::int)`);
  }
  if (f.like !== null)
    parts.push(sql`(lower(p.name) like lower(${f.like}) or lower(p.code) like lower(${f.like}))`);
  return sql.join(parts, sql` and `);
}

export type AdminProjectRow = ProjectRow & { total: number };

export async function selectAdminProjects(
  db: DbOrTx,
  f: AdminProjectFilter,
): Promise<{ rows: ProjectRow[]; total: number }> {
  const where = whereOf(f);
  const found = await rows<AdminProjectRow>(
    db,
    sql`select ${sql.raw(PROJECT_COLUMNS)}, null::text as my_role, (count(*) over ())::int as total
    from project p left join user_account u on u.id = p.created_by
    where ${where}
    order by ${sql.raw(ADMIN_PROJECT_SORTS[f.sort])}, p.id
    offset ${f.skip} limit ${f.limit}`,
  );
  if (found.length > 0) return { rows: found, total: found[0].total };
  // An empty page (past the end, or nothing matches) still reports how many there are.
  const [{ total }] = await rows<{ total: number }>(
    db,
    sql`select count(*)::int as total from project p where ${where}`,
  );
  return { rows: [], total };
}

export async function selectAdminProject(db: DbOrTx, id: string): Promise<ProjectRow | null> {
  const [row] = await rows<ProjectRow>(
    db,
    sql`select ${sql.raw(PROJECT_COLUMNS)}, null::text as my_role
    from project p left join user_account u on u.id = p.created_by where p.id = ${id}`,
  );
  return row ?? null;
}

/* The managers of a page of projects, in one statement. */
export function selectManagers(db: DbOrTx, projectIds: string[]) {
  if (projectIds.length === 0) return Promise.resolve([]);
  return db
    .select({
      projectId: projectMember.projectId,
      id: userAccount.id,
      email: userAccount.email,
      displayName: userAccount.displayName,
    })
    .from(projectMember)
    .innerJoin(userAccount, eq(userAccount.id, projectMember.userId))
    .where(sql`${inArray(projectMember.projectId, projectIds)} and ${projectMember.role} = 'project_manager'`)
    .orderBy(sql`lower(coalesce(${userAccount.displayName}, ${userAccount.email}))`, asc(userAccount.id));
}

export async function selectProjectSummary(
  db: DbOrTx,
): Promise<{ total: number; active: number; total_bytes: number }> {
  const [row] = await rows<{ total: number; active: number; total_bytes: number }>(
    db,
    sql`select count(*)::int as total, count(*) filter (where is_active)::int as active,
      (select coalesce(sum(size_bytes), 0)::float8 from project_file) as total_bytes
    from project`,
  );
  return row;
}

export type StorageRow = {
  project_id: string;
  name: string;
  code: string;
  storage_bytes: number;
  file_count: number;
  version_count: number;
};

/* Largest first; projects without files are listed too (0 bytes), last. */
export function selectProjectStorage(db: DbOrTx, skip: number, limit: number): Promise<StorageRow[]> {
  return rows<StorageRow>(
    db,
    sql`with s as (
      select project_id, sum(size_bytes)::float8 as bytes, count(*) filter (where is_latest)::int as files,
        count(*)::int as versions
      from project_file group by project_id)
    select p.id::text as project_id, p.name, p.code, coalesce(s.bytes, 0) as storage_bytes,
      coalesce(s.files, 0) as file_count, coalesce(s.versions, 0) as version_count
    from project p left join s on s.project_id = p.id
    order by coalesce(s.bytes, 0) desc, p.id
    offset ${skip} limit ${limit}`,
  );
}

export async function selectStorageTotals(db: DbOrTx): Promise<{ projects: number; bytes: number }> {
  const [row] = await rows<{ projects: number; bytes: number }>(
    db,
    sql`select (select count(*)::int from project) as projects,
      (select coalesce(sum(size_bytes), 0)::float8 from project_file) as bytes`,
  );
  return row;
}
