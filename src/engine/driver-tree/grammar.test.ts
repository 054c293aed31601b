import { describe, expect, test } from "bun:test";
import {
  canonicalIdentifier,
  canonicalNumber,
  FormulaSyntaxError,
  parseExpression,
  parseFormula,
} from "@/engine/driver-tree/grammar";
import { printFormula, printTerm, toTerm } from "@/engine/driver-tree/nary";

/* analysis.md §7.2, one case at a time. */

const id = (name: string) => ({ kind: "id", name });
const num = (value: number) => ({ kind: "num", value });
const bin = (op: string, left: unknown, right: unknown) => ({ kind: "bin", op, left, right });
const neg = (arg: unknown) => ({ kind: "neg", arg });

function syntaxError(src: string): FormulaSyntaxError {
  try {
    parseFormula(src);
  } catch (e) {
    if (e instanceof FormulaSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected ${src} to be refused`);
}

const nary = (src: string) => printTerm(toTerm(parseExpression(src)));

describe("formula := label '=' expr", () => {
  test("one label on the left, an expression on the right", () => {
    expect(parseFormula("売上 = 客数 * 客単価")).toEqual({
      label: "売上",
      expr: bin("*", id("客数"), id("客単価")),
    } as never);
  });

  test("missing '=' → expected '=' at the end of the input", () => {
    const e = syntaxError("売上 客数");
    expect(e.message).toContain('"="');
    expect(e.index).toBe("売上 客数".length);
    expect(e.expected).toBe("=");
  });

  test("double '=' → the second one is named", () => {
    const e = syntaxError("a = b = c");
    expect(e.message).toContain("exactly one");
    expect(e.index).toBe(6);
  });

  test("empty left side", () => {
    const e = syntaxError(" = a + b");
    expect(e.message).toContain("label before");
    expect(e.index).toBe(0);
  });

  test("empty right side", () => {
    const e = syntaxError("a =  ");
    expect(e.message).toContain("expression after");
    expect(e.index).toBe(5);
  });

  test("number on the left side", () => {
    const e = syntaxError("1.5 = a");
    expect(e.message).toContain("number 1.5");
    expect(e.index).toBe(0);
  });

  test("an expression on the left side", () => {
    const e = syntaxError("a + b = c");
    expect(e.message).toContain("one label");
    expect(e.index).toBe(2);
  });

  test("full-width '＝' separates too", () => {
    expect(parseFormula("利益＝売上－原価").label).toBe("利益");
  });
});

describe("expressions", () => {
  test("precedence: * and / bind tighter than + and -", () => {
    expect(parseExpression("a + b * c")).toEqual(bin("+", id("a"), bin("*", id("b"), id("c"))) as never);
    expect(parseExpression("a / b - c")).toEqual(bin("-", bin("/", id("a"), id("b")), id("c")) as never);
  });

  test("left associativity: a - b - c = (a - b) - c; a / b / c = (a / b) / c", () => {
    expect(parseExpression("a - b - c")).toEqual(bin("-", bin("-", id("a"), id("b")), id("c")) as never);
    expect(parseExpression("a / b / c")).toEqual(bin("/", bin("/", id("a"), id("b")), id("c")) as never);
  });

  test("unary minus and plus, repeated", () => {
    expect(parseExpression("-a + b")).toEqual(bin("+", neg(id("a")), id("b")) as never);
    expect(parseExpression("a * -b")).toEqual(bin("*", id("a"), neg(id("b"))) as never);
    expect(parseExpression("--a")).toEqual(neg(neg(id("a"))) as never);
    expect(parseExpression("+a")).toEqual(id("a") as never);
    expect(parseExpression("a - -b")).toEqual(bin("-", id("a"), neg(id("b"))) as never);
  });

  test("parentheses to any depth", () => {
    const depth = 300;
    const e = parseExpression(`${"(".repeat(depth)}a${")".repeat(depth)} * b`);
    expect(e).toEqual(bin("*", id("a"), id("b")) as never);
    expect(parseExpression("(a + b) * c")).toEqual(bin("*", bin("+", id("a"), id("b")), id("c")) as never);
  });

  test("percent numbers: 5% = 0.05, ５％ too", () => {
    expect(parseExpression("5%")).toEqual(num(0.05) as never);
    expect(parseExpression("売上 * ５％")).toEqual(bin("*", id("売上"), num(0.05)) as never);
    expect(parseExpression("12.5%")).toEqual(num(0.125) as never);
  });

  test("full-width operators, digits and '．'", () => {
    expect(parseExpression("（ａ＋１．５）×ｂ÷２－ｃ／ｄ＊ｅ−ｆ")).toEqual(
      bin(
        "-",
        bin(
          "-",
          bin("/", bin("*", bin("+", id("ａ"), num(1.5)), id("ｂ")), num(2)),
          bin("*", bin("/", id("ｃ"), id("ｄ")), id("ｅ")),
        ),
        id("ｆ"),
      ) as never,
    );
  });

  test("identifiers are not NFKC-normalised: ＡＢＣ and ABC differ", () => {
    expect(parseExpression("ＡＢＣ + ABC")).toEqual(bin("+", id("ＡＢＣ"), id("ABC")) as never);
    expect(parseExpression("ｶﾞｽ代")).toEqual(id("ｶﾞｽ代") as never);
  });

  test("ー (katakana long vowel) is part of an identifier, never a minus", () => {
    expect(parseExpression("コーヒー売上ー原価")).toEqual(id("コーヒー売上ー原価") as never);
    expect(parseExpression("コーヒー − ケーキ")).toEqual(bin("-", id("コーヒー"), id("ケーキ")) as never);
  });

  test("「…」 and […] quote operator characters", () => {
    expect(parseExpression("「売上-原価」 * [A/B (新)]")).toEqual(
      bin("*", id("売上-原価"), id("A/B (新)")) as never,
    );
    expect(parseExpression("「 粗利  率 」")).toEqual(id("粗利 率") as never);
  });

  test("identifiers: trimmed, inner whitespace collapsed (including U+3000)", () => {
    expect(parseExpression("  コーヒー 　 売上  / 2")).toEqual(
      bin("/", id("コーヒー 売上"), num(2)) as never,
    );
  });

  test("a digit run inside a name is a name", () => {
    expect(parseExpression("2024年売上 + 1")).toEqual(bin("+", id("2024年売上"), num(1)) as never);
  });
});

describe("syntax errors say what was expected, where", () => {
  const cases: [string, number, RegExp][] = [
    ["X = (a + b", 10, /expected "\)"/],
    ["売上 = (客数 * 単価", "売上 = (客数 * 単価".length, /expected "\)"/],
    ["X = a + b)", 9, /unbalanced "\)"/],
    ["X = a +", 7, /operand after "\+"/],
    ["X = a * * b", 8, /operand, found "\*"/],
    ["X = ()", 5, /operand, found "\)"/],
    ["X = a (b)", 6, /operator before "\("/],
    ["X = 「a」「b」", 7, /operator before/],
    ["X = 「a + b", 4, /」/],
    ["X = a * []", 8, /name inside/],
  ];
  for (const [src, index, message] of cases) {
    test(src, () => {
      const e = syntaxError(src);
      expect(e.message).toMatch(message);
      expect(e.index).toBe(index);
    });
  }
});

describe("n-ary relationships and canonical text", () => {
  test("a chain of one operator along the left spine is one group", () => {
    expect(toTerm(parseExpression("a * b * c"))).toEqual({
      k: "op",
      op: "*",
      args: [
        { k: "id", name: "a" },
        { k: "id", name: "b" },
        { k: "id", name: "c" },
      ],
    });
    expect(toTerm(parseExpression("a - b - c"))).toMatchObject({
      op: "-",
      args: [{ name: "a" }, { name: "b" }, { name: "c" }],
    });
    expect(toTerm(parseExpression("a / b / c"))).toMatchObject({
      op: "/",
      args: [{ name: "a" }, { name: "b" }, { name: "c" }],
    });
  });

  test("+ and * absorb right-nested groups of the same operator; - and / do not", () => {
    expect(nary("a + (b + c)")).toBe("a + b + c");
    expect(nary("(a * b) * (c * d)")).toBe("a * b * c * d");
    expect(nary("a - (b - c)")).toBe("a - (b - c)");
    expect(nary("a / (b / c)")).toBe("a / (b / c)");
    expect(toTerm(parseExpression("a - (b - c)"))).toMatchObject({
      op: "-",
      args: [{ k: "id" }, { k: "op", op: "-" }],
    });
  });

  test("mixed operators keep intermediate groups with the fewest parentheses", () => {
    expect(nary("売上 * 粗利率 - 販管費")).toBe("売上 * 粗利率 - 販管費");
    expect(toTerm(parseExpression("売上 * 粗利率 - 販管費"))).toMatchObject({
      op: "-",
      args: [
        { k: "op", op: "*" },
        { k: "id", name: "販管費" },
      ],
    });
    expect(nary("(a + b) * c")).toBe("(a + b) * c");
    expect(nary("((a))+((b*c))")).toBe("a + b * c");
    expect(nary("a - (b + c)")).toBe("a - (b + c)");
    expect(nary("(a - b) + c")).toBe("a - b + c");
    expect(nary("-(a + b) * -c")).toBe("-(a + b) * (-c)");
  });

  test("numbers print canonically and parse back as numbers", () => {
    expect(nary("５％ * １．１０")).toBe("0.05 * 1.1");
    expect(canonicalNumber(1e21)).toBe("1000000000000000000000");
    expect(canonicalNumber(1.5e-7)).toBe("0.00000015");
    expect(canonicalNumber(-0)).toBe("0");
    expect(parseExpression(canonicalNumber(1.5e-7))).toEqual(num(1.5e-7) as never);
  });

  test("identifiers are quoted only when they must be", () => {
    expect(canonicalIdentifier("売上")).toBe("売上");
    expect(canonicalIdentifier("売上-原価")).toBe("「売上-原価」");
    expect(canonicalIdentifier("「注」-x")).toBe("[「注」-x]");
    expect(canonicalIdentifier("2024")).toBe("「2024」");
    expect(parseExpression("「2024」")).toEqual(id("2024") as never);
    expect(printFormula("粗利-率", toTerm(parseExpression("a/b")))).toBe("「粗利-率」 = a / b");
  });
});
