import { describe, expect, test } from "bun:test";
import iconv from "iconv-lite";
import { EngineError } from "@/engine/errors";
import { decodeCsv, detectDelimiter, parseCsvText, readCsv } from "@/engine/parse/csv";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("RFC 4180 tokenising", () => {
  test("quotes, embedded delimiters, newlines and doubled quotes", () => {
    const { rows, lines } = parseCsvText('a,"b,c","d\r\ne","f""g"\nh,,\n', ",");
    expect(rows).toEqual([
      ["a", "b,c", "d\r\ne", 'f"g'],
      ["h", "", ""],
    ]);
    expect(lines).toEqual([1, 3]);
  });
  test("CR, LF and CRLF line endings", () => {
    expect(parseCsvText("a\rb\nc\r\nd", ",").rows).toEqual([["a"], ["b"], ["c"], ["d"]]);
  });
  test("an empty line is an empty row; the final newline adds none", () => {
    expect(parseCsvText("a\n\nb\n", ",").rows).toEqual([["a"], [""], ["b"]]);
  });
  test("a quote inside an unquoted field is literal", () => {
    expect(parseCsvText('ab"c,d', ",").rows).toEqual([['ab"c', "d"]]);
  });
  test("an unterminated quote is CSV_MALFORMED with the line", () => {
    try {
      parseCsvText('a,b\nc,"d\ne', ",");
      throw new Error("no error");
    } catch (e) {
      expect(e).toBeInstanceOf(EngineError);
      const err = e as EngineError;
      expect(err.code).toBe("SHEET_PARSE_ERROR");
      expect(err.detail.startsWith("CSV_MALFORMED")).toBe(true);
      expect(err.extensions.line).toBe(2);
    }
  });
  test("delimiter detection: more fields wins, tie goes to comma", () => {
    expect(detectDelimiter("\n\na\tb\tc,d\n")).toBe("\t");
    expect(detectDelimiter("a,b\tc")).toBe(",");
    expect(readCsv(utf8("年度;値\n2023;1"), { delimiter: ";" }).rows).toEqual([
      ["年度", "値"],
      ["2023", "1"],
    ]);
  });
});

describe("encoding detection (§1.6)", () => {
  test("UTF-8 BOM is removed", () => {
    const r = decodeCsv(new Uint8Array([0xef, 0xbb, 0xbf, ...utf8("年度,値")]));
    expect(r).toEqual({ text: "年度,値", encoding: "utf-8" });
  });
  test("UTF-16 LE and BE BOMs", () => {
    const le = new Uint8Array([0xff, 0xfe, ...iconv.encode("年度,値", "utf16le")]);
    expect(decodeCsv(le)).toEqual({ text: "年度,値", encoding: "utf-16le" });
    const be = new Uint8Array([0xfe, 0xff, ...iconv.encode("年度,値", "utf16-be")]);
    expect(decodeCsv(be)).toEqual({ text: "年度,値", encoding: "utf-16be" });
  });
  test("CP932 without BOM, including NEC/IBM extension characters", () => {
    const text = "取引先,科目\r\n㈱髙島,①②№∵纊\r\n";
    const r = decodeCsv(new Uint8Array(iconv.encode(text, "cp932")));
    expect(r.encoding).toBe("shift_jis");
    expect(r.text).toBe(text);
  });
  test("invalid in both encodings → ENCODING_UNSUPPORTED with the byte offset", () => {
    try {
      decodeCsv(new Uint8Array([0x61, 0x2c, 0xff, 0xff]));
      throw new Error("no error");
    } catch (e) {
      const err = e as EngineError;
      expect(err.detail.startsWith("ENCODING_UNSUPPORTED")).toBe(true);
      expect(err.extensions.offset).toBe(2);
    }
  });
  test("a forced encoding that fails names the first bad byte", () => {
    const sjis = new Uint8Array(iconv.encode("ab髙", "cp932"));
    try {
      decodeCsv(sjis, "utf-8");
      throw new Error("no error");
    } catch (e) {
      expect((e as EngineError).detail).toContain("offset 2");
    }
    expect(decodeCsv(utf8("abc"), "shift_jis").text).toBe("abc");
  });
});
