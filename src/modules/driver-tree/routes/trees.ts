import { created, noContent } from "@/http/status";
import { NoContent, Page } from "@/lib/schema";
import { ProjectParams } from "@/modules/project/model";
import { requireProjectRole } from "@/plugins/project-access";
import { treeData } from "../data";
import {
  Policy,
  PolicyListQuery,
  TreeCreate,
  TreeData,
  TreeDataQuery,
  TreeDetail,
  TreeDuplicate,
  TreeImport,
  TreeListQuery,
  TreeParams,
  TreePatch,
  TreeSummary,
} from "../model";
import { listTreePolicies } from "../policies";
import * as service from "../service";
import { type RouteContext, routeGroup, TAGS, treeUrl, writer } from "./shared";

const OWN = ["TREE_NOT_FOUND", "NOT_OWNER"] as const;

/* Trees: list, create (empty or from a formula master), read, change, delete, import, reset, duplicate, policies, data. */
export function treesRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "driver-tree-trees")
    .get("/tree", ({ access, query }) => service.listTrees(ctx.db, access.project.id, query), {
      project: requireProjectRole("viewer"),
      params: ProjectParams,
      query: TreeListQuery,
      response: Page(TreeSummary),
      detail: {
        tags: TAGS,
        operationId: "driverTree.list",
        summary: "Driver trees of the project (V+)",
        description: "Trees filtered by status and name/description text; newest change first by default.",
      },
    })
    .post(
      "/tree",
      async (r) => {
        const tree = await service.createTree(...writer(ctx, r), r.body);
        return created(r.set, tree, treeUrl(r.access.project.id, tree.id));
      },
      {
        project: requireProjectRole("member"),
        params: ProjectParams,
        body: TreeCreate,
        response: { 201: TreeDetail },
        detail: {
          tags: TAGS,
          operationId: "driverTree.create",
          "x-problem-codes": ["FORMULA_NOT_FOUND", "FORMULA_INVALID", "TREE_CYCLE"],
          summary: "Create a tree, empty or built from a formula master (M+)",
          description:
            "An empty tree (no root), or with formulaId the multi-level tree of that master's formulas (analysis.md §7.3), laid out from positionX/positionY.",
        },
      },
    )
    .get("/tree/:treeId", ({ access, params }) => service.getTree(ctx.db, access.project.id, params.treeId), {
      project: requireProjectRole("viewer"),
      params: TreeParams,
      response: TreeDetail,
      detail: {
        tags: TAGS,
        operationId: "driverTree.get",
        "x-problem-codes": ["TREE_NOT_FOUND"],
        summary: "A tree with every node and relationship (V+)",
        description: "Every node, linked or not, and every relationship with its children in order.",
      },
    })
    .patch("/tree/:treeId", (r) => service.updateTree(...writer(ctx, r), r.params.treeId, r.body), {
      project: requireProjectRole("member"),
      params: TreeParams,
      body: TreePatch,
      response: TreeSummary,
      detail: {
        tags: TAGS,
        operationId: "driverTree.update",
        "x-problem-codes": [...OWN, "NODE_NOT_IN_TREE"],
        summary: "Rename, describe, change status or root (creator, moderator or manager)",
        description: "Changes the tree's name, description, status or root node (a node of this tree).",
      },
    })
    .delete(
      "/tree/:treeId",
      async (r) => {
        await service.deleteTree(...writer(ctx, r), r.params.treeId);
        return noContent(r.set);
      },
      {
        project: requireProjectRole("member"),
        params: TreeParams,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "driverTree.delete",
          "x-problem-codes": [...OWN],
          summary: "Delete a tree (creator, moderator or manager)",
          description: "Deletes the tree with its nodes, relationships and policies.",
        },
      },
    )
    .post("/tree/:treeId/import", (r) => service.importFormulas(...writer(ctx, r), r.params.treeId, r.body), {
      project: requireProjectRole("member"),
      params: TreeParams,
      body: TreeImport,
      response: TreeDetail,
      detail: {
        tags: TAGS,
        operationId: "driverTree.import",
        "x-problem-codes": [
          ...OWN,
          "SHEET_NOT_FOUND",
          "SHEET_NOT_SELECTED",
          "BINDING_INVALID",
          "FORMULA_INVALID",
          "TREE_CYCLE",
        ],
        summary: "Import formulas into the tree (creator, moderator or manager)",
        description:
          "Parses every formula (analysis.md §7.2), reuses nodes by label, creates the rest with a tidy layout and writes it all in one transaction; 422 FORMULA_INVALID lists every error with line and index. With `sheetId` the created input nodes named like a 科目 item of that selected sheet are bound to it (sum); a sheet without a time column or whose 科目 is not the value column is 422 BINDING_INVALID.",
      },
    })
    .post("/tree/:treeId/reset", (r) => service.resetTree(...writer(ctx, r), r.params.treeId), {
      project: requireProjectRole("member"),
      params: TreeParams,
      response: TreeDetail,
      detail: {
        tags: TAGS,
        operationId: "driverTree.reset",
        "x-problem-codes": [...OWN],
        summary: "Remove every relationship, keep the nodes (creator, moderator or manager)",
        description: "All relationships are removed; nodes, values, policies and the root stay.",
      },
    })
    .post(
      "/tree/:treeId/duplicate",
      async (r) => {
        const tree = await service.duplicateTree(...writer(ctx, r), r.params.treeId, r.body ?? {});
        return created(r.set, tree, treeUrl(r.access.project.id, tree.id));
      },
      {
        project: requireProjectRole("member"),
        params: TreeParams,
        body: TreeDuplicate,
        response: { 201: TreeDetail },
        detail: {
          tags: TAGS,
          operationId: "driverTree.duplicate",
          "x-problem-codes": ["TREE_NOT_FOUND"],
          summary: "Copy a tree with nodes, relationships, policies and bindings (M+)",
          description: "The caller becomes the copy's creator; the default name is `<name> (コピー)`.",
        },
      },
    )
    .get(
      "/tree/:treeId/policy",
      ({ access, params, query }) => listTreePolicies(ctx.db, access.project.id, params.treeId, query),
      {
        project: requireProjectRole("viewer"),
        params: TreeParams,
        query: PolicyListQuery,
        response: Page(Policy),
        detail: {
          tags: TAGS,
          operationId: "driverTree.policies",
          "x-problem-codes": ["TREE_NOT_FOUND"],
          summary: "Policies of the whole tree (V+)",
          description: "Every policy on a node of the tree, by node label, then name.",
        },
      },
    )
    .get(
      "/tree/:treeId/data",
      ({ access, params, query }) =>
        treeData(ctx.db, access.project.id, params.treeId, query.withPolicies ?? true, ctx.frames),
      {
        project: requireProjectRole("viewer"),
        params: TreeParams,
        query: TreeDataQuery,
        response: TreeData,
        detail: {
          tags: TAGS,
          operationId: "driverTree.data",
          "x-problem-codes": ["TREE_NOT_FOUND"],
          summary: "Evaluate the tree: baseline, with policies, delta, cost and ROI (V+)",
          description:
            "Real evaluation of every node per period (analysis.md §7.6–7.7): baseline without policies, simulated with all of them, delta, policy cost, root totals and ROI.",
        },
      },
    );
}
