import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { evaluateTree } from "@/engine/driver-tree/evaluate";
import { parseExpression, parseFormula } from "@/engine/driver-tree/grammar";
import { applyImportPlan, planImport, type TreeState } from "@/engine/driver-tree/import-plan";
import { printTerm, toTerm } from "@/engine/driver-tree/nary";

/*
 * Random arithmetic written in the §7.2 grammar (full-width variants, quoting, spacing, redundant
 * parentheses), imported as a tree and evaluated, equals the same arithmetic evaluated by
 * JavaScript; and canonical text is a fixed point of print ∘ parse.
 */

type Ast =
  | { t: "id" }
  | { t: "num" }
  | { t: "neg"; x: Ast }
  | { t: "bin"; op: "+" | "-" | "*" | "/"; l: Ast; r: Ast };

const astArb = (maxDepth: number, ops: ("+" | "-" | "*" | "/")[]) =>
  fc.letrec<{ node: Ast; leaf: Ast; bin: Ast; neg: Ast }>((tie) => ({
    node: fc.oneof(
      { maxDepth, depthIdentifier: "ast", withCrossShrink: true },
      tie("leaf"),
      tie("bin"),
      tie("bin"),
      tie("neg"),
    ),
    leaf: fc.oneof(
      fc.constant({ t: "id" } as Ast),
      fc.constant({ t: "id" } as Ast),
      fc.constant({ t: "num" } as Ast),
    ),
    bin: fc.record({
      t: fc.constant("bin" as const),
      op: fc.constantFrom(...ops),
      l: tie("node"),
      r: tie("node"),
    }) as fc.Arbitrary<Ast>,
    neg: fc.record({ t: fc.constant("neg" as const), x: tie("node") }) as fc.Arbitrary<Ast>,
  })).node;

const NAMES = ["売上", "ｺｽﾄ", "コーヒー", "A B", "x-y", "粗利 率", "ＡＢ", "単価ー"];
/* Distinct, non-zero, at most 5 significant bits: products of 8 stay exact in a double. */
const NUMBERS = [0.5, 1, 1.5, 2, 2.5, 3, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.5, 3.25, 3.75, 0.125];
const VARIANTS: Record<string, string[]> = {
  "+": ["+", "＋"],
  "-": ["-", "－", "−"],
  "*": ["*", "＊", "×"],
  "/": ["/", "／", "÷"],
  "(": ["(", "（"],
  ")": [")", "）"],
};
const FULL_DIGITS = "０１２３４５６７８９";

type Leaves = { ids: number; nums: number };

/* Numbers every leaf; ids and numbers are distinct so no node is twice a child of one parent. */
function label(ast: Ast, counter: Leaves = { ids: 0, nums: 0 }): Ast & { i?: number } {
  if (ast.t === "id") return { ...ast, i: counter.ids++ } as Ast;
  if (ast.t === "num") return { ...ast, i: counter.nums++ } as Ast;
  if (ast.t === "neg") return { t: "neg", x: label(ast.x, counter) };
  return { t: "bin", op: ast.op, l: label(ast.l, counter), r: label(ast.r, counter) };
}

const idx = (a: Ast) => (a as unknown as { i: number }).i;
const name = (i: number) => `${NAMES[i % NAMES.length]}${i}`;

/* a + (b + c) → (a + b) + c, so the fold order equals JavaScript's left-to-right evaluation. */
function leftAssoc(a: Ast): Ast {
  if (a.t === "neg") return { t: "neg", x: leftAssoc(a.x) };
  if (a.t !== "bin") return a;
  const l = leftAssoc(a.l);
  const r = leftAssoc(a.r);
  if ((a.op === "+" || a.op === "*") && r.t === "bin" && r.op === a.op) {
    return leftAssoc({ t: "bin", op: a.op, l: { t: "bin", op: a.op, l, r: r.l }, r: r.r });
  }
  return { t: "bin", op: a.op, l, r };
}

const PREC = { "+": 1, "-": 1, "*": 2, "/": 2 } as const;

function render(a: Ast, style: number[]): string {
  let k = 0;
  const pick = <T>(xs: T[]) => xs[style[k++ % style.length] % xs.length];
  const sp = () => pick(["", " ", "  ", "　"]);
  const go = (a: Ast, forceParens: boolean): string => {
    let s: string;
    if (a.t === "id") {
      const n = name(idx(a));
      s = /[-+*/]/.test(n) || pick([0, 1, 2]) === 0 ? pick([`「${n}」`, `[${n}]`, `「 ${n} 」`]) : n;
    } else if (a.t === "num") {
      const v = NUMBERS[idx(a) % NUMBERS.length];
      const form = pick([0, 1, 2]);
      s =
        form === 0
          ? String(v)
          : form === 1
            ? `${v * 100}%`
            : String(v)
                .replace(/[0-9]/g, (d) => FULL_DIGITS[Number(d)])
                .replace(".", "．");
    } else if (a.t === "neg") {
      s = `${pick(VARIANTS["-"])}${sp()}${go(a.x, a.x.t === "bin")}`;
    } else {
      const lp = a.l.t === "bin" && PREC[a.l.op] < PREC[a.op];
      const rp = a.r.t === "bin" && PREC[a.r.op] <= PREC[a.op];
      s = `${go(a.l, lp)}${sp()}${pick(VARIANTS[a.op])}${sp()}${go(a.r, rp)}`;
    }
    const extra = pick([0, 0, 0, 1]) === 1;
    return forceParens || extra ? `${pick(VARIANTS["("])}${sp()}${s}${sp()}${pick(VARIANTS[")"])}` : s;
  };
  return go(a, false);
}

function js(a: Ast): string {
  if (a.t === "id") return `V[${idx(a)}]`;
  if (a.t === "num") return String(NUMBERS[idx(a) % NUMBERS.length]);
  if (a.t === "neg") return `(-(${js(a.x)}))`;
  if (a.op === "/") return `D(${js(a.l)}, ${js(a.r)})`;
  return `(${js(a.l)} ${a.op} ${js(a.r)})`;
}

function reference(a: Ast, values: number[]): number | null {
  const fn = new Function("V", "D", `return ${js(a)};`) as (
    v: number[],
    d: (x: number, y: number) => number,
  ) => number;
  const r = fn(values, (x, y) => (y === 0 ? Number.NaN : x / y));
  return Number.isFinite(r) ? r + 0 : null;
}

let seq = 0;
function evaluateFormula(src: string, values: number[]): number | null {
  const empty: TreeState = { rootId: null, nodes: [], relationships: [] };
  const plan = planImport(empty, [src], { newId: () => `n${++seq}` });
  if (!plan.ok) throw new Error(`${src}: ${JSON.stringify(plan)}`);
  const tree = applyImportPlan(empty, plan);
  const inputValues = new Map(values.map((v, i) => [name(i), v]));
  const constants = new Map(plan.createNodes.map((n) => [n.id, n.value]));
  const result = evaluateTree({
    periods: ["total"],
    rootId: tree.rootId,
    nodes: tree.nodes.map((n) => ({
      id: n.id,
      label: n.label,
      nodeType: n.nodeType,
      value: n.nodeType === "constant" ? (constants.get(n.id) ?? null) : (inputValues.get(n.label) ?? null),
    })),
    relationships: tree.relationships,
    policies: [],
  });
  return result.nodes.find((n) => n.nodeId === tree.rootId)?.baseline[0] ?? null;
}

const styleArb = fc.array(fc.nat({ max: 11 }), { minLength: 16, maxLength: 64 });

describe("property: the evaluator computes arithmetic", () => {
  test("+, -, *, unary minus (with right-nested groups absorbed) equal JavaScript exactly", () => {
    fc.assert(
      fc.property(
        astArb(3, ["+", "-", "*"]),
        styleArb,
        fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 32, maxLength: 32 }),
        (raw, style, values) => {
          const ast = label(raw);
          const src = `結果 = ${render(ast, style)}`;
          expect(evaluateFormula(src, values)).toBe(reference(ast, values) as number);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("all four operators, division by zero as null, equal JavaScript", () => {
    fc.assert(
      fc.property(
        astArb(6, ["+", "-", "*", "/"]),
        styleArb,
        fc.array(fc.integer({ min: -9, max: 9 }), { minLength: 64, maxLength: 64 }),
        (raw, style, values) => {
          const ast = leftAssoc(label(raw));
          const src = `結果 = ${render(ast, style)}`;
          expect(evaluateFormula(src, values)).toBe(reference(ast, values) as number);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("property: canonical text", () => {
  test("print ∘ parse is a fixed point and keeps the n-ary shape", () => {
    fc.assert(
      fc.property(astArb(6, ["+", "-", "*", "/"]), styleArb, (raw, style) => {
        const src = render(label(raw), style);
        const term = toTerm(parseExpression(src));
        const text = printTerm(term);
        expect(toTerm(parseExpression(text))).toEqual(term);
        expect(printTerm(toTerm(parseExpression(text)))).toBe(text);
        expect(parseFormula(`X = ${text}`).label).toBe("X");
      }),
      { numRuns: 500 },
    );
  });
});
