/*
 * Property-based cross-checks: filter and aggregate against naive row-by-row computations over
 * random data with nulls, text values, null axis cells and Unicode labels.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { frameFromRows, materialiseRows, type Row } from "@/engine/frame";
import { DEFAULT_LIMITS } from "@/engine/limits";
import { applyAggregate } from "@/engine/steps/aggregate";
import { Warnings } from "@/engine/steps/common";
import { applyFilter } from "@/engine/steps/filter";

const ctx = { limits: DEFAULT_LIMITS };
const label = fc.constantFrom("東京", "大阪", "ｶﾝｻｲ", "🍣", "a", null);
const subject = fc.constantFrom("売上", "原価", "数量");
const value = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -1000, max: 1000 }) },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant("text") },
);
type R = { x: string | null; y: string | null; 科目: string; 値: number | string | null };
const rowArb: fc.Arbitrary<R> = fc.record({ x: label, y: label, 科目: subject, 値: value });
const data = fc.array(rowArb, { minLength: 1, maxLength: 60 });

describe("property: filter", () => {
  test("category + range filter equals a naive row filter", () => {
    fc.assert(
      fc.property(
        data,
        fc.integer({ min: -500, max: 500 }),
        fc.integer({ min: 0, max: 500 }),
        (rows, min, span) => {
          const f = frameFromRows(["x", "y"], rows);
          const xs = [...new Set(rows.map((r) => r.x))].slice(0, 2);
          const out = applyFilter(
            { categoryFilter: { x: xs }, numericFilter: { filterType: "range", min, max: min + span } },
            f,
            ctx,
          );
          const naive = rows
            .filter((r) => xs.includes(r.x))
            .filter((r) => typeof r.値 === "number" && r.値 >= min && r.値 <= min + span)
            .map((r) => ({ ...r, 値: (r.値 as number) + 0 }));
          expect(materialiseRows(out)).toEqual(
            naive.map((r) => ({ x: r.x, y: r.y, 科目: r.科目, 値: r.値 })),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
  test("topk equals a stable sort of numeric rows", () => {
    fc.assert(
      fc.property(data, fc.integer({ min: 1, max: 70 }), fc.boolean(), (rows, k, asc) => {
        const f = frameFromRows(["x", "y"], rows);
        const out = applyFilter(
          { numericFilter: { filterType: "topk", k, order: asc ? "asc" : "desc" } },
          f,
          ctx,
        );
        const idx = rows.map((r, i) => ({ r, i })).filter(({ r }) => typeof r.値 === "number");
        idx.sort(
          (a, b) =>
            (asc ? (a.r.値 as number) - (b.r.値 as number) : (b.r.値 as number) - (a.r.値 as number)) ||
            a.i - b.i,
        );
        const kept = new Set(idx.slice(0, k).map((e) => e.i));
        expect(materialiseRows(out).map((r) => r.値)).toEqual(
          rows.filter((_, i) => kept.has(i)).map((r) => r.値),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe("property: aggregate", () => {
  test("sum/count/mean/min/max by x equal a naive group-by", () => {
    fc.assert(
      fc.property(data, (rows) => {
        const f = frameFromRows(["x", "y"], rows);
        const subj = rows[0].科目 as string;
        const methods = ["sum", "count", "mean", "min", "max"] as const;
        const out = applyAggregate(
          {
            groupByAxis: ["x"],
            aggregationConfig: methods.map((m) => ({ name: m, method: m, subject: subj })),
          },
          f,
          ctx,
          new Warnings(),
        );
        const groups: (string | null)[] = [];
        for (const r of rows) if (!groups.includes(r.x)) groups.push(r.x);
        const expected: Row[] = [];
        for (const g of groups) {
          const inGroup = rows.filter((r) => r.x === g && r.科目 === subj);
          if (!inGroup.length) continue;
          const nums = inGroup.map((r) => r.値).filter((v): v is number => typeof v === "number");
          const sum = nums.reduce((a, b) => a + b, 0);
          const stats = {
            sum: sum + 0,
            count: nums.length,
            mean: nums.length ? sum / nums.length + 0 : null,
            min: nums.length ? Math.min(...nums) + 0 : null,
            max: nums.length ? Math.max(...nums) + 0 : null,
          };
          for (const m of methods) expected.push({ x: g, 科目: m, 値: stats[m] });
        }
        expect(materialiseRows(out)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
