/*
 * Syntax tree → the n-ary shape of driver-tree relationships (analysis.md §7.2):
 * - a chain of one operator along the left spine is one group: `a-b-c` → `- [a, b, c]`;
 * - `+` and `*` also absorb right-nested groups of the same operator: `a+(b+c)` → `+ [a, b, c]`;
 * - anything else is a child group (an intermediate calculation node, labelled with its text);
 * - unary minus stays `neg` here and becomes `- [0, x]` when materialised.
 * The canonical text re-parses to the same n-ary term, so labels are stable across imports.
 */
import { type BinaryOp, canonicalIdentifier, canonicalNumber, type Expr } from "@/engine/driver-tree/grammar";

export type FormulaTerm =
  | { k: "num"; value: number }
  | { k: "id"; name: string }
  | { k: "neg"; arg: FormulaTerm }
  | { k: "op"; op: BinaryOp; args: FormulaTerm[] };

export function toTerm(e: Expr): FormulaTerm {
  switch (e.kind) {
    case "num":
      return { k: "num", value: e.value === 0 ? 0 : e.value };
    case "id":
      return { k: "id", name: e.name };
    case "neg":
      return { k: "neg", arg: toTerm(e.arg) };
    default: {
      const args: FormulaTerm[] = [];
      flatten(e, e.op, args);
      return { k: "op", op: e.op, args };
    }
  }
}

const ABSORBS_RIGHT: Record<BinaryOp, boolean> = { "+": true, "*": true, "-": false, "/": false };

function flatten(e: Expr, op: BinaryOp, out: FormulaTerm[]): void {
  if (e.kind !== "bin" || e.op !== op) {
    out.push(toTerm(e));
    return;
  }
  flatten(e.left, op, out);
  if (ABSORBS_RIGHT[op]) flatten(e.right, op, out);
  else out.push(toTerm(e.right));
}

const PREC: Record<BinaryOp, number> = { "+": 1, "-": 1, "*": 2, "/": 2 };

/** Canonical text: single spaces around operators, the fewest parentheses that keep the shape. */
export function printTerm(t: FormulaTerm): string {
  switch (t.k) {
    case "num":
      return canonicalNumber(t.value);
    case "id":
      return canonicalIdentifier(t.name);
    case "neg":
      return t.arg.k === "op" || (t.arg.k === "num" && t.arg.value < 0)
        ? `-(${printTerm(t.arg)})`
        : `-${printTerm(t.arg)}`;
    default:
      return t.args
        .map((a, i) => {
          const text = printTerm(a);
          if (a.k === "op") {
            const wrap = PREC[a.op] < PREC[t.op] || (i > 0 && PREC[a.op] === PREC[t.op]);
            return wrap ? `(${text})` : text;
          }
          if (a.k === "neg" && i > 0) return `(${text})`;
          return text;
        })
        .join(` ${t.op} `);
  }
}

/** The canonical text of a formula: `label = expression`. */
export function printFormula(label: string, t: FormulaTerm): string {
  return `${canonicalIdentifier(label)} = ${printTerm(t)}`;
}
