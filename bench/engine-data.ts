/*
 * Deterministic benchmark data shared by bench/engine.ts and (re-implemented identically)
 * bench/engine_pandas.py: mulberry32 PRNG, the P2 replay frame and the P1 grid.
 */
import { codeArray, type Frame, KIND_NUMBER, SUBJECT } from "@/engine";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const YEARS = Array.from({ length: 10 }, (_, i) => String(2015 + i));
export const REGIONS = Array.from({ length: 50 }, (_, i) => `地域${String(i + 1).padStart(2, "0")}`);
export const PRODUCTS = Array.from({ length: 200 }, (_, i) => `製品${String(i + 1).padStart(3, "0")}`);
export const SUBJECTS = [
  "売上",
  "原価",
  "数量",
  "販管費",
  "人件費",
  "広告費",
  "在庫",
  "返品",
  "客数",
  "単価",
];

/**
 * 10 × 50 × 200 × 10 = 1,000,000 long-format rows; values are integers 0..9999. Codes in the
 * arrays the engine itself uses for these dictionaries (`codeArray`, as `fromColumnarJson` loads
 * them): Int8 for 年度/地域/科目, Int16 for 製品.
 */
export function replayFrame(): Frame {
  const n = YEARS.length * REGIONS.length * PRODUCTS.length * SUBJECTS.length;
  const year = codeArray(YEARS.length, n);
  const region = codeArray(REGIONS.length, n);
  const product = codeArray(PRODUCTS.length, n);
  const subject = codeArray(SUBJECTS.length, n);
  const values = new Float64Array(n);
  const kinds = new Uint8Array(n).fill(KIND_NUMBER);
  const rand = mulberry32(42);
  let i = 0;
  for (let y = 0; y < YEARS.length; y++)
    for (let r = 0; r < REGIONS.length; r++)
      for (let p = 0; p < PRODUCTS.length; p++)
        for (let s = 0; s < SUBJECTS.length; s++) {
          year[i] = y;
          region[i] = r;
          product[i] = p;
          subject[i] = s;
          values[i] = Math.floor(rand() * 10000);
          i++;
        }
  return {
    rowCount: n,
    axes: [
      { name: "年度", codes: year, dict: YEARS },
      { name: "地域", codes: region, dict: REGIONS },
      { name: "製品", codes: product, dict: PRODUCTS },
    ],
    subject: { name: SUBJECT, codes: subject, dict: SUBJECTS },
    kinds,
    values,
    text: new Map(),
  };
}

/** P1 grid: 3 header rows (年度/地域/製品, 10 × 10 × 10 distinct columns), separator, 50 × 1000 data. */
export function p1Grid(): (string | number | null)[][] {
  const rand = mulberry32(7);
  const rows: (string | number | null)[][] = [["年度"], ["地域"], ["製品"]];
  for (let c = 0; c < 1000; c++) {
    rows[0].push(Number(YEARS[Math.floor(c / 100)]));
    rows[1].push(REGIONS[Math.floor(c / 10) % 10]);
    rows[2].push(PRODUCTS[c % 10]);
  }
  rows.push([]);
  for (let r = 0; r < 50; r++) {
    const row: (string | number | null)[] = [`科目${String(r + 1).padStart(2, "0")}`];
    for (let c = 0; c < 1000; c++) row.push(Math.floor(rand() * 10000));
    rows.push(row);
  }
  return rows;
}

export const p2Steps = (chartTitle = "地域別粗利") => [
  {
    stepKey: "s1",
    name: "s1",
    type: "filter" as const,
    input: "original",
    config: {
      categoryFilter: { 科目: ["売上", "原価", "数量"] },
      categoryExclude: { 地域: REGIONS.slice(0, 5) },
    },
  },
  {
    stepKey: "s2",
    name: "s2",
    type: "transform" as const,
    input: "s1",
    config: {
      operations: [
        {
          operationType: "add_subject",
          targetName: "粗利",
          calculation: { type: "formula", formulaType: "-", operands: ["売上", "原価"] },
        },
      ],
    },
  },
  {
    stepKey: "s3",
    name: "s3",
    type: "aggregate" as const,
    input: "s2",
    config: {
      groupByAxis: ["年度", "地域"],
      aggregationConfig: [
        { name: "売上計", method: "sum", subject: "売上" },
        { name: "原価計", method: "sum", subject: "原価" },
        { name: "粗利計", method: "sum", subject: "粗利" },
        { name: "粗利率", method: "/", operands: ["粗利計", "売上計"] },
      ],
    },
  },
  {
    stepKey: "s4",
    name: "s4",
    type: "filter" as const,
    input: "s3",
    config: { categoryFilter: { 科目: ["粗利計"] }, numericFilter: { filterType: "topk", k: 100 } },
  },
  {
    stepKey: "s5",
    name: "s5",
    type: "filter" as const,
    input: "s2",
    config: { tableFilter: { sourceStepKey: "s4", keyColumns: ["年度", "地域"], mode: "keep" } },
  },
  {
    stepKey: "s6",
    name: "s6",
    type: "summary" as const,
    input: "s4",
    config: {
      formulas: [
        { name: "粗利合計", method: "sum", subject: "粗利計", unit: "円" },
        { name: "粗利平均", method: "mean", subject: "粗利計", unit: "円" },
        { name: "件数", method: "count", subject: "粗利計", unit: "個" },
      ],
      chartConfig: { graphType: "bar", xAxis: "地域", yAxis: "値", legendAxis: "年度", title: chartTitle },
    },
  },
];
