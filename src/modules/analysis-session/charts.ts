import type { DbOrTx } from "@/db/client";
import { runPipeline } from "@/engine";
import type { ChartRenderer } from "@/lib/chart-render";
import { storedPng } from "@/lib/chart-render/stored";
import { problem } from "@/lib/errors";
import type { Storage } from "@/lib/storage";
import { graphKey } from "@/lib/storage/keys";
import type { AnalysisCaches } from "./caches";
import { DEFAULT_CHART_SIZE, graphIdOf } from "./chart-id";
import { findSessionStep } from "./queries";
import { stepsOf } from "./repository";
import { inputOf, toDef } from "./results";
import { loadSession } from "./service";

/*
 * Chart images of summary steps (analysis.md §4.5): any snapshot's step, results computed for that
 * snapshot, PNGs rendered once and kept in storage under `analysis/{sid}/graph_{graphId}.png`,
 * other formats rendered on demand and kept in a small in-process cache.
 */

export type ChartFormat = "png" | "svg" | "plotly" | "vegalite";
export type ChartQuery = { format?: ChartFormat; width?: number; height?: number; scale?: number };

/** What finding a chart reads: the database and the app's analysis caches. */
export type ChartReadDeps = { db: DbOrTx; caches: AnalysisCaches };
export type ChartDeps = ChartReadDeps & { storage: Storage; renderer: ChartRenderer | null | undefined };

const unavailable = (reason?: string) =>
  problem("CHART_RENDERER_UNAVAILABLE", {
    detail: `Charts cannot be rendered on this server${reason ? `: ${reason}` : "."}`,
  });

/** The chart model and Plotly figure of a summary step of any snapshot of the session. */
async function chartOf({ db, caches }: ChartReadDeps, projectId: string, sessionId: string, stepId: string) {
  const session = await loadSession(db, projectId, sessionId);
  const step = await findSessionStep(db, sessionId, stepId);
  if (!step) throw problem("STEP_NOT_FOUND", { detail: "No such step in this session." });
  const config = step.config as { chartConfig?: unknown } | null;
  if (step.type !== "summary" || !config?.chartConfig) {
    throw problem("CHART_NOT_AVAILABLE");
  }
  const { frame, hash } = await inputOf(db, session, caches);
  const defs = (await stepsOf(db, step.snapshotId)).map(toDef);
  const result = runPipeline(frame, hash, defs, { cache: caches.results }).byKey.get(step.stepKey);
  if (result?.status !== "ok" || !result.summary?.chartModel) {
    const error = result?.error;
    throw problem("STEP_CONFIG_INVALID", {
      detail: error?.detail ?? "The step has no valid chart.",
      errors: error?.errors,
      extensions: { stepStatus: result?.status ?? "not_configured", stepError: error ?? null },
    });
  }
  return { step, model: result.summary.chartModel, figure: result.summary.resultChart };
}

/** The chart of a step: enough to answer a conditional request before anything is rendered. */
export type Chart = Awaited<ReturnType<typeof chartOf>> & { graphId: string; size: ChartSize };
export type ChartSize = { width: number; height: number; scale: number };

/** The chart of `stepId` at the queried size, with its content id (analysis.md §4.5). */
export async function findChart(
  deps: ChartReadDeps,
  projectId: string,
  sessionId: string,
  stepId: string,
  query: ChartQuery,
): Promise<Chart> {
  const size = {
    width: query.width ?? DEFAULT_CHART_SIZE.width,
    height: query.height ?? DEFAULT_CHART_SIZE.height,
    scale: query.scale ?? DEFAULT_CHART_SIZE.scale,
  };
  const chart = await chartOf(deps, projectId, sessionId, stepId);
  return { ...chart, size, graphId: graphIdOf(chart.model, size) };
}

export type RenderedChart = {
  body: string | Uint8Array | ReadableStream<Uint8Array>;
  contentType: string;
  /** Byte length when known up front (PNGs). */
  length?: number;
};

/** The chart in `format`: PNGs once per graphId into storage, SVGs into a small cache. */
export async function renderChart(
  deps: ChartDeps,
  sessionId: string,
  chart: Chart,
  format: ChartFormat,
): Promise<RenderedChart> {
  const { model, size, graphId } = chart;
  if (format === "plotly") return { body: JSON.stringify(chart.figure), contentType: "application/json" };
  if (format === "vegalite") {
    if (!deps.renderer) throw unavailable();
    return { body: JSON.stringify(deps.renderer.toVegaLite(model, size)), contentType: "application/json" };
  }
  if (!deps.renderer?.available) throw unavailable(deps.renderer?.reason);
  if (format === "svg") {
    const key = `${graphId}:svg`;
    let svg = deps.caches.svgs.get(key);
    if (!svg) {
      svg = deps.renderer.renderSvg(model, size);
      deps.caches.svgs.set(key, svg, svg.length * 2);
    }
    return { body: svg, contentType: "image/svg+xml; charset=utf-8" };
  }
  const renderer = deps.renderer;
  return storedPng(deps.storage, graphKey(sessionId, graphId), () => renderer.renderPng(model, size));
}
