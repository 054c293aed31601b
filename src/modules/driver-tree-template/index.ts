import { Elysia, t } from "elysia";
import type { AppDeps } from "@/deps";
import { Page } from "@/lib/schema";
import { TreeDetail } from "@/modules/driver-tree/model";
import { ProjectParams } from "@/modules/project/model";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import {
  TreeTemplate,
  TreeTemplateApply,
  TreeTemplateCreate,
  TreeTemplateParams,
  TreeTemplateQuery,
} from "./model";
import * as service from "./service";

/* Driver-tree templates of a project, plus public ones of every project (api.md §2.8). */
export function driverTreeTemplateController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["driver-tree"];
  const tdeps = (auth: { actor: service.TemplateDeps["actor"] }) => ({ db, actor: auth.actor });
  return new Elysia({ name: "driver-tree-template", prefix: "/project/:projectId/driver-tree/template" })
    .use(projectAccessPlugin(deps))
    .get("", ({ access, caller, query }) => service.listTemplates(db, access, caller, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: TreeTemplateQuery,
      response: Page(TreeTemplate),
      detail: {
        tags,
        operationId: "driverTree.template.list",
        description:
          "Driver-tree templates of this project, plus public templates of other projects unless includePublic=false (without config).",
        summary: "Tree templates of the project plus public ones (V+)",
      },
    })
    .post(
      "",
      async ({ access, caller, auth, body, set }) => {
        const out = await service.createTemplate(tdeps(auth), caller, access, body);
        set.status = 201;
        set.headers.Location = `/api/v1/project/${access.project.id}/driver-tree/template/${out.id}`;
        return out;
      },
      {
        project: requireProjectRole("member"),
        params: ProjectParams,
        body: TreeTemplateCreate,
        response: { 201: TreeTemplate },
        detail: {
          tags,
          operationId: "driverTree.template.create",
          "x-problem-codes": ["TREE_NOT_FOUND", "NAME_TAKEN"],
          description:
            "Saves a tree's structure (positions relative to the root, constant values; no bindings, no policies). Members or higher; isPublic=true needs a project manager.",
          summary: "Save a tree as a template (M+; public: PM)",
        },
      },
    )
    .get(
      "/:templateId",
      ({ access, caller, params }) => service.getTemplate(db, access, caller, params.templateId),
      {
        project: requireProjectRole("viewer"),
        params: TreeTemplateParams,
        response: TreeTemplate,
        detail: {
          tags,
          operationId: "driverTree.template.get",
          "x-problem-codes": ["TEMPLATE_NOT_FOUND"],
          description: "One template of this project, or a public one of any project, with its config.",
          summary: "One tree template with its config (V+)",
        },
      },
    )
    .delete(
      "/:templateId",
      async ({ access, caller, auth, params, set }) => {
        await service.deleteTemplate(tdeps(auth), caller, access, params.templateId);
        set.status = 204;
      },
      {
        project: requireProjectRole("member"),
        params: TreeTemplateParams,
        response: { 204: t.Void({ description: "Deleted" }) },
        detail: {
          tags,
          operationId: "driverTree.template.delete",
          "x-problem-codes": ["TEMPLATE_NOT_FOUND", "NOT_OWNER"],
          description:
            "Deletes a template of this project (its creator, moderators or managers); trees made from it keep existing.",
          summary: "Delete a tree template of this project (Own|Mod+)",
        },
      },
    )
    .post(
      "/:templateId/apply",
      async ({ access, caller, auth, params, body, set }) => {
        const tree = await service.applyTemplate(tdeps(auth), caller, access, params.templateId, body);
        set.status = 201;
        set.headers.Location = `/api/v1/project/${access.project.id}/driver-tree/tree/${tree.id}`;
        return tree;
      },
      {
        project: requireProjectRole("member"),
        params: TreeTemplateParams,
        body: TreeTemplateApply,
        response: { 201: TreeDetail },
        detail: {
          tags,
          operationId: "driverTree.template.apply",
          "x-problem-codes": ["TEMPLATE_NOT_FOUND"],
          description:
            "Creates a new tree from the template (sourceTemplateId set, root at positionX/positionY) and counts the use.",
          summary: "Create a tree from a template (M+)",
        },
      },
    );
}
