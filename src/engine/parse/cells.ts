/*
 * Cell normalisation (analysis.md §1.2). Readers (CSV, xlsx) produce RawCells; the layout code
 * turns them into labels (axis names/values, 科目) or values (値) with these functions only, so
 * the same content gives the same records whichever file format it came from.
 */
import { EMPTY_MARKERS } from "@/engine/contract";

export type ExcelErrorCell = { error: string };
export type UncachedFormulaCell = { uncachedFormula: true };
export type RawCell =
  | null
  | undefined
  | string
  | number
  | boolean
  | Date
  | ExcelErrorCell
  | UncachedFormulaCell;

export const isErrorCell = (c: RawCell): c is ExcelErrorCell =>
  typeof c === "object" && c !== null && !(c instanceof Date) && "error" in c;
export const isUncachedFormula = (c: RawCell): c is UncachedFormulaCell =>
  typeof c === "object" && c !== null && !(c instanceof Date) && "uncachedFormula" in c;

/**
 * Canonical decimal form: integral values without a fraction, otherwise the shortest round-trip
 * form. ECMAScript's Number→String already uses exponents exactly outside 1e-6 ≤ |x| < 1e21, and
 * prints -0 as "0".
 */
export function canonicalNumber(x: number): string {
  return String(x);
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Dates from the readers are UTC instants of the sheet's wall-clock value (no zone). */
export function formatDate(d: Date): string {
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const h = d.getUTCHours();
  const m = d.getUTCMinutes();
  const s = d.getUTCSeconds();
  if (h === 0 && m === 0 && s === 0) return date;
  return `${date}T${pad(h)}:${pad(m)}:${pad(s)}`;
}

const isTrimmable = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x3000;

/** Trims ASCII whitespace and U+3000 (ideographic space) at both ends; inner whitespace is kept. */
export function trimLabel(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isTrimmable(s.charCodeAt(a))) a++;
  while (b > a && isTrimmable(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** The label form of a cell; "" means empty. Labels are not NFKC-normalised (they keep identity). */
export function labelOf(cell: RawCell): string {
  if (cell === null || cell === undefined) return "";
  switch (typeof cell) {
    case "string":
      return trimLabel(cell);
    case "number":
      return Number.isFinite(cell) ? canonicalNumber(cell) : "";
    case "boolean":
      return cell ? "TRUE" : "FALSE";
    default:
      if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? "" : formatDate(cell);
      if (isErrorCell(cell)) return cell.error;
      return "";
  }
}

const SIMPLE_NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;
const FINAL_NUMBER = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const GROUPED_INT = /^\d{1,3}(?:,\d{3})+$/;

/**
 * Numeric text parsing, in the order of §1.2: NFKC; ▲/△/parentheses/sign; one ¥ or $ and one
 * trailing 円; trailing % divides by 100; commas only as thousands separators; the final pattern.
 * Returns null when the token is not a number (the caller keeps the original text).
 */
export function parseNumericText(raw: string): number | null {
  const trimmed = trimLabel(raw);
  if (trimmed === "") return null;
  // Plain ASCII numbers are the common case in large CSVs: skip NFKC and the rule chain.
  if (SIMPLE_NUMBER.test(trimmed)) {
    const v = Number(trimmed);
    return Number.isFinite(v) ? v + 0 : null;
  }
  let s = trimmed.normalize("NFKC");
  let negative = false;
  const first = s[0];
  if (first === "▲" || first === "△") {
    negative = true;
    s = s.slice(1);
  } else if (first === "(" && s.endsWith(")") && s.length > 2) {
    negative = true;
    s = s.slice(1, -1);
  } else if (first === "+" || first === "-") {
    negative = first === "-";
    s = s.slice(1);
  }
  if (s[0] === "¥" || s[0] === "$") s = s.slice(1);
  if (s.endsWith("円")) s = s.slice(0, -1);
  let percent = false;
  if (s.endsWith("%")) {
    percent = true;
    s = s.slice(0, -1);
  }
  if (s.includes(",")) {
    const cut = s.search(/[.eE]/);
    const intPart = cut < 0 ? s : s.slice(0, cut);
    if (!GROUPED_INT.test(intPart)) return null;
    s = intPart.replaceAll(",", "") + (cut < 0 ? "" : s.slice(cut));
  }
  if (!FINAL_NUMBER.test(s)) return null;
  let v = Number(s);
  if (percent) v /= 100;
  if (negative) v = -v;
  if (!Number.isFinite(v)) return null;
  return v + 0;
}

/**
 * The value form of a cell: undefined = no record (empty marker), null = a null value (an Excel
 * error), a finite number, or the trimmed original text when it is not numeric.
 */
export function cellValue(cell: RawCell): number | string | null | undefined {
  if (cell === null || cell === undefined) return undefined;
  switch (typeof cell) {
    case "number":
      return Number.isFinite(cell) ? cell + 0 : null;
    case "string": {
      const t = trimLabel(cell);
      if (EMPTY_MARKERS.has(t)) return undefined;
      const v = parseNumericText(t);
      return v === null ? t : v;
    }
    case "boolean":
      return cell ? "TRUE" : "FALSE";
    default:
      if (cell instanceof Date) return Number.isNaN(cell.getTime()) ? undefined : formatDate(cell);
      if (isErrorCell(cell)) return null;
      return undefined;
  }
}

/** True when the cell is empty for row/column emptiness (§1.4 rule 1). */
export const isEmptyCell = (cell: RawCell): boolean => {
  if (cell === null || cell === undefined) return true;
  if (typeof cell === "string") return trimLabel(cell) === "";
  if (isUncachedFormula(cell)) return true;
  return false;
};

/** A1 address of a 0-based (row, column). */
export function a1(row: number, col: number): string {
  let c = col + 1;
  let letters = "";
  while (c > 0) {
    const m = (c - 1) % 26;
    letters = String.fromCharCode(65 + m) + letters;
    c = Math.floor((c - 1) / 26);
  }
  return `${letters}${row + 1}`;
}
