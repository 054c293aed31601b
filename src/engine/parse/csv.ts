/*
 * CSV reading (analysis.md §1.6): encoding detection, delimiter detection and an RFC 4180 state
 * machine that accepts CRLF, LF and CR. The result is a grid of strings; the layout code decides
 * between the long and the hierarchical shape.
 */
import { CSV_SHEET_NAME, type Delimiter, type EncodingOption } from "@/engine/contract";
import { sheetParseError } from "@/engine/errors";

export type CsvEncoding = "utf-8" | "shift_jis" | "utf-16le" | "utf-16be";

export type CsvGrid = {
  name: string;
  rows: string[][];
  /** 1-based physical line on which each row starts, for error messages. */
  lines: number[];
  encoding: CsvEncoding;
  delimiter: Delimiter;
};

export type CsvReadOptions = { encoding?: EncodingOption; delimiter?: Delimiter | "auto" };

function strictDecode(bytes: Uint8Array, encoding: CsvEncoding): string | null {
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/** First byte offset at which a strict decode fails (prefix decodes are streamed, so a split
 * multi-byte sequence at the cut is not an error). Only used on the error path. */
export function firstBadByte(bytes: Uint8Array, encoding: CsvEncoding): number {
  const ok = (k: number) => {
    try {
      new TextDecoder(encoding, { fatal: true }).decode(bytes.subarray(0, k), { stream: true });
      return true;
    } catch {
      return false;
    }
  };
  let lo = 0;
  let hi = bytes.length;
  if (ok(hi)) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ok(mid + 1)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const hex = (b: number | undefined) =>
  b === undefined ? "end of file" : `0x${b.toString(16).padStart(2, "0")}`;

function encodingError(bytes: Uint8Array, tried: CsvEncoding): never {
  const at = firstBadByte(bytes, tried);
  throw sheetParseError(
    "ENCODING_UNSUPPORTED",
    `the file is not valid ${tried}: invalid byte ${hex(bytes[at])} at offset ${at}`,
    [{ path: "/encoding", message: `invalid ${tried} byte at offset ${at}` }],
    { offset: at },
  );
}

export function decodeCsv(
  bytes: Uint8Array,
  encoding: EncodingOption = "auto",
): { text: string; encoding: CsvEncoding } {
  if (encoding !== "auto") {
    const text = strictDecode(bytes, encoding);
    if (text === null) encodingError(bytes, encoding);
    return { text: stripBom(text), encoding };
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    const text = strictDecode(bytes.subarray(3), "utf-8");
    if (text === null) encodingError(bytes, "utf-8");
    return { text, encoding: "utf-8" };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    const text = strictDecode(bytes.subarray(2), "utf-16le");
    if (text === null) encodingError(bytes, "utf-16le");
    return { text, encoding: "utf-16le" };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const text = strictDecode(bytes.subarray(2), "utf-16be");
    if (text === null) encodingError(bytes, "utf-16be");
    return { text, encoding: "utf-16be" };
  }
  const utf8 = strictDecode(bytes, "utf-8");
  if (utf8 !== null) return { text: utf8, encoding: "utf-8" };
  const sjis = strictDecode(bytes, "shift_jis");
  if (sjis !== null) return { text: sjis, encoding: "shift_jis" };
  const at = firstBadByte(bytes, "shift_jis");
  throw sheetParseError(
    "ENCODING_UNSUPPORTED",
    `the file is neither UTF-8 nor Shift_JIS (CP932): invalid byte ${hex(bytes[at])} at offset ${at}`,
    [{ path: "/encoding", message: `undecodable byte at offset ${at}` }],
    { offset: at },
  );
}

const stripBom = (s: string) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);

/** The first non-empty line split on comma and on TAB: more fields wins, a tie goes to comma. */
export function detectDelimiter(text: string): Delimiter {
  const lines = text.split(/\r\n|\r|\n/, 1000);
  const line = lines.find((l) => l.trim() !== "") ?? "";
  const commas = line.split(",").length;
  const tabs = line.split("\t").length;
  return tabs > commas ? "\t" : ",";
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

export function parseCsvText(text: string, delimiter: Delimiter): { rows: string[][]; lines: number[] } {
  const d = delimiter.charCodeAt(0);
  const n = text.length;
  const rows: string[][] = [];
  const lines: number[] = [];
  let row: string[] = [];
  let line = 1;
  let rowLine = 1;
  let i = 0;
  while (i < n) {
    let c = text.charCodeAt(i);
    let value: string;
    if (c === QUOTE) {
      const openLine = line;
      i++;
      let buf = "";
      let seg = i;
      for (;;) {
        if (i >= n) {
          throw sheetParseError(
            "CSV_MALFORMED",
            `unterminated quoted field starting on line ${openLine}`,
            [{ path: `/lines/${openLine}`, message: "unterminated quote" }],
            { line: openLine },
          );
        }
        c = text.charCodeAt(i);
        if (c === QUOTE) {
          if (text.charCodeAt(i + 1) === QUOTE) {
            buf += text.slice(seg, i + 1);
            i += 2;
            seg = i;
            continue;
          }
          buf += text.slice(seg, i);
          i++;
          break;
        }
        if (c === LF || (c === CR && text.charCodeAt(i + 1) !== LF)) line++;
        i++;
      }
      // Characters after the closing quote are kept literally (lenient, like spreadsheet apps).
      const tail = i;
      while (i < n) {
        c = text.charCodeAt(i);
        if (c === d || c === CR || c === LF) break;
        i++;
      }
      value = tail === i ? buf : buf + text.slice(tail, i);
    } else {
      const start = i;
      while (i < n) {
        c = text.charCodeAt(i);
        if (c === d || c === CR || c === LF) break;
        i++;
      }
      value = text.slice(start, i);
    }
    row.push(value);
    if (i >= n) break;
    c = text.charCodeAt(i);
    if (c === d) {
      i++;
      if (i >= n) row.push("");
      continue;
    }
    i += c === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
    rows.push(row);
    lines.push(rowLine);
    row = [];
    line++;
    rowLine = line;
  }
  if (row.length > 0) {
    rows.push(row);
    lines.push(rowLine);
  }
  return { rows, lines };
}

export function readCsv(bytes: Uint8Array, options: CsvReadOptions = {}): CsvGrid {
  const { text, encoding } = decodeCsv(bytes, options.encoding ?? "auto");
  const delimiter =
    !options.delimiter || options.delimiter === "auto" ? detectDelimiter(text) : options.delimiter;
  const { rows, lines } = parseCsvText(text, delimiter);
  return { name: CSV_SHEET_NAME, rows, lines, encoding, delimiter };
}

/** Line count of a CSV as a one-sheet outline (quoted line breaks stay inside their record). */
export function csvOutline(buf: Uint8Array): { sheets: string[]; rows: Record<string, number> } {
  let lines = 0;
  let inQuotes = false;
  let sawContent = false;
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i];
    if (c === 0x22) inQuotes = !inQuotes;
    if (!inQuotes && (c === 0x0a || (c === 0x0d && buf[i + 1] !== 0x0a))) {
      if (sawContent) lines++;
      sawContent = false;
    } else if (c !== 0x0d) sawContent = true;
  }
  if (sawContent) lines++;
  return { sheets: ["CSV"], rows: { CSV: lines } };
}
