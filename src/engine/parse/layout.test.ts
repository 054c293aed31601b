import { describe, expect, test } from "bun:test";
import iconv from "iconv-lite";
import { EngineError } from "@/engine/errors";
import { dataHash, fromColumnarJson, materialiseRows, toColumnarJson } from "@/engine/frame";
import type { RawCell } from "@/engine/parse/cells";
import { parseSheet } from "@/engine/parse/layout";
import { parseFileSheet, registerFile, selectAxes } from "@/engine/parse/read-file";
import { zipUncompressedSize } from "@/engine/parse/xlsx";
import * as F from "../../../tests/fixtures/analysis/fixtures";

const grid = (
  rows: RawCell[][],
  merges = [] as { top: number; left: number; bottom: number; right: number }[],
) => ({
  name: "S",
  rows,
  merges,
});

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return (e as EngineError).detail;
  }
  throw new Error("expected an error");
}

async function asyncError(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    return e as EngineError;
  }
  throw new Error("expected an error");
}

describe("hierarchical layout (§1.4)", () => {
  test("F1 gives 8 records in row-then-column order", () => {
    const p = parseSheet(grid(F.F1_ROWS as RawCell[][]));
    expect(p.shape).toBe("hierarchical");
    expect(p.axes).toEqual(["年度", "部門"]);
    expect(materialiseRows(p.frame)).toEqual(F.F1_RECORDS);
  });

  test("leading empty rows, trailing empty rows and columns are trimmed; notes without data are harmless", () => {
    const p = parseSheet(
      grid([
        [],
        ["", ""],
        ["年度", "2023", "2024", ""],
        [],
        ["売上", 1, "-"],
        ["注記: 単位は千円"],
        [],
        [null, null, null, null],
      ]),
    );
    expect(materialiseRows(p.frame)).toEqual([{ 年度: "2023", 科目: "売上", 値: 1 }]);
  });

  test.each([
    [
      [
        ["a", "b"],
        ["1", "2"],
      ],
      "NO_SEPARATOR_ROW",
    ],
    [[], "NO_HEADER_ROWS"],
    [[["年度", 2023], [], ["売上"]], "NO_DATA_ROWS"],
    [[["年度", 2023], ["", "x"], [], ["売上", 1]], "EMPTY_AXIS_NAME"],
    [[["年度", 2023], ["年度", "x"], [], ["売上", 1]], "DUPLICATE_AXIS_NAME"],
    [[["科目", 2023], ["値", 1], [], ["売上", 1]], "RESERVED_AXIS_NAME"],
    [[["年度", 2023], [], ["", 1]], "EMPTY_SUBJECT_LABEL"],
    [[["年度", 2023, 2023], [], ["売上", 1, 2]], "DUPLICATE_COMBINATION"],
  ] as [RawCell[][], string][])("%# → %s", (rows, reason) => {
    expect(reasonOf(() => parseSheet(grid(rows), { shape: "hierarchical" }))).toStartWith(reason);
  });

  test("DUPLICATE_COMBINATION names the subject, axis values and both A1 cells", () => {
    const d = reasonOf(() => parseSheet(grid([["年度", 2023, 2023], [], ["売上", 1, 2]])));
    expect(d).toContain("売上");
    expect(d).toContain("年度=2023");
    expect(d).toContain("B3");
    expect(d).toContain("C3");
  });

  test("merged header cells propagate only inside the header block", () => {
    const p = parseSheet(
      grid(
        [["年度", 2023, null], ["部門", "営業", "開発"], [], ["売上", 1, 2], ["コスト", 3, null]],
        [
          { top: 0, left: 1, bottom: 0, right: 2 },
          { top: 3, left: 1, bottom: 4, right: 1 },
        ],
      ),
    );
    expect(materialiseRows(p.frame).map((r) => r.年度)).toEqual(["2023", "2023", "2023"]);
    expect(p.frame.rowCount).toBe(3);
  });

  test("Excel error cells are null with a warning; uncached formulas are empty with a warning", () => {
    const p = parseSheet(
      grid([["年度", 2023, 2024, 2025], [], ["売上", { error: "#DIV/0!" }, { uncachedFormula: true }, 5]]),
    );
    expect(materialiseRows(p.frame).map((r) => r.値)).toEqual([null, 5]);
    expect(p.warnings.map((w) => [w.code, w.count, w.first])).toEqual([
      ["EXCEL_ERROR_CELL", 1, "B3"],
      ["FORMULA_NOT_CACHED", 1, "C3"],
    ]);
  });

  test("a column without header values is read with a warning", () => {
    const p = parseSheet(grid([["年度", 2023, null], [], ["売上", 1, 2]]));
    expect(materialiseRows(p.frame).map((r) => r.年度)).toEqual(["2023", null]);
    expect(p.warnings[0].code).toBe("COLUMN_WITHOUT_HEADER");
  });

  test("Unicode labels keep their identity (no NFKC)", () => {
    const p = parseSheet(grid([["地域", "ｶﾝｻｲ", "カンサイ", "🍣"], [], ["売上", 1, 2, 3]]));
    expect(materialiseRows(p.frame).map((r) => r.地域)).toEqual(["ｶﾝｻｲ", "カンサイ", "🍣"]);
  });
});

describe("long layout (§1.5)", () => {
  test("axes in header order, then 科目 and 値; empty 値 rows skipped; empty axis → null", () => {
    const p = parseSheet(
      grid([
        ["値", "地域", "科目", "年度"],
        [1, "東京", "売上", 2023],
        ["-", "大阪", "売上", 2023],
        [2, "", "売上", 2024],
        [],
      ]),
    );
    expect(p.shape).toBe("long");
    expect(p.axes).toEqual(["地域", "年度"]);
    expect(materialiseRows(p.frame)).toEqual([
      { 地域: "東京", 年度: "2023", 科目: "売上", 値: 1 },
      { 地域: null, 年度: "2024", 科目: "売上", 値: 2 },
    ]);
  });
  test.each([
    [
      [
        ["a", "a", "科目", "値"],
        ["x", "y", "s", 1],
      ],
      "DUPLICATE_AXIS_NAME",
    ],
    [
      [
        ["a", "科目", "値"],
        ["x", "", 1],
      ],
      "EMPTY_SUBJECT_LABEL",
    ],
    [
      [
        ["a", "科目", "値"],
        ["x", "s", 1],
        ["x", "s", 2],
      ],
      "DUPLICATE_COMBINATION",
    ],
    [
      [
        ["a", "", "科目", "値"],
        ["x", "y", "s", 1],
      ],
      "EMPTY_AXIS_NAME",
    ],
    [[["a", "科目", "値"]], "NO_DATA_ROWS"],
  ] as [RawCell[][], string][])("%# → %s", (rows, reason) => {
    expect(reasonOf(() => parseSheet(grid(rows)))).toStartWith(reason);
  });
  test("an unnamed empty column is dropped", () => {
    const p = parseSheet(
      grid([
        ["a", "", "科目", "値"],
        ["x", null, "s", 1],
      ]),
    );
    expect(p.axes).toEqual(["a"]);
  });
  test("CSV rows with more fields than the header are CSV_MALFORMED", async () => {
    const e = await asyncError(
      parseFileSheet(new TextEncoder().encode("a,科目,値\nx,s,1,9\n"), "csv", "CSV", undefined),
    );
    expect(e.detail).toStartWith("CSV_MALFORMED");
    expect(e.detail).toContain("line 2");
  });
});

describe("limits (§1.8)", () => {
  test("rows, axes, labelLength and cells", async () => {
    const e = await asyncError(
      parseFileSheet(await F.f1Xlsx(), "xlsx", "Sheet1", undefined, { limits: { maxRows: 5 } }),
    );
    expect([e.code, e.extensions.limitName, e.extensions.limit, e.extensions.actual]).toEqual([
      "ANALYSIS_LIMIT_EXCEEDED",
      "rows",
      5,
      8,
    ]);
    const axes = () => parseSheet(grid([["a", 1], ["b", 1], [], ["s", 1]]), { limits: { maxAxes: 1 } });
    expect(reasonOf(axes)).toContain("axes");
    const label = () =>
      parseSheet(grid([["a", "x".repeat(20)], [], ["s", 1]]), { limits: { maxLabelLength: 10 } });
    expect(reasonOf(label)).toContain("labelLength");
    const cells = () => parseSheet(grid([["a", 1, 2], [], ["s", 1, 2]]), { limits: { maxSheetCells: 5 } });
    expect(reasonOf(cells)).toContain("cells");
  });
  test("the zip directory is checked before inflating", async () => {
    const bytes = await F.f1Xlsx();
    const size = zipUncompressedSize(bytes)!;
    expect(size).toBeGreaterThan(bytes.length);
    const e = await asyncError(registerFile(bytes, "xlsx", { limits: { maxUncompressedBytes: 100 } }));
    expect(e.extensions.limitName).toBe("uncompressedBytes");
  });
});

describe("§8 files F1–F7", () => {
  test("scenario 3: F1 registration, records and UNKNOWN_SHEET / UNKNOWN_AXIS", async () => {
    const x = await F.f1Xlsx();
    const reg = await registerFile(x, "xlsx");
    expect(reg.configList).toEqual([
      { sheetName: "Sheet1", axis: ["年度", "部門"], shape: "hierarchical", rowEstimate: 8 },
    ]);
    const sel = await parseFileSheet(x, "xlsx", "Sheet1", ["年度", "部門"]);
    expect(sel.rowCount).toBe(8);
    expect(materialiseRows(sel.frame, 0, 1)).toEqual([F.F1_RECORDS[0]]);
    const unknownSheet = await asyncError(parseFileSheet(x, "xlsx", "Nope", undefined));
    expect(unknownSheet.code).toBe("UNKNOWN_SHEET");
    expect(unknownSheet.extensions.availableSheets).toEqual(["Sheet1"]);
    const unknownAxis = await asyncError(parseFileSheet(x, "xlsx", "Sheet1", ["地域"]));
    expect(unknownAxis.code).toBe("UNKNOWN_AXIS");
    expect(unknownAxis.extensions.availableAxes).toEqual(["年度", "部門"]);
  });

  test("scenario 4/22: F3 and undecodable bytes → NO_PARSEABLE_SHEET with the reason first", async () => {
    const f3 = await asyncError(registerFile(F.F3_CSV, "csv"));
    expect(f3.code).toBe("NO_PARSEABLE_SHEET");
    expect(f3.errors[0].path).toBe("/sheets/CSV");
    expect(f3.errors[0].message).toStartWith("NO_SEPARATOR_ROW");
    const bad = await asyncError(registerFile(new Uint8Array([0x61, 0xff, 0xfe, 0x0a]), "csv"));
    expect(bad.errors[0].message).toStartWith("ENCODING_UNSUPPORTED");
    const pdf = await asyncError(registerFile(new Uint8Array([0x25, 0x50]), "pdf"));
    expect(pdf.code).toBe("FILE_NOT_ANALYSABLE");
  });

  test("scenarios 21/22: F4a, F4b, F5 and the merged-header xlsx hash like F1", async () => {
    const f1 = await parseFileSheet(await F.f1Xlsx(), "xlsx", "Sheet1", undefined);
    for (const [bytes, encoding, shape] of [
      [F.F4A_CSV, "utf-8", "long"],
      [F.F4B_CSV, "utf-8", "long"],
      [F.F5_CSV, "shift_jis", "hierarchical"],
    ] as const) {
      const reg = await registerFile(bytes, "csv");
      expect(reg.configList[0]).toMatchObject({
        sheetName: "CSV",
        axis: ["年度", "部門"],
        shape,
        encoding,
        delimiter: ",",
      });
      const p = await parseFileSheet(bytes, "csv", "CSV", ["年度", "部門"]);
      expect(materialiseRows(p.frame)).toEqual(F.F1_RECORDS);
      expect(p.dataHash).toBe(f1.dataHash);
    }
    const merged = await parseFileSheet(await F.f1MergedXlsx(), "xlsx", "Sheet1", undefined);
    expect(merged.dataHash).toBe(f1.dataHash);
  });

  test("scenario 22: F6 CP932 extension characters and ▲ / parentheses", async () => {
    const p = await parseFileSheet(F.F6_CSV, "csv", "CSV", undefined);
    expect(p.encoding).toBe("shift_jis");
    expect(materialiseRows(p.frame)).toEqual([
      { 取引先: "㈱髙島", 科目: "利益", 値: -20 },
      { 取引先: "①商店", 科目: "利益", 値: -1000 },
    ]);
  });

  test("F7 parses with decimals", async () => {
    const p = await parseFileSheet(await F.f7Xlsx(), "xlsx", "Sheet1", undefined);
    expect(p.rowCount).toBe(12);
    expect(materialiseRows(p.frame, 8, 1)).toEqual([{ FY: "2023", 地域: "東京", 科目: "稼働率", 値: 0.8 }]);
  });

  test("xlsx: several sheets, dates, booleans, cached formulas, errors, hidden sheets", async () => {
    const bytes = await F.buildXlsx([
      {
        name: "Bad",
        rows: [
          ["a", "b"],
          [1, 2],
        ],
      },
      {
        name: "Data",
        rows: [
          ["日付", new Date(Date.UTC(2024, 0, 31)), new Date(Date.UTC(2024, 1, 1, 12, 0, 0))],
          ["フラグ", true, false],
          [],
          ["売上", { formula: "1+1", result: 2 }, { formula: "1/0", result: { error: "#DIV/0!" } }],
          ["数量", { formula: "A1" }, 3],
        ],
      },
    ]);
    const reg = await registerFile(bytes, "xlsx");
    expect(reg.configList.map((c) => c.sheetName)).toEqual(["Data"]);
    expect(reg.skippedSheets).toEqual([
      expect.objectContaining({ sheetName: "Bad", reason: "NO_SEPARATOR_ROW" }),
    ]);
    const p = reg.sheets[0];
    expect(materialiseRows(p.frame)).toEqual([
      { 日付: "2024-01-31", フラグ: "TRUE", 科目: "売上", 値: 2 },
      { 日付: "2024-02-01T12:00:00", フラグ: "FALSE", 科目: "売上", 値: null },
      { 日付: "2024-02-01T12:00:00", フラグ: "FALSE", 科目: "数量", 値: 3 },
    ]);
    expect(p.warnings.map((w) => w.code).sort()).toEqual(["EXCEL_ERROR_CELL", "FORMULA_NOT_CACHED"]);
  });

  test("selectAxes drops columns without aggregating and duplicates are counted", async () => {
    const p = await parseFileSheet(await F.f1Xlsx(), "xlsx", "Sheet1", ["年度"]);
    expect(p.rowCount).toBe(8);
    expect(p.axes).toEqual(["年度"]);
    expect(p.duplicateCombinations).toBe(4);
    expect(selectAxes(p.frame, []).axes).toEqual([]);
  });
});

describe("columnar storage (§1.10)", () => {
  test("F1 round-trips through the documented layout", async () => {
    const p = await parseFileSheet(await F.f1Xlsx(), "xlsx", "Sheet1", undefined);
    const j = toColumnarJson(p.frame);
    expect(j).toEqual({
      format: "columnar-v1",
      hash: p.dataHash,
      rowCount: 8,
      columns: ["年度", "部門", "科目", "値"],
      dict: { 年度: ["2023", "2024"], 部門: ["営業", "開発"], 科目: ["売上", "コスト"] },
      codes: {
        年度: [0, 0, 1, 1, 0, 0, 1, 1],
        部門: [0, 1, 0, 1, 0, 1, 0, 1],
        科目: [0, 0, 0, 0, 1, 1, 1, 1],
      },
      values: [1000, 500, 1200, 600, 800, 400, 900, 450],
      text: {},
    });
    const back = fromColumnarJson(JSON.parse(JSON.stringify(j)));
    expect(materialiseRows(back)).toEqual(F.F1_RECORDS);
    expect(dataHash(back)).toBe(p.dataHash);
  });
  test("text and null values survive; the hash sees value kinds", () => {
    const a = parseSheet(grid([["k", "x", "y", "z"], [], ["s", "未集計", { error: "#N/A" }, 0]]));
    const j = toColumnarJson(a.frame);
    expect(j.values).toEqual([null, null, 0]);
    expect(j.text).toEqual({ "0": "未集計" });
    expect(materialiseRows(fromColumnarJson(j))).toEqual(materialiseRows(a.frame));
    const b = parseSheet(grid([["k", "x", "y", "z"], [], ["s", "未集計", "-0", 0]]));
    expect(dataHash(b.frame)).not.toBe(dataHash(a.frame));
  });
  test("CP932 text built with iconv-lite round-trips through registration", async () => {
    const bytes = new Uint8Array(iconv.encode("地域,科目,値\n髙崎,売上,１２．５％\n", "cp932"));
    const p = await parseFileSheet(bytes, "csv", "CSV", undefined);
    expect(materialiseRows(p.frame)).toEqual([{ 地域: "髙崎", 科目: "売上", 値: 0.125 }]);
  });
});
