import { describe, expect, test } from "bun:test";
import { bindingSeries, sheetTable } from "@/engine/driver-tree/sheet";
import { frameFromRows } from "@/engine/frame";

/* analysis.md §7.5: F7 as columns aligned to its data columns, and bound series per period. */

const F7 = frameFromRows(
  ["FY", "地域"],
  [
    ["施設数", [6, 4, 7, 5]],
    ["施設当たり部屋数", [20, 20, 20, 20]],
    ["稼働率", [0.8, 0.8, 0.9, 0.7]],
  ].flatMap(([item, values]) =>
    (values as number[]).map((v, i) => ({
      FY: i < 2 ? "2023" : "2024",
      地域: i % 2 === 0 ? "東京" : "大阪",
      科目: item as string,
      値: v,
    })),
  ),
);

describe("sheetTable", () => {
  test("one data column per axis combination, items capped at 5, 科目 aligned", () => {
    const t = sheetTable(F7);
    expect(t.width).toBe(4);
    expect(t.axes.map((a) => [a.name, a.items, a.values])).toEqual([
      ["FY", ["2023", "2024"], ["2023", "2023", "2024", "2024"]],
      ["地域", ["東京", "大阪"], ["東京", "大阪", "東京", "大阪"]],
    ]);
    expect(t.subject.items).toEqual(["施設数", "施設当たり部屋数", "稼働率"]);
    expect(t.subject.byItem.get("施設数")).toEqual([6, 4, 7, 5]);
    const many = frameFromRows(
      ["月"],
      Array.from({ length: 8 }, (_, i) => ({ 月: String(i + 1), 科目: "売上", 値: i })),
    );
    expect(sheetTable(many).axes[0].items).toEqual(["1", "2", "3", "4", "5"]);
  });
});

describe("bindingSeries", () => {
  const t = sheetTable(F7);
  const time = t.axes[0].values;
  const region = t.axes[1].values;
  test("sum, mean and latest per period in first-appearance order", () => {
    const values = t.subject.byItem.get("施設数") ?? [];
    expect(bindingSeries({ time, values, filters: [], aggregation: "sum" })).toEqual({
      periods: ["2023", "2024"],
      values: { "2023": 10, "2024": 12 },
    });
    expect(bindingSeries({ time, values, filters: [], aggregation: "mean" }).values).toEqual({
      "2023": 5,
      "2024": 6,
    });
    expect(bindingSeries({ time, values, filters: [], aggregation: "latest" }).values).toEqual({
      "2023": 4,
      "2024": 5,
    });
  });
  test("axis filters, missing values and columns without a period", () => {
    const values = [6, null, null, 5];
    const tokyo = [{ values: region, allowed: ["東京"] }];
    expect(bindingSeries({ time, values, filters: tokyo, aggregation: "sum" }).values).toEqual({
      "2023": 6,
      "2024": null,
    });
    expect(
      bindingSeries({
        time: [null, "2023", "2024", null],
        values: [1, 2, 3, 4],
        filters: [],
        aggregation: "sum",
      }),
    ).toEqual({
      periods: ["2023", "2024"],
      values: { "2023": 2, "2024": 3 },
    });
  });
});
