/*
 * Chart validation and the internal chart model (analysis.md §4.1–§4.2). Validation reads the
 * summary's input dataset once and produces a ChartModel; emitters (Plotly here, Vega-Lite in the
 * renderer) never re-read data or re-validate.
 */
import {
  GRAPH_TYPES,
  type GraphType,
  PALETTE,
  SUBJECT,
  VALUE,
  WATERFALL_BASE_LABEL,
  WATERFALL_COLORS,
  WATERFALL_TOTAL_LABEL,
} from "@/engine/contract";
import { type DictColumn, type Frame, KIND_NUMBER, KIND_TEXT, labelAt } from "@/engine/frame";
import type { EngineLimits } from "@/engine/limits";
import {
  expectEnum,
  expectFiniteNumber,
  expectObject,
  invalid,
  isObj,
  labelColumn,
  presentSubjects,
  type Warnings,
} from "@/engine/steps/common";
import { groupRows } from "@/engine/util/group";
import { suggest } from "@/engine/util/suggest";

export type ChartConfig = { graphType: GraphType; [key: string]: unknown };

export type ChartPoint = {
  x: string | number | null;
  y: number | null;
  measure?: "relative" | "absolute" | "total";
  start?: number;
  end?: number;
  text?: string;
};
export type ChartSeries = {
  name: string;
  color: string;
  mark: "bar" | "line" | "markers" | "waterfall" | "pie";
  axis: "y" | "y2";
  points: ChartPoint[];
  /** Pie: one colour per slice. */
  colors?: string[];
};
export type ChartModel = {
  type: GraphType;
  title: string | null;
  xTitle: string;
  yTitle: string;
  y2Title?: string;
  legendTitle: string | null;
  categories: string[];
  series: ChartSeries[];
};

const SORT_BY = ["data", "label", "valueDesc", "valueAsc"] as const;
const KEYS: Record<GraphType, { required: string[]; optional: string[] }> = {
  bar: { required: ["xAxis", "yAxis"], optional: ["legendAxis", "title", "sortBy"] },
  "horizontal bar": { required: ["xAxis", "yAxis"], optional: ["legendAxis", "title", "sortBy"] },
  "stacked bar": { required: ["xAxis", "yAxis", "stackAxis"], optional: ["title", "sortBy"] },
  line: { required: ["xAxis", "yAxis"], optional: ["legendAxis", "title", "sortBy"] },
  scatter: { required: ["xSubject", "ySubject"], optional: ["legendAxis", "title"] },
  "line&bar": {
    required: ["xAxis", "yLeftSubject", "yLeftType", "yRightSubject", "yRightType"],
    optional: ["legendAxis", "title", "sortBy"],
  },
  waterfall: {
    required: ["xAxis", "yAxis", "measureType"],
    optional: ["baseValue", "baseLabel", "showTotal", "totalLabel", "legendAxis", "title", "sortBy"],
  },
  pie: { required: ["valueAxis", "legendAxis"], optional: ["title"] },
};

const P = "/chartConfig";
const collator = new Intl.Collator("ja", { numeric: true });
const colour = (i: number) => PALETTE[i % PALETTE.length];

function checkShape(raw: unknown): { type: GraphType; cfg: Record<string, unknown> } {
  if (!isObj(raw)) invalid(P, "chartConfig must be an object or null");
  const type = expectEnum(raw.graphType, `${P}/graphType`, GRAPH_TYPES, "graphType");
  const { required, optional } = KEYS[type];
  expectObject(raw, P, ["graphType", ...required, ...optional], `a ${type} chartConfig`);
  for (const k of required) {
    if (raw[k] === undefined || raw[k] === null) invalid(`${P}/${k}`, `${k} is required for a ${type} chart`);
  }
  if (raw.title !== undefined && raw.title !== null && typeof raw.title !== "string")
    invalid(`${P}/title`, "title must be a string");
  if (raw.sortBy !== undefined) expectEnum(raw.sortBy, `${P}/sortBy`, SORT_BY, "sortBy");
  return { type, cfg: raw };
}

function requireValue(cfg: Record<string, unknown>, key: string): void {
  if (cfg[key] !== VALUE) invalid(`${P}/${key}`, `${key} must be ${VALUE}`, { allowed: [VALUE] });
}

function category(f: Frame, cfg: Record<string, unknown>, key: string): DictColumn {
  return labelColumn(f, cfg[key], `${P}/${key}`, key);
}

function noText(f: Frame, rows: Iterable<number>): void {
  let count = 0;
  let example = "";
  for (const i of rows) {
    if (f.kinds[i] === KIND_TEXT) {
      if (!count) example = f.text.get(i)!;
      count++;
    }
  }
  if (count)
    invalid(`${P}`, `${count} charted rows have a text ${VALUE} (for example ${JSON.stringify(example)})`);
}

function limitsCheck(limits: EngineLimits, categories: number, series: number, points: number): void {
  const hint = "aggregate or filter the data first";
  if (categories > limits.chartMaxCategories)
    invalid(P, `${categories} categories exceed ${limits.chartMaxCategories}; ${hint}`, {
      limitName: "categories",
      limit: limits.chartMaxCategories,
      actual: categories,
    });
  if (series > limits.chartMaxSeries)
    invalid(P, `${series} series exceed ${limits.chartMaxSeries}; ${hint}`, {
      limitName: "series",
      limit: limits.chartMaxSeries,
      actual: series,
    });
  if (points > limits.chartMaxPoints)
    invalid(P, `${points} points exceed ${limits.chartMaxPoints}; ${hint}`, {
      limitName: "points",
      limit: limits.chartMaxPoints,
      actual: points,
    });
}

function duplicatesError(cols: DictColumn[], a: number, b: number): never {
  const keys = cols.map((c) => `${c.name}=${labelAt(c, a) ?? "null"}`).join(", ");
  const suggestion = cols.map((c) => c.name).filter((n) => n !== SUBJECT);
  invalid(
    P,
    `duplicates, aggregation needed: rows ${a} and ${b} share ${keys}`,
    { groupByAxis: suggestion },
    `The chart data has duplicates (${keys}); aggregation needed, e.g. an aggregate step with groupByAxis ${JSON.stringify(suggestion)}`,
  );
}

/** Distinct categories of rows in first-appearance order, then reordered by sortBy. */
function orderCategories(labels: string[], totals: Map<string, number>, sortBy: unknown): string[] {
  const out = [...labels];
  if (sortBy === "label") out.sort((a, b) => collator.compare(a, b));
  else if (sortBy === "valueDesc") out.sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0));
  else if (sortBy === "valueAsc") out.sort((a, b) => (totals.get(a) ?? 0) - (totals.get(b) ?? 0));
  return out;
}

const labelOr = (c: DictColumn, i: number) => labelAt(c, i) ?? "(null)";

type Cell = { x: string; s: string; y: number | null; row: number };

/** x/legend grid shared by bar, horizontal bar, stacked bar, line and waterfall. */
function categoryGrid(f: Frame, xCol: DictColumn, sCol: DictColumn | null) {
  const cols = sCol ? [xCol, sCol] : [xCol];
  const g = groupRows(
    cols.map((c) => c.codes),
    cols.map((c) => c.dict.length),
    f.rowCount,
  );
  const seen = new Int32Array(g.count).fill(-1);
  for (let i = 0; i < f.rowCount; i++) {
    const k = g.ids[i];
    if (seen[k] >= 0) duplicatesError(cols, seen[k], i);
    seen[k] = i;
  }
  noText(
    f,
    Array.from({ length: f.rowCount }, (_, i) => i),
  );
  const cells: Cell[] = [];
  const xs: string[] = [];
  const ss: string[] = [];
  const xSet = new Set<string>();
  const sSet = new Set<string>();
  for (let i = 0; i < f.rowCount; i++) {
    const x = labelOr(xCol, i);
    const s = sCol ? labelOr(sCol, i) : VALUE;
    if (!xSet.has(x)) {
      xSet.add(x);
      xs.push(x);
    }
    if (!sSet.has(s)) {
      sSet.add(s);
      ss.push(s);
    }
    cells.push({ x, s, y: f.kinds[i] === KIND_NUMBER ? f.values[i] : null, row: i });
  }
  return { cells, xs, ss };
}

export function buildChart(raw: unknown, f: Frame, limits: EngineLimits, w: Warnings): ChartModel {
  const { type, cfg } = checkShape(raw);
  const title = (cfg.title as string | undefined) ?? null;
  if (type === "scatter" || type === "line&bar") return pivotChart(type, cfg, f, limits, title);
  if (type === "pie") return pieChart(cfg, f, limits, title, w);

  const horizontal = type === "horizontal bar";
  if (horizontal) requireValue(cfg, "xAxis");
  else requireValue(cfg, "yAxis");
  const xKey = horizontal ? "yAxis" : "xAxis";
  const sKey = type === "stacked bar" ? "stackAxis" : "legendAxis";
  const xCol = category(f, cfg, xKey);
  const sCol = cfg[sKey] === undefined || cfg[sKey] === null ? null : category(f, cfg, sKey);
  if (sCol && sCol.name === xCol.name) invalid(`${P}/${sKey}`, `${sKey} must differ from ${xKey}`);
  if (f.rowCount === 0) invalid(P, "the chart has no data points");
  const { cells, xs, ss } = categoryGrid(f, xCol, sCol);
  limitsCheck(limits, xs.length, ss.length, cells.length);
  if (type === "line" && cells.length < 2) invalid(P, "a line chart needs at least 2 points");
  if (type === "stacked bar") {
    if (ss.length < 2) invalid(`${P}/stackAxis`, `a stacked bar needs at least 2 values of ${sCol!.name}`);
    const neg = cells.find((c) => c.y !== null && c.y < 0);
    if (neg) invalid(P, `a stacked bar cannot show negative values (${neg.x}, ${neg.s}: ${neg.y})`);
  }
  const totals = new Map<string, number>();
  for (const c of cells) totals.set(c.x, (totals.get(c.x) ?? 0) + (c.y ?? 0));
  const categories = orderCategories(xs, totals, cfg.sortBy);
  const lookup = new Map(cells.map((c) => [`${c.s}\u0000${c.x}`, c.y]));

  if (type === "waterfall") return waterfall(cfg, categories, ss, lookup, cells, xCol, sCol, title);

  const mark = type === "line" ? "line" : "bar";
  const series: ChartSeries[] = ss.map((s, i) => ({
    name: s,
    color: colour(i),
    mark,
    axis: "y",
    points: categories
      .filter((x) => lookup.has(`${s}\u0000${x}`) || !sCol)
      .map((x) => ({ x, y: lookup.get(`${s}\u0000${x}`) ?? null })),
  }));
  return {
    type,
    title,
    xTitle: horizontal ? VALUE : xCol.name,
    yTitle: horizontal ? xCol.name : VALUE,
    legendTitle: sCol?.name ?? null,
    categories,
    series,
  };
}

function waterfall(
  cfg: Record<string, unknown>,
  categories: string[],
  ss: string[],
  lookup: Map<string, number | null>,
  cells: Cell[],
  xCol: DictColumn,
  sCol: DictColumn | null,
  title: string | null,
): ChartModel {
  const measure = expectEnum(
    cfg.measureType,
    `${P}/measureType`,
    ["relative", "absolute"] as const,
    "measureType",
  );
  if (cells.length < 2) invalid(P, "a waterfall needs at least 2 points");
  const nul = cells.find((c) => c.y === null);
  if (nul) invalid(P, `a waterfall cannot show null values (${nul.x})`);
  const hasBase = cfg.baseValue !== undefined && cfg.baseValue !== null;
  if ((hasBase || cfg.showTotal !== undefined) && measure !== "relative") {
    invalid(
      `${P}/${hasBase ? "baseValue" : "showTotal"}`,
      "baseValue and showTotal apply only to measureType relative",
    );
  }
  const base = hasBase ? expectFiniteNumber(cfg.baseValue, `${P}/baseValue`, "baseValue") : null;
  if (cfg.showTotal !== undefined && typeof cfg.showTotal !== "boolean")
    invalid(`${P}/showTotal`, "showTotal must be a boolean");
  const baseLabel = typeof cfg.baseLabel === "string" ? cfg.baseLabel : WATERFALL_BASE_LABEL;
  const totalLabel = typeof cfg.totalLabel === "string" ? cfg.totalLabel : WATERFALL_TOTAL_LABEL;
  const series: ChartSeries[] = ss.map((s, i) => {
    const points: ChartPoint[] = [];
    let level = 0;
    if (base !== null) {
      points.push({ x: baseLabel, y: base, measure: "absolute", start: 0, end: base });
      level = base;
    }
    for (const x of categories) {
      const y = lookup.get(`${s}\u0000${x}`);
      if (y === undefined || y === null) continue;
      if (measure === "absolute") {
        points.push({ x, y, measure: "absolute", start: 0, end: y });
        level = y;
      } else {
        points.push({ x, y, measure: "relative", start: level, end: level + y });
        level += y;
      }
    }
    if (cfg.showTotal === true)
      points.push({ x: totalLabel, y: level, measure: "total", start: 0, end: level });
    return {
      name: s,
      color: sCol ? colour(i) : WATERFALL_COLORS.total,
      mark: "waterfall",
      axis: "y",
      points,
    };
  });
  const cats = [
    ...(base !== null ? [baseLabel] : []),
    ...categories,
    ...(cfg.showTotal === true ? [totalLabel] : []),
  ];
  return {
    type: "waterfall",
    title,
    xTitle: xCol.name,
    yTitle: VALUE,
    legendTitle: sCol?.name ?? null,
    categories: cats,
    series,
  };
}

function pieChart(
  cfg: Record<string, unknown>,
  f: Frame,
  limits: EngineLimits,
  title: string | null,
  w: Warnings,
): ChartModel {
  requireValue(cfg, "valueAxis");
  const col = category(f, cfg, "legendAxis");
  const g = groupRows([col.codes], [col.dict.length], f.rowCount);
  const seen = new Int32Array(g.count).fill(-1);
  for (let i = 0; i < f.rowCount; i++) {
    const k = g.ids[i];
    if (seen[k] >= 0) duplicatesError([col], seen[k], i);
    seen[k] = i;
  }
  noText(
    f,
    Array.from({ length: f.rowCount }, (_, i) => i),
  );
  const points: ChartPoint[] = [];
  let dropped = 0;
  const negatives: string[] = [];
  for (let i = 0; i < f.rowCount; i++) {
    if (f.kinds[i] !== KIND_NUMBER) {
      dropped++;
      continue;
    }
    const x = labelOr(col, i);
    if (f.values[i] < 0) negatives.push(`${x} (${f.values[i]})`);
    points.push({ x, y: f.values[i] });
  }
  if (negatives.length)
    invalid(P, `a pie chart cannot show negative values: ${negatives.slice(0, 5).join(", ")}`);
  if (points.length < 2) invalid(P, "a pie chart needs at least 2 categories");
  if (points.every((p) => p.y === 0)) invalid(P, "a pie chart cannot show only zero values");
  if (dropped) w.add("NULL_VALUES_DROPPED", "null values were left out of the pie chart", dropped);
  limitsCheck(limits, points.length, 1, points.length);
  return {
    type: "pie",
    title,
    xTitle: col.name,
    yTitle: VALUE,
    legendTitle: col.name,
    categories: points.map((p) => String(p.x)),
    series: [
      {
        name: VALUE,
        color: colour(0),
        mark: "pie",
        axis: "y",
        points,
        colors: points.map((_, i) => colour(i)),
      },
    ],
  };
}

/** Scatter and line&bar: metrics pivoted to columns, index = all axis columns. */
function pivotChart(
  type: "scatter" | "line&bar",
  cfg: Record<string, unknown>,
  f: Frame,
  limits: EngineLimits,
  title: string | null,
): ChartModel {
  const subjects = presentSubjects(f);
  const subjectKey = (k: string) => {
    const s = cfg[k];
    if (typeof s !== "string" || !subjects.includes(s)) {
      invalid(`${P}/${k}`, `unknown subject ${String(s)} in ${k}`, {
        availableSubjects: subjects.slice(0, 200),
        suggestions: typeof s === "string" ? suggest(s, subjects) : [],
      });
    }
    return s;
  };
  const [aKey, bKey] = type === "scatter" ? ["xSubject", "ySubject"] : ["yLeftSubject", "yRightSubject"];
  const a = subjectKey(aKey);
  const b = subjectKey(bKey);
  if (a === b) invalid(`${P}/${bKey}`, `${aKey} and ${bKey} must name different metrics`);
  const legend =
    cfg.legendAxis === undefined || cfg.legendAxis === null ? null : category(f, cfg, "legendAxis");
  if (legend && legend.name === SUBJECT)
    invalid(`${P}/legendAxis`, `legendAxis cannot be ${SUBJECT} for a ${type} chart`);
  const xCol = type === "line&bar" ? category(f, cfg, "xAxis") : null;
  if (xCol && xCol.name === SUBJECT) invalid(`${P}/xAxis`, `xAxis cannot be ${SUBJECT} for a line&bar chart`);
  if (legend && xCol && legend.name === xCol.name)
    invalid(`${P}/legendAxis`, "legendAxis must differ from xAxis");
  const leftType =
    type === "line&bar"
      ? expectEnum(cfg.yLeftType, `${P}/yLeftType`, ["bar", "line"] as const, "yLeftType")
      : "bar";
  const rightType =
    type === "line&bar"
      ? expectEnum(cfg.yRightType, `${P}/yRightType`, ["bar", "line"] as const, "yRightType")
      : "bar";

  const axes = f.axes;
  const g = groupRows(
    axes.map((c) => c.codes),
    axes.map((c) => c.dict.length),
    f.rowCount,
  );
  const aCode = f.subject.dict.indexOf(a);
  const bCode = f.subject.dict.indexOf(b);
  const rowA = new Int32Array(g.count).fill(-1);
  const rowB = new Int32Array(g.count).fill(-1);
  const charted: number[] = [];
  for (let i = 0; i < f.rowCount; i++) {
    const s = f.subject.codes[i];
    const target = s === aCode ? rowA : s === bCode ? rowB : null;
    if (!target) continue;
    const k = g.ids[i];
    if (target[k] >= 0) duplicatesError([...axes, f.subject], target[k], i);
    target[k] = i;
    charted.push(i);
  }
  noText(f, charted);
  const num = (r: number) => (r >= 0 && f.kinds[r] === KIND_NUMBER ? f.values[r] : null);
  const seriesNames: string[] = [];
  const bySeries = new Map<string, { k: number; va: number | null; vb: number | null }[]>();
  for (let k = 0; k < g.count; k++) {
    if (rowA[k] < 0 && rowB[k] < 0) continue;
    const r = rowA[k] >= 0 ? rowA[k] : rowB[k];
    const s = legend ? labelOr(legend, r) : "";
    if (!bySeries.has(s)) {
      bySeries.set(s, []);
      seriesNames.push(s);
    }
    bySeries.get(s)!.push({ k, va: num(rowA[k]), vb: num(rowB[k]) });
  }
  const hoverCols = axes.filter((c) => c !== legend && c !== xCol);
  const hover = (k: number) => hoverCols.map((c) => labelOr(c, g.firstRow[k])).join(" / ");

  if (type === "scatter") {
    let points = 0;
    const series: ChartSeries[] = seriesNames.map((s, i) => {
      const pts = bySeries
        .get(s)!
        .filter((p) => p.va !== null && p.vb !== null)
        .map((p) => ({ x: p.va, y: p.vb, text: hover(p.k) }));
      points += pts.length;
      return {
        name: legend ? s : `${b} / ${a}`,
        color: colour(i),
        mark: "markers" as const,
        axis: "y" as const,
        points: pts,
      };
    });
    if (points < 2) invalid(P, "a scatter chart needs at least 2 points having both values");
    limitsCheck(limits, 0, series.length, points);
    return { type, title, xTitle: a, yTitle: b, legendTitle: legend?.name ?? null, categories: [], series };
  }

  const seen = new Map<string, number>();
  const xs: string[] = [];
  const totals = new Map<string, number>();
  for (const s of seriesNames) {
    for (const p of bySeries.get(s)!) {
      const x = labelOr(xCol!, g.firstRow[p.k]);
      const key = `${s}\u0000${x}`;
      if (seen.has(key))
        duplicatesError([xCol!, ...(legend ? [legend] : [])], g.firstRow[seen.get(key)!], g.firstRow[p.k]);
      seen.set(key, p.k);
      if (!totals.has(x)) xs.push(x);
      totals.set(x, (totals.get(x) ?? 0) + (p.va ?? 0));
    }
  }
  if (seen.size < 2) invalid(P, "a line&bar chart needs at least 2 points");
  const categories = orderCategories(xs, totals, cfg.sortBy);
  limitsCheck(limits, categories.length, seriesNames.length * 2, seen.size * 2);
  const series: ChartSeries[] = [];
  seriesNames.forEach((s, i) => {
    const pts = new Map(bySeries.get(s)!.map((p) => [labelOr(xCol!, g.firstRow[p.k]), p]));
    const mk = (subject: string, t: "bar" | "line", axis: "y" | "y2", pick: "va" | "vb", ci: number) => ({
      name: legend ? `${subject} (${s})` : subject,
      color: colour(ci),
      mark: t,
      axis,
      points: categories.filter((x) => pts.has(x)).map((x) => ({ x, y: pts.get(x)![pick] })),
    });
    series.push(mk(a, leftType, "y", "va", 2 * i));
    series.push(mk(b, rightType, "y2", "vb", 2 * i + 1));
  });
  return {
    type,
    title,
    xTitle: xCol!.name,
    yTitle: a,
    y2Title: b,
    legendTitle: legend?.name ?? null,
    categories,
    series,
  };
}
