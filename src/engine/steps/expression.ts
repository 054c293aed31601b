/*
 * The arithmetic grammar of analysis.md §7.2 (right-hand side only), used by transform
 * `expression`. Operator characters have full-width and typographic variants; identifiers are
 * runs of other characters (trimmed, inner whitespace collapsed) or quoted with 「…」 / […];
 * `ー` is part of identifiers, never a minus.
 */

export type Expr =
  | { kind: "num"; value: number }
  | { kind: "id"; name: string }
  | { kind: "neg"; arg: Expr }
  | { kind: "bin"; op: "+" | "-" | "*" | "/"; left: Expr; right: Expr };

export class ExpressionError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

const OPERATORS: Record<string, string> = {
  "+": "+",
  "＋": "+",
  "-": "-",
  "－": "-",
  "−": "-",
  "*": "*",
  "＊": "*",
  "×": "*",
  "/": "/",
  "／": "/",
  "÷": "/",
  "(": "(",
  "（": "(",
  ")": ")",
  "）": ")",
  "=": "=",
  "＝": "=",
};

type Token =
  | { t: "op"; v: string; i: number }
  | { t: "num"; v: number; i: number }
  | { t: "id"; v: string; i: number };

const NUMBER = /^[0-9０-９]+(?:[.．][0-9０-９]+)?[%％]?$/;

function toNumber(s: string): number {
  const ascii = s.normalize("NFKC");
  return ascii.endsWith("%") ? Number(ascii.slice(0, -1)) / 100 : Number(ascii);
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (OPERATORS[ch]) {
      out.push({ t: "op", v: OPERATORS[ch], i });
      i++;
      continue;
    }
    if (ch === "「" || ch === "[") {
      const close = ch === "「" ? "」" : "]";
      const end = src.indexOf(close, i + 1);
      if (end < 0) throw new ExpressionError(`unclosed ${ch}`, i);
      const name = src
        .slice(i + 1, end)
        .trim()
        .replace(/\s+/g, " ");
      if (!name) throw new ExpressionError("empty quoted identifier", i);
      out.push({ t: "id", v: name, i });
      i = end + 1;
      continue;
    }
    const start = i;
    while (i < src.length && !OPERATORS[src[i]] && src[i] !== "「" && src[i] !== "[") i++;
    const run = src.slice(start, i).trim().replace(/\s+/g, " ");
    if (NUMBER.test(run)) out.push({ t: "num", v: toNumber(run), i: start });
    else out.push({ t: "id", v: run, i: start });
  }
  return out;
}

export function parseExpression(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const endIndex = src.length;
  const expr = (): Expr => {
    let left = term();
    while (peek()?.t === "op" && (peek().v === "+" || peek().v === "-")) {
      const op = toks[p++].v as "+" | "-";
      left = { kind: "bin", op, left, right: term() };
    }
    return left;
  };
  const term = (): Expr => {
    let left = factor();
    while (peek()?.t === "op" && (peek().v === "*" || peek().v === "/")) {
      const op = toks[p++].v as "*" | "/";
      left = { kind: "bin", op, left, right: factor() };
    }
    return left;
  };
  const factor = (): Expr => {
    const tok = peek();
    if (tok?.t === "op" && (tok.v === "+" || tok.v === "-")) {
      p++;
      const arg = factor();
      return tok.v === "-" ? { kind: "neg", arg } : arg;
    }
    return primary();
  };
  const primary = (): Expr => {
    const tok = toks[p];
    if (!tok) throw new ExpressionError("expected an operand at the end of the expression", endIndex);
    p++;
    if (tok.t === "num") return { kind: "num", value: tok.v };
    if (tok.t === "id") return { kind: "id", name: tok.v };
    if (tok.v === "(") {
      const inner = expr();
      const close = toks[p];
      if (close?.t !== "op" || close.v !== ")") {
        throw new ExpressionError("expected a closing parenthesis", close ? close.i : endIndex);
      }
      p++;
      return inner;
    }
    throw new ExpressionError(`expected an operand, found ${tok.v}`, tok.i);
  };
  if (toks.length === 0) throw new ExpressionError("the expression is empty", 0);
  const result = expr();
  if (p < toks.length) {
    const t = toks[p];
    throw new ExpressionError(`unexpected ${t.t === "op" ? t.v : String(t.v)}`, t.i);
  }
  return result;
}

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
