/*
 * Summary step (analysis.md §3.6): formulas over the input (basic aggregates and arithmetic over
 * earlier results, times `portion`), an optional chart (model + Plotly) and an optional table.
 * A summary never produces a dataset.
 */
import { UNITS, type Unit } from "@/engine/contract";
import { type Frame, materialiseRows, type Row } from "@/engine/frame";
import { checkEntries, evaluateEntries } from "@/engine/steps/aggregate";
import { buildChart, type ChartModel } from "@/engine/steps/chart";
import {
  type ArithOp,
  type BasicMethod,
  expectEnum,
  expectObject,
  finite,
  invalid,
  isObj,
  type StepContext,
  type Warnings,
} from "@/engine/steps/common";
import { type PlotlyFigure, toPlotly } from "@/engine/steps/plotly";

export type SummaryFormula =
  | { name: string; method: BasicMethod; subject: string; unit: Unit; portion?: number }
  | { name: string; method: ArithOp; operands: [string, string]; unit: Unit; portion?: number };
export type SummaryConfig = {
  formulas?: SummaryFormula[];
  chartConfig?: Record<string, unknown> | null;
  tableConfig?: { showSourceData: boolean; tableName?: string } | null;
};

export type FormulaResult = { name: string; value: number | null; unit: Unit; display: string };
export type SummaryResult = {
  resultFormula: FormulaResult[];
  chartModel: ChartModel | null;
  resultChart: PlotlyFigure | null;
  resultTable: { tableName: string | null; rows: Row[]; total: number; truncated: boolean } | null;
};

const yen = new Intl.NumberFormat("ja-JP", { maximumFractionDigits: 0 });
const pieces = new Intl.NumberFormat("ja-JP", { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat("ja-JP", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** Display strings of §3.6: 円 integer with grouping, 個 ≤ 2 decimals, % ×100 with 1 decimal. */
export function formatDisplay(value: number | null, unit: Unit): string {
  if (value === null) return "—";
  if (unit === "円") return `${yen.format(Math.round(value) + 0)}円`;
  if (unit === "個") return `${pieces.format(value)}個`;
  return `${percent.format(value * 100)}%`;
}

export function applySummary(
  config: unknown,
  input: Frame,
  ctx: StepContext,
  w: Warnings,
  rowLimit = 5000,
): SummaryResult {
  const cfg = expectObject(config, "", ["formulas", "chartConfig", "tableConfig"], "a summary config");
  const list = cfg.formulas ?? [];
  const entries = checkEntries(list, "/formulas", input, "formulas", ["unit", "portion"], 0);
  const units = (list as Record<string, unknown>[]).map((f, i) => {
    const unit = expectEnum(f.unit, `/formulas/${i}/unit`, UNITS, "unit");
    const portion = f.portion ?? 1;
    if (typeof portion !== "number" || !Number.isFinite(portion))
      invalid(`/formulas/${i}/portion`, "portion must be a finite number");
    return { unit, portion };
  });
  // Arithmetic formulas combine the results of earlier formulas *after* their portion, so only
  // the basic ones go through evaluateEntries; the arithmetic chain runs here.
  const basic = entries.filter((e) => e.subjectCode >= 0);
  const raw = evaluateEntries(basic, input, null, input.rowCount > 0 ? 1 : 0, w);
  const values: (number | null)[] = [];
  let b = 0;
  entries.forEach((e, i) => {
    let v: number | null;
    if (e.subjectCode >= 0) {
      const r = raw[b++];
      v = r.present[0] ? r.values[0] : e.method === "sum" || e.method === "count" ? 0 : null;
    } else {
      const [x, y] = e.operands.map((k) => values[k]);
      v = arithmetic(e.method as ArithOp, x, y, w);
    }
    if (v !== null) v = finite(v * units[i].portion, w);
    values.push(v);
  });
  const resultFormula = entries.map((e, i) => ({
    name: e.name,
    value: values[i],
    unit: units[i].unit,
    display: formatDisplay(values[i], units[i].unit),
  }));

  let chartModel: ChartModel | null = null;
  if (cfg.chartConfig !== undefined && cfg.chartConfig !== null)
    chartModel = buildChart(cfg.chartConfig, input, ctx.limits, w);

  let resultTable: SummaryResult["resultTable"] = null;
  const t = cfg.tableConfig;
  if (t !== undefined && t !== null) {
    if (!isObj(t)) invalid("/tableConfig", "tableConfig must be an object or null");
    expectObject(t, "/tableConfig", ["showSourceData", "tableName"], "tableConfig");
    if (typeof t.showSourceData !== "boolean")
      invalid("/tableConfig/showSourceData", "showSourceData must be a boolean");
    if (t.tableName !== undefined && typeof t.tableName !== "string")
      invalid("/tableConfig/tableName", "tableName must be a string");
    if (t.showSourceData) {
      resultTable = {
        tableName: (t.tableName as string | undefined) ?? null,
        rows: materialiseRows(input, 0, rowLimit),
        total: input.rowCount,
        truncated: input.rowCount > rowLimit,
      };
    }
  }
  return { resultFormula, chartModel, resultChart: chartModel ? toPlotly(chartModel) : null, resultTable };
}

function arithmetic(op: ArithOp, a: number | null, b: number | null, w: Warnings): number | null {
  if (a === null || b === null) return null;
  if (op === "/" && b === 0) {
    w.add("DIVISION_BY_ZERO", "division by zero gave null");
    return null;
  }
  const r = op === "+" ? a + b : op === "-" ? a - b : op === "*" ? a * b : a / b;
  return finite(r, w);
}
