/*
 * Public surface of the analysis engine: pure functions over bytes and columnar frames, and the
 * pure half of chart rendering. No database, HTTP, storage or environment access happens below
 * this module; code outside `src/engine/` imports only this file (`scripts/check-imports.ts`).
 */
export * from "@/engine/cache";
export * from "@/engine/chart-render";
export * from "@/engine/contract";
export * from "@/engine/driver-tree";
export * from "@/engine/errors";
export {
  type CellValue,
  type ColumnarJson,
  codeArray,
  columnNames,
  type DictColumn,
  dataHash,
  dictColumn,
  type Frame,
  frameBytes,
  frameFromRows,
  fromColumnarJson,
  KIND_NUMBER,
  materialiseRows,
  type Row,
  toColumnarJson,
} from "@/engine/frame";
export * from "@/engine/limits";
export { type CsvEncoding, csvOutline, decodeCsv, readCsv } from "@/engine/parse/csv";
export {
  countDuplicates,
  detectShape,
  type ParsedSheet,
  parseSheet,
} from "@/engine/parse/layout";
export * from "@/engine/parse/read-file";
export { type Outline, readWorkbook, workbookOutline } from "@/engine/parse/xlsx";
export { zipDirectory } from "@/engine/parse/zip";
export * from "@/engine/pipeline";
export type { AggregateConfig } from "@/engine/steps/aggregate";
export type { ChartModel } from "@/engine/steps/chart";
export type { StepWarning } from "@/engine/steps/common";
export type { FilterConfig } from "@/engine/steps/filter";
export { type PlotlyFigure, toPlotly } from "@/engine/steps/plotly";
export {
  formatDisplay,
  type SummaryConfig,
  type SummaryResult,
} from "@/engine/steps/summary";
export type { TransformConfig } from "@/engine/steps/transform";
export { canonicalJson, sha256Hex } from "@/engine/util/canonical-json";
