import { describe, expect, test } from "bun:test";
import { deflateRawSync } from "node:zlib";
import ExcelJS from "exceljs";
import { isEngineError } from "@/engine/errors";
import { withDefaults } from "@/engine/limits";
import { readWorkbook } from "@/engine/parse/xlsx";

type Part = { name: string; data: string | Uint8Array; deflate?: boolean; declaredSize?: number };

/** A zip from parts; `declaredSize` makes the central directory lie about a part's size. */
function zip(parts: Part[]): Uint8Array {
  const enc = new TextEncoder();
  const chunks: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const p of parts) {
    const raw = typeof p.data === "string" ? enc.encode(p.data) : p.data;
    const body = p.deflate === false ? raw : new Uint8Array(deflateRawSync(raw));
    const name = enc.encode(p.name);
    const crc = Bun.hash.crc32(raw);
    const size = p.declaredSize ?? raw.length;
    const method = p.deflate === false ? 0 : 8;
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const cd = new Uint8Array(46 + name.length);
    const cv = new DataView(cd.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    cd.set(name, 46);
    chunks.push(local, body);
    central.push(cd);
    offset += local.length + body.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, parts.length, true);
  ev.setUint16(10, parts.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const c of [...chunks, ...central, eocd]) {
    out.set(c, p);
    p += c.length;
  }
  return out;
}

const REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const rootRels = `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL}/officeDocument" Target="/xl/workbook.xml"/></Relationships>`;

/** A workbook as written by tools that prefix every element (x:) and use inline strings. */
function prefixedWorkbook(sheetData: string, extra: Part[] = [], workbookPr = ""): Uint8Array {
  const ns = 'xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"';
  return zip([
    { name: "_rels/.rels", data: rootRels },
    {
      name: "xl/workbook.xml",
      data: `<?xml version="1.0"?><x:workbook ${ns} xmlns:r="${REL}">${workbookPr}<x:sheets><x:sheet name="データ&amp;1" sheetId="1" r:id="rS1"/><x:sheet name="Chart" sheetId="2" r:id="rC"/><x:sheet name="隠し" sheetId="3" state="hidden" r:id="rS2"/></x:sheets></x:workbook>`,
    },
    {
      name: "xl/_rels/workbook.xml.rels",
      data: `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rS1" Type="${REL}/worksheet" Target="worksheets/a.xml"/><Relationship Id="rS2" Type="${REL}/worksheet" Target="worksheets/b.xml"/><Relationship Id="rC" Type="${REL}/chartsheet" Target="chartsheets/c.xml"/><Relationship Id="rSS" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rSt" Type="${REL}/styles" Target="styles.xml"/></Relationships>`,
    },
    {
      name: "xl/worksheets/a.xml",
      data: `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- written by hand --><x:worksheet ${ns}><x:sheetPr><x:outlinePr summaryBelow="0"/></x:sheetPr><x:sheetData>${sheetData}</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="B1:C1"/></x:mergeCells></x:worksheet>`,
      deflate: false,
    },
    {
      name: "xl/worksheets/b.xml",
      data: `<x:worksheet ${ns}><x:sheetData><x:row r="2"><x:c r="B2" t="inlineStr"><x:is><x:t>h</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>`,
    },
    { name: "xl/chartsheets/c.xml", data: `<x:chartsheet ${ns}/>` },
    {
      name: "xl/sharedStrings.xml",
      data: `<x:sst ${ns}><x:si><x:t>売上</x:t></x:si><x:si><x:r><x:t>原</x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t xml:space="preserve">価 </x:t></x:r><x:rPh sb="0" eb="1"><x:t>ゲンカ</x:t></x:rPh></x:si><x:si><x:t>a_x000D_b</x:t></x:si></x:sst>`,
    },
    {
      name: "xl/styles.xml",
      data: `<x:styleSheet ${ns}><x:numFmts><x:numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;"/><x:numFmt numFmtId="177" formatCode="&quot;day&quot;0"/></x:numFmts><x:cellStyleXfs><x:xf numFmtId="14"/></x:cellStyleXfs><x:cellXfs><x:xf numFmtId="0"/><x:xf numFmtId="14"/><x:xf numFmtId="176"/><x:xf numFmtId="177"/><x:xf numFmtId="3"/></x:cellXfs></x:styleSheet>`,
    },
    ...extra,
  ]);
}

const SHEET = [
  `<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1"><x:v>2023</x:v></x:c><x:c r="C1"><x:v>9</x:v></x:c></x:row>`,
  // cells and a row without r; entities, CDATA and a comment inside values
  `<x:row><x:c t="inlineStr"><x:is><x:t>a &amp; b &#x41;&#66;</x:t></x:is></x:c><x:c t="str"><x:f>A1</x:f><x:v><![CDATA[<raw> & ]]>text</x:v></x:c><x:c t="s"><x:v>1</x:v></x:c><x:c t="s"><x:v>2</x:v></x:c></x:row>`,
  `<x:row r="4" spans="1:9"><x:c r="A4" s="1"><x:v>45306.5</x:v></x:c><x:c r="B4" s="2"><x:v>45306</x:v></x:c><x:c r="C4" s="3"><x:v>7</x:v></x:c><x:c r="D4" s="4"><x:v>-1.5E-3</x:v></x:c>`,
  `<x:c r="E4" t="b"><x:v>1</x:v></x:c><x:c r="F4" t="e"><x:v>#N/A</x:v></x:c><x:c r="G4"><x:f>1/0</x:f></x:c><x:c r="H4"><x:f t="shared" si="0"/><x:v>12</x:v></x:c>`,
  `<x:c r="I4" s="4"/><x:c r="J4"><x:v></x:v></x:c><x:c r="K4"><!-- note --><x:v>3</x:v></x:c><x:c r="L4" t="d"><x:v>2024-02-01T08:15:00</x:v></x:c></x:row>`,
  `<x:row r="6"/><x:row r="7"><x:c r="B7" s="4"/></x:row>`,
].join("");

describe("xlsx reader (§1.7)", () => {
  test("prefixed elements, inline and shared strings, entities, CDATA, dates, formulas, merges, sheets in workbook order", async () => {
    const wb = await readWorkbook(prefixedWorkbook(SHEET), withDefaults({}));
    expect(wb.skipped).toEqual([]);
    expect(wb.sheets.map((s) => s.name)).toEqual(["データ&1", "隠し"]);
    const [a, b] = wb.sheets;
    expect(a.merges).toEqual([{ top: 0, left: 1, bottom: 0, right: 2 }]);
    // C1 is a merge slave: read as empty; the layout propagates the master in header rows.
    expect(a.rows[0]).toEqual(["売上", 2023]);
    expect(a.rows[1]).toEqual(["a & b AB", "<raw> & text", "原価 ", "a\rb"]);
    expect(a.rows[2]).toEqual([]);
    expect(a.rows[3]).toEqual([
      new Date(Date.UTC(2024, 0, 15, 12)),
      new Date(Date.UTC(2024, 0, 15)),
      7,
      -0.0015,
      true,
      { error: "#N/A" },
      { uncachedFormula: true },
      12,
      undefined,
      undefined,
      3,
      new Date(Date.UTC(2024, 1, 1, 8, 15)),
    ]);
    expect(a.rows.length).toBe(4);
    expect(b.rows).toEqual([[], [undefined, "h"]]);
  });

  test("the 1904 date system", async () => {
    const sheet = `<x:row r="1"><x:c r="A1" s="1"><x:v>0</x:v></x:c></x:row>`;
    const wb = await readWorkbook(
      prefixedWorkbook(sheet, [], `<x:workbookPr date1904="1"/>`),
      withDefaults({}),
    );
    expect(wb.sheets[0].rows[0]).toEqual([new Date(Date.UTC(1904, 0, 1))]);
  });

  test("the same grid as ExcelJS gave for an ExcelJS-written workbook", async () => {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("S");
    ws.getCell("A1").value = "年度";
    ws.getCell("B1").value = 2023;
    ws.mergeCells("B1:C1");
    ws.getCell("A2").value = new Date(Date.UTC(2024, 0, 15, 10, 30));
    ws.getCell("B2").value = { formula: "A1", result: "年度" };
    ws.getCell("C2").value = { formula: "X1" } as ExcelJS.CellFormulaValue;
    ws.getCell("D2").value = { richText: [{ text: "売" }, { font: { bold: true }, text: "上" }] };
    ws.getCell("E2").value = { error: "#DIV/0!" } as ExcelJS.CellErrorValue;
    ws.getCell("F2").value = false;
    const bytes = new Uint8Array(await wb.xlsx.writeBuffer());
    const read = await readWorkbook(bytes, withDefaults({}));
    expect(read.sheets[0].rows).toEqual([
      ["年度", 2023],
      [
        new Date(Date.UTC(2024, 0, 15, 10, 30)),
        "年度",
        { uncachedFormula: true },
        "売上",
        { error: "#DIV/0!" },
        false,
      ],
    ]);
  });

  test("a sheet over the cell limit is skipped with the sheet's size; the others are read", async () => {
    const wb = await readWorkbook(prefixedWorkbook(SHEET), withDefaults({ maxSheetCells: 10 }));
    expect(wb.sheets.map((s) => s.name)).toEqual(["隠し"]);
    expect(wb.skipped[0].message).toBe("The cells limit of 10 is exceeded (84)");
  });

  test("a part that inflates beyond what the directory declares stops at the uncompressed-size budget", async () => {
    // The directory claims 200 bytes; the part inflates to 4 MB of valid XML.
    const bomb = `<worksheet><sheetData/>${" ".repeat(4 * 1024 * 1024)}</worksheet>`;
    const bytes = prefixedWorkbook(SHEET, [{ name: "xl/worksheets/a.xml", data: bomb, declaredSize: 200 }]);
    const e = await readWorkbook(bytes, withDefaults({ maxUncompressedBytes: 1024 * 1024 })).catch((x) => x);
    expect(isEngineError(e)).toBe(true);
    expect(e.code).toBe("ANALYSIS_LIMIT_EXCEEDED");
    expect(e.extensions.limitName).toBe("uncompressedBytes");
  });

  test("not a workbook: no zip directory, or no workbook part", async () => {
    const noZip = await readWorkbook(new TextEncoder().encode("a,b\n1,2\n"), withDefaults({})).catch(
      (x) => x,
    );
    expect(noZip.code).toBe("FILE_NOT_ANALYSABLE");
    const noBook = await readWorkbook(zip([{ name: "x.txt", data: "x" }]), withDefaults({})).catch((x) => x);
    expect(noBook.code).toBe("FILE_NOT_ANALYSABLE");
    const cut = `<x:worksheet><x:sheetData><x:row r="1"><x:c r="A1`;
    const broken = prefixedWorkbook("", [{ name: "xl/worksheets/a.xml", data: cut }]);
    expect((await readWorkbook(broken, withDefaults({})).catch((x) => x)).code).toBe("FILE_NOT_ANALYSABLE");
  });
});
