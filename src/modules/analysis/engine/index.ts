/*
 * Public surface of the analysis engine: pure functions over bytes and columnar frames. No
 * database, HTTP, storage or environment access happens below this module.
 */
export * from "@/modules/analysis/engine/cache";
export * from "@/modules/analysis/engine/contract";
export * from "@/modules/analysis/engine/errors";
export {
  type CellValue,
  type ColumnarJson,
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
} from "@/modules/analysis/engine/frame";
export * from "@/modules/analysis/engine/limits";
export { type CsvEncoding, csvOutline, decodeCsv, readCsv } from "@/modules/analysis/engine/parse/csv";
export {
  countDuplicates,
  detectShape,
  type ParsedSheet,
  parseSheet,
} from "@/modules/analysis/engine/parse/layout";
export * from "@/modules/analysis/engine/parse/read-file";
export { type Outline, readWorkbook, workbookOutline } from "@/modules/analysis/engine/parse/xlsx";
export { zipDirectory } from "@/modules/analysis/engine/parse/zip";
export * from "@/modules/analysis/engine/pipeline";
export type { AggregateConfig } from "@/modules/analysis/engine/steps/aggregate";
export type { ChartModel } from "@/modules/analysis/engine/steps/chart";
export type { StepWarning } from "@/modules/analysis/engine/steps/common";
export type { FilterConfig } from "@/modules/analysis/engine/steps/filter";
export { type PlotlyFigure, toPlotly } from "@/modules/analysis/engine/steps/plotly";
export {
  formatDisplay,
  type SummaryConfig,
  type SummaryResult,
} from "@/modules/analysis/engine/steps/summary";
export type { TransformConfig } from "@/modules/analysis/engine/steps/transform";
export { canonicalJson, sha256Hex } from "@/modules/analysis/engine/util/canonical-json";
