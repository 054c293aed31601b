import { t } from "elysia";
import { Closed, IdOf, Int, Page, PageQuery, QueryInt, UserRef, Uuid } from "@/lib/schema";
import { DashboardActivity } from "@/modules/dashboard/model";
import { Member } from "@/modules/member/model";
import { Project } from "@/modules/project/model";

/* The all-projects view (api.md §2.12.11): the project module's Project, seen from outside it. */

const adminProjectFields = t.Omit(Project, ["myRole", "viaSystemAdmin"]);
const managers = t.Object({
  managers: t.Array(UserRef, { description: "The project's managers, by name" }),
});

export const AdminProject = t.Composite([adminProjectFields, managers], { title: "AdminProject" });

const inactiveDays = (extra: { default?: number; note?: string } = {}) =>
  QueryInt({
    minimum: 1,
    maximum: 3650,
    ...(extra.default === undefined ? {} : { default: extra.default }),
    description: `Only projects without activity for at least this many days${extra.note ?? ""}`,
  });

export const AdminProjectListQuery = Closed({
  ...PageQuery,
  status: t.Optional(
    t.Union([t.Literal("active"), t.Literal("inactive"), t.Literal("all")], {
      description: "Active, deactivated or all projects (default all)",
    }),
  ),
  managerId: t.Optional(IdOf("Manager (user)")),
  inactiveDays: t.Optional(inactiveDays()),
  q: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 100,
      description: "Name or code contains this text (case-insensitive)",
    }),
  ),
  sort: t.Optional(
    t.Union(
      [t.Literal("-createdAt"), t.Literal("-lastActivityAt"), t.Literal("-storageBytes"), t.Literal("name")],
      {
        description: "Sort order; a leading - sorts descending (default -createdAt)",
      },
    ),
  ),
});

export const AdminProjectPage = t.Composite(
  [
    Page(AdminProject),
    t.Object({
      summary: t.Object(
        {
          total: Int({ minimum: 0 }),
          active: Int({ minimum: 0 }),
          inactive: Int({ minimum: 0 }),
          totalStorageBytes: Int({ minimum: 0, description: "Bytes of every stored file version" }),
        },
        { description: "Every project in the system, whatever the filters" },
      ),
    }),
  ],
  { title: "AdminProjectPage" },
);

export const InactiveProjectQuery = Closed({
  ...PageQuery,
  inactiveDays: t.Optional(inactiveDays({ default: 30, note: " (default 30)" })),
});

export const ProjectStorage = t.Object(
  {
    projectId: Uuid,
    name: t.String(),
    code: t.String(),
    storageBytes: Int({ minimum: 0, description: "Bytes of every stored version of every file" }),
    fileCount: Int({ minimum: 0, description: "Files (version chains)" }),
    versionCount: Int({ minimum: 0, description: "Stored versions, all chains" }),
  },
  { title: "ProjectStorage" },
);

export const ProjectStoragePage = t.Composite(
  [
    Page(ProjectStorage),
    t.Object({ totalBytes: Int({ minimum: 0, description: "Bytes of every project" }) }),
  ],
  { title: "ProjectStoragePage" },
);

export const AdminProjectDetail = t.Composite(
  [
    adminProjectFields,
    managers,
    t.Object({
      members: t.Array(Member, { description: "At most 100, managers first" }),
      recentActivity: t.Array(DashboardActivity, { description: "At most 20, newest first" }),
    }),
  ],
  { title: "AdminProjectDetail" },
);

export const AdminProjectParams = Closed({ projectId: IdOf("Project") });

export type AdminProject = typeof AdminProject.static;
export type AdminProjectListQuery = typeof AdminProjectListQuery.static;
export type InactiveProjectQuery = typeof InactiveProjectQuery.static;
