/*
 * P3 (analysis.md §9): bar chart, 20 categories × 5 series, Japanese labels, 960×540 at scale 2.
 * Reports the first render (font load and resvg start included), then 1 warm-up and 20 measured
 * warm renders: median, p95 and peak RSS above the process baseline.
 */
import { getConfig } from "@/config";
import { benchBarModel } from "@/engine";
import { createChartRenderer } from "@/lib/chart-render";

const SIZE = { width: 960, height: 540, scale: 2 };
const RUNS = 20;
const mb = (b: number) => Math.round((b / 1024 / 1024) * 10) / 10;

const baseline = process.memoryUsage.rss();
let peak = baseline;
const sample = setInterval(() => {
  peak = Math.max(peak, process.memoryUsage.rss());
}, 5);

const model = benchBarModel(20, 5);
const t0 = performance.now();
const renderer = createChartRenderer(getConfig());
if (!renderer.available) throw new Error(`renderer unavailable: ${renderer.reason}`);
const first = await renderer.renderPng(model, SIZE);
const firstMs = performance.now() - t0;

await renderer.renderPng(model, SIZE);
const times: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  await renderer.renderPng(model, SIZE);
  times.push(performance.now() - t);
  peak = Math.max(peak, process.memoryUsage.rss());
}
clearInterval(sample);
times.sort((a, b) => a - b);
const q = (p: number) => times[Math.min(times.length - 1, Math.ceil(p * times.length) - 1)];
const result = {
  case: "P3 chart PNG",
  size: SIZE,
  pngBytes: first.byteLength,
  firstRenderMs: Math.round(firstMs * 10) / 10,
  warmMedianMs: Math.round(q(0.5) * 10) / 10,
  warmP95Ms: Math.round(q(0.95) * 10) / 10,
  peakRssMb: mb(peak),
  peakRssAboveBaselineMb: mb(peak - baseline),
  targets: { warmMedianMs: 250, firstRenderMs: 2000 },
};
console.log(JSON.stringify(result, null, 2));
if (process.argv.includes("--check") && (result.warmMedianMs > 250 || result.firstRenderMs > 2000))
  process.exit(1);
