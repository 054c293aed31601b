import { noContent } from "@/http/status";
import { NoContent } from "@/lib/schema";
import { requireProjectRole } from "@/plugins/project-access";
import * as bindings from "../bindings";
import { BindingPut, NodeDetail, NodeParams } from "../model";
import { type RouteContext, routeGroup, TAGS, writer } from "./shared";

/* Data bindings of input nodes and the node's series as CSV (api.md §2.8 "Nodes and data binding"). */
export function bindingsRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "driver-tree-bindings")
    .put("/node/:nodeId/binding", (r) => bindings.putBinding(...writer(ctx, r), r.params.nodeId, r.body), {
      project: requireProjectRole("member"),
      params: NodeParams,
      body: BindingPut,
      response: NodeDetail,
      detail: {
        tags: TAGS,
        operationId: "driverTree.binding.put",
        summary: "Bind an input node to an item of a selected sheet (creator, moderator or manager)",
        description:
          "The node's series = the item's values in the data columns passing axisFilter, grouped by the sheet's time column and aggregated (sum, mean or latest). The sheet needs a time column and the item must be one of its 科目 values (422 BINDING_INVALID with availableSubjects).",
        "x-problem-codes": [
          "NODE_NOT_FOUND",
          "NOT_OWNER",
          "SHEET_NOT_FOUND",
          "COLUMN_NOT_FOUND",
          "SHEET_NOT_SELECTED",
          "BINDING_INVALID",
        ],
      },
    })
    .delete(
      "/node/:nodeId/binding",
      async (r) => {
        await bindings.deleteBinding(...writer(ctx, r), r.params.nodeId);
        return noContent(r.set);
      },
      {
        project: requireProjectRole("member"),
        params: NodeParams,
        response: NoContent,
        detail: {
          tags: TAGS,
          operationId: "driverTree.binding.delete",
          summary: "Remove a node's binding (creator, moderator or manager)",
          description: "The node falls back to its manual value.",
          "x-problem-codes": ["NODE_NOT_FOUND", "NOT_OWNER"],
        },
      },
    )
    .get(
      "/node/:nodeId/preview/output",
      async ({ access, params, set }) => {
        const { csv } = await bindings.previewCsv(ctx.db, access.project.id, params.nodeId, ctx.frames);
        set.headers["Content-Type"] = "text/csv; charset=utf-8";
        set.headers["Content-Disposition"] = `attachment; filename="node_${params.nodeId}.csv"`;
        return csv;
      },
      {
        project: requireProjectRole("viewer"),
        params: NodeParams,
        detail: {
          tags: TAGS,
          operationId: "driverTree.node.preview",
          summary: "The node's series per period as CSV (V+)",
          description:
            "UTF-8 with BOM and CRLF: a `period,value` header, then one row per period of the tree with the node's value before policies (empty when null).",
          responses: {
            200: {
              description: "period,value rows",
              content: { "text/csv": { schema: { type: "string" } } },
            },
          },
          "x-problem-codes": ["NODE_NOT_FOUND"],
        },
      },
    );
}
