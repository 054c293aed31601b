/*
 * The pure half of chart rendering (analysis.md §4.4): ChartModel → SVG (measured with parsed
 * font tables) and → Vega-Lite. Reading the font files and rasterising with resvg are I/O and
 * live in the adapter `lib/chart-render`.
 */
export { type FontMetrics, parseFontMetrics } from "./font-metrics";
export { benchBarModel, sampleModels } from "./samples";
export { type ChartFonts, FONT_FAMILY, renderChartSvg } from "./svg";
export { toVegaLite, type VegaLiteSpec } from "./vegalite";
