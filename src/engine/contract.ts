/*
 * The analysis data contract (analysis.md §0). Every other module imports these names instead of
 * spelling the Japanese literals, so a contract change is a one-line edit here.
 */

/** Column holding the metric name; present in every long-format dataset. */
export const SUBJECT = "科目";
/** Column holding the metric value. */
export const VALUE = "値";

/** Summary-formula units: a closed set (§3.6). */
export const UNITS = ["円", "%", "個"] as const;
export type Unit = (typeof UNITS)[number];

export const GRAPH_TYPES = [
  "bar",
  "horizontal bar",
  "stacked bar",
  "line",
  "scatter",
  "line&bar",
  "waterfall",
  "pie",
] as const;
export type GraphType = (typeof GRAPH_TYPES)[number];

export const STEP_TYPES = ["filter", "aggregate", "transform", "summary"] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** The pseudo step key naming the session's selected input. */
export const ORIGINAL_INPUT = "original";

export const NODE_TYPES = ["calculation", "input", "constant"] as const;
export const NODE_TYPE_ALIASES: Record<string, (typeof NODE_TYPES)[number]> = {
  計算: "calculation",
  入力: "input",
  定数: "constant",
};

export const COLUMN_ROLES = ["time", "axis", "value", "unused"] as const;
export const COLUMN_ROLE_ALIASES: Record<string, (typeof COLUMN_ROLES)[number]> = {
  推移: "time",
  軸: "axis",
  値: "value",
  利用しない: "unused",
};

export const AXIS_OPTIONS = ["subject", "column"] as const;
export const AXIS_OPTION_ALIASES: Record<string, (typeof AXIS_OPTIONS)[number]> = {
  科目: "subject",
  軸: "column",
  コラム: "column",
};

/** A whole cell equal to one of these means "no value" (§1.2). */
export const EMPTY_MARKERS: ReadonlySet<string> = new Set(["", "-", "−", "‐", "—", "―", "ー"]);

/** Name of the single sheet a CSV exposes (§1.6). */
export const CSV_SHEET_NAME = "CSV";

/** Bumped whenever results change for the same input and configs: part of every result cache key. */
export const ENGINE_VERSION = "engine-1";

/** Series colours (Tableau 10), assigned in order of first appearance (§4.2). */
export const PALETTE = [
  "#4e79a7",
  "#f28e2b",
  "#e15759",
  "#76b7b2",
  "#59a14f",
  "#edc948",
  "#b07aa1",
  "#ff9da7",
  "#9c755f",
  "#bab0ac",
] as const;
export const WATERFALL_COLORS = { increase: "#59a14f", decrease: "#e15759", total: "#4e79a7" } as const;
export const CHART_FONT_FAMILY = "Noto Sans JP, Hiragino Sans, Yu Gothic, Meiryo, sans-serif";
export const WATERFALL_BASE_LABEL = "基準";
export const WATERFALL_TOTAL_LABEL = "合計";

export const ENCODINGS = ["auto", "utf-8", "shift_jis", "utf-16le", "utf-16be"] as const;
export type EncodingOption = (typeof ENCODINGS)[number];
export const DELIMITERS = [",", "\t", ";"] as const;
export type Delimiter = (typeof DELIMITERS)[number];
export const SHAPES = ["auto", "long", "hierarchical"] as const;
export type ShapeOption = (typeof SHAPES)[number];
