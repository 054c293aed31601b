import { ifNoneMatch } from "@/http/ranged-response";
import { contentDisposition } from "@/lib/file-types";
import { docSchema } from "@/lib/schema";
import { requireProjectRole } from "@/plugins/project-access";
import * as charts from "../charts";
import { exportSession } from "../export";
import { ChartQuery, ChartSpec, ExportQuery, SessionParams, SessionResults, StepParams } from "../model";
import * as snapshots from "../snapshots";
import { EXPORT_MIME, EXPORT_RESPONSES, type RouteContext, routeGroup, sized, TAGS } from "./shared";

const CHART_EXT = { png: "png", svg: "svg", plotly: "json", vegalite: "json" } as const;

/* Read-only outputs: summary results, chart images and exports. Headers are shaped here; the services return plain values. */
export function outputsRoutes(ctx: RouteContext) {
  return routeGroup(ctx, "analysis-session-outputs")
    .get(
      "/:sessionId/result",
      ({ access, params }) =>
        snapshots.sessionResults(ctx.db, access.project.id, params.sessionId, ctx.caches),
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        response: SessionResults,
        detail: {
          tags: TAGS,
          operationId: "session.result.get",
          "x-problem-codes": ["SESSION_NOT_FOUND", "INPUT_FILE_REQUIRED"],
          description: "Formulas, charts and tables of every summary step of the current snapshot.",
          summary: "Summary results of the current snapshot (V+)",
        },
      },
    )
    .get(
      "/:sessionId/step/:stepId/chart",
      async ({ access, params, query, request }) => {
        const chart = await charts.findChart(
          { db: ctx.db, caches: ctx.caches },
          access.project.id,
          params.sessionId,
          params.stepId,
          query,
        );
        const format = query.format ?? "png";
        const etag = format === "png" ? `"${chart.graphId}"` : `"${chart.graphId}-${format}"`;
        const headers: Record<string, string> = {
          ETag: etag,
          "Cache-Control": "private, max-age=3600",
          "X-Graph-Id": chart.graphId,
          "Content-Disposition": contentDisposition(`${chart.step.name}.${CHART_EXT[format]}`, "inline"),
        };
        if (ifNoneMatch(request.headers.get("if-none-match"), etag))
          return new Response(null, { status: 304, headers });
        const out = await charts.renderChart(
          { db: ctx.db, caches: ctx.caches, storage: ctx.deps.storage, renderer: ctx.deps.chartRenderer },
          params.sessionId,
          chart,
          format,
        );
        headers["Content-Type"] = out.contentType;
        return sized(out.body, headers, out.length);
      },
      {
        project: requireProjectRole("viewer"),
        params: StepParams,
        query: ChartQuery,
        detail: {
          tags: TAGS,
          operationId: "session.step.chart.get",
          description:
            "The chart of a summary step as PNG, SVG, Plotly figure or Vega-Lite spec; ETag and If-None-Match are supported.",
          summary:
            "Chart of a summary step of any snapshot: PNG (stored), SVG, Plotly or Vega-Lite JSON (V+)",
          responses: {
            200: {
              description: "The chart; ETag and X-Graph-Id identify it",
              content: {
                "image/png": { schema: { type: "string", format: "binary" } },
                "image/svg+xml": { schema: { type: "string" } },
                "application/json": { schema: docSchema(ChartSpec) },
              },
            },
            304: { description: "Not modified (If-None-Match)" },
          },
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "INPUT_FILE_REQUIRED",
            "STEP_NOT_FOUND",
            "CHART_NOT_AVAILABLE",
            "STEP_CONFIG_INVALID",
            "CHART_RENDERER_UNAVAILABLE",
          ],
        },
      },
    )
    .get(
      "/:sessionId/export",
      async ({ auth, access, params, query }) => {
        const renderer = ctx.deps.chartRenderer;
        const out = await exportSession(
          { db: ctx.db, storage: ctx.deps.storage, actor: auth.actor, caches: ctx.caches },
          access.project.id,
          params.sessionId,
          query,
          renderer?.available ? (model, size) => renderer.renderPng(model, size) : undefined,
        );
        const headers: Record<string, string> = {
          "Cache-Control": "private, no-store",
          "Content-Type": EXPORT_MIME[out.format],
          "Content-Disposition": contentDisposition(out.filename),
        };
        return sized(out.body, headers, out.length);
      },
      {
        project: requireProjectRole("viewer"),
        params: SessionParams,
        query: ExportQuery,
        detail: {
          tags: TAGS,
          operationId: "session.export",
          description:
            "Downloads the session as an xlsx workbook, one step's rows as csv, or the session detail with results as json.",
          summary: "Download the session as xlsx, one step's rows as csv, or the detail as json (V+)",
          responses: EXPORT_RESPONSES,
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "INPUT_FILE_REQUIRED",
            "STEP_NOT_FOUND",
            "STEP_CONFIG_INVALID",
          ],
        },
      },
    );
}
