/*
 * File-level entry points for the service: registration (every sheet, skipped sheets reported),
 * parsing one sheet for PATCH, and axis selection. Nothing here touches storage or the database.
 */
import { type Delimiter, type EncodingOption, type ShapeOption, SUBJECT, VALUE } from "@/engine/contract";
import { EngineError, isEngineError } from "@/engine/errors";
import { dataHash, type Frame } from "@/engine/frame";
import { type EngineLimits, withDefaults } from "@/engine/limits";
import { type CsvEncoding, readCsv } from "@/engine/parse/csv";
import { countDuplicates, type ParsedSheet, parseSheet, type Shape } from "@/engine/parse/layout";
import { readWorkbook, type SheetGrid } from "@/engine/parse/xlsx";
import { suggest } from "@/engine/util/suggest";

export const ANALYSABLE_KINDS = ["xlsx", "xlsm", "csv", "txt"] as const;
export type AnalysableKind = (typeof ANALYSABLE_KINDS)[number];

export type ReadOptions = {
  shape?: ShapeOption;
  encoding?: EncodingOption;
  delimiter?: Delimiter | "auto";
  limits?: Partial<EngineLimits>;
};

export type ConfigEntry = {
  sheetName: string;
  axis: string[];
  shape: Shape;
  encoding?: CsvEncoding;
  delimiter?: Delimiter;
  rowEstimate: number;
};

export type SkippedSheetInfo = { sheetName: string; reason: string; message: string };

export type Registration = {
  configList: ConfigEntry[];
  skippedSheets: SkippedSheetInfo[];
  /** Parsed sheets by name, so the service need not parse again right after registration. */
  sheets: ParsedSheet[];
};

type Grids = {
  grids: SheetGrid[];
  skipped: SkippedSheetInfo[];
  encoding?: CsvEncoding;
  delimiter?: Delimiter;
};

function assertKind(kind: string): asserts kind is AnalysableKind {
  if (!(ANALYSABLE_KINDS as readonly string[]).includes(kind)) {
    throw new EngineError("FILE_NOT_ANALYSABLE", 422, `Files of type ${kind} cannot be analysed.`, {
      allowed: [...ANALYSABLE_KINDS],
    });
  }
}

async function readGrids(bytes: Uint8Array, kind: string, options: ReadOptions): Promise<Grids> {
  assertKind(kind);
  if (kind === "csv" || kind === "txt") {
    const csv = readCsv(bytes, { encoding: options.encoding, delimiter: options.delimiter });
    return {
      grids: [{ name: csv.name, rows: csv.rows, merges: [], lines: csv.lines }],
      skipped: [],
      encoding: csv.encoding,
      delimiter: csv.delimiter,
    };
  }
  const wb = await readWorkbook(bytes, withDefaults(options.limits));
  return {
    grids: wb.sheets,
    skipped: wb.skipped.map(({ sheetName, reason, message }) => ({ sheetName, reason, message })),
  };
}

const reasonOf = (e: EngineError) => (e.extensions.reason as string | undefined) ?? e.code;

/**
 * Parses every sheet; unusable sheets go to `skippedSheets`. No usable sheet → 422
 * NO_PARSEABLE_SHEET with one `errors[]` entry per sheet whose message starts with the reason.
 */
export async function registerFile(
  bytes: Uint8Array,
  kind: string,
  options: ReadOptions = {},
): Promise<Registration> {
  let grids: Grids;
  try {
    grids = await readGrids(bytes, kind, options);
  } catch (e) {
    // A CSV that cannot be decoded or tokenised is its one sheet failing.
    if (isEngineError(e) && e.code === "SHEET_PARSE_ERROR") {
      throw noParseableSheet([{ sheetName: "CSV", reason: reasonOf(e), message: e.detail }]);
    }
    throw e;
  }
  const configList: ConfigEntry[] = [];
  const sheets: ParsedSheet[] = [];
  const skipped = [...grids.skipped];
  for (const grid of grids.grids) {
    try {
      const parsed = parseSheet(grid, { shape: options.shape, limits: options.limits });
      sheets.push(parsed);
      configList.push({
        sheetName: grid.name,
        axis: parsed.axes,
        shape: parsed.shape,
        ...(grids.encoding ? { encoding: grids.encoding, delimiter: grids.delimiter } : {}),
        rowEstimate: parsed.frame.rowCount,
      });
    } catch (e) {
      if (!isEngineError(e)) throw e;
      skipped.push({ sheetName: grid.name, reason: reasonOf(e), message: e.detail });
    }
  }
  if (configList.length === 0) throw noParseableSheet(skipped);
  return { configList, skippedSheets: skipped, sheets };
}

function noParseableSheet(skipped: SkippedSheetInfo[]): EngineError {
  const first = skipped[0];
  return new EngineError(
    "NO_PARSEABLE_SHEET",
    422,
    first
      ? `No sheet could be parsed; ${first.sheetName}: ${first.message}`
      : "The workbook has no worksheets.",
    { availableSheets: skipped.map((s) => s.sheetName) },
    skipped.map((s) => ({ path: `/sheets/${s.sheetName}`, message: s.message })),
  );
}

export type SelectedInput = {
  sheetName: string;
  shape: Shape;
  encoding?: CsvEncoding;
  delimiter?: Delimiter;
  axes: string[];
  frame: Frame;
  dataHash: string;
  rowCount: number;
  duplicateCombinations: number;
  warnings: ParsedSheet["warnings"];
};

/**
 * PATCH …/file/{fid}: parse one sheet and keep the chosen axes (`undefined` = all of them).
 * Errors: UNKNOWN_SHEET, UNKNOWN_AXIS, SHEET_PARSE_ERROR, ANALYSIS_LIMIT_EXCEEDED.
 */
export async function parseFileSheet(
  bytes: Uint8Array,
  kind: string,
  sheetName: string,
  axes: string[] | undefined,
  options: ReadOptions = {},
): Promise<SelectedInput> {
  const grids = await readGrids(bytes, kind, options);
  const grid = grids.grids.find((g) => g.name === sheetName);
  if (!grid) {
    const available = [...grids.grids.map((g) => g.name), ...grids.skipped.map((s) => s.sheetName)];
    const skip = grids.skipped.find((s) => s.sheetName === sheetName);
    if (skip) throw new EngineError("SHEET_PARSE_ERROR", 422, skip.message, { reason: skip.reason });
    throw new EngineError("UNKNOWN_SHEET", 422, `Unknown sheet ${sheetName}`, {
      availableSheets: available,
      suggestions: suggest(sheetName, available),
    });
  }
  const parsed = parseSheet(grid, { shape: options.shape, limits: options.limits });
  const frame = axes ? selectAxes(parsed.frame, axes) : parsed.frame;
  return {
    sheetName,
    shape: parsed.shape,
    ...(grids.encoding ? { encoding: grids.encoding, delimiter: grids.delimiter } : {}),
    axes: frame.axes.map((a) => a.name),
    frame,
    dataHash: dataHash(frame),
    rowCount: frame.rowCount,
    duplicateCombinations: axes ? countDuplicates(frame) : 0,
    warnings: parsed.warnings,
  };
}

/** Keeps the named axes (in source order) and drops the others without aggregating. */
export function selectAxes(frame: Frame, axes: string[]): Frame {
  const available = frame.axes.map((a) => a.name);
  for (const [i, name] of axes.entries()) {
    if (!available.includes(name) || name === SUBJECT || name === VALUE) {
      throw new EngineError(
        "UNKNOWN_AXIS",
        422,
        `Unknown axis ${name}`,
        { availableAxes: available, suggestions: suggest(name, available) },
        [{ path: `/axisConfig/${i}`, message: `unknown axis ${name}` }],
      );
    }
  }
  const keep = new Set(axes);
  return { ...frame, axes: frame.axes.filter((a) => keep.has(a.name)) };
}
