/*
 * Driver-tree data (analysis.md §7.5): a parsed sheet as columns aligned to its data columns, and
 * the series of one bound item aggregated by the time column.
 *
 * A "data column" is one distinct combination of axis values, in first-appearance order of the
 * long-format records (row by row, then column by column, §1.4 rule 8). In a hierarchical sheet
 * that is one column of the grid; two grid columns with identical headers could not be told apart
 * by the time column or an axis filter anyway, so they share one.
 */
import { SUBJECT } from "@/engine/contract";
import { type Frame, KIND_NUMBER, labelAt } from "@/engine/frame";

export const MAX_COLUMN_ITEMS = 5;

export type SheetAxisColumn = { name: string; items: string[]; values: (string | null)[] };
export type SheetTable = {
  /** Number of data columns. */
  width: number;
  axes: SheetAxisColumn[];
  /** The pseudo-column 科目: every item's value per data column (null where the sheet has none). */
  subject: { name: typeof SUBJECT; items: string[]; byItem: Map<string, (number | null)[]> };
};

const firstDistinct = (values: Iterable<string | null>, max: number): string[] => {
  const out = new Set<string>();
  for (const v of values) {
    if (v === null) continue;
    out.add(v);
    if (out.size >= max) break;
  }
  return [...out];
};

/** The columns of a parsed sheet; text 値 counts as no value (a node's series is numeric). */
export function sheetTable(frame: Frame): SheetTable {
  const columnOf = new Map<string, number>();
  const colOfRow = new Int32Array(frame.rowCount);
  const axisValues: (string | null)[][] = frame.axes.map(() => []);
  for (let r = 0; r < frame.rowCount; r++) {
    let key = "";
    for (const a of frame.axes) key += `${a.codes[r]},`;
    let c = columnOf.get(key);
    if (c === undefined) {
      c = columnOf.size;
      columnOf.set(key, c);
      frame.axes.forEach((a, i) => {
        axisValues[i].push(labelAt(a, r));
      });
    }
    colOfRow[r] = c;
  }
  const width = columnOf.size;
  const byItem = new Map<string, (number | null)[]>();
  for (let r = 0; r < frame.rowCount; r++) {
    const item = labelAt(frame.subject, r);
    if (item === null) continue;
    let row = byItem.get(item);
    if (!row) {
      row = new Array<number | null>(width).fill(null);
      byItem.set(item, row);
    }
    row[colOfRow[r]] = frame.kinds[r] === KIND_NUMBER ? frame.values[r] : null;
  }
  return {
    width,
    axes: frame.axes.map((a, i) => ({
      name: a.name,
      items: firstDistinct(axisValues[i], MAX_COLUMN_ITEMS),
      values: axisValues[i],
    })),
    subject: { name: SUBJECT, items: [...byItem.keys()].slice(0, MAX_COLUMN_ITEMS), byItem },
  };
}

export type BindingAggregation = "sum" | "mean" | "latest";

export type BindingSource = {
  /** The time column's value per data column. */
  time: readonly (string | null)[];
  /** The item's value per data column. */
  values: readonly (number | null)[];
  /** Axis filters: a data column passes when its value of every filtered column is allowed. */
  filters: readonly { values: readonly (string | null)[]; allowed: readonly string[] }[];
  aggregation: BindingAggregation;
};

export type BoundSeries = { periods: string[]; values: Record<string, number | null> };

/**
 * The item's values grouped by period (first appearance) and aggregated: `sum` and `mean` over the
 * values present, `latest` = the right-most data column of the period that has a value. A period
 * whose columns hold no value is null.
 */
export function bindingSeries(src: BindingSource): BoundSeries {
  const groups = new Map<string, number[]>();
  const filters = src.filters.map((f) => ({ values: f.values, allowed: new Set(f.allowed) }));
  for (let c = 0; c < src.time.length; c++) {
    const period = src.time[c];
    if (period === null || period === undefined) continue;
    if (!filters.every((f) => f.allowed.has(f.values[c] as string))) continue;
    let list = groups.get(period);
    if (!list) {
      list = [];
      groups.set(period, list);
    }
    const v = src.values[c];
    if (typeof v === "number" && Number.isFinite(v)) list.push(v);
  }
  const values: Record<string, number | null> = {};
  for (const [period, list] of groups) {
    if (list.length === 0) values[period] = null;
    else if (src.aggregation === "latest") values[period] = list[list.length - 1];
    else {
      const sum = list.reduce((s, v) => s + v, 0);
      values[period] = src.aggregation === "sum" ? sum : sum / list.length;
    }
  }
  return { periods: [...groups.keys()], values };
}
