import type { DbOrTx } from "@/db/client";
import {
  type ChartModel,
  type ColumnarJson,
  frameBytes,
  fromColumnarJson,
  materialiseRows,
  runPipeline,
  type StepDef,
  type StepResult,
} from "@/engine";
import { problem } from "@/lib/errors";
import type { AnalysisCaches, Input } from "./caches";
import { DEFAULT_CHART_SIZE, graphIdOf } from "./chart-id";
import { fileData, fileVersion } from "./queries";
import { type SessionRow, type StepRow, stepsOf } from "./repository";

/*
 * Step results (analysis.md §3): every result is recomputed from the stored input through the
 * engine; unchanged prefixes come from the content-addressed result cache, so an edit near the end
 * of a long pipeline is cheap. Reads only: writes go through the repository.
 */

const inputRequired = () => problem("INPUT_FILE_REQUIRED");

export type StepView = {
  id: string;
  stepKey: string;
  name: string;
  type: StepRow["type"];
  input: string;
  order: number;
  config: unknown;
  configured: boolean;
  status: string;
  error: string | null;
  errorBody: unknown;
  warnings: unknown[];
  resultData?: Record<string, unknown>[] | null;
  resultFormula?: unknown[] | null;
  resultChart?: unknown;
  /** graphId of the default-size image, so clients can build the chart URL (analysis.md §4.5). */
  chartId?: string | null;
  resultTable?: Record<string, unknown>[] | null;
  truncated?: boolean;
};

/** The session's decoded input, from the app's input cache when its version is there. */
export async function inputOf(db: DbOrTx, session: SessionRow, caches: AnalysisCaches): Promise<Input> {
  const inputs = caches.inputs;
  if (!session.inputFileId) throw inputRequired();
  const id = session.inputFileId;
  const version = await fileVersion(db, id);
  if (!version) throw inputRequired();
  const hit = inputs.get(`${id}:${version.getTime()}`);
  if (hit) return hit;
  const f = await fileData(db, id);
  const data = f?.data as ColumnarJson | undefined;
  if (!f || !data || Array.isArray(data)) throw inputRequired();
  const input = { frame: fromColumnarJson(data), hash: data.hash };
  // Keyed by the version read together with the data, so a concurrent re-parse cannot mislabel it.
  inputs.set(`${id}:${f.updatedAt.getTime()}`, input, frameBytes(input.frame));
  return input;
}

/** A stored step as the engine sees it. */
export const toDef = (s: StepRow): StepDef => ({
  stepKey: s.stepKey,
  name: s.name,
  type: s.type as StepDef["type"],
  input: s.input,
  config: s.config,
});

export function stepView(row: StepRow, result: StepResult | undefined, rowLimit: number): StepView {
  const summary = result?.summary as
    | {
        resultFormula?: unknown[];
        resultChart?: unknown;
        resultTable?: { rows: Record<string, unknown>[]; truncated: boolean } | null;
        chartModel?: ChartModel | null;
      }
    | null
    | undefined;
  const rows = result?.frame ? materialiseRows(result.frame, 0, rowLimit) : null;
  return {
    id: row.id,
    stepKey: row.stepKey,
    name: row.name,
    type: row.type,
    input: row.input,
    order: row.stepOrder,
    config: row.config,
    configured: result?.configured ?? row.config !== null,
    status: result?.status ?? "not_configured",
    error: result?.error?.detail ?? null,
    errorBody: result?.error ?? null,
    warnings: result?.warnings ?? [],
    resultData: rows,
    resultFormula: summary?.resultFormula ?? null,
    resultChart: summary?.resultChart ?? null,
    chartId: summary?.chartModel ? graphIdOf(summary.chartModel, DEFAULT_CHART_SIZE) : null,
    // api.md §2.7: the wire shape is the rows themselves; `truncated` says either list was cut.
    resultTable: summary?.resultTable?.rows ?? null,
    truncated: summary?.resultTable
      ? summary.resultTable.truncated
      : result?.frame
        ? result.frame.rowCount > rowLimit
        : false,
  };
}

/** Results of every step of the session's current snapshot (empty without an input). */
export async function currentResults(
  db: DbOrTx,
  session: SessionRow,
  caches: AnalysisCaches,
  rowLimit = 1000,
): Promise<StepView[]> {
  if (!session.currentSnapshotId) return [];
  const rows = await stepsOf(db, session.currentSnapshotId);
  if (!session.inputFileId || rows.length === 0) return rows.map((r) => stepView(r, undefined, rowLimit));
  const { frame, hash } = await inputOf(db, session, caches);
  const { byKey } = runPipeline(frame, hash, rows.map(toDef), { cache: caches.results });
  return rows.map((r) => stepView(r, byKey.get(r.stepKey), rowLimit));
}
