/*
 * Configurable limits (analysis.md §1.8, §4.1). The engine never reads the environment: the
 * service passes the values from the typed configuration, and these defaults apply otherwise.
 */

export type EngineLimits = {
  maxRows: number;
  maxSheetCells: number;
  maxAxes: number;
  maxSheets: number;
  maxLabelLength: number;
  maxUncompressedBytes: number;
  chartMaxCategories: number;
  chartMaxSeries: number;
  chartMaxPoints: number;
};

export const DEFAULT_LIMITS: EngineLimits = {
  maxRows: 1_000_000,
  maxSheetCells: 5_000_000,
  maxAxes: 20,
  maxSheets: 100,
  maxLabelLength: 1000,
  maxUncompressedBytes: 300 * 1024 * 1024,
  chartMaxCategories: 500,
  chartMaxSeries: 50,
  chartMaxPoints: 20_000,
};

export const withDefaults = (limits?: Partial<EngineLimits>): EngineLimits => ({
  ...DEFAULT_LIMITS,
  ...limits,
});
