import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { Closed, Page, PageQuery } from "@/lib/schema";
import { authPlugin } from "@/plugins/auth";
import {
  AdminProject,
  AdminProjectDetail,
  AdminProjectListQuery,
  AdminProjectPage,
  AdminProjectParams,
  InactiveProjectQuery,
  ProjectStoragePage,
} from "./model";
import * as service from "./service";

/* The all-projects view (api.md §2.12.11), inside the one admin guard; read-only, so nothing to audit. */
export function adminProjectController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];

  return new Elysia({ name: "admin-project", prefix: "/admin/projects" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get("", ({ query }) => service.listProjects(db, query), {
          query: AdminProjectListQuery,
          response: AdminProjectPage,
          detail: {
            tags,
            operationId: "admin.project.list",
            summary: "Every project, with its managers (admin)",
            description:
              "System admins only. All projects whatever their members, filtered by status, manager, idle days and name/code; `summary` counts every project in the system.",
          },
        })
        .get("/storage", ({ query }) => service.projectStorage(db, query), {
          query: Closed(PageQuery),
          response: ProjectStoragePage,
          detail: {
            tags,
            operationId: "admin.project.storage",
            summary: "Stored bytes per project, largest first (admin)",
            description:
              "System admins only. Sums of the stored file rows: every version counts in `storageBytes` and `versionCount`, each version chain once in `fileCount`.",
          },
        })
        .get("/inactive", ({ query }) => service.listInactiveProjects(db, query), {
          query: InactiveProjectQuery,
          response: Page(AdminProject),
          detail: {
            tags,
            operationId: "admin.project.inactive",
            summary: "Active projects without recent activity (admin)",
            description:
              "System admins only. Active projects whose last activity is older than `inactiveDays` (default 30), longest idle first.",
          },
        })
        .get("/:projectId", ({ params }) => service.projectDetail(db, params.projectId), {
          params: AdminProjectParams,
          response: AdminProjectDetail,
          detail: {
            tags,
            operationId: "admin.project.get",
            "x-problem-codes": ["PROJECT_NOT_FOUND"],
            summary: "One project with its members and recent activity (admin)",
            description:
              "System admins only, members or not (not audited as project access: nothing inside the project is opened). Up to 100 members (managers first) and the 20 latest changes.",
          },
        }),
    );
}
