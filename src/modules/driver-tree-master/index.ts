import { Elysia, t } from "elysia";
import type { AppDeps } from "@/deps";
import { Page } from "@/lib/schema";
import { MasterIdParams, NoQuery } from "@/modules/admin-analysis-master/model";
import { ProjectParams } from "@/modules/project/model";
import { type AuthState, authPlugin } from "@/plugins/auth";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import {
  CategoryCatalogue,
  CategoryCreate,
  CategoryListQuery,
  CategoryMaster,
  CategoryPatch,
  FormulaAnswer,
  FormulaCreate,
  FormulaListQuery,
  FormulaMasterRow,
  FormulaPatch,
  FormulaQuery,
} from "./model";
import * as service from "./service";

/* The driver-tree masters as a project reads them (api.md §2.8 "Masters (read)"). */
export function driverTreeMasterController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["driver-tree"];
  return new Elysia({ name: "driver-tree-master", prefix: "/project/:projectId/driver-tree" })
    .use(projectAccessPlugin(deps))
    .get("/category", () => service.categoryCatalogue(db), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: NoQuery,
      response: CategoryCatalogue,
      detail: {
        tags,
        operationId: "driverTree.category.list",
        description: "Industry categories with their industries and the driver types each uses.",
        summary: "Categories → industries → driver types (V+)",
      },
    })
    .get("/formula", ({ query }) => service.formulaFor(db, query.driverTypeId, query.kpi), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: FormulaQuery,
      response: FormulaAnswer,
      detail: {
        tags,
        operationId: "driverTree.formula.get",
        "x-problem-codes": ["FORMULA_NOT_FOUND"],
        description: "The formula master of a driver type and KPI: the formula lines a tree is built from.",
        summary: "Formula master of a driver type and KPI (V+)",
      },
    });
}

/*
 * Admin CRUD of the driver-tree masters (api.md §2.12.1). Inside one admin guard, like the
 * analysis masters, so a route added later cannot be left open.
 */
export function adminDriverTreeMasterController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const masterDeps = (auth: AuthState): service.MasterDeps => ({ db, cache: deps.cache, actor: auth.actor });
  const noContent = { 204: t.Void({ description: "Done" }) };

  return new Elysia({ name: "admin-driver-tree-master", prefix: "/admin" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        /* category */
        .get("/category", ({ query }) => service.listCategories(db, query), {
          query: CategoryListQuery,
          response: Page(CategoryMaster),
          detail: {
            tags,
            operationId: "admin.category.list",
            description:
              "System admins only. Pages through the driver-tree category rows (category × industry × driver type).",
            summary: "List driver-tree category masters (admin)",
          },
        })
        .post(
          "/category",
          async ({ body, auth, set }) => {
            const out = await service.createCategory(masterDeps(auth), body);
            set.status = 201;
            set.headers.Location = `/api/v1/admin/category/${out.id}`;
            return out;
          },
          {
            body: CategoryCreate,
            response: { 201: CategoryMaster },
            detail: {
              tags,
              operationId: "admin.category.create",
              "x-problem-codes": ["NAME_TAKEN"],
              description:
                "System admins only. Creates a category row; an omitted categoryId, industryId or driverTypeId reuses the id of an existing row with the same name, else a new id.",
              summary: "Create a driver-tree category master (admin)",
            },
          },
        )
        .get("/category/:id", ({ params }) => service.getCategory(db, params.id), {
          params: MasterIdParams,
          query: NoQuery,
          response: CategoryMaster,
          detail: {
            tags,
            operationId: "admin.category.get",
            "x-problem-codes": ["MASTER_NOT_FOUND"],
            description: "System admins only. One driver-tree category master.",
            summary: "One driver-tree category master (admin)",
          },
        })
        .patch(
          "/category/:id",
          ({ params, body, auth }) => service.updateCategoryMaster(masterDeps(auth), params.id, body),
          {
            params: MasterIdParams,
            body: CategoryPatch,
            response: CategoryMaster,
            detail: {
              tags,
              operationId: "admin.category.update",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN"],
              description: "System admins only. Updates a driver-tree category master.",
              summary: "Update a driver-tree category master (admin)",
            },
          },
        )
        .delete(
          "/category/:id",
          async ({ params, auth, set }) => {
            await service.removeCategory(masterDeps(auth), params.id);
            set.status = 204;
          },
          {
            params: MasterIdParams,
            query: NoQuery,
            response: noContent,
            detail: {
              tags,
              operationId: "admin.category.delete",
              "x-problem-codes": ["MASTER_NOT_FOUND"],
              description:
                "System admins only. Deletes a category row; formulas filed under it keep their driver type with categoryId null.",
              summary: "Delete a driver-tree category master (admin)",
            },
          },
        )
        /* formula */
        .get("/formula", ({ query }) => service.listFormulas(db, query), {
          query: FormulaListQuery,
          response: Page(FormulaMasterRow),
          detail: {
            tags,
            operationId: "admin.formula.list",
            description: "System admins only. Pages through the driver-tree formula masters.",
            summary: "List driver-tree formula masters (admin)",
          },
        })
        .post(
          "/formula",
          async ({ body, auth, set }) => {
            const out = await service.createFormula(masterDeps(auth), body);
            set.status = 201;
            set.headers.Location = `/api/v1/admin/formula/${out.id}`;
            return out;
          },
          {
            body: FormulaCreate,
            response: { 201: FormulaMasterRow },
            detail: {
              tags,
              operationId: "admin.formula.create",
              "x-problem-codes": ["NAME_TAKEN", "FORMULA_INVALID", "MASTER_NOT_FOUND"],
              description:
                "System admins only. Creates the formula master of a driver type and KPI; the lines must parse, be acyclic and have the KPI as their single root (422 FORMULA_INVALID with line and index).",
              summary: "Create a driver-tree formula master (admin)",
            },
          },
        )
        .get("/formula/:id", ({ params }) => service.getFormula(db, params.id), {
          params: MasterIdParams,
          query: NoQuery,
          response: FormulaMasterRow,
          detail: {
            tags,
            operationId: "admin.formula.get",
            "x-problem-codes": ["MASTER_NOT_FOUND"],
            description: "System admins only. One driver-tree formula master.",
            summary: "One driver-tree formula master (admin)",
          },
        })
        .patch(
          "/formula/:id",
          ({ params, body, auth }) => service.updateFormulaMaster(masterDeps(auth), params.id, body),
          {
            params: MasterIdParams,
            body: FormulaPatch,
            response: FormulaMasterRow,
            detail: {
              tags,
              operationId: "admin.formula.update",
              "x-problem-codes": ["MASTER_NOT_FOUND", "NAME_TAKEN", "FORMULA_INVALID"],
              description:
                "System admins only. Updates a driver-tree formula master; changed lines or KPI are validated again.",
              summary: "Update a driver-tree formula master (admin)",
            },
          },
        )
        .delete(
          "/formula/:id",
          async ({ params, auth, set }) => {
            await service.removeFormula(masterDeps(auth), params.id);
            set.status = 204;
          },
          {
            params: MasterIdParams,
            query: NoQuery,
            response: noContent,
            detail: {
              tags,
              operationId: "admin.formula.delete",
              "x-problem-codes": ["MASTER_NOT_FOUND"],
              description:
                "System admins only. Deletes a formula master; trees built from it keep their nodes with formulaId null.",
              summary: "Delete a driver-tree formula master (admin)",
            },
          },
        ),
    );
}
