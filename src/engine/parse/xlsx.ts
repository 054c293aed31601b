/*
 * xlsx/xlsm reading (analysis.md §1.7): every worksheet (hidden ones too), cached formula results,
 * dates, error cells and merge ranges.
 *
 * The workbook is read straight from the zip: the central directory is checked against the
 * uncompressed-size limit before anything is inflated, every inflation is bounded by what is left
 * of that budget (a directory that lies about sizes still cannot inflate more), and each part is
 * parsed with a SAX parser (saxes) into the cell grid, shared strings as a plain array. ExcelJS's
 * `Workbook.load` built a model object per cell plus JSZip copies of every part — about 4× the
 * memory of pandas/openpyxl on a 50,000-cell sheet — and its streaming reader spills sheets that
 * precede the shared strings to temporary files (I/O the engine must not do). The cell semantics
 * follow ExcelJS 4.4 (`cell-xform.js`, `utils.isDateFmt`, the built-in number formats), so the
 * grids are the same as before.
 */
import { SaxesParser } from "saxes";
import { EngineError, limitExceeded } from "@/engine/errors";
import type { EngineLimits } from "@/engine/limits";
import type { RawCell } from "@/engine/parse/cells";
import { type ZipEntry, ZipParts, zipDirectory } from "@/engine/parse/zip";

export { zipUncompressedSize } from "@/engine/parse/zip";

/** 0-based inclusive rectangle. */
export type MergeRange = { top: number; left: number; bottom: number; right: number };

export type SheetGrid = {
  name: string;
  rows: RawCell[][];
  merges: MergeRange[];
  /** CSV only: 1-based physical line of each row (errors then name lines instead of A1 cells). */
  lines?: number[];
};

export type SkippedSheet = { sheetName: string; reason: string; message: string; error: EngineError };

const notAnalysable = (detail: string) =>
  new EngineError("FILE_NOT_ANALYSABLE", 422, detail, { allowed: ["xlsx", "xlsm", "csv", "txt"] });

type XmlHandlers = {
  open(name: string, attrs: Record<string, string>): void;
  text?(text: string): void;
  close?(name: string): void;
};

const local = (name: string) => {
  const i = name.indexOf(":");
  return i < 0 ? name : name.slice(i + 1);
};

/** Attribute by local name (`r:id`, `x:r`, …): writers differ in namespace prefixes. */
function attr(attrs: Record<string, string>, name: string): string | undefined {
  const v = attrs[name];
  if (v !== undefined) return v;
  for (const k in attrs) if (local(k) === name) return attrs[k];
  return undefined;
}

const CHUNK = 1 << 20;

/** SAX over UTF-8 bytes, decoded a megabyte at a time so no whole-part string is ever built. */
function parseXml(bytes: Uint8Array, part: string, h: XmlHandlers): void {
  const parser = new SaxesParser<{ xmlns: false; position: false }>({ xmlns: false, position: false });
  parser.on("opentag", (node) => h.open(local(node.name), node.attributes));
  if (h.text) {
    const text = h.text;
    parser.on("text", text);
    parser.on("cdata", text);
  }
  if (h.close) {
    const close = h.close;
    parser.on("closetag", (node) => close(local(node.name)));
  }
  const decoder = new TextDecoder("utf-8");
  try {
    for (let i = 0; i < bytes.length; i += CHUNK) {
      parser.write(decoder.decode(bytes.subarray(i, i + CHUNK), { stream: true }));
    }
    parser.write(decoder.decode());
    parser.close();
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw notAnalysable(`The workbook could not be read: ${part}: ${(e as Error).message}`);
  }
}

/** Resolves a relationship target against the directory of the part that owns the .rels. */
function resolveTarget(baseDir: string, target: string): string {
  const parts = (target.startsWith("/") ? target.slice(1) : `${baseDir}${target}`).split("/");
  const out: string[] = [];
  for (const p of parts) {
    if (p === "..") out.pop();
    else if (p !== "." && p !== "") out.push(p);
  }
  return out.join("/");
}

type Rel = { type: string; target: string };

function readRels(zip: ZipParts, partName: string): Map<string, Rel> {
  const slash = partName.lastIndexOf("/");
  const dir = partName.slice(0, slash + 1);
  const relsName = `${dir}_rels/${partName.slice(slash + 1)}.rels`;
  const rels = new Map<string, Rel>();
  const bytes = zip.read(relsName);
  if (!bytes) return rels;
  parseXml(bytes, relsName, {
    open(name, a) {
      if (name !== "Relationship" || a.TargetMode === "External" || !a.Id || !a.Target) return;
      rels.set(a.Id, { type: a.Type ?? "", target: resolveTarget(dir, a.Target) });
    },
  });
  return rels;
}

/** ExcelJS's `utils.isDateFmt`: a date/time token outside quotes and brackets. */
function isDateFmt(fmt: string | undefined): boolean {
  if (!fmt) return false;
  const f = fmt.replace(/\[[^\]]*]/g, "").replace(/"[^"]*"/g, "");
  return /[ymdhMsb]+/.test(f);
}

/** The built-in formats ExcelJS knows by code (defaultnumformats.js); the locale-dependent ones it does not. */
const BUILTIN_FORMATS: Record<number, string> = {
  0: "General",
  1: "0",
  2: "0.00",
  3: "#,##0",
  4: "#,##0.00",
  9: "0%",
  10: "0.00%",
  11: "0.00E+00",
  12: "# ?/?",
  13: "# ??/??",
  14: "mm-dd-yy",
  15: "d-mmm-yy",
  16: "d-mmm",
  17: "mmm-yy",
  18: "h:mm AM/PM",
  19: "h:mm:ss AM/PM",
  20: "h:mm",
  21: "h:mm:ss",
  22: 'm/d/yy "h":mm',
  37: "#,##0 ;(#,##0)",
  38: "#,##0 ;[Red](#,##0)",
  39: "#,##0.00 ;(#,##0.00)",
  40: "#,##0.00 ;[Red](#,##0.00)",
  45: "mm:ss",
  46: "[h]:mm:ss",
  47: "mmss.0",
  48: "##0.0E+0",
  49: "@",
};

/** Per cellXfs index: does the style's number format make numbers dates? */
function readDateStyles(bytes: Uint8Array | null, part: string): boolean[] {
  if (!bytes) return [];
  const custom = new Map<number, string>();
  const xfFormats: number[] = [];
  let inCellXfs = false;
  parseXml(bytes, part, {
    open(name, a) {
      if (name === "numFmt") custom.set(Number(a.numFmtId), a.formatCode ?? "");
      else if (name === "cellXfs") inCellXfs = true;
      else if (name === "xf" && inCellXfs) xfFormats.push(Number(a.numFmtId ?? 0));
    },
    close(name) {
      if (name === "cellXfs") inCellXfs = false;
    },
  });
  return xfFormats.map((id) => (id ? isDateFmt(custom.get(id) ?? BUILTIN_FORMATS[id]) : false));
}

/** ExcelJS's TextXform unescapes `_xHHHH_` (OOXML's escape for control characters) in shared strings. */
const unescapeOoxml = (s: string) =>
  s.includes("_x")
    ? s.replace(/_x([0-9A-F]{4})_/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    : s;

/** Shared strings as a plain array: rich-text runs joined, phonetic (rPh) runs left out. */
function readSharedStrings(bytes: Uint8Array | null, part: string): string[] {
  const out: string[] = [];
  if (!bytes) return out;
  let current: string | null = null;
  let runs: string[] = [];
  let inText = false;
  let phonetic = 0;
  let text = "";
  parseXml(bytes, part, {
    open(name) {
      if (name === "si") {
        current = null;
        runs = [];
      } else if (name === "rPh") phonetic++;
      else if (name === "t" && phonetic === 0) {
        inText = true;
        text = "";
      }
    },
    text(t) {
      if (inText) text += t;
    },
    close(name) {
      if (name === "t" && inText) {
        inText = false;
        runs.push(unescapeOoxml(text));
      } else if (name === "rPh") phonetic--;
      else if (name === "si") {
        current = runs.join("");
        out.push(current);
      }
    },
  });
  return out;
}

/** 1-based column number of the letters at the start of an A1 reference; 0 when there are none. */
function columnOf(ref: string): number {
  let c = 0;
  for (let i = 0; i < ref.length; i++) {
    const ch = ref.charCodeAt(i);
    if (ch >= 65 && ch <= 90) c = c * 26 + ch - 64;
    else if (ch >= 97 && ch <= 122) c = c * 26 + ch - 96;
    else break;
  }
  return c;
}

const rowOf = (ref: string) => Number(ref.slice(ref.search(/\d/)));

/** ExcelJS's `utils.excelToDate`: serial day number → the UTC instant of its wall-clock value. */
const excelToDate = (v: number, date1904: boolean) =>
  new Date(Math.round((v - 25569 + (date1904 ? 1462 : 0)) * 24 * 3600 * 1000));

type SheetRead = { rows: RawCell[][]; merges: MergeRange[]; rowCount: number; columnCount: number };

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const QUOTE = 0x22;
const APOS = 0x27;
const COLON = 0x3a;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8");

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
/** XML character and entity references of text content. */
const decodeEntities = (s: string) =>
  s.includes("&")
    ? s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, e: string) => {
        if (e[0] !== "#") return ENTITIES[e] ?? m;
        const cp = e[1] === "x" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
      })
    : s;

const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/** Does bytes[s, e) spell `name` (ASCII)? */
function nameIs(bytes: Uint8Array, s: number, e: number, name: string): boolean {
  if (e - s !== name.length) return false;
  for (let k = 0; k < name.length; k++) if (bytes[s + k] !== name.charCodeAt(k)) return false;
  return true;
}

/** A non-negative decimal integer of at most 15 digits in bytes[s, e), else -1. */
function smallInt(bytes: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 15) return -1;
  let v = 0;
  for (let k = s; k < e; k++) {
    const d = bytes[k] - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** `parseFloat` of the ASCII text bytes[s, e), without a string for plain integers. */
function numberAt(bytes: Uint8Array, s: number, e: number): number {
  const neg = e > s && bytes[s] === 0x2d;
  const v = smallInt(bytes, neg ? s + 1 : s, e);
  if (v >= 0) return neg ? -v : v;
  return parseFloat(latin1.decode(bytes.subarray(s, e)));
}

/** 1-based column of the letters at the start of bytes[s, e) (an A1 reference); 0 when none. */
function columnAt(bytes: Uint8Array, s: number, e: number): number {
  let c = 0;
  for (let k = s; k < e; k++) {
    const ch = bytes[k];
    if (ch >= 65 && ch <= 90) c = c * 26 + ch - 64;
    else if (ch >= 97 && ch <= 122) c = c * 26 + ch - 96;
    else break;
  }
  return c;
}

/** Cell types (the `t` attribute). */
const T_NUMBER = 0;
const T_SHARED = 1;
const T_STR = 2;
const T_INLINE = 3;
const T_BOOL = 4;
const T_ERROR = 5;
const T_DATE = 6;

/** t="d" cells hold an ISO 8601 date-time without zone: the wall-clock value as a UTC instant. */
function isoDate(v: string): Date | string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z)?$/.exec(v.trim());
  if (!m) return v;
  const d = new Date(`${m[1]}T${m[2] ?? "00:00"}Z`);
  return Number.isNaN(d.getTime()) ? v : d;
}

function cellType(bytes: Uint8Array, s: number, e: number): number {
  if (nameIs(bytes, s, e, "s")) return T_SHARED;
  if (nameIs(bytes, s, e, "str")) return T_STR;
  if (nameIs(bytes, s, e, "inlineStr")) return T_INLINE;
  if (nameIs(bytes, s, e, "b")) return T_BOOL;
  if (nameIs(bytes, s, e, "e")) return T_ERROR;
  if (nameIs(bytes, s, e, "d")) return T_DATE;
  return T_NUMBER;
}

/**
 * One worksheet into a grid, scanning the part's bytes directly: a SAX parser allocates a tag
 * object, an attribute object and strings per element, which for a 50,000-cell sheet is most of
 * the parse's memory; this scanner allocates only the cells it stores (integers are read from
 * the bytes, strings decoded only for text cells). It understands what a worksheet can contain
 * (elements with or without a namespace prefix, comments, CDATA, processing instructions,
 * entities) and reads only sheetData cells and mergeCells; everything else is skipped.
 *
 * Cells are converted as ExcelJS's cell-xform did: t="s" shared string, "str"/"inlineStr" text,
 * "b" boolean, "e" {error}, otherwise a number (a Date under a date format); a formula yields its
 * cached result or {uncachedFormula}; cells without a value are left out. Storing stops once
 * rows × columns exceed `maxCells` (the sheet is then skipped), but the scan goes on so that the
 * reported size is the sheet's.
 */
function readSheet(
  bytes: Uint8Array,
  part: string,
  shared: readonly string[],
  dateStyle: readonly boolean[],
  date1904: boolean,
  maxCells: number,
): SheetRead {
  const rows: RawCell[][] = [];
  const merges: MergeRange[] = [];
  let rowCount = 0;
  let columnCount = 0;
  let storing = true;

  let rowIndex = 0; // 1-based current row, 0 outside rows
  let lastRow = 0; // for <row> elements without r
  let row: RawCell[] = [];
  let rowHasValues = false;
  let rowWidth = 0;
  let nextCol = 1;

  let col = 0;
  let type = T_NUMBER;
  let style = 0;
  let formula = false;
  let inlineRuns: string[] | null = null;
  let phonetic = 0;
  // The text of the open <v>/<f>/<t>: one byte range, or a string once it comes in pieces.
  let field = 0; // 0 none, 1 v, 2 f, 3 t
  let textStart = -1;
  let textEnd = -1;
  let textJoined: string | null = null;
  let valueStart = -1;
  let valueEnd = -1;
  let valueText: string | null = null;

  const bad = (what: string) => notAnalysable(`The workbook could not be read: ${part}: ${what}`);

  const addText = (s: number, e: number, raw: string | null) => {
    if (textStart < 0 && textJoined === null && raw === null) {
      textStart = s;
      textEnd = e;
      return;
    }
    const prev = textJoined ?? (textStart >= 0 ? utf8.decode(bytes.subarray(textStart, textEnd)) : "");
    textJoined = prev + (raw ?? utf8.decode(bytes.subarray(s, e)));
    textStart = -1;
  };
  const fieldString = (): string => {
    if (textJoined !== null) return decodeEntities(textJoined);
    return textStart < 0 ? "" : decodeEntities(utf8.decode(bytes.subarray(textStart, textEnd)));
  };
  const fieldEmpty = () => textJoined === null && (textStart < 0 || textEnd === textStart);

  const finishRow = () => {
    if (rowIndex === 0) return;
    if (rowHasValues) {
      columnCount = Math.max(columnCount, rowWidth);
      if (storing) rows[rowIndex - 1] = row;
    }
    if (rowCount * columnCount > maxCells) storing = false;
    rowIndex = 0;
  };

  const valueString = () =>
    valueText !== null
      ? decodeEntities(valueText)
      : decodeEntities(utf8.decode(bytes.subarray(valueStart, valueEnd)));
  const valueNumber = () =>
    valueText !== null ? parseFloat(decodeEntities(valueText)) : numberAt(bytes, valueStart, valueEnd);
  const hasValue = () => valueText !== null || valueStart >= 0;

  const finishCell = () => {
    rowWidth = Math.max(rowWidth, col);
    let cell: RawCell | undefined;
    const dated = style > 0 && dateStyle[style] === true;
    if (formula) {
      if (hasValue() && (valueText !== null ? valueText !== "" : valueEnd > valueStart)) {
        if (type === T_STR) cell = valueString();
        else if (type === T_BOOL) cell = valueNumber() !== 0;
        else if (type === T_ERROR) cell = { error: valueString() };
        else {
          const x = valueNumber();
          cell = dated ? excelToDate(x, date1904) : x;
        }
      } else cell = { uncachedFormula: true };
    } else if (inlineRuns !== null && type === T_INLINE) {
      cell = inlineRuns.join("");
    } else if (hasValue()) {
      switch (type) {
        case T_SHARED: {
          const k = valueText === null ? smallInt(bytes, valueStart, valueEnd) : -1;
          cell = shared[k >= 0 ? k : parseInt(valueString(), 10)];
          break;
        }
        case T_STR:
        case T_INLINE:
          cell = valueString();
          break;
        case T_BOOL:
          cell = parseInt(valueString(), 10) !== 0;
          break;
        case T_ERROR:
          cell = { error: valueString() };
          break;
        case T_DATE:
          // ExcelJS parsed these as numbers (2024-01-15 → 2024); Excel writes them only on request.
          cell = isoDate(valueString());
          break;
        default: {
          const x = valueNumber();
          cell = dated ? excelToDate(x, date1904) : x;
        }
      }
    }
    // ExcelJS's hasValues: any cell with a value, or a bare <c/> without a style.
    if (cell !== undefined || style === 0) rowHasValues = true;
    if (cell !== undefined && cell !== null && storing) row[col - 1] = cell;
  };

  const openField = (f: number) => {
    field = f;
    textStart = -1;
    textJoined = null;
  };

  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const lt = bytes.indexOf(LT, i);
    if (lt < 0) break;
    if (field && lt > i) addText(i, lt, null);
    const next = bytes[lt + 1];
    if (next === 0x21) {
      // <!-- comment -->, <![CDATA[ … ]]>, <!DOCTYPE …>
      if (bytes[lt + 2] === 0x2d && bytes[lt + 3] === 0x2d) {
        const end = findSeq(bytes, lt + 4, "-->");
        if (end < 0) throw bad("unterminated comment");
        i = end + 3;
      } else if (nameIs(bytes, lt + 2, lt + 9, "[CDATA[")) {
        const end = findSeq(bytes, lt + 9, "]]>");
        if (end < 0) throw bad("unterminated CDATA");
        if (field) addText(0, 0, utf8.decode(bytes.subarray(lt + 9, end)).replaceAll("&", "&amp;"));
        i = end + 3;
      } else {
        const end = bytes.indexOf(GT, lt);
        if (end < 0) throw bad("unterminated declaration");
        i = end + 1;
      }
      continue;
    }
    if (next === 0x3f) {
      const end = findSeq(bytes, lt + 2, "?>");
      if (end < 0) throw bad("unterminated processing instruction");
      i = end + 2;
      continue;
    }
    // A tag: its end is the first '>' outside attribute quotes.
    let gt = lt + 1;
    let quote = 0;
    for (; gt < n; gt++) {
      const b = bytes[gt];
      if (quote) {
        if (b === quote) quote = 0;
      } else if (b === QUOTE || b === APOS) quote = b;
      else if (b === GT) break;
    }
    if (gt >= n) throw bad("unterminated tag");
    i = gt + 1;
    const closing = next === SLASH;
    let ns = closing ? lt + 2 : lt + 1;
    let ne = ns;
    while (ne < gt && !isSpace(bytes[ne]) && bytes[ne] !== SLASH) {
      if (bytes[ne] === COLON) ns = ne + 1;
      ne++;
    }
    const selfClosing = !closing && bytes[gt - 1] === SLASH;
    const len = ne - ns;
    const first = bytes[ns];
    if (closing) {
      if (len === 1 && first === 0x63) {
        finishCell();
      } else if (len === 1 && (first === 0x76 || first === 0x66 || first === 0x74)) {
        closeField(first);
      } else if (len === 3 && first === 0x72 && nameIs(bytes, ns, ne, "rPh")) {
        phonetic--;
      } else if (len === 9 && nameIs(bytes, ns, ne, "sheetData")) {
        finishRow();
      }
      continue;
    }
    if (len === 1 && first === 0x63) {
      // <c r="B2" t="s" s="3">
      col = 0;
      type = T_NUMBER;
      style = 0;
      formula = false;
      inlineRuns = null;
      valueStart = -1;
      valueText = null;
      for (let k = nextAttribute(bytes, ne, gt); k >= 0; k = nextAttribute(bytes, k, gt)) {
        if (attrName === 0x72) col = columnAt(bytes, attrStart, attrEnd);
        else if (attrName === 0x74) type = cellType(bytes, attrStart, attrEnd);
        else if (attrName === 0x73) style = Math.max(0, smallInt(bytes, attrStart, attrEnd));
      }
      if (col === 0) col = nextCol;
      nextCol = col + 1;
      if (selfClosing) finishCell();
    } else if (len === 1 && first === 0x76) {
      if (!selfClosing) openField(1);
    } else if (len === 1 && first === 0x66) {
      // ExcelJS: a formula is a non-empty <f> or a shared/array one (<f t="shared" si="0"/>).
      for (let k = nextAttribute(bytes, ne, gt); k >= 0; k = nextAttribute(bytes, k, gt)) {
        if (attrName === 0x74) formula = true;
      }
      if (!selfClosing) openField(2);
    } else if (len === 1 && first === 0x74) {
      if (inlineRuns !== null && phonetic === 0) {
        if (selfClosing) inlineRuns.push("");
        else openField(3);
      }
    } else if (len === 2 && nameIs(bytes, ns, ne, "is")) {
      inlineRuns = [];
    } else if (len === 3 && first === 0x72 && nameIs(bytes, ns, ne, "row")) {
      finishRow();
      let r = -1;
      for (let k = nextAttribute(bytes, ne, gt); k >= 0; k = nextAttribute(bytes, k, gt)) {
        if (attrName === 0x72) r = smallInt(bytes, attrStart, attrEnd);
      }
      rowIndex = r > 0 ? r : lastRow + 1;
      lastRow = rowIndex;
      rowCount = Math.max(rowCount, rowIndex);
      row = [];
      rowHasValues = false;
      rowWidth = 0;
      nextCol = 1;
      if (selfClosing) finishRow();
    } else if (len === 3 && first === 0x72 && nameIs(bytes, ns, ne, "rPh")) {
      if (!selfClosing) phonetic++;
    } else if (len === 9 && nameIs(bytes, ns, ne, "mergeCell")) {
      for (let k = nextAttribute(bytes, ne, gt); k >= 0; k = nextAttribute(bytes, k, gt)) {
        if (attrName !== -3) continue;
        const [from, to = from] = latin1.decode(bytes.subarray(attrStart, attrEnd)).split(":");
        merges.push({
          top: rowOf(from) - 1,
          left: columnOf(from) - 1,
          bottom: rowOf(to) - 1,
          right: columnOf(to) - 1,
        });
      }
    }
  }

  function closeField(tag: number): void {
    const f = tag === 0x76 ? 1 : tag === 0x66 ? 2 : 3;
    if (field !== f) return;
    if (f === 1) {
      // An empty <v></v> is no value (ExcelJS saw no text).
      if (textJoined !== null) valueText = textJoined;
      else if (textStart >= 0) {
        valueStart = textStart;
        valueEnd = textEnd;
      }
    } else if (f === 2) {
      if (!fieldEmpty()) formula = true;
    } else if (inlineRuns !== null) {
      inlineRuns.push(fieldString());
    }
    field = 0;
  }

  finishRow();
  if (storing) {
    for (let r = 0; r < rows.length; r++) if (!rows[r]) rows[r] = [];
    // Merge slaves read as empty (ExcelJS gave them the Merge type); the layout propagates
    // merges inside the header block only.
    for (const m of merges) {
      for (let r = m.top; r <= m.bottom && r < rows.length; r++) {
        const cells = rows[r];
        for (let c = m.left; c <= m.right && c < cells.length; c++) {
          if (r !== m.top || c !== m.left) cells[c] = undefined;
        }
        let k = cells.length;
        while (k > 0 && cells[k - 1] === undefined) k--;
        cells.length = k;
      }
    }
  }
  return { rows, merges, rowCount, columnCount };
}

/** Index of the ASCII sequence `seq` in bytes from `from`, or -1. */
function findSeq(bytes: Uint8Array, from: number, seq: string): number {
  const c0 = seq.charCodeAt(0);
  for (let k = bytes.indexOf(c0, from); k >= 0; k = bytes.indexOf(c0, k + 1)) {
    let ok = true;
    for (let j = 1; j < seq.length && ok; j++) ok = bytes[k + j] === seq.charCodeAt(j);
    if (ok) return k;
  }
  return -1;
}

/*
 * The attribute that nextAttribute found: its name as the code of its one-letter local name
 * (r, s, t), -3 for "ref", -1 for anything else, and its value range. Module state instead of
 * a callback or a result object: the scanner calls this once or twice per cell and must not
 * allocate there.
 */
let attrName = -1;
let attrStart = 0;
let attrEnd = 0;

/** Finds the next attribute of the tag bytes[from, to); returns where to continue, or -1. */
function nextAttribute(bytes: Uint8Array, from: number, to: number): number {
  let k = from;
  for (;;) {
    while (k < to && (isSpace(bytes[k]) || bytes[k] === SLASH)) k++;
    if (k >= to) return -1;
    const fs = k;
    let ns = k;
    while (k < to && bytes[k] !== 0x3d && !isSpace(bytes[k])) {
      if (bytes[k] === COLON) ns = k + 1;
      k++;
    }
    const ne = k;
    while (k < to && bytes[k] !== 0x3d) k++;
    k++;
    while (k < to && isSpace(bytes[k])) k++;
    const q = bytes[k];
    if (q !== QUOTE && q !== APOS) return -1;
    const vs = k + 1;
    const ve = bytes.indexOf(q, vs);
    if (ve < 0 || ve > to) return -1;
    k = ve + 1;
    // Namespace declarations (xmlns, xmlns:x) are not attributes of the element.
    if (nameIs(bytes, fs, ne, "xmlns") || (ns > fs && nameIs(bytes, fs, ns - 1, "xmlns"))) continue;
    attrName = ne - ns === 1 ? bytes[ns] : nameIs(bytes, ns, ne, "ref") ? -3 : -1;
    attrStart = vs;
    attrEnd = ve;
    return k;
  }
}

export type WorkbookRead = { sheets: SheetGrid[]; skipped: SkippedSheet[] };

/**
 * Reads every worksheet into a grid. A sheet over the cell limit is skipped (reported with the
 * reason); more sheets than allowed, or an oversized zip, fail the whole workbook.
 */
export async function readWorkbook(bytes: Uint8Array, limits: EngineLimits): Promise<WorkbookRead> {
  const dir = zipDirectory(bytes);
  if (dir === null) throw notAnalysable("The file is not a valid xlsx/xlsm workbook (no zip directory).");
  const size = dir === "zip64" ? Number.MAX_SAFE_INTEGER : dir.reduce((s, e) => s + e.size, 0);
  if (size > limits.maxUncompressedBytes) {
    throw limitExceeded("uncompressedBytes", limits.maxUncompressedBytes, size);
  }
  const zip = new ZipParts(bytes, dir as ZipEntry[], limits.maxUncompressedBytes);

  let workbookPart = "xl/workbook.xml";
  for (const rel of readRels(zip, "").values()) {
    if (rel.type.endsWith("/officeDocument")) workbookPart = rel.target;
  }
  const workbookXml = zip.read(workbookPart);
  if (!workbookXml) throw notAnalysable("The workbook could not be read: no workbook part.");
  const rels = readRels(zip, workbookPart);
  const declared: { name: string; relId: string }[] = [];
  let date1904 = false;
  parseXml(workbookXml, workbookPart, {
    open(name, a) {
      if (name === "workbookPr") date1904 = a.date1904 === "1" || a.date1904 === "true";
      else if (name === "sheet") declared.push({ name: a.name ?? "", relId: attr(a, "id") ?? "" });
    },
  });
  const worksheets = declared
    .map((s) => ({ name: s.name, rel: rels.get(s.relId) }))
    .filter((s) => s.rel?.type.endsWith("/worksheet") && zip.has(s.rel.target))
    .map((s) => ({ name: s.name, part: s.rel!.target }));
  if (worksheets.length > limits.maxSheets)
    throw limitExceeded("sheets", limits.maxSheets, worksheets.length);

  const relOfType = (suffix: string, fallback: string) =>
    [...rels.values()].find((r) => r.type.endsWith(suffix))?.target ?? fallback;
  const sharedPart = relOfType("/sharedStrings", "xl/sharedStrings.xml");
  const stylesPart = relOfType("/styles", "xl/styles.xml");
  const shared = readSharedStrings(zip.read(sharedPart), sharedPart);
  const dateStyle = readDateStyles(zip.read(stylesPart), stylesPart);

  const sheets: SheetGrid[] = [];
  const skipped: SkippedSheet[] = [];
  for (const ws of worksheets) {
    const read = readSheet(zip.read(ws.part)!, ws.part, shared, dateStyle, date1904, limits.maxSheetCells);
    const cells = read.rowCount * read.columnCount;
    if (cells > limits.maxSheetCells) {
      const error = limitExceeded("cells", limits.maxSheetCells, cells);
      skipped.push({ sheetName: ws.name, reason: "ANALYSIS_LIMIT_EXCEEDED", message: error.detail, error });
      continue;
    }
    sheets.push({ name: ws.name, rows: read.rows, merges: read.merges });
  }
  return { sheets, skipped };
}

/** Sheet names and row counts, for comparing two versions of a file without reading cells. */
export type Outline = { sheets: string[]; rows: Record<string, number> };

/* Everything an outline inflates: the workbook part, its relationships and sheet heads. */
const OUTLINE_BUDGET = 16 * 1024 * 1024;
/* `<dimension>` precedes `<sheetData>`; this much of a sheet's head always holds it. */
const SHEET_HEAD_BYTES = 64 * 1024;

function rowsFromDimension(head: Uint8Array): number {
  const xml = new TextDecoder().decode(head);
  const m = /<(?:\w+:)?dimension\b[^>]*\bref="\$?[A-Z]+\$?(\d+)(?::\$?[A-Z]+\$?(\d+))?"/.exec(xml);
  if (!m) return 0;
  const first = Number(m[1]);
  const last = Number(m[2] ?? m[1]);
  return last - first + 1;
}

/**
 * The outline of an xlsx/xlsm: the declared sheets and each worksheet's `<dimension>`. The zip is
 * refused like at registration when its directory declares more than the uncompressed limit, and
 * only the workbook part and the head of each sheet are inflated (bounded), so a bomb costs
 * milliseconds. Null when the bytes are not a readable workbook.
 */
export function workbookOutline(bytes: Uint8Array, limits: EngineLimits): Outline | null {
  const dir = zipDirectory(bytes);
  if (dir === null) return null;
  const size = dir === "zip64" ? Number.MAX_SAFE_INTEGER : dir.reduce((s, e) => s + e.size, 0);
  if (size > limits.maxUncompressedBytes) {
    throw limitExceeded("uncompressedBytes", limits.maxUncompressedBytes, size);
  }
  const zip = new ZipParts(bytes, dir as ZipEntry[], Math.min(OUTLINE_BUDGET, limits.maxUncompressedBytes));
  try {
    let workbookPart = "xl/workbook.xml";
    for (const rel of readRels(zip, "").values()) {
      if (rel.type.endsWith("/officeDocument")) workbookPart = rel.target;
    }
    const workbookXml = zip.read(workbookPart);
    if (!workbookXml) return null;
    const rels = readRels(zip, workbookPart);
    const sheets: string[] = [];
    const rows: Record<string, number> = {};
    const parts: { name: string; part: string | undefined }[] = [];
    parseXml(workbookXml, workbookPart, {
      open(name, a) {
        if (name !== "sheet") return;
        const sheetName = a.name ?? "";
        sheets.push(sheetName);
        const rel = rels.get(attr(a, "id") ?? "");
        parts.push({ name: sheetName, part: rel?.type.endsWith("/worksheet") ? rel.target : undefined });
      },
    });
    if (parts.length > limits.maxSheets) throw limitExceeded("sheets", limits.maxSheets, parts.length);
    for (const { name, part } of parts) {
      const head = part ? zip.readPrefix(part, SHEET_HEAD_BYTES) : null;
      rows[name] = head ? rowsFromDimension(head) : 0;
    }
    return { sheets, rows };
  } catch (e) {
    if (e instanceof EngineError && e.code === "FILE_NOT_ANALYSABLE") return null;
    throw e;
  }
}
