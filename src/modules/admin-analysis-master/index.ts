import { Elysia, t } from "elysia";
import type { AppDeps } from "@/deps";
import { Page } from "@/lib/schema";
import { type AuthState, authPlugin } from "@/plugins/auth";
import {
  DummyChartCreate,
  DummyChartListQuery,
  DummyChartMaster,
  DummyChartPatch,
  DummyFormulaCreate,
  DummyFormulaListQuery,
  DummyFormulaMaster,
  DummyFormulaPatch,
  GraphAxisCreate,
  GraphAxisListQuery,
  GraphAxisMaster,
  GraphAxisPatch,
  IssueCreate,
  IssueListQuery,
  IssueMaster,
  IssuePatch,
  MasterIdParams,
  NoQuery,
  PurgeQuery,
  ValidationCreate,
  ValidationListQuery,
  ValidationMaster,
  ValidationPatch,
} from "./model";
import * as service from "./service";

/*
 * Admin CRUD for the analysis masters (api.md §2.12.1). Every route sits inside one admin guard so
 * a route added later cannot be left open. The check resolves after the global rate limiter, like
 * every other guard, so refused attempts are still counted.
 * The driver-tree `category`/`formula` masters live in the driver-tree-master module.
 */
export function adminAnalysisMasterController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const masterDeps = (auth: AuthState): service.MasterDeps => ({ db, cache: deps.cache, actor: auth.actor });
  const noContent = { 204: t.Void({ description: "Done" }) };

  return new Elysia({ name: "admin-analysis-master", prefix: "/admin" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        /* validation */
        .get("/validation", ({ query }) => service.validations.list(db, query), {
          query: ValidationListQuery,
          response: Page(ValidationMaster),
          detail: {
            tags,
            operationId: "admin.validation.list",
            description: "System admins only. Pages through the validation masters.",
            summary: "List validation masters (admin)",
          },
        })
        .post(
          "/validation",
          async ({ body, auth, set }) => {
            const out = await service.validations.create(masterDeps(auth), body);
            set.status = 201;
            return out;
          },
          {
            body: ValidationCreate,
            response: { 201: ValidationMaster },
            detail: {
              tags,
              operationId: "admin.validation.create",
              "x-problem-codes": ["NAME_TAKEN"],
              description:
                "System admins only. Creates a validation master; the catalogue cache is invalidated.",
              summary: "Create a validation master (admin)",
            },
          },
        )
        .get("/validation/:id", ({ params }) => service.validations.get(db, params.id), {
          params: MasterIdParams,
          query: NoQuery,
          response: ValidationMaster,
          detail: {
            tags,
            operationId: "admin.validation.get",
            "x-problem-codes": ["MASTER_NOT_FOUND"],
            description: "System admins only. One validation master.",
            summary: "One validation master (admin)",
          },
        })
        .patch(
          "/validation/:id",
          ({ params, body, auth }) => service.validations.update(masterDeps(auth), params.id, body),
          {
            params: MasterIdParams,
            body: ValidationPatch,
            response: ValidationMaster,
            detail: {
              tags,
              operationId: "admin.validation.update",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN"],
              description:
                "System admins only. Updates a validation master; the catalogue cache is invalidated.",
              summary: "Update, archive or restore (isActive) a validation master (admin)",
            },
          },
        )
        .delete(
          "/validation/:id",
          async ({ params, query, auth, set }) => {
            await service.validations.remove(masterDeps(auth), params.id, query.purge === true);
            set.status = 204;
          },
          {
            params: MasterIdParams,
            query: PurgeQuery,
            response: noContent,
            detail: {
              tags,
              operationId: "admin.validation.delete",
              description:
                "System admins only. Deletes a validation master; by default it is archived, purge=true hard-deletes one without issues.",
              summary: "Archive a validation master; purge=true hard-deletes one without issues (admin)",
              "x-problem-codes": ["MASTER_NOT_FOUND", "MASTER_IN_USE"],
            },
          },
        )
        /* issue */
        .get("/issue", ({ query }) => service.issues.list(db, query), {
          query: IssueListQuery,
          response: Page(IssueMaster),
          detail: {
            tags,
            operationId: "admin.issue.list",
            description: "System admins only. Pages through the issue masters.",
            summary: "List issue masters (admin)",
          },
        })
        .post(
          "/issue",
          async ({ body, auth, set }) => {
            const out = await service.issues.create(masterDeps(auth), body);
            set.status = 201;
            return out;
          },
          {
            body: IssueCreate,
            response: { 201: IssueMaster },
            detail: {
              tags,
              operationId: "admin.issue.create",
              "x-problem-codes": ["MASTER_NOT_FOUND", "MASTER_ARCHIVED", "NAME_TAKEN"],
              description: "System admins only. Creates a issue master; the catalogue cache is invalidated.",
              summary: "Create an issue master under an active validation (admin)",
            },
          },
        )
        .get("/issue/:id", ({ params }) => service.issues.get(db, params.id), {
          params: MasterIdParams,
          query: NoQuery,
          response: IssueMaster,
          detail: {
            tags,
            operationId: "admin.issue.get",
            "x-problem-codes": ["MASTER_NOT_FOUND"],
            description: "System admins only. One issue master.",
            summary: "One issue master (admin)",
          },
        })
        .patch(
          "/issue/:id",
          ({ params, body, auth }) => service.issues.update(masterDeps(auth), params.id, body),
          {
            params: MasterIdParams,
            body: IssuePatch,
            response: IssueMaster,
            detail: {
              tags,
              operationId: "admin.issue.update",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN", "MASTER_ARCHIVED"],
              description: "System admins only. Updates a issue master; the catalogue cache is invalidated.",
              summary: "Update, archive or restore (isActive) an issue master (admin)",
            },
          },
        )
        .delete(
          "/issue/:id",
          async ({ params, query, auth, set }) => {
            await service.issues.remove(masterDeps(auth), params.id, query.purge === true);
            set.status = 204;
          },
          {
            params: MasterIdParams,
            query: PurgeQuery,
            response: noContent,
            detail: {
              tags,
              operationId: "admin.issue.delete",
              description:
                "System admins only. Deletes a issue master; by default it is archived, purge=true hard-deletes one that no session or template uses.",
              summary:
                "Archive an issue master; purge=true hard-deletes one no session/template uses (admin)",
              "x-problem-codes": ["MASTER_NOT_FOUND", "MASTER_IN_USE"],
            },
          },
        )
        /* graph axis */
        .get("/graph-axis", ({ query }) => service.axes.list(db, query), {
          query: GraphAxisListQuery,
          response: Page(GraphAxisMaster),
          detail: {
            tags,
            operationId: "admin.graphAxis.list",
            description: "System admins only. Pages through the graph-axis masters.",
            summary: "List graph-axis masters (admin)",
          },
        })
        .post(
          "/graph-axis",
          async ({ body, auth, set }) => {
            const out = await service.axes.create(masterDeps(auth), body);
            set.status = 201;
            return out;
          },
          {
            body: GraphAxisCreate,
            response: { 201: GraphAxisMaster },
            detail: {
              tags,
              operationId: "admin.graphAxis.create",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN"],
              description:
                "System admins only. Creates a graph-axis master; the catalogue cache is invalidated.",
              summary: "Create a graph-axis master (admin)",
            },
          },
        )
        .get("/graph-axis/:id", ({ params }) => service.axes.get(db, params.id), {
          params: MasterIdParams,
          query: NoQuery,
          response: GraphAxisMaster,
          detail: {
            tags,
            operationId: "admin.graphAxis.get",
            "x-problem-codes": ["MASTER_NOT_FOUND"],
            description: "System admins only. One graph-axis master.",
            summary: "One graph-axis master (admin)",
          },
        })
        .patch(
          "/graph-axis/:id",
          ({ params, body, auth }) => service.axes.update(masterDeps(auth), params.id, body),
          {
            params: MasterIdParams,
            body: GraphAxisPatch,
            response: GraphAxisMaster,
            detail: {
              tags,
              operationId: "admin.graphAxis.update",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN"],
              description:
                "System admins only. Updates a graph-axis master; the catalogue cache is invalidated.",
              summary: "Update a graph-axis master (admin)",
            },
          },
        )
        .delete(
          "/graph-axis/:id",
          async ({ params, auth, set }) => {
            await service.axes.remove(masterDeps(auth), params.id);
            set.status = 204;
          },
          {
            params: MasterIdParams,
            query: NoQuery,
            response: noContent,
            detail: {
              tags,
              operationId: "admin.graphAxis.delete",
              "x-problem-codes": ["MASTER_NOT_FOUND"],
              description: "System admins only. Deletes a graph-axis master.",
              summary: "Delete a graph-axis master (admin)",
            },
          },
        )
        /* dummy formula */
        .get("/dummy-formula", ({ query }) => service.formulas.list(db, query), {
          query: DummyFormulaListQuery,
          response: Page(DummyFormulaMaster),
          detail: {
            tags,
            operationId: "admin.dummyFormula.list",
            description: "System admins only. Pages through the dummy-formula masters.",
            summary: "List dummy-formula masters (admin)",
          },
        })
        .post(
          "/dummy-formula",
          async ({ body, auth, set }) => {
            const out = await service.formulas.create(masterDeps(auth), body);
            set.status = 201;
            return out;
          },
          {
            body: DummyFormulaCreate,
            response: { 201: DummyFormulaMaster },
            detail: {
              tags,
              operationId: "admin.dummyFormula.create",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN"],
              description:
                "System admins only. Creates a dummy-formula master; the catalogue cache is invalidated.",
              summary: "Create a dummy-formula master (admin)",
            },
          },
        )
        .get("/dummy-formula/:id", ({ params }) => service.formulas.get(db, params.id), {
          params: MasterIdParams,
          query: NoQuery,
          response: DummyFormulaMaster,
          detail: {
            tags,
            operationId: "admin.dummyFormula.get",
            "x-problem-codes": ["MASTER_NOT_FOUND"],
            description: "System admins only. One dummy-formula master.",
            summary: "One dummy-formula master (admin)",
          },
        })
        .patch(
          "/dummy-formula/:id",
          ({ params, body, auth }) => service.formulas.update(masterDeps(auth), params.id, body),
          {
            params: MasterIdParams,
            body: DummyFormulaPatch,
            response: DummyFormulaMaster,
            detail: {
              tags,
              operationId: "admin.dummyFormula.update",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN"],
              description:
                "System admins only. Updates a dummy-formula master; the catalogue cache is invalidated.",
              summary: "Update a dummy-formula master (admin)",
            },
          },
        )
        .delete(
          "/dummy-formula/:id",
          async ({ params, auth, set }) => {
            await service.formulas.remove(masterDeps(auth), params.id);
            set.status = 204;
          },
          {
            params: MasterIdParams,
            query: NoQuery,
            response: noContent,
            detail: {
              tags,
              operationId: "admin.dummyFormula.delete",
              "x-problem-codes": ["MASTER_NOT_FOUND"],
              description: "System admins only. Deletes a dummy-formula master.",
              summary: "Delete a dummy-formula master (admin)",
            },
          },
        )
        /* dummy chart */
        .get("/dummy-chart", ({ query }) => service.charts.list(db, query), {
          query: DummyChartListQuery,
          response: Page(DummyChartMaster),
          detail: {
            tags,
            operationId: "admin.dummyChart.list",
            description: "System admins only. Pages through the dummy-chart masters.",
            summary: "List dummy-chart masters (admin)",
          },
        })
        .post(
          "/dummy-chart",
          async ({ body, auth, set }) => {
            const out = await service.charts.create(masterDeps(auth), body);
            set.status = 201;
            return out;
          },
          {
            body: DummyChartCreate,
            response: { 201: DummyChartMaster },
            detail: {
              tags,
              operationId: "admin.dummyChart.create",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN"],
              description:
                "System admins only. Creates a dummy-chart master; the catalogue cache is invalidated.",
              summary: "Create a dummy-chart master (≤512 KiB figure) (admin)",
            },
          },
        )
        .get("/dummy-chart/:id", ({ params }) => service.charts.get(db, params.id), {
          params: MasterIdParams,
          query: NoQuery,
          response: DummyChartMaster,
          detail: {
            tags,
            operationId: "admin.dummyChart.get",
            "x-problem-codes": ["MASTER_NOT_FOUND"],
            description: "System admins only. One dummy-chart master.",
            summary: "One dummy-chart master (admin)",
          },
        })
        .patch(
          "/dummy-chart/:id",
          ({ params, body, auth }) => service.charts.update(masterDeps(auth), params.id, body),
          {
            params: MasterIdParams,
            body: DummyChartPatch,
            response: DummyChartMaster,
            detail: {
              tags,
              operationId: "admin.dummyChart.update",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN"],
              description:
                "System admins only. Updates a dummy-chart master; the catalogue cache is invalidated.",
              summary: "Update a dummy-chart master (admin)",
            },
          },
        )
        .delete(
          "/dummy-chart/:id",
          async ({ params, auth, set }) => {
            await service.charts.remove(masterDeps(auth), params.id);
            set.status = 204;
          },
          {
            params: MasterIdParams,
            query: NoQuery,
            response: noContent,
            detail: {
              tags,
              operationId: "admin.dummyChart.delete",
              "x-problem-codes": ["MASTER_NOT_FOUND"],
              description: "System admins only. Deletes a dummy-chart master.",
              summary: "Delete a dummy-chart master (admin)",
            },
          },
        ),
    );
}
