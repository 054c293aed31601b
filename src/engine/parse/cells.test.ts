import { describe, expect, test } from "bun:test";
import {
  canonicalNumber,
  cellValue,
  formatDate,
  labelOf,
  parseNumericText,
  trimLabel,
} from "@/engine/parse/cells";

describe("numeric text parsing (§1.2)", () => {
  test.each([
    ["1,234", 1234],
    ["▲20", -20],
    ["△20", -20],
    ["(1,000)", -1000],
    ["12.5%", 0.125],
    ["１，２３４", 1234],
    ["￥1,000", 1000],
    ["¥1,000", 1000],
    ["$5", 5],
    ["1,000円", 1000],
    ["-3.5", -3.5],
    ["+7", 7],
    ["－7", -7],
    ["１２．５％", 0.125],
    [".5", 0.5],
    ["1e3", 1000],
    ["1,234,567.89", 1234567.89],
    ["  42  ", 42],
    ["-0", 0],
  ])("%s → %p", (text, expected) => {
    expect(parseNumericText(text)).toBe(expected);
  });

  test.each([
    "1,2",
    "N/A",
    "1,23",
    "12,3456",
    "abc",
    "1.2.3",
    "1e999",
    "¥",
    "()",
    "▲-5",
    "1 000",
    "Infinity",
    "0x10",
  ])("%s stays text", (text) => {
    expect(parseNumericText(text)).toBeNull();
  });

  test("-0 is emitted as 0", () => {
    expect(Object.is(parseNumericText("-0"), 0)).toBe(true);
    expect(Object.is(cellValue(-0), 0)).toBe(true);
  });
});

describe("value cells", () => {
  test.each(["", "-", "−", "‐", "—", "―", "ー", "   ", "\u3000"])("empty marker %p gives no record", (m) => {
    expect(cellValue(m)).toBeUndefined();
  });
  test("numbers, errors, text", () => {
    expect(cellValue(1000)).toBe(1000);
    expect(cellValue({ error: "#DIV/0!" })).toBeNull();
    expect(cellValue(" 未集計 ")).toBe("未集計");
    expect(cellValue("1,2")).toBe("1,2");
    expect(cellValue(Number.NaN)).toBeNull();
    expect(cellValue({ uncachedFormula: true })).toBeUndefined();
  });
});

describe("label cells", () => {
  test("numbers use the canonical decimal form", () => {
    expect(labelOf(2023)).toBe("2023");
    expect(labelOf(2023.0)).toBe("2023");
    expect(labelOf(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(canonicalNumber(1e21)).toBe("1e+21");
    expect(canonicalNumber(123456789012345680000)).toBe("123456789012345680000");
    expect(canonicalNumber(0.000001)).toBe("0.000001");
    expect(canonicalNumber(-0)).toBe("0");
  });
  test("dates, booleans, text", () => {
    expect(labelOf(new Date(Date.UTC(2024, 3, 1)))).toBe("2024-04-01");
    expect(formatDate(new Date(Date.UTC(2024, 3, 1, 9, 30, 5)))).toBe("2024-04-01T09:30:05");
    expect(labelOf(true)).toBe("TRUE");
    expect(labelOf(false)).toBe("FALSE");
    expect(labelOf("\u3000 営業 部 \t")).toBe("営業 部");
    expect(labelOf("ｱｲｳ")).toBe("ｱｲｳ");
    expect(labelOf(null)).toBe("");
    expect(trimLabel("  ")).toBe("");
  });
});
