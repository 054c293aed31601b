/*
 * The transform step's `expression` (analysis.md §3.5): the right-hand side of the §7.2 grammar,
 * parsed by the one grammar in `driver-tree/grammar.ts`, evaluated row by row with §3.7 rules.
 */
import type { Expr } from "@/engine/driver-tree/grammar";

export { type Expr, ExpressionError, parseExpression } from "@/engine/driver-tree/grammar";

export function identifiers(e: Expr, out: string[] = []): string[] {
  if (e.kind === "id") {
    if (!out.includes(e.name)) out.push(e.name);
  } else if (e.kind === "neg") identifiers(e.arg, out);
  else if (e.kind === "bin") {
    identifiers(e.left, out);
    identifiers(e.right, out);
  }
  return out;
}

/** Evaluates with §3.7 semantics: null propagates; x/0 and non-finite give null (reported). */
export function evaluate(
  e: Expr,
  lookup: (name: string) => number | null,
  onIssue: (code: "DIVISION_BY_ZERO" | "NON_FINITE") => void,
): number | null {
  switch (e.kind) {
    case "num":
      return e.value;
    case "id":
      return lookup(e.name);
    case "neg": {
      const v = evaluate(e.arg, lookup, onIssue);
      return v === null ? null : -v + 0;
    }
    default: {
      const a = evaluate(e.left, lookup, onIssue);
      const b = evaluate(e.right, lookup, onIssue);
      if (a === null || b === null) return null;
      if (e.op === "/" && b === 0) {
        onIssue("DIVISION_BY_ZERO");
        return null;
      }
      const r = e.op === "+" ? a + b : e.op === "-" ? a - b : e.op === "*" ? a * b : a / b;
      if (!Number.isFinite(r)) {
        onIssue("NON_FINITE");
        return null;
      }
      return r + 0;
    }
  }
}
