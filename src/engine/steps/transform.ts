/*
 * Transform step (analysis.md §3.5). Axis operations work row by row but compute each distinct
 * operand tuple once (dictionary-level work); subject operations work per combination of all axis
 * values, looking metrics up in dense per-combination arrays.
 */
import { SUBJECT, VALUE } from "@/engine/contract";
import { limitExceeded } from "@/engine/errors";
import {
  type CodeArray,
  codeArray,
  type DictColumn,
  DictEncoder,
  type Frame,
  KIND_NULL,
  KIND_NUMBER,
  KIND_TEXT,
  usedCodes,
} from "@/engine/frame";
import { canonicalNumber, parseNumericText } from "@/engine/parse/cells";
import { countDuplicates } from "@/engine/parse/layout";
import {
  ARITH_OPS,
  categoryColumns,
  expectArray,
  expectEnum,
  expectFiniteNumber,
  expectObject,
  expectString,
  invalid,
  isObj,
  presentSubjects,
  type StepContext,
  unknownSubject,
  type Warnings,
} from "@/engine/steps/common";
import {
  type Expr,
  ExpressionError,
  evaluate,
  identifiers,
  parseExpression,
} from "@/engine/steps/expression";
import { groupRows } from "@/engine/util/group";
import { suggest } from "@/engine/util/suggest";

export type Calculation =
  | { type: "constant"; value: string | number | null }
  | { type: "copy"; copyFrom: string }
  | {
      type: "mapping";
      operands: [string];
      mappingDict: Record<string, string | number>;
      default?: string | number | null;
    }
  | { type: "formula"; formulaType: "+" | "-" | "*" | "/"; operands: [string, string] }
  | {
      type: "formula";
      formulaType: "+" | "-" | "*" | "/";
      operands: [string];
      constantValue: number;
      constantSide?: "right" | "left";
    }
  | { type: "formula"; expression: string };
export type Operation = {
  operationType: "add_axis" | "modify_axis" | "add_subject" | "modify_subject";
  targetName: string;
  calculation: Calculation;
};
export type TransformConfig = { operations: Operation[] };

type Calc =
  | { type: "constant"; value: string | number | null }
  | { type: "copy"; from: string; path: string }
  | {
      type: "mapping";
      from: string;
      path: string;
      dict: Record<string, string | number>;
      hasDefault: boolean;
      def: string | number | null;
    }
  | { type: "formula"; expr: Expr; operands: string[]; paths: string[] };

const OP_TYPES = ["add_axis", "modify_axis", "add_subject", "modify_subject"] as const;
const CALC_KEYS: Record<string, string[]> = {
  constant: ["type", "value"],
  copy: ["type", "copyFrom"],
  mapping: ["type", "operands", "mappingDict", "default"],
  formula: ["type", "formulaType", "operands", "constantValue", "constantSide", "expression"],
};

function parseCalc(raw: unknown, p: string): Calc {
  if (!isObj(raw)) invalid(p, "calculation must be an object");
  const type = expectEnum(
    raw.type,
    `${p}/type`,
    ["constant", "copy", "mapping", "formula"] as const,
    "calculation type",
  );
  expectObject(raw, p, CALC_KEYS[type], `a ${type} calculation`);
  switch (type) {
    case "constant": {
      const v = raw.value;
      if (v !== null && typeof v !== "string" && !(typeof v === "number" && Number.isFinite(v))) {
        invalid(`${p}/value`, "value must be a string, a finite number or null");
      }
      return { type, value: v as string | number | null };
    }
    case "copy":
      return { type, from: expectString(raw.copyFrom, `${p}/copyFrom`, "copyFrom"), path: `${p}/copyFrom` };
    case "mapping": {
      if (!Array.isArray(raw.operands) || raw.operands.length !== 1)
        invalid(`${p}/operands`, "mapping takes exactly one operand");
      const from = expectString(raw.operands[0], `${p}/operands/0`, "operand");
      if (!isObj(raw.mappingDict)) invalid(`${p}/mappingDict`, "mappingDict must be an object");
      for (const [k, v] of Object.entries(raw.mappingDict)) {
        if (typeof v !== "string" && !(typeof v === "number" && Number.isFinite(v))) {
          invalid(`${p}/mappingDict/${k}`, `the mapping of ${k} must be a string or a finite number`);
        }
      }
      const hasDefault = "default" in raw;
      const def = raw.default ?? null;
      if (def !== null && typeof def !== "string" && !(typeof def === "number" && Number.isFinite(def))) {
        invalid(`${p}/default`, "default must be a string, a finite number or null");
      }
      return {
        type,
        from,
        path: `${p}/operands/0`,
        dict: raw.mappingDict as Record<string, string | number>,
        hasDefault,
        def: def as string | number | null,
      };
    }
    default: {
      if (raw.expression !== undefined) {
        for (const k of ["formulaType", "operands", "constantValue", "constantSide"]) {
          if (raw[k] !== undefined) invalid(`${p}/${k}`, `${k} cannot be combined with expression`);
        }
        const src = expectString(raw.expression, `${p}/expression`, "expression", 2000);
        let expr: Expr;
        try {
          expr = parseExpression(src);
        } catch (e) {
          if (!(e instanceof ExpressionError)) throw e;
          invalid(`${p}/expression`, `the expression does not parse: ${e.message} at index ${e.index}`, {
            index: e.index,
          });
        }
        const ids = identifiers(expr);
        return { type: "formula", expr, operands: ids, paths: ids.map(() => `${p}/expression`) };
      }
      const op = expectEnum(raw.formulaType, `${p}/formulaType`, ARITH_OPS, "formulaType");
      const operands = raw.operands;
      if (!Array.isArray(operands) || operands.length < 1 || operands.length > 2) {
        invalid(`${p}/operands`, "a formula takes two operands, or one operand and constantValue");
      }
      const names = operands.map((o, i) => expectString(o, `${p}/operands/${i}`, "operand"));
      const paths = names.map((_, i) => `${p}/operands/${i}`);
      if (names.length === 2) {
        if (raw.constantValue !== undefined)
          invalid(`${p}/constantValue`, "constantValue needs exactly one operand");
        return {
          type: "formula",
          expr: {
            kind: "bin",
            op,
            left: { kind: "id", name: names[0] },
            right: { kind: "id", name: names[1] },
          },
          operands: [...new Set(names)],
          paths,
        };
      }
      const c = expectFiniteNumber(raw.constantValue, `${p}/constantValue`, "constantValue");
      const side =
        raw.constantSide === undefined
          ? "right"
          : expectEnum(raw.constantSide, `${p}/constantSide`, ["right", "left"] as const, "constantSide");
      const id: Expr = { kind: "id", name: names[0] };
      const num: Expr = { kind: "num", value: c };
      return {
        type: "formula",
        expr:
          side === "right"
            ? { kind: "bin", op, left: id, right: num }
            : { kind: "bin", op, left: num, right: id },
        operands: names,
        paths,
      };
    }
  }
}

const labelOfValue = (v: string | number | null): string | null =>
  v === null ? null : typeof v === "number" ? canonicalNumber(v) : v;

const issueCounter = (w: Warnings, weight: () => number) => (code: "DIVISION_BY_ZERO" | "NON_FINITE") =>
  w.add(
    code,
    code === "DIVISION_BY_ZERO"
      ? "division by zero gave null"
      : "a non-finite result (overflow or NaN) gave null",
    weight(),
  );

export function applyTransform(config: unknown, input: Frame, ctx: StepContext, w: Warnings): Frame {
  const cfg = expectObject(config, "", ["operations"], "a transform config");
  const ops = expectArray(cfg.operations, "/operations", "operations", 1, 50);
  let f = input;
  ops.forEach((raw, i) => {
    const p = `/operations/${i}`;
    const op = expectObject(raw, p, ["operationType", "targetName", "calculation"], "an operation");
    const type = expectEnum(op.operationType, `${p}/operationType`, OP_TYPES, "operationType");
    const target = expectString(op.targetName, `${p}/targetName`, "targetName");
    const calc = parseCalc(op.calculation, `${p}/calculation`);
    f =
      type === "add_axis" || type === "modify_axis"
        ? axisOperation(f, type, target, calc, p, w)
        : subjectOperation(f, type, target, calc, p, w);
    if (f.rowCount > ctx.limits.maxRows) throw limitExceeded("rows", ctx.limits.maxRows, f.rowCount);
  });
  return f;
}

function sourceColumn(f: Frame, name: string, path: string): DictColumn {
  const cols = categoryColumns(f);
  const col = name === SUBJECT ? f.subject : f.axes.find((a) => a.name === name);
  if (!col) {
    invalid(path, `unknown column ${name}`, {
      availableAxes: f.axes.map((a) => a.name),
      availableColumns: cols,
      suggestions: suggest(name, cols),
    });
  }
  return col;
}

function axisOperation(
  f: Frame,
  type: "add_axis" | "modify_axis",
  target: string,
  calc: Calc,
  p: string,
  w: Warnings,
): Frame {
  const axisNames = f.axes.map((a) => a.name);
  if (type === "add_axis") {
    if (target === SUBJECT || target === VALUE || axisNames.includes(target)) {
      invalid(`${p}/targetName`, `axis ${target} already exists or is reserved`, {
        availableAxes: axisNames,
      });
    }
  } else if (target === SUBJECT) {
    if (calc.type !== "mapping")
      invalid(`${p}/calculation/type`, `${SUBJECT} can be modified only with a mapping`, {
        allowed: ["mapping"],
      });
  } else if (!axisNames.includes(target)) {
    invalid(`${p}/targetName`, `unknown axis ${target}`, {
      availableAxes: axisNames,
      suggestions: suggest(target, axisNames),
    });
  }
  const n = f.rowCount;
  let column: { codes: CodeArray; dict: readonly string[] };
  switch (calc.type) {
    case "constant": {
      const label = labelOfValue(calc.value);
      column = {
        codes: codeArray(1, n).fill(label === null ? -1 : 0),
        dict: label === null ? [] : [label],
      };
      break;
    }
    case "copy": {
      const src = sourceColumn(f, calc.from, calc.path);
      column = { codes: src.codes, dict: src.dict };
      break;
    }
    case "mapping": {
      const src = sourceColumn(f, calc.from, calc.path);
      const enc = new DictEncoder();
      const map = (label: string | null): number => {
        if (label !== null && Object.hasOwn(calc.dict, label))
          return enc.code(labelOfValue(calc.dict[label]));
        if (calc.hasDefault) return enc.code(labelOfValue(calc.def));
        return enc.code(label);
      };
      const used = usedCodes(src);
      const remap = new Int32Array(src.dict.length);
      const nullCode = used.hasNull ? map(null) : -1;
      for (let c = 0; c < src.dict.length; c++) remap[c] = used.mask[c] ? map(src.dict[c]) : -1;
      const codes = codeArray(enc.dict.length, n);
      for (let i = 0; i < n; i++) {
        const c = src.codes[i];
        codes[i] = c < 0 ? nullCode : remap[c];
      }
      column = { codes, dict: enc.dict };
      break;
    }
    default: {
      const cols = calc.operands.map((name, i) =>
        sourceColumn(f, name, calc.paths[Math.min(i, calc.paths.length - 1)]),
      );
      const g = groupRows(
        cols.map((c) => c.codes),
        cols.map((c) => c.dict.length),
        n,
      );
      const sizes = new Int32Array(g.count);
      for (let i = 0; i < n; i++) sizes[g.ids[i]]++;
      const enc = new DictEncoder();
      const groupCode = new Int32Array(g.count);
      for (let k = 0; k < g.count; k++) {
        const r = g.firstRow[k];
        const lookup = (name: string) => {
          const col = cols[calc.operands.indexOf(name)];
          const c = col.codes[r];
          return c < 0 ? null : parseNumericText(col.dict[c]);
        };
        const v = evaluate(
          calc.expr,
          lookup,
          issueCounter(w, () => sizes[k]),
        );
        groupCode[k] = enc.code(v === null ? null : canonicalNumber(v));
      }
      const codes = codeArray(enc.dict.length, n);
      for (let i = 0; i < n; i++) codes[i] = groupCode[g.ids[i]];
      column = { codes, dict: enc.dict };
    }
  }
  if (target === SUBJECT) {
    const next: Frame = { ...f, subject: { name: SUBJECT, codes: column.codes, dict: column.dict } };
    const added = countDuplicates(next) - countDuplicates(f);
    if (added > 0)
      w.add(
        "DUPLICATE_ROWS_CREATED",
        `renaming ${SUBJECT} values created duplicate rows; aggregate to merge them`,
        added,
      );
    return next;
  }
  const col: DictColumn = { name: target, codes: column.codes, dict: column.dict };
  const axes = type === "add_axis" ? [...f.axes, col] : f.axes.map((a) => (a.name === target ? col : a));
  return { ...f, axes };
}

/** Per-combination view of one metric: kind 255 = no row, else the KIND_* of its 値. */
type Metric = { kind: Uint8Array; value: Float64Array; text: Map<number, string> };
const ABSENT = 255;

function metricByCombo(
  f: Frame,
  ids: Int32Array,
  count: number,
  name: string,
  path: string,
  where: string,
): Metric {
  const code = f.subject.dict.indexOf(name);
  const kind = new Uint8Array(count).fill(ABSENT);
  const value = new Float64Array(count);
  const text = new Map<number, string>();
  let found = false;
  const subj = f.subject.codes;
  for (let i = 0; i < f.rowCount; i++) {
    if (subj[i] !== code) continue;
    found = true;
    const k = ids[i];
    if (kind[k] !== ABSENT) {
      invalid(
        path,
        `duplicate rows for ${name}; aggregate first`,
        {},
        `Duplicate rows for ${name} in one combination of axis values; aggregate first`,
      );
    }
    kind[k] = f.kinds[i];
    value[k] = f.values[i];
    if (f.kinds[i] === KIND_TEXT) text.set(k, f.text.get(i)!);
  }
  if (!found || code < 0) unknownSubject(f, name, path, where);
  return { kind, value, text };
}

/** A subject operation's result for one combination; undefined = no row for it. */
type Out = number | string | null | undefined;

function subjectOperation(
  f: Frame,
  type: "add_subject" | "modify_subject",
  target: string,
  calc: Calc,
  p: string,
  w: Warnings,
): Frame {
  const subjects = presentSubjects(f);
  if (type === "add_subject" && subjects.includes(target)) {
    invalid(`${p}/targetName`, `subject ${target} already exists; use modify_subject`, {
      availableSubjects: subjects.slice(0, 200),
    });
  }
  if (type === "modify_subject" && !subjects.includes(target))
    unknownSubject(f, target, `${p}/targetName`, "targetName");
  const n = f.rowCount;
  const axes = f.axes;
  const g = groupRows(
    axes.map((a) => a.codes),
    axes.map((a) => a.dict.length),
    n,
  );
  const where = `operation ${p.split("/").pop()}`;
  let compute: (k: number) => Out;
  switch (calc.type) {
    case "constant": {
      const v =
        typeof calc.value === "number"
          ? calc.value
          : typeof calc.value === "string"
            ? parseNumericText(calc.value)
            : null;
      if (v === null) invalid(`${p}/calculation/value`, "a subject constant must be numeric");
      compute = () => v;
      break;
    }
    case "copy": {
      const m = metricByCombo(f, g.ids, g.count, calc.from, calc.path, where);
      compute = (k) => {
        const kind = m.kind[k];
        if (kind === ABSENT) return undefined;
        return kind === KIND_NUMBER ? m.value[k] : kind === KIND_TEXT ? m.text.get(k)! : null;
      };
      break;
    }
    case "mapping": {
      const m = metricByCombo(f, g.ids, g.count, calc.from, calc.path, where);
      const numeric = (v: string | number, path: string): number => {
        const x = typeof v === "number" ? v : parseNumericText(v);
        if (x === null) invalid(path, `mapped value ${String(v)} must be a number or numeric text`);
        return x;
      };
      const dict = new Map<string, number>();
      for (const [k, v] of Object.entries(calc.dict))
        dict.set(k, numeric(v, `${p}/calculation/mappingDict/${k}`));
      const def = calc.hasDefault && calc.def !== null ? numeric(calc.def, `${p}/calculation/default`) : null;
      compute = (k) => {
        const kind = m.kind[k];
        if (kind === ABSENT) return undefined;
        const v = kind === KIND_NUMBER ? m.value[k] : kind === KIND_TEXT ? m.text.get(k)! : null;
        const key = v === null ? null : typeof v === "number" ? canonicalNumber(v) : v;
        if (key !== null && dict.has(key)) return dict.get(key)!;
        if (calc.hasDefault) return def;
        return v;
      };
      break;
    }
    default: {
      const metrics = new Map<string, Metric>();
      calc.operands.forEach((name, i) => {
        metrics.set(
          name,
          metricByCombo(f, g.ids, g.count, name, calc.paths[Math.min(i, calc.paths.length - 1)], where),
        );
      });
      const list = [...metrics.values()];
      let weight = 1;
      const onIssue = issueCounter(w, () => weight);
      // One lookup closure for all combinations (reading `current`), not one per combination.
      let current = 0;
      const lookup = (name: string) => {
        const m = metrics.get(name)!;
        return m.kind[current] === KIND_NUMBER ? m.value[current] : null;
      };
      compute = (k) => {
        if (list.length > 0 && !list.some((m) => m.kind[k] !== ABSENT)) return undefined;
        current = k;
        weight = 1;
        return evaluate(calc.expr, lookup, onIssue);
      };
    }
  }

  if (type === "modify_subject") {
    const code = f.subject.dict.indexOf(target);
    const kinds = f.kinds.slice();
    const values = f.values.slice();
    const text = new Map(f.text);
    const memo = new Map<number, Out>();
    for (let i = 0; i < n; i++) {
      if (f.subject.codes[i] !== code) continue;
      const k = g.ids[i];
      let v: Out;
      if (memo.has(k)) v = memo.get(k);
      else {
        v = compute(k);
        memo.set(k, v);
      }
      // A combination without a row for the operands makes the modified value null.
      if (v === undefined) v = null;
      text.delete(i);
      kinds[i] = typeof v === "number" ? KIND_NUMBER : typeof v === "string" ? KIND_TEXT : KIND_NULL;
      values[i] = typeof v === "number" ? v : 0;
      if (typeof v === "string") text.set(i, v);
    }
    return { ...f, kinds, values, text };
  }

  // The added rows as columns (combination, kind, number; text sparse) rather than an object each.
  const addedCombo = new Int32Array(g.count);
  const addedKind = new Uint8Array(g.count);
  const addedValue = new Float64Array(g.count);
  const addedText = new Map<number, string>();
  let nAdded = 0;
  for (let k = 0; k < g.count; k++) {
    const v = compute(k);
    if (v === undefined) continue;
    addedCombo[nAdded] = k;
    if (typeof v === "number") {
      addedKind[nAdded] = KIND_NUMBER;
      addedValue[nAdded] = v;
    } else if (typeof v === "string") {
      addedKind[nAdded] = KIND_TEXT;
      addedText.set(nAdded, v);
    }
    nAdded++;
  }
  const total = n + nAdded;
  const enc = DictEncoder.from(f.subject.dict);
  const targetCode = enc.code(target);
  const axisCodes = axes.map((a) => {
    const codes = codeArray(a.dict.length, total);
    codes.set(a.codes);
    for (let j = 0; j < nAdded; j++) codes[n + j] = a.codes[g.firstRow[addedCombo[j]]];
    return codes;
  });
  const subject = codeArray(enc.dict.length, total);
  subject.set(f.subject.codes);
  subject.fill(targetCode, n);
  const kinds = new Uint8Array(total);
  kinds.set(f.kinds);
  const values = new Float64Array(total);
  values.set(f.values);
  kinds.set(addedKind.subarray(0, nAdded), n);
  values.set(addedValue.subarray(0, nAdded), n);
  const text = new Map(f.text);
  for (const [j, v] of addedText) text.set(n + j, v);
  return {
    rowCount: total,
    axes: axes.map((a, j) => ({ name: a.name, codes: axisCodes[j], dict: a.dict })),
    subject: { name: SUBJECT, codes: subject, dict: enc.dict },
    kinds,
    values,
    text,
  };
}
