/*
 * Shared pieces of the step implementations: warnings, config shape checks that answer with the
 * §3.8 extension members, column lookup errors and the §3.7 numeric rules.
 */
import { SUBJECT, VALUE } from "@/engine/contract";
import { type EngineExtensions, stepConfigInvalid } from "@/engine/errors";
import { type DictColumn, distinctValues, type Frame } from "@/engine/frame";
import type { EngineLimits } from "@/engine/limits";
import { suggest } from "@/engine/util/suggest";

export type StepWarning = { code: string; count: number; message: string };

export class Warnings {
  private readonly map = new Map<string, StepWarning>();
  add(code: string, message: string, n = 1): void {
    if (n <= 0) return;
    const w = this.map.get(code);
    if (w) w.count += n;
    else this.map.set(code, { code, count: n, message });
  }
  list(): StepWarning[] {
    return [...this.map.values()];
  }
}

export type StepContext = {
  limits: EngineLimits;
  /** Dataset of an earlier step, for tableFilter; the pipeline has already checked the reference. */
  dataset?: (stepKey: string) => Frame | undefined;
};

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

export function invalid(path: string, message: string, ext: EngineExtensions = {}, detail?: string): never {
  throw stepConfigInvalid(
    detail ?? message.charAt(0).toUpperCase() + message.slice(1),
    `/config${path}`,
    message,
    ext,
  );
}

export function expectObject(v: unknown, path: string, allowed: readonly string[], what = "config"): Obj {
  if (!isObj(v)) invalid(path, `${what} must be an object`);
  for (const k of Object.keys(v)) {
    if (!allowed.includes(k)) {
      invalid(`${path}/${k}`, `unknown key ${k} in ${what}`, {
        allowed: [...allowed],
        suggestions: suggest(k, allowed),
      });
    }
  }
  return v;
}

export function expectString(v: unknown, path: string, what: string, max = 255): string {
  if (typeof v !== "string" || v.length === 0 || v.length > max) {
    invalid(path, `${what} must be a string of 1–${max} characters`);
  }
  return v;
}

export function expectEnum<T extends string>(
  v: unknown,
  path: string,
  allowed: readonly T[],
  what: string,
): T {
  if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
    invalid(path, `${what} ${JSON.stringify(v)} is not one of ${allowed.join(", ")}`, {
      allowed: [...allowed],
      suggestions: typeof v === "string" ? suggest(v, allowed) : [],
    });
  }
  return v as T;
}

export function expectFiniteNumber(v: unknown, path: string, what: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) invalid(path, `${what} must be a finite number`);
  return v;
}

export function expectArray(v: unknown, path: string, what: string, min: number, max: number): unknown[] {
  if (!Array.isArray(v) || v.length < min || v.length > max) {
    invalid(path, `${what} must be a list of ${min}–${max} entries`);
  }
  return v;
}

/** Axis and 科目 column names of a frame (the columns a category key may name). */
export const categoryColumns = (f: Frame): string[] => [...f.axes.map((a) => a.name), SUBJECT];
export const allColumns = (f: Frame): string[] => [...categoryColumns(f), VALUE];

/** A column that holds labels (an axis or 科目); 値 and unknown names are refused with choices. */
export function labelColumn(f: Frame, name: unknown, path: string, what: string, valueHint = ""): DictColumn {
  const available = allColumns(f);
  if (typeof name !== "string")
    invalid(path, `${what} must be a column name`, { availableColumns: available });
  if (name === VALUE) {
    invalid(path, `${what} cannot be ${VALUE}${valueHint ? `; ${valueHint}` : ""}`, {
      availableColumns: available,
    });
  }
  const col = name === SUBJECT ? f.subject : f.axes.find((a) => a.name === name);
  if (!col) {
    invalid(path, `unknown column ${name} in ${what}`, {
      availableColumns: available,
      suggestions: suggest(name, available),
    });
  }
  return col;
}

export function availableValues(col: DictColumn): EngineExtensions["availableValues"] {
  const values = distinctValues(col);
  return { column: col.name, values: values.slice(0, 50), more: values.length > 50 };
}

/** Subjects present in the data, first appearance first (at most 200 in error bodies). */
export function presentSubjects(f: Frame): string[] {
  return distinctValues(f.subject).filter((s): s is string => s !== null);
}

export function unknownSubject(f: Frame, name: string, path: string, where: string): never {
  const subjects = presentSubjects(f);
  invalid(
    path,
    `unknown subject ${name}`,
    { availableSubjects: subjects.slice(0, 200), suggestions: suggest(name, subjects) },
    `Unknown subject ${name} in ${where}`,
  );
}

/** Binary arithmetic under §3.7: null operands, x/0 and non-finite results give null + a warning. */
export function arith(
  op: "+" | "-" | "*" | "/",
  a: number | null,
  b: number | null,
  w: Warnings,
): number | null {
  if (a === null || b === null) return null;
  let r: number;
  switch (op) {
    case "+":
      r = a + b;
      break;
    case "-":
      r = a - b;
      break;
    case "*":
      r = a * b;
      break;
    default:
      if (b === 0) {
        w.add("DIVISION_BY_ZERO", "division by zero gave null");
        return null;
      }
      r = a / b;
  }
  return finite(r, w);
}

export function finite(r: number, w: Warnings): number | null {
  if (!Number.isFinite(r)) {
    w.add("NON_FINITE", "a non-finite result (overflow or NaN) gave null");
    return null;
  }
  return r + 0;
}

export const ARITH_OPS = ["+", "-", "*", "/"] as const;
export type ArithOp = (typeof ARITH_OPS)[number];
export const BASIC_METHODS = ["sum", "mean", "count", "max", "min"] as const;
export type BasicMethod = (typeof BASIC_METHODS)[number];
