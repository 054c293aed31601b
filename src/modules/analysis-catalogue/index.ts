import { Elysia, t } from "elysia";
import type { AppDeps } from "@/deps";
import { Page } from "@/lib/schema";
import { SessionDetail } from "@/modules/analysis-session/model";
import { ProjectParams } from "@/modules/project/model";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import { catalogueCached } from "./cache";
import {
  CatalogueIssue,
  CatalogueQuery,
  IssueDetail,
  IssueParams,
  SavedTemplate,
  SavedTemplateApply,
  SavedTemplateCreate,
  SavedTemplateParams,
  SavedTemplatePatch,
  SavedTemplateQuery,
} from "./model";
import * as service from "./service";
import * as templates from "./templates";

/* The issue catalogue as seen from a project and the project's saved templates (api.md §2.6). */
export function analysisCatalogueController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["analysis"];
  const tdeps = (auth: { actor: templates.TemplateDeps["actor"] }) => ({
    db,
    actor: auth.actor,
    caches: deps.analysisCaches,
  });
  return (
    new Elysia({ name: "analysis-catalogue", prefix: "/project/:projectId/analysis/template" })
      .use(projectAccessPlugin(deps))
      .get(
        "",
        ({ query }) =>
          catalogueCached(
            deps.cache,
            `list:${query.validationId ?? "all"}:${query.skip ?? 0}:${query.limit ?? 50}`,
            () => service.listCatalogue(db, query),
          ),
        {
          project: requireProjectRole("viewer"),
          params: ProjectParams,
          query: CatalogueQuery,
          response: Page(CatalogueIssue),
          detail: {
            tags,
            operationId: "catalogue.issue.list",
            description: "The analysis catalogue: active issues of active validations, in catalogue order.",
            summary: "Catalogue: active issues of active themes (V+)",
          },
        },
      )
      // `/saved…` before `/:issueId`, so "saved" is never read as an issue id (api.md §2.6).
      .get("/saved", ({ access, caller, query }) => templates.listTemplates(db, access, caller, query), {
        project: requireProjectRole("viewer"),
        params: ProjectParams,
        query: SavedTemplateQuery,
        response: Page(SavedTemplate),
        detail: {
          tags,
          operationId: "template.list",
          description:
            "Saved templates of this project, plus public templates of other projects unless includePublic=false.",
          summary: "Saved templates of the project plus public ones (V+)",
        },
      })
      .post(
        "/saved",
        async ({ access, caller, auth, body, set }) => {
          const saved = await templates.createTemplate(tdeps(auth), caller, access, body);
          set.status = 201;
          set.headers.Location = `/api/v1/project/${access.project.id}/analysis/template/saved/${saved.id}`;
          return saved;
        },
        {
          project: requireProjectRole("member"),
          params: ProjectParams,
          body: SavedTemplateCreate,
          response: { 201: SavedTemplate },
          detail: {
            tags,
            operationId: "template.create",
            "x-problem-codes": ["SESSION_NOT_FOUND", "NAME_TAKEN"],
            description:
              "Saves a session (or its steps only) as a reusable template. Members or higher; a public template needs a project manager.",
            summary: "Save a session (and its steps) as a template (M+; public: PM)",
          },
        },
      )
      .get(
        "/saved/:templateId",
        ({ access, caller, params }) => templates.getTemplate(db, access, caller, params.templateId),
        {
          project: requireProjectRole("viewer"),
          params: SavedTemplateParams,
          response: SavedTemplate,
          detail: {
            tags,
            operationId: "template.get",
            "x-problem-codes": ["TEMPLATE_NOT_FOUND"],
            description: "One saved template of this project, or a public template of any project.",
            summary: "One saved template of the project, or a public one (V+)",
          },
        },
      )
      .patch(
        "/saved/:templateId",
        ({ access, caller, auth, params, body }) =>
          templates.updateTemplate(tdeps(auth), caller, access, params.templateId, body),
        {
          project: requireProjectRole("member"),
          params: SavedTemplateParams,
          body: SavedTemplatePatch,
          response: SavedTemplate,
          detail: {
            tags,
            operationId: "template.update",
            "x-problem-codes": ["TEMPLATE_NOT_FOUND", "NOT_OWNER", "NAME_TAKEN"],
            description:
              "Renames or describes a template (its creator, moderators or managers); changing isPublic needs a project manager.",
            summary: "Rename or describe a template; isPublic needs PM (Own|Mod+)",
          },
        },
      )
      .delete(
        "/saved/:templateId",
        async ({ access, caller, auth, params, set }) => {
          await templates.deleteTemplate(tdeps(auth), caller, access, params.templateId);
          set.status = 204;
        },
        {
          project: requireProjectRole("member"),
          params: SavedTemplateParams,
          response: { 204: t.Void({ description: "Deleted" }) },
          detail: {
            tags,
            operationId: "template.delete",
            "x-problem-codes": ["TEMPLATE_NOT_FOUND", "NOT_OWNER"],
            description: "Deletes a template of this project (its creator, moderators or managers).",
            summary: "Delete a template of this project (Own|Mod+)",
          },
        },
      )
      .post(
        "/saved/:templateId/apply",
        async ({ access, caller, auth, params, body, set }) => {
          const { status, detail } = await templates.applyTemplate(
            tdeps(auth),
            caller,
            access,
            params.templateId,
            body,
          );
          set.status = status;
          if (status === 201) {
            set.headers.Location = `/api/v1/project/${access.project.id}/analysis/session/${detail.id}`;
          }
          return detail;
        },
        {
          project: requireProjectRole("member"),
          params: SavedTemplateParams,
          body: SavedTemplateApply,
          response: { 200: SessionDetail, 201: SessionDetail },
          detail: {
            tags,
            operationId: "template.apply",
            description:
              "A session template creates a new session (201); a step template appends its steps to targetSessionId (200).",
            summary:
              "Apply: session → new session (201, M+); step → steps appended to targetSessionId (Own|Mod+)",
            "x-problem-codes": [
              "TEMPLATE_NOT_FOUND",
              "ISSUE_NOT_FOUND",
              "MASTER_ARCHIVED",
              "SESSION_NOT_FOUND",
              "NOT_OWNER",
              "SESSION_ARCHIVED",
              "CHAT_IN_PROGRESS",
              "INPUT_FILE_REQUIRED",
              "TEMPLATE_NOT_APPLICABLE",
            ],
          },
        },
      )
      .get(
        "/:issueId",
        ({ params }) =>
          catalogueCached(
            deps.cache,
            `issue:${params.issueId}`,
            async () => (await service.getIssue(db, params.issueId)).detail,
          ),
        {
          project: requireProjectRole("viewer"),
          params: IssueParams,
          response: IssueDetail,
          detail: {
            tags,
            operationId: "catalogue.issue.get",
            "x-problem-codes": ["ISSUE_NOT_FOUND"],
            description:
              "One catalogue issue with its axis pickers, dummy input and preview formulas and charts.",
            summary: "One issue with its pickers, sample input and previews (V+)",
          },
        },
      )
  );
}
