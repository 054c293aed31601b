import { ifNoneMatch } from "@/http/ranged-response";
import { contentDisposition } from "@/lib/file-types";
import { sized } from "@/modules/analysis-session/routes/shared";
import { requireProjectRole } from "@/plugins/project-access";
import { exportTree } from "../export";
import { findTreePicture, renderTreePicture } from "../image";
import { SensitivityQuery, TreeImageQuery, TreeOutputQuery, TreeParams, TreeSensitivity } from "../model";
import { treeSensitivity } from "../sensitivity";
import { type RouteContext, routeGroup, TAGS } from "./shared";

const MIME = {
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  csv: "text/csv; charset=utf-8",
} as const;
const binary = { type: "string", format: "binary" } as const;

/* Read-only outputs of an evaluated tree: sensitivity, the download, the picture. */
export function outputsRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "driver-tree-outputs")
    .get(
      "/tree/:treeId/sensitivity",
      ({ access, params, query }) =>
        treeSensitivity(ctx.db, access.project.id, params.treeId, query, ctx.frames),
      {
        project: requireProjectRole("viewer"),
        params: TreeParams,
        query: SensitivityQuery,
        response: TreeSensitivity,
        detail: {
          tags: TAGS,
          operationId: "driverTree.sensitivity",
          "x-problem-codes": ["TREE_NOT_FOUND", "VALIDATION_FAILED"],
          summary: "Sensitivity of the root to each input, ±deltaPct one at a time (V+)",
          description:
            "For each input node (and constant with includeConstants) the value in every period is scaled by (1 ± deltaPct/100) and the tree evaluated again (analysis.md §7.8). Root values are read at `period` (default: the sum over periods); impact = root± − rootBase, elasticity = (rootUp − rootDown) / (2d · rootBase). Sorted by the larger |impact|, then label; nodes whose value is null are in `skipped`. An unknown period is 422 VALIDATION_FAILED.",
        },
      },
    )
    .get(
      "/tree/:treeId/output",
      async ({ auth, access, params, query }) => {
        const out = await exportTree(
          { db: ctx.db, actor: auth.actor, frames: ctx.frames },
          access.project.id,
          params.treeId,
          query,
        );
        return sized(out.body, {
          "Cache-Control": "private, no-store",
          "Content-Type": MIME[out.format],
          "Content-Disposition": contentDisposition(out.filename),
        });
      },
      {
        project: requireProjectRole("viewer"),
        params: TreeParams,
        query: TreeOutputQuery,
        detail: {
          tags: TAGS,
          operationId: "driverTree.output",
          "x-problem-codes": ["TREE_NOT_FOUND", "VALIDATION_FAILED"],
          summary: "Download the evaluated tree as xlsx or csv (V+)",
          description:
            "One row per node × period (analysis.md §7.9), nodes depth-first from the root, detached nodes last: nodeId, depth, label, nodeType, formula, period, baseline, simulated, delta. xlsx adds the Policies and Summary sheets; csv is UTF-8 with BOM and CRLF. Streamed; text cells starting with = + - @ TAB CR are prefixed with '.",
          responses: {
            200: {
              description:
                "Attachment (Content-Disposition with RFC 6266 filename*), streamed without Content-Length",
              headers: { "Content-Disposition": { schema: { type: "string" } } },
              content: { [MIME.xlsx]: { schema: binary }, "text/csv": { schema: binary } },
            },
          },
        },
      },
    )
    .get(
      "/tree/:treeId/image",
      async ({ access, params, query, request }) => {
        const picture = await findTreePicture(ctx.db, access.project.id, params.treeId, query, ctx.frames);
        const format = query.format ?? "png";
        const etag = format === "png" ? `"${picture.imageId}"` : `"${picture.imageId}-svg"`;
        const headers: Record<string, string> = {
          ETag: etag,
          "Cache-Control": "private, max-age=3600",
          "X-Image-Id": picture.imageId,
          "Content-Disposition": contentDisposition(`${picture.treeName}.${format}`, "inline"),
        };
        if (ifNoneMatch(request.headers.get("if-none-match"), etag))
          return new Response(null, { status: 304, headers });
        const out = await renderTreePicture(
          { storage: ctx.deps.storage, renderer: ctx.deps.chartRenderer },
          params.treeId,
          picture,
          format,
        );
        headers["Content-Type"] = out.contentType;
        return sized(out.body, headers, out.length);
      },
      {
        project: requireProjectRole("viewer"),
        params: TreeParams,
        query: TreeImageQuery,
        detail: {
          tags: TAGS,
          operationId: "driverTree.image",
          "x-problem-codes": ["TREE_NOT_FOUND", "VALIDATION_FAILED", "CHART_RENDERER_UNAVAILABLE"],
          summary: "The evaluated tree as a PNG or SVG picture (V+)",
          description:
            "Root on the left, operators on the links, each node with label, unit, baseline, simulated value and delta at `period` (default: the last period); nodes with policies are outlined and badged. Trees of more than 500 nodes are refused (422 VALIDATION_FAILED). Drawn with the chart renderer and its bundled Noto Sans JP; PNGs are rendered once per content and kept in storage. ETag / If-None-Match are supported.",
          responses: {
            200: {
              description: "The picture; ETag and X-Image-Id identify its content",
              content: { "image/png": { schema: binary }, "image/svg+xml": { schema: { type: "string" } } },
            },
            304: { description: "Not modified (If-None-Match)" },
          },
        },
      },
    );
}
