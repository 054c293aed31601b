import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { Page } from "@/lib/schema";
import { ProjectParams } from "@/modules/project/model";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import { CatalogueIssue, CatalogueQuery, IssueDetail, IssueParams } from "./model";
import * as service from "./service";

/* The issue catalogue as seen from a project (api.md §2.6; saved templates come with #7's rest). */
export function analysisCatalogueController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["analysis"];
  return new Elysia({ name: "analysis-catalogue", prefix: "/project/:projectId/analysis/template" })
    .use(projectAccessPlugin(deps))
    .get("", ({ query }) => service.listCatalogue(db, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: CatalogueQuery,
      response: Page(CatalogueIssue),
      detail: { tags, summary: "Catalogue: active issues of active themes (V+)" },
    })
    .get("/:issueId", async ({ params }) => (await service.getIssue(db, params.issueId)).detail, {
      project: requireProjectRole("viewer"),
      params: IssueParams,
      response: IssueDetail,
      detail: { tags, summary: "One issue with its pickers, sample input and previews (V+)" },
    });
}
