/*
 * Aggregate step (analysis.md §3.4) and the per-subject statistics it shares with summary
 * formulas. One pass over the rows fills (group × subject) cells with a Neumaier-compensated sum,
 * count, min and max, so 50 entries cost one scan, not fifty.
 */
import { SUBJECT, VALUE } from "@/engine/contract";
import { limitExceeded } from "@/engine/errors";
import { codeArray, type DictColumn, type Frame, KIND_NUMBER } from "@/engine/frame";
import {
  ARITH_OPS,
  type ArithOp,
  arith,
  BASIC_METHODS,
  type BasicMethod,
  expectArray,
  expectEnum,
  expectObject,
  expectString,
  invalid,
  type StepContext,
  unknownSubject,
  type Warnings,
} from "@/engine/steps/common";
import { groupRows } from "@/engine/util/group";
import { suggest } from "@/engine/util/suggest";

export type AggregateEntry =
  | { name: string; method: BasicMethod; subject: string }
  | { name: string; method: ArithOp; operands: [string, string] };
export type AggregateConfig = { groupByAxis: string[]; aggregationConfig: AggregateEntry[] };

/** Per (group, subject slot) statistics over numeric 値; `present` counts rows of any kind. */
export type SubjectStats = {
  slots: number;
  present: Uint32Array;
  count: Uint32Array;
  sum: Float64Array;
  min: Float64Array;
  max: Float64Array;
};

export function subjectStats(
  f: Frame,
  groupIds: Int32Array | null,
  groups: number,
  subjectCodes: number[],
): SubjectStats {
  const slots = subjectCodes.length;
  const slotOf = new Int32Array(f.subject.dict.length).fill(-1);
  subjectCodes.forEach((c, s) => {
    slotOf[c] = s;
  });
  const cells = groups * slots;
  const present = new Uint32Array(cells);
  const count = new Uint32Array(cells);
  const sum = new Float64Array(cells);
  const comp = new Float64Array(cells);
  const min = new Float64Array(cells).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(cells).fill(Number.NEGATIVE_INFINITY);
  const subj = f.subject.codes;
  const kinds = f.kinds;
  const vals = f.values;
  for (let i = 0; i < f.rowCount; i++) {
    const s = slotOf[subj[i]];
    if (s < 0) continue;
    const cell = (groupIds ? groupIds[i] : 0) * slots + s;
    present[cell]++;
    if (kinds[i] !== KIND_NUMBER) continue;
    const v = vals[i];
    count[cell]++;
    // Neumaier compensated summation (§3.7).
    const t = sum[cell] + v;
    if (Math.abs(sum[cell]) >= Math.abs(v)) comp[cell] += sum[cell] - t + v;
    else comp[cell] += v - t + sum[cell];
    sum[cell] = t;
    if (v < min[cell]) min[cell] = v;
    if (v > max[cell]) max[cell] = v;
  }
  for (let c = 0; c < cells; c++) sum[c] += comp[c];
  return { slots, present, count, sum, min, max };
}

/** The value of a basic method for one cell; null per §3.4 (sum of nothing is 0). */
export function statValue(st: SubjectStats, cell: number, method: BasicMethod, w: Warnings): number | null {
  const n = st.count[cell];
  let r: number;
  switch (method) {
    case "sum":
      r = st.sum[cell];
      break;
    case "count":
      return n;
    case "mean":
      if (n === 0) return null;
      r = st.sum[cell] / n;
      break;
    case "max":
      if (n === 0) return null;
      r = st.max[cell];
      break;
    default:
      if (n === 0) return null;
      r = st.min[cell];
  }
  if (!Number.isFinite(r)) {
    w.add("NON_FINITE", "a non-finite result (overflow or NaN) gave null");
    return null;
  }
  return r + 0;
}

type CheckedEntry = {
  name: string;
  method: BasicMethod | ArithOp;
  subjectCode: number;
  operands: [number, number];
};

/**
 * Checks a list of named basic/arithmetic entries (aggregate `aggregationConfig`, summary
 * `formulas`); arithmetic operands must name earlier entries. `extraKeys` are allowed on entries.
 */
export function checkEntries(
  list: unknown,
  path: string,
  f: Frame,
  what: string,
  extraKeys: readonly string[] = [],
  min = 1,
): CheckedEntry[] {
  const arr = expectArray(list, path, what, min, 50);
  const names: string[] = [];
  const subjectIndex = new Map<string, number>();
  f.subject.dict.forEach((s, i) => {
    if (!subjectIndex.has(s)) subjectIndex.set(s, i);
  });
  const present = new Uint8Array(f.subject.dict.length);
  for (let i = 0; i < f.rowCount; i++) present[f.subject.codes[i]] = 1;
  return arr.map((raw, i) => {
    const p = `${path}/${i}`;
    const obj = expectObject(
      raw,
      p,
      ["name", "method", "subject", "operands", ...extraKeys],
      `${what} entry`,
    );
    const name = expectString(obj.name, `${p}/name`, "name");
    if (names.includes(name)) invalid(`${p}/name`, `name ${name} is used twice in ${what}`);
    const method = expectEnum(obj.method, `${p}/method`, [...BASIC_METHODS, ...ARITH_OPS], "method");
    let subjectCode = -1;
    let operands: [number, number] = [-1, -1];
    if ((BASIC_METHODS as readonly string[]).includes(method)) {
      if (obj.operands !== undefined)
        invalid(`${p}/operands`, `method ${method} takes a subject, not operands`);
      const subject = expectString(obj.subject, `${p}/subject`, "subject");
      const code = subjectIndex.get(subject);
      if (code === undefined || !present[code]) unknownSubject(f, subject, `${p}/subject`, `${what}[${i}]`);
      subjectCode = code;
    } else {
      if (obj.subject !== undefined)
        invalid(`${p}/subject`, `method ${method} takes operands, not a subject`);
      if (!Array.isArray(obj.operands) || obj.operands.length !== 2) {
        invalid(`${p}/operands`, `method ${method} needs exactly two operands`, { allowed: [...names] });
      }
      operands = obj.operands.map((o: unknown, j: number) => {
        const idx = typeof o === "string" ? names.indexOf(o) : -1;
        if (idx < 0) {
          invalid(
            `${p}/operands/${j}`,
            `operand ${String(o)} is not an earlier name of ${what}`,
            { allowed: [...names], suggestions: typeof o === "string" ? suggest(o, names) : [] },
            `Operand ${String(o)} of ${what}[${i}] must name an earlier entry (defined so far: ${names.join(", ") || "none"})`,
          );
        }
        return idx;
      }) as [number, number];
    }
    names.push(name);
    return { name, method, subjectCode, operands };
  });
}

/** Values of checked entries for every group: `null` = no row for that group. */
export function evaluateEntries(
  entries: CheckedEntry[],
  f: Frame,
  groupIds: Int32Array | null,
  groups: number,
  w: Warnings,
): { present: Uint8Array; values: (number | null)[] }[] {
  const subjectCodes = [...new Set(entries.filter((e) => e.subjectCode >= 0).map((e) => e.subjectCode))];
  const slot = new Map(subjectCodes.map((c, s) => [c, s]));
  const st = subjectStats(f, groupIds, groups, subjectCodes);
  const out: { present: Uint8Array; values: (number | null)[] }[] = [];
  for (const e of entries) {
    const present = new Uint8Array(groups);
    const values = new Array<number | null>(groups).fill(null);
    if (e.subjectCode >= 0) {
      const s = slot.get(e.subjectCode)!;
      for (let g = 0; g < groups; g++) {
        const cell = g * st.slots + s;
        if (st.present[cell] === 0) continue;
        present[g] = 1;
        values[g] = statValue(st, cell, e.method as BasicMethod, w);
      }
    } else {
      const [a, b] = e.operands.map((k) => out[k]);
      for (let g = 0; g < groups; g++) {
        if (!a.present[g] && !b.present[g]) continue;
        present[g] = 1;
        values[g] = arith(e.method as ArithOp, a.values[g], b.values[g], w);
      }
    }
    out.push({ present, values });
  }
  return out;
}

export function applyAggregate(config: unknown, input: Frame, ctx: StepContext, w: Warnings): Frame {
  const cfg = expectObject(config, "", ["groupByAxis", "aggregationConfig"], "an aggregate config");
  const axisNames = input.axes.map((a) => a.name);
  const by = expectArray(cfg.groupByAxis ?? [], "/groupByAxis", "groupByAxis", 0, 20);
  const groupCols: DictColumn[] = by.map((name, i) => {
    const path = `/groupByAxis/${i}`;
    if (typeof name !== "string" || !axisNames.includes(name)) {
      const reserved = name === SUBJECT || name === VALUE;
      invalid(
        path,
        reserved
          ? `groupByAxis cannot contain ${String(name)}`
          : `unknown axis ${String(name)} in groupByAxis`,
        { availableAxes: axisNames, suggestions: typeof name === "string" ? suggest(name, axisNames) : [] },
      );
    }
    if (by.indexOf(name) !== i) invalid(path, `axis ${name} is listed twice in groupByAxis`);
    return input.axes.find((a) => a.name === name)!;
  });
  const entries = checkEntries(cfg.aggregationConfig, "/aggregationConfig", input, "aggregationConfig");
  const g = groupRows(
    groupCols.map((c) => c.codes),
    groupCols.map((c) => c.dict.length),
    input.rowCount,
  );
  const results = evaluateEntries(entries, input, groupCols.length ? g.ids : null, g.count, w);
  let rows = 0;
  for (const r of results) for (let k = 0; k < g.count; k++) rows += r.present[k];
  if (rows > ctx.limits.maxRows) throw limitExceeded("rows", ctx.limits.maxRows, rows);
  const axisCodes = groupCols.map((c) => codeArray(c.dict.length, rows));
  const subject = codeArray(entries.length, rows);
  const kinds = new Uint8Array(rows);
  const values = new Float64Array(rows);
  let i = 0;
  for (let k = 0; k < g.count; k++) {
    const first = g.firstRow[k];
    for (let e = 0; e < entries.length; e++) {
      if (!results[e].present[k]) continue;
      for (let j = 0; j < groupCols.length; j++) axisCodes[j][i] = groupCols[j].codes[first];
      subject[i] = e;
      const v = results[e].values[k];
      if (v !== null) {
        kinds[i] = KIND_NUMBER;
        values[i] = v;
      }
      i++;
    }
  }
  return {
    rowCount: rows,
    axes: groupCols.map((c, j) => ({ name: c.name, codes: axisCodes[j], dict: c.dict })),
    subject: { name: SUBJECT, codes: subject, dict: entries.map((e) => e.name) },
    kinds,
    values,
    text: new Map(),
  };
}
