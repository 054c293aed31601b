/*
 * Filter step (analysis.md §3.3): categoryFilter → categoryExclude → tableFilter → numericFilter,
 * each stage narrowing a row selection; the output keeps the input's columns and row order.
 */
import { SUBJECT, VALUE } from "@/engine/contract";
import { type DictColumn, type Frame, KIND_NUMBER, take, usedCodes } from "@/engine/frame";
import { canonicalNumber } from "@/engine/parse/cells";
import {
  availableValues,
  categoryColumns,
  expectArray,
  expectEnum,
  expectObject,
  expectString,
  invalid,
  isObj,
  labelColumn,
  type StepContext,
  type Warnings,
} from "@/engine/steps/common";
import { suggest } from "@/engine/util/suggest";

export type NumericFilter =
  | {
      filterType: "range";
      min?: number | null;
      minInclusive?: boolean;
      max?: number | null;
      maxInclusive?: boolean;
    }
  | { filterType: "topk"; k: number; order?: "desc" | "asc" }
  | { filterType: "percentage"; minPercentile: number; maxPercentile: number };

export type FilterConfig = {
  categoryFilter?: Record<string, (string | null)[]>;
  categoryExclude?: Record<string, (string | null)[]>;
  numericFilter?: NumericFilter | null;
  tableFilter?: null | { sourceStepKey: string; keyColumns: string[]; mode: "keep" | "exclude" };
};

const FILTER_KEYS = ["categoryFilter", "categoryExclude", "numericFilter", "tableFilter"] as const;

/** The step keys a filter depends on besides its input. */
export function filterDependencies(config: unknown): string[] {
  if (isObj(config) && isObj(config.tableFilter) && typeof config.tableFilter.sourceStepKey === "string") {
    return [config.tableFilter.sourceStepKey];
  }
  return [];
}

type Selection = Int32Array | null;

const rowsOf = (sel: Selection, n: number): Int32Array => {
  if (sel) return sel;
  const all = new Int32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  return all;
};

/**
 * Keeps selected rows whose code is flagged in `mask` (index 0 = null, code c at c + 1). Counts
 * first and then fills an exact-size array: a filter over 1M rows no longer allocates a 1M-row
 * scratch array and a trimmed copy.
 */
function selectByMask(col: DictColumn, mask: Uint8Array, sel: Selection, n: number): Int32Array {
  const codes = col.codes;
  let k = 0;
  if (sel) {
    for (let i = 0; i < sel.length; i++) k += mask[codes[sel[i]] + 1];
    const out = new Int32Array(k);
    k = 0;
    for (let i = 0; i < sel.length; i++) {
      const r = sel[i];
      if (mask[codes[r] + 1]) out[k++] = r;
    }
    return out;
  }
  for (let r = 0; r < n; r++) k += mask[codes[r] + 1];
  const out = new Int32Array(k);
  k = 0;
  for (let r = 0; r < n; r++) if (mask[codes[r] + 1]) out[k++] = r;
  return out;
}

function categoryMask(
  f: Frame,
  column: string,
  list: unknown,
  path: string,
): { col: DictColumn; mask: Uint8Array } {
  const col = labelColumn(
    f,
    column,
    path,
    "a category filter column",
    `use numericFilter to filter on ${VALUE}`,
  );
  if (!Array.isArray(list)) invalid(path, `the values for ${column} must be a list`);
  const used = usedCodes(col);
  const index = new Map<string, number>();
  col.dict.forEach((s, i) => {
    if (used.mask[i]) index.set(s, i);
  });
  const mask = new Uint8Array(col.dict.length + 1);
  list.forEach((raw, i) => {
    const v = typeof raw === "number" && Number.isFinite(raw) ? canonicalNumber(raw) : raw;
    if (v === null) {
      if (!used.hasNull) {
        invalid(`${path}/${i}`, `${column} has no null values`, { availableValues: availableValues(col) });
      }
      mask[0] = 1;
      return;
    }
    if (typeof v !== "string") invalid(`${path}/${i}`, `values of ${column} must be strings or null`);
    const code = index.get(v);
    if (code === undefined) {
      invalid(
        `${path}/${i}`,
        `value ${v} does not occur in ${column}`,
        { availableValues: availableValues(col), suggestions: suggest(v, index.keys()) },
        `Unknown value ${v} for ${column}`,
      );
    }
    mask[code + 1] = 1;
  });
  return { col, mask };
}

/** numpy's default quantile (linear interpolation) of ascending `sorted`. */
export function quantile(sorted: Float64Array, p: number): number {
  const pos = (sorted.length - 1) * p;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function numericStage(f: Frame, nf: Record<string, unknown>, sel: Selection): Int32Array {
  const rows = rowsOf(sel, f.rowCount);
  const kinds = f.kinds;
  const vals = f.values;
  const numeric = new Int32Array(rows.length);
  let m = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (kinds[r] === KIND_NUMBER) numeric[m++] = r;
  }
  const cand = numeric.subarray(0, m);
  const type = nf.filterType as string;
  if (type === "range") {
    const min = nf.min ?? null;
    const max = nf.max ?? null;
    const minInc = nf.minInclusive !== false;
    const maxInc = nf.maxInclusive !== false;
    const out = new Int32Array(m);
    let k = 0;
    for (let i = 0; i < m; i++) {
      const v = vals[cand[i]];
      if (min !== null && (minInc ? v < (min as number) : v <= (min as number))) continue;
      if (max !== null && (maxInc ? v > (max as number) : v >= (max as number))) continue;
      out[k++] = cand[i];
    }
    return out.slice(0, k);
  }
  const sorted = new Float64Array(m);
  for (let i = 0; i < m; i++) sorted[i] = vals[cand[i]];
  sorted.sort();
  if (type === "topk") {
    const k = nf.k as number;
    if (k >= m) return cand.slice();
    const desc = nf.order !== "asc";
    // Threshold = the k-th value in sort order; everything strictly better is kept, then ties in
    // input order until k rows: the result of a stable sort without sorting the rows.
    const t = desc ? sorted[m - k] : sorted[k - 1];
    let better = 0;
    for (let i = 0; i < m; i++) if (desc ? sorted[i] > t : sorted[i] < t) better++;
    let tiesLeft = k - better;
    const out = new Int32Array(k);
    let n = 0;
    for (let i = 0; i < m; i++) {
      const v = vals[cand[i]];
      if (desc ? v > t : v < t) out[n++] = cand[i];
      else if (v === t && tiesLeft > 0) {
        out[n++] = cand[i];
        tiesLeft--;
      }
    }
    return out;
  }
  if (m === 0) return new Int32Array(0);
  const qmin = quantile(sorted, (nf.minPercentile as number) / 100);
  const qmax = quantile(sorted, (nf.maxPercentile as number) / 100);
  const out = new Int32Array(m);
  let k = 0;
  for (let i = 0; i < m; i++) {
    const v = vals[cand[i]];
    if (v >= qmin && v <= qmax) out[k++] = cand[i];
  }
  return out.slice(0, k);
}

function checkNumericFilter(v: unknown): Record<string, unknown> | null {
  if (v === null || v === undefined) return null;
  const base = "/numericFilter";
  if (!isObj(v)) invalid(base, "numericFilter must be an object or null");
  const type = expectEnum(
    v.filterType,
    `${base}/filterType`,
    ["range", "topk", "percentage"] as const,
    "filterType",
  );
  const keys = {
    range: ["filterType", "min", "minInclusive", "max", "maxInclusive"],
    topk: ["filterType", "k", "order"],
    percentage: ["filterType", "minPercentile", "maxPercentile"],
  }[type];
  expectObject(v, base, keys, `a ${type} numericFilter`);
  if (type === "range") {
    for (const b of ["min", "max"]) {
      const x = v[b];
      if (x !== undefined && x !== null && (typeof x !== "number" || !Number.isFinite(x))) {
        invalid(`${base}/${b}`, `${b} must be a finite number or null`);
      }
    }
    for (const b of ["minInclusive", "maxInclusive"]) {
      if (v[b] !== undefined && typeof v[b] !== "boolean") invalid(`${base}/${b}`, `${b} must be a boolean`);
    }
    if (typeof v.min === "number" && typeof v.max === "number" && v.min > v.max) {
      invalid(`${base}/min`, `min ${v.min} is above max ${v.max}`);
    }
  } else if (type === "topk") {
    if (typeof v.k !== "number" || !Number.isInteger(v.k) || v.k < 1)
      invalid(`${base}/k`, "k must be an integer ≥ 1");
    if (v.order !== undefined) expectEnum(v.order, `${base}/order`, ["desc", "asc"] as const, "order");
  } else {
    const lo = v.minPercentile;
    const hi = v.maxPercentile;
    if (typeof lo !== "number" || !(lo >= 0 && lo <= 100))
      invalid(`${base}/minPercentile`, "minPercentile must be 0–100");
    if (typeof hi !== "number" || !(hi >= 0 && hi <= 100))
      invalid(`${base}/maxPercentile`, "maxPercentile must be 0–100");
    if (lo > hi) invalid(`${base}/minPercentile`, `minPercentile ${lo} is above maxPercentile ${hi}`);
  }
  return v;
}

export function applyFilter(config: unknown, input: Frame, ctx: StepContext, _w?: Warnings): Frame {
  const cfg = expectObject(config, "", FILTER_KEYS, "a filter config");
  const n = input.rowCount;
  let sel: Selection = null;

  for (const [stage, keep] of [
    ["categoryFilter", true],
    ["categoryExclude", false],
  ] as const) {
    const spec = cfg[stage];
    if (spec === undefined || spec === null) continue;
    if (!isObj(spec)) invalid(`/${stage}`, `${stage} must be an object of column → values`);
    for (const [column, list] of Object.entries(spec)) {
      const { col, mask } = categoryMask(input, column, list, `/${stage}/${column}`);
      if (!keep) for (let i = 0; i < mask.length; i++) mask[i] = mask[i] ? 0 : 1;
      sel = selectByMask(col, mask, sel, n);
    }
  }

  const tf = cfg.tableFilter;
  if (tf !== undefined && tf !== null) {
    const t = expectObject(tf, "/tableFilter", ["sourceStepKey", "keyColumns", "mode"], "tableFilter");
    const sourceKey = expectString(t.sourceStepKey, "/tableFilter/sourceStepKey", "sourceStepKey");
    const mode = expectEnum(t.mode, "/tableFilter/mode", ["keep", "exclude"] as const, "mode");
    const keys = expectArray(t.keyColumns, "/tableFilter/keyColumns", "keyColumns", 1, 21);
    const source = ctx.dataset?.(sourceKey);
    if (!source) invalid("/tableFilter/sourceStepKey", `step ${sourceKey} has no dataset`);
    const pairs = keys.map((k, i) => {
      const path = `/tableFilter/keyColumns/${i}`;
      if (typeof k !== "string" || k === VALUE || !categoryColumns(source).includes(k)) {
        invalid(path, `key column ${String(k)} is not a column of the source step`, {
          availableColumns: categoryColumns(input).filter((c) => categoryColumns(source).includes(c)),
          suggestions: typeof k === "string" ? suggest(k, categoryColumns(source)) : [],
        });
      }
      const a = labelColumn(input, k, path, "a key column");
      const b = k === SUBJECT ? source.subject : source.axes.find((x) => x.name === k)!;
      return [a, b] as const;
    });
    sel = semiJoin(input, pairs, source, sel, mode === "keep");
  }

  const nf = checkNumericFilter(cfg.numericFilter);
  if (nf) sel = numericStage(input, nf, sel);

  if (sel === null) return input;
  return take(input, sel);
}

/**
 * Semi-join (keep) or anti-join (exclude) on key columns. Input codes are translated into the
 * source's dictionaries once per dictionary entry; the keys of the source are then a set of
 * dense combination ids, so duplicate source keys never duplicate rows.
 */
function semiJoin(
  input: Frame,
  pairs: (readonly [DictColumn, DictColumn])[],
  source: Frame,
  sel: Selection,
  keep: boolean,
): Int32Array {
  const radices = pairs.map(([, b]) => b.dict.length + 1);
  const translate = pairs.map(([a, b]) => {
    const idx = new Map<string, number>();
    b.dict.forEach((s, i) => {
      if (!idx.has(s)) idx.set(s, i);
    });
    return Int32Array.from(a.dict, (s) => idx.get(s) ?? -2);
  });
  const numeric = radices.reduce((a, b) => a * b, 1) <= Number.MAX_SAFE_INTEGER;
  const m = pairs.length;
  const srcCodes = pairs.map(([, b]) => b.codes);
  const inCodes = pairs.map(([a]) => a.codes);
  // Key of a row from per-column source codes; a value absent from the source can never match.
  const sourceKey = (r: number): number | string => {
    if (numeric) {
      let key = 0;
      for (let j = 0; j < m; j++) key = key * radices[j] + srcCodes[j][r] + 1;
      return key;
    }
    let s = "";
    for (let j = 0; j < m; j++) s += `${srcCodes[j][r]},`;
    return s;
  };
  const inputKey = (r: number): number | string | null => {
    let key = 0;
    let s = "";
    for (let j = 0; j < m; j++) {
      const c = inCodes[j][r];
      const t = c < 0 ? -1 : translate[j][c];
      if (t === -2) return null;
      if (numeric) key = key * radices[j] + t + 1;
      else s += `${t},`;
    }
    return numeric ? key : s;
  };
  const keys = new Set<string | number>();
  for (let r = 0; r < source.rowCount; r++) keys.add(sourceKey(r));
  // One pass marks the kept rows, a second copies them into an exact-size array (no identity
  // selection of every input row, no scratch array of the input's length).
  const len = sel ? sel.length : input.rowCount;
  const hit = new Uint8Array(len);
  let k = 0;
  for (let i = 0; i < len; i++) {
    const key = inputKey(sel ? sel[i] : i);
    if ((key !== null && keys.has(key)) === keep) {
      hit[i] = 1;
      k++;
    }
  }
  const out = new Int32Array(k);
  k = 0;
  for (let i = 0; i < len; i++) if (hit[i]) out[k++] = sel ? sel[i] : i;
  return out;
}
