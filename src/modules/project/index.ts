import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { NoContent, Page } from "@/lib/schema";
import { drainDeletionQueue } from "@/modules/storage-deletion/service";
import { checkProjectAccess, projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import { projectNotFound } from "./access";
import {
  Project,
  ProjectCodeParams,
  ProjectCreate,
  ProjectListQuery,
  ProjectParams,
  ProjectPatch,
} from "./model";
import * as service from "./service";

export function projectController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["project"];
  const projectDeps = (auth: { actor: service.ProjectDeps["actor"] }) => ({
    db,
    cache: deps.cache,
    actor: auth.actor,
  });

  return new Elysia({ name: "project", prefix: "/project" })
    .use(projectAccessPlugin(deps))
    .get("", ({ caller, query }) => service.listMyProjects(db, caller, query), {
      auth: true,
      query: ProjectListQuery,
      response: Page(Project),
      detail: {
        tags,
        operationId: "project.list",
        description: "Projects in which the caller is a member, with the caller's role and statistics.",
        summary: "Projects where the caller is a member",
      },
    })
    .post(
      "",
      async ({ caller, auth, body, set }) => {
        const created = await service.createProject(projectDeps(auth), caller, body);
        set.status = 201;
        set.headers.Location = `/api/v1/project/${created.id}`;
        return created;
      },
      {
        auth: true,
        body: ProjectCreate,
        response: { 201: Project },
        detail: {
          tags,
          operationId: "project.create",
          "x-problem-codes": ["PROJECT_CODE_TAKEN", "INVALID_DATE_RANGE"],
          description:
            "Creates a project with a unique code; the caller becomes its project manager. Answers 201 with Location.",
          summary: "Create a project; the caller becomes its manager",
        },
      },
    )
    .get(
      "/code/:code",
      async ({ request, params, caller, auth }) => {
        const id = await service.findProjectIdByCode(db, params.code);
        if (!id) throw projectNotFound();
        const access = await checkProjectAccess(deps, request, auth, id, requireProjectRole("viewer"));
        return service.getProject(db, caller, access);
      },
      {
        auth: true,
        params: ProjectCodeParams,
        response: Project,
        detail: {
          tags,
          operationId: "project.getByCode",
          "x-problem-codes": ["PROJECT_NOT_FOUND"],
          description:
            "Looks a project up by its code (case-insensitive); needs the viewer role or higher in it.",
          summary: "A project by its code (V+)",
        },
      },
    )
    .get("/:projectId", ({ caller, access }) => service.getProject(db, caller, access), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      response: Project,
      detail: {
        tags,
        operationId: "project.get",
        description: "One project with the caller's role and statistics; needs the viewer role or higher.",
        summary: "A project (V+)",
      },
    })
    .patch(
      "/:projectId",
      ({ caller, auth, access, body }) => service.updateProject(projectDeps(auth), caller, access, body),
      {
        project: requireProjectRole("project_manager", { allowInactive: true }),
        params: ProjectParams,
        body: ProjectPatch,
        response: Project,
        detail: {
          tags,
          operationId: "project.update",
          "x-problem-codes": ["INVALID_DATE_RANGE", "PROJECT_INACTIVE"],
          description:
            "Project managers only. Changes name, description, dates or budget; isActive deactivates or reactivates the project.",
          summary: "Update, deactivate or reactivate a project (PM)",
        },
      },
    )
    .delete(
      "/:projectId",
      async ({ auth, access, set }) => {
        const keys = await service.deleteProject(projectDeps(auth), access);
        await drainDeletionQueue(db, deps.storage, deps.logger, { keys });
        set.status = 204;
      },
      {
        project: requireProjectRole("project_manager", { allowInactive: true }),
        params: ProjectParams,
        response: NoContent,
        detail: {
          tags,
          operationId: "project.delete",
          description:
            "Project managers only. Deletes the project with its members, files, sessions and stored blobs.",
          summary: "Delete a project and everything in it (PM)",
        },
      },
    );
}
