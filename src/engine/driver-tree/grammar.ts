/*
 * The one arithmetic grammar of analysis.md §7.2, shared by driver-tree formulas (`label = expr`)
 * and the transform step's `expression` (right-hand side only, §3.5).
 *
 * TreeOperator characters have full-width and typographic variants; identifiers are runs of other
 * characters (trimmed, inner whitespace collapsed) or quoted with 「…」 / […] so they may contain
 * operator characters. Identifiers are compared exactly — never NFKC-normalised — and `ー` (katakana
 * long vowel) is an identifier character, never a minus. Only number literals are normalised.
 */

export type BinaryOp = "+" | "-" | "*" | "/";

export type Expr =
  | { kind: "num"; value: number }
  | { kind: "id"; name: string }
  | { kind: "neg"; arg: Expr }
  | { kind: "bin"; op: BinaryOp; left: Expr; right: Expr };

/** A syntax error: `index` is the character offset, `expected` what would have been valid there. */
export class FormulaSyntaxError extends Error {
  constructor(
    message: string,
    readonly index: number,
    readonly expected: string,
  ) {
    super(message);
    this.name = "FormulaSyntaxError";
  }
}

/** The transform step's historical name for the same error. */
export { FormulaSyntaxError as ExpressionError };

const OPERATORS: Record<string, "+" | "-" | "*" | "/" | "(" | ")" | "="> = {
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

const QUOTES: Record<string, string> = { "「": "」", "[": "]" };

type Token =
  | { t: "op"; v: "+" | "-" | "*" | "/" | "(" | ")" | "="; i: number }
  | { t: "num"; v: number; text: string; i: number }
  | { t: "id"; v: string; i: number };

const NUMBER = /^[0-9０-９]+(?:[.．][0-9０-９]+)?[%％]?$/;
const WS = /\s/;

const collapse = (s: string) => s.trim().replace(/\s+/g, " ");

function toNumber(s: string): number {
  // Digits only (the regex above), so NFKC touches nothing but full-width digits, `．` and `％`.
  const ascii = s.normalize("NFKC");
  return ascii.endsWith("%") ? Number(ascii.slice(0, -1)) / 100 : Number(ascii);
}

function tokenize(src: string, base: number): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (WS.test(ch)) {
      i++;
      continue;
    }
    const op = OPERATORS[ch];
    if (op) {
      out.push({ t: "op", v: op, i: base + i });
      i++;
      continue;
    }
    const close = QUOTES[ch];
    if (close) {
      const end = src.indexOf(close, i + 1);
      if (end < 0) {
        throw new FormulaSyntaxError(`expected ${close} to close the ${ch} opened here`, base + i, close);
      }
      const name = collapse(src.slice(i + 1, end));
      if (!name) throw new FormulaSyntaxError(`expected a name inside ${ch}${close}`, base + i, "identifier");
      out.push({ t: "id", v: name, i: base + i });
      i = end + 1;
      continue;
    }
    const start = i;
    while (i < src.length && !OPERATORS[src[i]] && !QUOTES[src[i]]) i++;
    const run = collapse(src.slice(start, i));
    if (NUMBER.test(run)) out.push({ t: "num", v: toNumber(run), text: run, i: base + start });
    else out.push({ t: "id", v: run, i: base + start });
  }
  return out;
}

const describe = (t: Token | undefined) =>
  t === undefined
    ? "the end of the input"
    : t.t === "op"
      ? `"${t.v}"`
      : t.t === "num"
        ? `the number ${t.text}`
        : `「${t.v}」`;

/**
 * Recursive descent over `toks`; `end` is the offset reported for "end of input". Parentheses nest
 * through the call stack, so depth is bounded by the input length limits of the callers (≤ 2000).
 */
function parseTokens(toks: Token[], end: number): Expr {
  let p = 0;
  const peekOp = (...ops: string[]) => {
    const t = toks[p];
    return t?.t === "op" && ops.includes(t.v) ? t.v : null;
  };
  const expr = (): Expr => {
    let left = term();
    for (let op = peekOp("+", "-"); op; op = peekOp("+", "-")) {
      p++;
      left = { kind: "bin", op: op as BinaryOp, left, right: term() };
    }
    return left;
  };
  const term = (): Expr => {
    let left = factor();
    for (let op = peekOp("*", "/"); op; op = peekOp("*", "/")) {
      p++;
      left = { kind: "bin", op: op as BinaryOp, left, right: factor() };
    }
    return left;
  };
  const factor = (): Expr => {
    const sign = peekOp("+", "-");
    if (sign) {
      p++;
      const arg = factor();
      return sign === "-" ? { kind: "neg", arg } : arg;
    }
    return primary();
  };
  const primary = (): Expr => {
    const tok = toks[p];
    if (!tok) {
      const prev = toks[p - 1];
      const what = prev?.t === "op" && prev.v !== ")" ? ` after "${prev.v}"` : "";
      throw new FormulaSyntaxError(`expected an operand${what}, found the end of the input`, end, "operand");
    }
    p++;
    if (tok.t === "num") return { kind: "num", value: tok.v };
    if (tok.t === "id") return { kind: "id", name: tok.v };
    if (tok.v === "(") {
      const inner = expr();
      const close = toks[p];
      if (close?.t !== "op" || close.v !== ")") {
        throw new FormulaSyntaxError(
          `expected ")" to close the "(" at index ${tok.i}, found ${describe(close)}`,
          close ? close.i : end,
          ")",
        );
      }
      p++;
      return inner;
    }
    if (tok.v === "=") throw new FormulaSyntaxError(`expected exactly one "="`, tok.i, "operand");
    throw new FormulaSyntaxError(`expected an operand, found ${describe(tok)}`, tok.i, "operand");
  };
  const result = expr();
  if (p < toks.length) {
    const t = toks[p];
    if (t.t === "op" && t.v === ")") {
      throw new FormulaSyntaxError(`unbalanced ")": no "(" is open`, t.i, "operator or end of input");
    }
    if (t.t === "op" && t.v === "=")
      throw new FormulaSyntaxError(`expected exactly one "="`, t.i, "operator");
    throw new FormulaSyntaxError(
      `expected an operator before ${describe(t)}`,
      t.i,
      "operator or end of input",
    );
  }
  return result;
}

/** Parses a right-hand side (the transform step's `expression`). */
export function parseExpression(src: string): Expr {
  const toks = tokenize(src, 0);
  if (toks.length === 0)
    throw new FormulaSyntaxError("expected an expression, found nothing", 0, "expression");
  return parseTokens(toks, src.length);
}

export type ParsedFormula = { label: string; expr: Expr };

/** Parses `label = expr`: exactly one "=", the left side one identifier (not a number). */
export function parseFormula(src: string): ParsedFormula {
  const toks = tokenize(src, 0);
  const eqs = toks.filter((t) => t.t === "op" && t.v === "=");
  if (eqs.length === 0) {
    throw new FormulaSyntaxError(`expected "=" between the label and its expression`, src.length, "=");
  }
  if (eqs.length > 1)
    throw new FormulaSyntaxError(`expected exactly one "=", found ${eqs.length}`, eqs[1].i, "operator");
  const at = toks.indexOf(eqs[0]);
  const left = toks.slice(0, at);
  const right = toks.slice(at + 1);
  if (left.length === 0) throw new FormulaSyntaxError(`expected a label before "="`, 0, "identifier");
  if (left.length > 1) {
    throw new FormulaSyntaxError(
      `expected one label on the left side, found ${describe(left[1])}`,
      left[1].i,
      "=",
    );
  }
  const lhs = left[0];
  if (lhs.t === "num") {
    throw new FormulaSyntaxError(
      `expected a label on the left side, found the number ${lhs.text}`,
      lhs.i,
      "identifier",
    );
  }
  if (lhs.t !== "id")
    throw new FormulaSyntaxError(`expected a label on the left side, found "${lhs.v}"`, lhs.i, "identifier");
  if (right.length === 0) {
    throw new FormulaSyntaxError(`expected an expression after "="`, src.length, "expression");
  }
  return { label: lhs.v, expr: parseTokens(right, src.length) };
}

// ---------------------------------------------------------------------------------------------
// Canonical text

/** Decimal text without exponent, so that it tokenizes back as a number. */
export function canonicalNumber(v: number): string {
  const n = v === 0 ? 0 : v; // -0 → 0
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const neg = n < 0;
  const [mant, expPart] = String(Math.abs(n)).split(/e/i);
  const exp = Number(expPart);
  const [intPart, frac = ""] = mant.split(".");
  const digits = intPart + frac;
  const point = intPart.length + exp;
  let out: string;
  if (point <= 0) out = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return neg ? `-${out}` : out;
}

const NEEDS_QUOTE = /[+＋\-－−*＊×/／÷(（)）=＝「[]/;

/** An identifier as it must be written to parse back as itself. */
export function canonicalIdentifier(name: string): string {
  const bare = !NEEDS_QUOTE.test(name) && !NUMBER.test(name) && name === collapse(name) && name !== "";
  if (bare) return name;
  return name.includes("」") && !name.includes("]") ? `[${name}]` : `「${name}」`;
}
