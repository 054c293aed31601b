import type { DbOrTx } from "@/db/client";
import { likePattern, page } from "@/lib/schema";
import { activityFeed } from "@/modules/dashboard/service";
import { listMembers } from "@/modules/member/service";
import { projectNotFound } from "@/modules/project/access";
import type { ProjectRow } from "@/modules/project/queries";
import { toProject } from "@/modules/project/service";
import type { AdminProject, AdminProjectListQuery, InactiveProjectQuery } from "./model";
import {
  type AdminProjectFilter,
  selectAdminProject,
  selectAdminProjects,
  selectManagers,
  selectProjectStorage,
  selectProjectSummary,
  selectStorageTotals,
} from "./queries";

/* The all-projects view (api.md §2.12.11): every project, whoever its members are. */

const MEMBERS_MAX = 100;
const ACTIVITY_MAX = 20;

type UserRef = AdminProject["managers"][number];

function toAdminProject(row: ProjectRow, managers: UserRef[]): AdminProject {
  const { myRole: _role, viaSystemAdmin: _via, ...project } = toProject(row);
  return { ...project, managers };
}

/* Projects with their managers: the managers of the whole page come from one query. */
async function withManagers(db: DbOrTx, rows: ProjectRow[]): Promise<AdminProject[]> {
  const managers = await selectManagers(
    db,
    rows.map((r) => r.id),
  );
  const byProject = new Map<string, UserRef[]>();
  for (const m of managers) {
    const list = byProject.get(m.projectId) ?? [];
    list.push({ id: m.id, email: m.email, displayName: m.displayName });
    byProject.set(m.projectId, list);
  }
  return rows.map((r) => toAdminProject(r, byProject.get(r.id) ?? []));
}

async function listPage(db: DbOrTx, filter: AdminProjectFilter) {
  const { rows, total } = await selectAdminProjects(db, filter);
  return page(await withManagers(db, rows), total, filter.skip, filter.limit);
}

export async function listProjects(db: DbOrTx, q: AdminProjectListQuery) {
  const status = q.status ?? "all";
  const [list, summary] = await Promise.all([
    listPage(db, {
      isActive: status === "all" ? null : status === "active",
      managerId: q.managerId ?? null,
      inactiveDays: q.inactiveDays ?? null,
      like: q.q ? likePattern(q.q) : null,
      sort: q.sort ?? "-createdAt",
      skip: q.skip ?? 0,
      limit: q.limit ?? 50,
    }),
    selectProjectSummary(db),
  ]);
  return {
    ...list,
    summary: {
      total: summary.total,
      active: summary.active,
      inactive: summary.total - summary.active,
      totalStorageBytes: summary.total_bytes,
    },
  };
}

/* Active projects idle for `inactiveDays` (the candidates for archiving), longest idle first. */
export function listInactiveProjects(db: DbOrTx, q: InactiveProjectQuery) {
  return listPage(db, {
    isActive: true,
    managerId: null,
    inactiveDays: q.inactiveDays ?? 30,
    like: null,
    sort: "lastActivityAt",
    skip: q.skip ?? 0,
    limit: q.limit ?? 50,
  });
}

export async function projectStorage(db: DbOrTx, q: { skip?: number; limit?: number }) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const [rows, totals] = await Promise.all([selectProjectStorage(db, skip, limit), selectStorageTotals(db)]);
  const items = rows.map((r) => ({
    projectId: r.project_id,
    name: r.name,
    code: r.code,
    storageBytes: r.storage_bytes,
    fileCount: r.file_count,
    versionCount: r.version_count,
  }));
  return { ...page(items, totals.projects, skip, limit), totalBytes: totals.bytes };
}

export async function projectDetail(db: DbOrTx, projectId: string) {
  const row = await selectAdminProject(db, projectId);
  if (!row) throw projectNotFound();
  const [[project], members, feed] = await Promise.all([
    withManagers(db, [row]),
    listMembers(db, projectId, { skip: 0, limit: MEMBERS_MAX }),
    activityFeed(db, { userId: null }, { skip: 0, limit: ACTIVITY_MAX, projectId }),
  ]);
  return {
    ...project,
    members: members.items,
    recentActivity: feed.items,
  };
}
