/*
 * xlsx/xlsm reading with ExcelJS (analysis.md §1.7): every worksheet (hidden ones too), cached
 * formula results, dates, error cells and merge ranges. The zip central directory is checked
 * against the uncompressed-size limit before anything is inflated, so a zip bomb costs nothing.
 */
import ExcelJS from "exceljs";
import { EngineError, limitExceeded } from "@/modules/analysis/engine/errors";
import type { EngineLimits } from "@/modules/analysis/engine/limits";
import type { RawCell } from "@/modules/analysis/engine/parse/cells";

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

/** Sum of the uncompressed sizes in the zip central directory; null when the bytes are not a zip. */
export function zipUncompressedSize(buf: Uint8Array): number | null {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let eocd = -1;
  const stop = Math.max(0, buf.length - 22 - 65535);
  for (let i = buf.length - 22; i >= stop; i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return null;
  const entries = view.getUint16(eocd + 10, true);
  let p = view.getUint32(eocd + 16, true);
  // ZIP64 markers: sizes do not fit 32 bits, far above any configured limit.
  if (entries === 0xffff || p === 0xffffffff) return Number.MAX_SAFE_INTEGER;
  let total = 0;
  for (let k = 0; k < entries; k++) {
    if (p + 46 > buf.length || view.getUint32(p, true) !== 0x02014b50) return null;
    const size = view.getUint32(p + 24, true);
    total += size === 0xffffffff ? Number.MAX_SAFE_INTEGER / 2 : size;
    p += 46 + view.getUint16(p + 28, true) + view.getUint16(p + 30, true) + view.getUint16(p + 32, true);
  }
  return total;
}

function convert(v: unknown): RawCell {
  if (v === null || v === undefined) return null;
  switch (typeof v) {
    case "number":
    case "string":
    case "boolean":
      return v;
    case "object": {
      if (v instanceof Date) return v;
      const o = v as Record<string, unknown>;
      if ("error" in o) return { error: String(o.error) };
      if ("formula" in o || "sharedFormula" in o) {
        // A formula without a cached result counts as empty (warning FORMULA_NOT_CACHED).
        if (o.result === undefined || o.result === null) return { uncachedFormula: true };
        return convert(o.result);
      }
      if (Array.isArray(o.richText)) return (o.richText as { text: string }[]).map((t) => t.text).join("");
      if ("text" in o) return convert(o.text);
      return null;
    }
    default:
      return null;
  }
}

export type WorkbookRead = { sheets: SheetGrid[]; skipped: SkippedSheet[] };

/**
 * Reads every worksheet into a grid. A sheet over the cell limit is skipped (reported with the
 * reason); more sheets than allowed, or an oversized zip, fail the whole workbook.
 */
export async function readWorkbook(bytes: Uint8Array, limits: EngineLimits): Promise<WorkbookRead> {
  const size = zipUncompressedSize(bytes);
  if (size === null) throw notAnalysable("The file is not a valid xlsx/xlsm workbook (no zip directory).");
  if (size > limits.maxUncompressedBytes) {
    throw limitExceeded("uncompressedBytes", limits.maxUncompressedBytes, size);
  }
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as ArrayBuffer,
    );
  } catch (e) {
    throw notAnalysable(`The workbook could not be read: ${(e as Error).message}`);
  }
  const worksheets = wb.worksheets;
  if (worksheets.length > limits.maxSheets)
    throw limitExceeded("sheets", limits.maxSheets, worksheets.length);
  const sheets: SheetGrid[] = [];
  const skipped: SkippedSheet[] = [];
  for (const ws of worksheets) {
    const cells = ws.rowCount * ws.columnCount;
    if (cells > limits.maxSheetCells) {
      const error = limitExceeded("cells", limits.maxSheetCells, cells);
      skipped.push({ sheetName: ws.name, reason: "ANALYSIS_LIMIT_EXCEEDED", message: error.detail, error });
      continue;
    }
    sheets.push(readWorksheet(ws));
  }
  return { sheets, skipped };
}

function readWorksheet(ws: ExcelJS.Worksheet): SheetGrid {
  const rows: RawCell[][] = [];
  ws.eachRow({ includeEmpty: false }, (row, rowNumber) => {
    const out: RawCell[] = [];
    row.eachCell({ includeEmpty: false }, (cell, colNumber) => {
      // Merge slaves read as empty here; the layout propagates merges inside the header block only.
      if (cell.type === ExcelJS.ValueType.Merge) return;
      out[colNumber - 1] = convert(cell.value);
    });
    rows[rowNumber - 1] = out;
  });
  for (let i = 0; i < rows.length; i++) if (!rows[i]) rows[i] = [];
  const mergeIndex = (ws as unknown as { _merges: Record<string, MergeRange> })._merges ?? {};
  const merges = Object.values(mergeIndex).map((m) => ({
    top: m.top - 1,
    left: m.left - 1,
    bottom: m.bottom - 1,
    right: m.right - 1,
  }));
  return { name: ws.name, rows, merges };
}
