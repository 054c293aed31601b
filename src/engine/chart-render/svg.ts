/*
 * ChartModel → SVG (analysis.md §4.4). A direct emitter instead of vega + vega-lite: it is small,
 * fast and byte-deterministic, and every text width comes from the font resvg draws with, so CJK
 * labels, legends and titles are laid out for their real width. Coordinates are rounded to 0.01 px.
 */

import { WATERFALL_COLORS } from "@/engine/contract";
import type { ChartModel } from "@/engine/steps/chart";
import type { FontMetrics } from "./font-metrics";
import { formatNumber, linear, niceTicks, type Ticks } from "./scale";

export const FONT_FAMILY = "Noto Sans JP";

export type ChartFonts = { regular: FontMetrics; bold: FontMetrics };
export type ChartBox = { width: number; height: number };

type Series = ChartModel["series"][number];
type Point = Series["points"][number];

const PAD = 12;
const TICK_FONT = 12;
const AXIS_TITLE_FONT = 13;
const TITLE_FONT = 18;
const LEGEND_FONT = 12;
const LEGEND_ROW = 20;
const TEXT = "#2a3f5f";
const AXIS = "#444444";
const GRID = "#e5e5e5";
const SIN45 = Math.SQRT1_2;

const r = (n: number) => String(Math.round(n * 100) / 100);

/** Label text as it will be drawn: characters XML 1.0 forbids (they would make the whole document
 * unreadable) and lone surrogates become U+FFFD, line breaks and tabs become spaces. */
export function cleanText(s: string): string {
  let out = "";
  for (const ch of s.toWellFormed()) {
    const c = ch.codePointAt(0)!;
    if (c === 9 || c === 10 || c === 13) out += " ";
    else if (c < 0x20 || c === 0xfffe || c === 0xffff) out += "\uFFFD";
    else out += ch;
  }
  return out;
}

export function escapeXml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

class Svg {
  private readonly parts: string[] = [];
  constructor(private readonly fonts: ChartFonts) {}

  width(text: string, size: number, bold = false): number {
    return (bold ? this.fonts.bold : this.fonts.regular).measure(text, size);
  }

  /** `text` shortened with an ellipsis so that it is at most `max` px wide. */
  fit(text: string, size: number, max: number, bold = false): string {
    const clean = cleanText(text);
    if (this.width(clean, size, bold) <= max) return clean;
    const chars = [...clean];
    const room = max - this.width("…", size, bold);
    let used = 0;
    let n = 0;
    while (n < chars.length) {
      const w = this.width(chars[n], size, bold);
      if (used + w > room) break;
      used += w;
      n++;
    }
    return n === 0 ? "…" : `${chars.slice(0, n).join("")}…`;
  }

  push(s: string): void {
    this.parts.push(s);
  }

  text(
    x: number,
    y: number,
    text: string,
    o: { size: number; anchor?: "start" | "middle" | "end"; bold?: boolean; fill?: string; rotate?: number },
  ): void {
    const anchor = o.anchor && o.anchor !== "start" ? ` text-anchor="${o.anchor}"` : "";
    const weight = o.bold ? ` font-weight="bold"` : "";
    const place = o.rotate
      ? ` transform="translate(${r(x)},${r(y)}) rotate(${o.rotate})"`
      : ` x="${r(x)}" y="${r(y)}"`;
    this.parts.push(
      `<text${place} font-size="${o.size}"${anchor}${weight} fill="${o.fill ?? TEXT}">${escapeXml(cleanText(text))}</text>`,
    );
  }

  line(x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ""): void {
    this.parts.push(
      `<line x1="${r(x1)}" y1="${r(y1)}" x2="${r(x2)}" y2="${r(y2)}" stroke="${stroke}"${extra}/>`,
    );
  }

  rect(x: number, y: number, w: number, h: number, fill: string): void {
    this.parts.push(
      `<rect x="${r(x)}" y="${r(y)}" width="${r(Math.max(0, w))}" height="${r(Math.max(0, h))}" fill="${fill}"/>`,
    );
  }

  circle(cx: number, cy: number, radius: number, fill: string, extra = ""): void {
    this.parts.push(`<circle cx="${r(cx)}" cy="${r(cy)}" r="${r(radius)}" fill="${fill}"${extra}/>`);
  }

  toString(box: ChartBox): string {
    const { width: w, height: h } = box;
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" ` +
      `font-family="${FONT_FAMILY}">` +
      `<rect width="${w}" height="${h}" fill="#ffffff"/>${this.parts.join("")}</svg>`
    );
  }
}

type LegendEntry = { name: string; color: string; mark: Series["mark"] };

type Frame = { left: number; right: number; top: number; bottom: number };

function legendEntries(m: ChartModel): LegendEntry[] {
  if (m.type === "pie") {
    const s = m.series[0];
    if (!s) return [];
    return s.points.map((p, i) => ({
      name: String(p.x ?? ""),
      color: s.colors?.[i] ?? s.color,
      mark: "bar",
    }));
  }
  if (m.series.length > 1 || m.legendTitle)
    return m.series.map((s) => ({ name: s.name, color: s.color, mark: s.mark }));
  return [];
}

/** Draws the legend at the right edge and returns its width (0 when there is none). */
function drawLegend(svg: Svg, m: ChartModel, box: ChartBox, top: number): number {
  const entries = legendEntries(m);
  if (!entries.length) return 0;
  const maxWidth = Math.min(box.width * 0.28, 240);
  const swatch = 18;
  const names = entries.map((e) => svg.fit(e.name, LEGEND_FONT, maxWidth - swatch));
  const title = m.legendTitle ? svg.fit(m.legendTitle, LEGEND_FONT, maxWidth, true) : null;
  const width = Math.max(
    title ? svg.width(title, LEGEND_FONT, true) : 0,
    ...names.map((n) => swatch + svg.width(n, LEGEND_FONT)),
  );
  const x = box.width - PAD - width;
  let y = top + LEGEND_FONT;
  if (title) {
    svg.text(x, y, title, { size: LEGEND_FONT, bold: true });
    y += LEGEND_ROW;
  }
  const rows = Math.max(1, Math.floor((box.height - PAD - y + LEGEND_ROW - LEGEND_FONT) / LEGEND_ROW));
  const shown = entries.length > rows ? rows - 1 : entries.length;
  for (let i = 0; i < shown; i++) {
    const e = entries[i];
    const mid = y - LEGEND_FONT * 0.35;
    if (e.mark === "line") {
      svg.line(x, mid, x + 12, mid, e.color, ` stroke-width="2"`);
      svg.circle(x + 6, mid, 3, e.color);
    } else if (e.mark === "markers") svg.circle(x + 6, mid, 4, e.color);
    else svg.rect(x, mid - 6, 12, 12, e.color);
    svg.text(x + swatch, y, names[i], { size: LEGEND_FONT });
    y += LEGEND_ROW;
  }
  if (shown < entries.length) svg.text(x, y, `… 他 ${entries.length - shown} 件`, { size: LEGEND_FONT });
  return width;
}

function extent(values: Iterable<number>, withZero: boolean): [number, number] {
  let lo = withZero ? 0 : Number.POSITIVE_INFINITY;
  let hi = withZero ? 0 : Number.NEGATIVE_INFINITY;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (lo > hi) return [0, 1];
  if (withZero) return [lo, hi];
  // Lines and markers get 5 % air so no point sits on the frame.
  const air = (hi - lo) * 0.05;
  return [lo >= 0 ? Math.max(0, lo - air) : lo - air, hi <= 0 ? Math.min(0, hi + air) : hi + air];
}

function* ys(series: Series[]): Generator<number> {
  for (const s of series) for (const p of s.points) if (p.y !== null) yield p.y;
}

function* levels(series: Series[]): Generator<number> {
  for (const s of series)
    for (const p of s.points) {
      if (p.start !== undefined) yield p.start;
      if (p.end !== undefined) yield p.end;
      else if (p.y !== null) yield p.y;
    }
}

function stackedTotals(m: ChartModel): number[] {
  const totals = new Map<string, number>();
  for (const s of m.series)
    for (const p of s.points) if (p.y !== null) totals.set(String(p.x), (totals.get(String(p.x)) ?? 0) + p.y);
  return [...totals.values()];
}

/** Value ticks for an axis of `length` px: about one tick every 50–80 px. */
function valueTicks(lo: number, hi: number, length: number, spacing: number): Ticks {
  return niceTicks(lo, hi, Math.max(2, Math.floor(length / spacing)));
}

function tickLabels(t: Ticks): string[] {
  return t.values.map((v) => formatNumber(v, t.decimals));
}

type CategoryLayout = { labels: string[]; every: number; rotate: boolean; height: number };

/** Horizontal labels when they fit the band, else 45° labels, truncated and thinned as needed. */
function categoryLayout(svg: Svg, categories: string[], band: number, box: ChartBox): CategoryLayout {
  const widths = categories.map((c) => svg.width(cleanText(c), TICK_FONT));
  const widest = Math.max(0, ...widths);
  if (widest <= band - 4) {
    return { labels: categories.map(cleanText), every: 1, rotate: false, height: TICK_FONT + 8 };
  }
  const maxLength = Math.max(TICK_FONT * 2, Math.min(widest, (box.height * 0.3) / SIN45));
  const labels = categories.map((c) => svg.fit(c, TICK_FONT, maxLength));
  const used = Math.max(...labels.map((l) => svg.width(l, TICK_FONT)));
  const every = Math.max(1, Math.ceil((TICK_FONT * 1.15) / (band * SIN45)));
  return { labels, every, rotate: true, height: used * SIN45 + TICK_FONT * SIN45 + 8 };
}

function drawTitle(svg: Svg, m: ChartModel, box: ChartBox): number {
  if (!m.title) return PAD;
  const title = svg.fit(m.title, TITLE_FONT, box.width - 2 * PAD, true);
  svg.text(box.width / 2, PAD + TITLE_FONT, title, { size: TITLE_FONT, bold: true, anchor: "middle" });
  return PAD + TITLE_FONT * 1.4 + 8;
}

function valueGrid(svg: Svg, t: Ticks, at: (v: number) => number, f: Frame, vertical: boolean): void {
  for (const v of t.values) {
    const p = at(v);
    const colour = v === 0 ? AXIS : GRID;
    if (vertical) svg.line(p, f.top, p, f.bottom, colour);
    else svg.line(f.left, p, f.right, p, colour);
  }
}

function valueAxisLabels(svg: Svg, t: Ticks, at: (v: number) => number, x: number, anchor: "start" | "end") {
  const labels = tickLabels(t);
  t.values.forEach((v, i) => {
    svg.text(x, at(v) + TICK_FONT * 0.35, labels[i], { size: TICK_FONT, anchor });
  });
}

function xTitle(svg: Svg, m: ChartModel, box: ChartBox, f: Frame): void {
  if (!m.xTitle) return;
  const t = svg.fit(m.xTitle, AXIS_TITLE_FONT, f.right - f.left);
  svg.text((f.left + f.right) / 2, box.height - PAD, t, { size: AXIS_TITLE_FONT, anchor: "middle" });
}

function yTitle(svg: Svg, text: string, x: number, f: Frame, rotate: number): void {
  if (!text) return;
  const t = svg.fit(text, AXIS_TITLE_FONT, f.bottom - f.top);
  svg.text(x, (f.top + f.bottom) / 2, t, { size: AXIS_TITLE_FONT, anchor: "middle", rotate });
}

const AXIS_TITLE_SPACE = AXIS_TITLE_FONT + 8;

/** Charts with categories along x and values along y (and y2): bar, stacked bar, line, line&bar, waterfall. */
function verticalChart(svg: Svg, m: ChartModel, box: ChartBox, top: number, legend: number): void {
  const left = m.series.filter((s) => s.axis !== "y2");
  const right = m.series.filter((s) => s.axis === "y2");
  const hasBars = (ss: Series[]) => ss.some((s) => s.mark === "bar" || s.mark === "waterfall");
  const estimate = box.height - top - PAD - 60;
  let lo: number;
  let hi: number;
  if (m.type === "stacked bar") [lo, hi] = extent(stackedTotals(m), true);
  else if (m.type === "waterfall") [lo, hi] = extent(levels(left), true);
  else [lo, hi] = extent(ys(left), hasBars(left));
  const yt = valueTicks(lo, hi, estimate, 50);
  const y2t = right.length ? valueTicks(...extent(ys(right), hasBars(right)), estimate, 50) : null;

  const yLabelWidth = Math.max(...tickLabels(yt).map((l) => svg.width(l, TICK_FONT)));
  const y2LabelWidth = y2t ? Math.max(...tickLabels(y2t).map((l) => svg.width(l, TICK_FONT))) : 0;
  const f: Frame = {
    left: PAD + (m.yTitle ? AXIS_TITLE_SPACE : 0) + yLabelWidth + 8,
    right:
      box.width -
      PAD -
      (legend ? legend + 16 : 0) -
      (y2t ? y2LabelWidth + 8 + (m.y2Title ? AXIS_TITLE_SPACE : 0) : 4),
    top: top + 4,
    bottom: 0,
  };
  const n = Math.max(1, m.categories.length);
  const band = (f.right - f.left) / n;
  const cats = categoryLayout(svg, m.categories, band, box);
  f.bottom = box.height - PAD - (m.xTitle ? AXIS_TITLE_SPACE : 0) - cats.height;
  if (f.bottom - f.top < 20) f.bottom = f.top + 20;

  const y = linear(yt, f.bottom, f.top);
  const y2 = y2t ? linear(y2t, f.bottom, f.top) : y;
  valueGrid(svg, yt, y, f, false);
  valueAxisLabels(svg, yt, y, f.left - 6, "end");
  if (y2t) valueAxisLabels(svg, y2t, y2, f.right + 6, "start");
  svg.line(f.left, f.bottom, f.right, f.bottom, AXIS);

  const index = new Map(m.categories.map((c, i) => [c, i]));
  const centre = (i: number) => f.left + band * (i + 0.5);
  cats.labels.forEach((label, i) => {
    const x = centre(i);
    svg.line(x, f.bottom, x, f.bottom + 4, AXIS);
    if (i % cats.every) return;
    if (cats.rotate)
      svg.text(x + TICK_FONT * 0.3, f.bottom + 8, label, { size: TICK_FONT, anchor: "end", rotate: -45 });
    else svg.text(x, f.bottom + 6 + TICK_FONT, label, { size: TICK_FONT, anchor: "middle" });
  });

  const inner = band * 0.8;
  const slot = (p: Point) => index.get(String(p.x));
  const grouped = m.series.filter((s) => s.mark === "bar" || s.mark === "waterfall");
  const groups = m.type === "stacked bar" ? 1 : Math.max(1, grouped.length);
  const sub = inner / groups;

  if (m.type === "stacked bar") {
    const base = new Map<number, number>();
    for (const s of m.series)
      for (const p of s.points) {
        const i = slot(p);
        if (i === undefined || p.y === null) continue;
        const from = base.get(i) ?? 0;
        const to = from + p.y;
        base.set(i, to);
        svg.rect(centre(i) - inner / 2, y(to), inner, y(from) - y(to), s.color);
      }
  } else {
    grouped.forEach((s, j) => {
      const scaleOf = s.axis === "y2" ? y2 : y;
      const single = m.type === "waterfall" && m.series.length === 1 && !m.legendTitle;
      let prev: { x: number; level: number } | null = null;
      for (const p of s.points) {
        const i = slot(p);
        if (i === undefined || p.y === null) continue;
        const x0 = centre(i) - inner / 2 + sub * j;
        const from = p.start ?? 0;
        const to = p.end ?? p.y;
        let colour = s.color;
        if (single)
          colour =
            p.measure === "relative"
              ? p.y >= 0
                ? WATERFALL_COLORS.increase
                : WATERFALL_COLORS.decrease
              : WATERFALL_COLORS.total;
        if (m.type === "waterfall" && prev)
          svg.line(
            prev.x,
            scaleOf(prev.level),
            x0,
            scaleOf(prev.level),
            "#888888",
            ` stroke-dasharray="3,2"`,
          );
        svg.rect(
          x0,
          Math.min(scaleOf(from), scaleOf(to)),
          sub,
          Math.abs(scaleOf(from) - scaleOf(to)),
          colour,
        );
        prev = { x: x0 + sub, level: to };
      }
    });
  }

  for (const s of m.series) {
    if (s.mark !== "line") continue;
    const scaleOf = s.axis === "y2" ? y2 : y;
    let d = "";
    let pen = false;
    const dots: [number, number][] = [];
    for (const p of s.points) {
      const i = slot(p);
      if (i === undefined) continue;
      if (p.y === null) {
        pen = false;
        continue;
      }
      const px = centre(i);
      const py = scaleOf(p.y);
      d += `${pen ? "L" : "M"}${r(px)} ${r(py)}`;
      pen = true;
      dots.push([px, py]);
    }
    if (d)
      svg.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2" stroke-linejoin="round"/>`);
    for (const [px, py] of dots) svg.circle(px, py, 3.5, s.color);
  }

  xTitle(svg, m, box, f);
  yTitle(svg, m.yTitle, PAD + AXIS_TITLE_FONT, f, -90);
  if (y2t && m.y2Title) yTitle(svg, m.y2Title, f.right + y2LabelWidth + 8 + AXIS_TITLE_FONT * 0.2, f, 90);
}

/** Horizontal bar: categories down the y axis (first at the top), values along x. */
function horizontalChart(svg: Svg, m: ChartModel, box: ChartBox, top: number, legend: number): void {
  const maxLabel = box.width * 0.3;
  const labels = m.categories.map((c) => svg.fit(c, TICK_FONT, maxLabel));
  const labelWidth = Math.max(0, ...labels.map((l) => svg.width(l, TICK_FONT)));
  const f: Frame = {
    left: PAD + (m.yTitle ? AXIS_TITLE_SPACE : 0) + labelWidth + 8,
    right: box.width - PAD - (legend ? legend + 16 : 0),
    top: top + 4,
    bottom: box.height - PAD - (m.xTitle ? AXIS_TITLE_SPACE : 0) - (TICK_FONT + 8),
  };
  const xt = valueTicks(...extent(ys(m.series), true), f.right - f.left, 90);
  // The widest value label is centred on the last tick; keep it inside the canvas.
  const lastLabel = svg.width(tickLabels(xt).at(-1) ?? "", TICK_FONT);
  f.right = Math.min(f.right, box.width - PAD - lastLabel / 2 - (legend ? legend + 16 : 0));
  const x = linear(xt, f.left, f.right);
  valueGrid(svg, xt, x, f, true);
  tickLabels(xt).forEach((l, i) => {
    svg.text(x(xt.values[i]), f.bottom + 6 + TICK_FONT, l, { size: TICK_FONT, anchor: "middle" });
  });
  svg.line(f.left, f.top, f.left, f.bottom, AXIS);
  const n = Math.max(1, m.categories.length);
  const band = (f.bottom - f.top) / n;
  const every = Math.max(1, Math.ceil((TICK_FONT * 1.15) / band));
  const centre = (i: number) => f.top + band * (i + 0.5);
  labels.forEach((l, i) => {
    svg.line(f.left - 4, centre(i), f.left, centre(i), AXIS);
    if (i % every === 0)
      svg.text(f.left - 6, centre(i) + TICK_FONT * 0.35, l, { size: TICK_FONT, anchor: "end" });
  });
  const index = new Map(m.categories.map((c, i) => [c, i]));
  const inner = band * 0.8;
  const sub = inner / Math.max(1, m.series.length);
  m.series.forEach((s, j) => {
    for (const p of s.points) {
      const i = index.get(String(p.x));
      if (i === undefined || p.y === null) continue;
      const y0 = centre(i) - inner / 2 + sub * j;
      svg.rect(Math.min(x(0), x(p.y)), y0, Math.abs(x(p.y) - x(0)), sub, s.color);
    }
  });
  xTitle(svg, m, box, f);
  yTitle(svg, m.yTitle, PAD + AXIS_TITLE_FONT, f, -90);
}

function scatterChart(svg: Svg, m: ChartModel, box: ChartBox, top: number, legend: number): void {
  const xs: number[] = [];
  for (const s of m.series) for (const p of s.points) if (typeof p.x === "number") xs.push(p.x);
  const estimate = box.height - top - PAD - 60;
  const yt = valueTicks(...extent(ys(m.series), false), estimate, 50);
  const yLabelWidth = Math.max(...tickLabels(yt).map((l) => svg.width(l, TICK_FONT)));
  const f: Frame = {
    left: PAD + (m.yTitle ? AXIS_TITLE_SPACE : 0) + yLabelWidth + 8,
    right: box.width - PAD - (legend ? legend + 16 : 0),
    top: top + 4,
    bottom: box.height - PAD - (m.xTitle ? AXIS_TITLE_SPACE : 0) - (TICK_FONT + 8),
  };
  const xt = valueTicks(...extent(xs, false), f.right - f.left, 90);
  const lastLabel = svg.width(tickLabels(xt).at(-1) ?? "", TICK_FONT);
  f.right -= lastLabel / 2;
  const x = linear(xt, f.left, f.right);
  const y = linear(yt, f.bottom, f.top);
  valueGrid(svg, xt, x, f, true);
  valueGrid(svg, yt, y, f, false);
  valueAxisLabels(svg, yt, y, f.left - 6, "end");
  tickLabels(xt).forEach((l, i) => {
    svg.text(x(xt.values[i]), f.bottom + 6 + TICK_FONT, l, { size: TICK_FONT, anchor: "middle" });
  });
  svg.line(f.left, f.bottom, f.right, f.bottom, AXIS);
  svg.line(f.left, f.top, f.left, f.bottom, AXIS);
  for (const s of m.series)
    for (const p of s.points) {
      if (typeof p.x !== "number" || p.y === null) continue;
      svg.circle(x(p.x), y(p.y), 4, s.color, ` fill-opacity="0.85"`);
    }
  xTitle(svg, m, box, f);
  yTitle(svg, m.yTitle, PAD + AXIS_TITLE_FONT, f, -90);
}

function contrastText(hex: string): string {
  const n = Number.parseInt(hex.slice(1), 16);
  const lum = 0.299 * ((n >> 16) & 255) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255);
  return lum > 150 ? TEXT : "#ffffff";
}

/** Pie: slices clockwise from 12 o'clock in model order, label + percent inside slices that fit. */
function pieChart(svg: Svg, m: ChartModel, box: ChartBox, top: number, legend: number): void {
  const s = m.series[0];
  if (!s) return;
  const left = PAD;
  const right = box.width - PAD - (legend ? legend + 16 : 0);
  const bottom = box.height - PAD;
  const cx = (left + right) / 2;
  const cy = (top + bottom) / 2;
  const radius = Math.max(10, Math.min(right - left, bottom - top) / 2 - 4);
  const values = s.points.map((p) => (p.y !== null && p.y > 0 ? p.y : 0));
  const total = values.reduce((a, b) => a + b, 0);
  if (total <= 0) return;
  let angle = 0;
  const labels: { x: number; y: number; label: string; pct: string; fill: string }[] = [];
  s.points.forEach((p, i) => {
    const v = values[i];
    if (v <= 0) return;
    const colour = s.colors?.[i] ?? s.color;
    const sweep = (v / total) * 2 * Math.PI;
    const a0 = angle - Math.PI / 2;
    const a1 = angle + sweep - Math.PI / 2;
    if (v === total) svg.circle(cx, cy, radius, colour);
    else {
      const large = sweep > Math.PI ? 1 : 0;
      svg.push(
        `<path d="M${r(cx)} ${r(cy)}L${r(cx + radius * Math.cos(a0))} ${r(cy + radius * Math.sin(a0))}` +
          `A${r(radius)} ${r(radius)} 0 ${large} 1 ${r(cx + radius * Math.cos(a1))} ${r(cy + radius * Math.sin(a1))}Z" ` +
          `fill="${colour}" stroke="#ffffff" stroke-width="1"/>`,
      );
    }
    const mid = (a0 + a1) / 2;
    const at = v === total ? 0 : radius * 0.62;
    const lx = cx + at * Math.cos(mid);
    const ly = cy + at * Math.sin(mid);
    const chord =
      v === total ? radius * 1.6 : Math.min(radius * 0.7, 2 * at * Math.sin(Math.min(sweep, Math.PI) / 2));
    if (chord >= TICK_FONT * 2.5 && sweep * at >= TICK_FONT * 2.4) {
      const label = svg.fit(String(p.x ?? ""), TICK_FONT, chord);
      labels.push({
        x: lx,
        y: ly,
        label,
        pct: `${((v / total) * 100).toFixed(1)}%`,
        fill: contrastText(colour),
      });
    }
    angle += sweep;
  });
  for (const l of labels) {
    svg.text(l.x, l.y - 2, l.label, { size: TICK_FONT, anchor: "middle", fill: l.fill });
    svg.text(l.x, l.y + TICK_FONT + 1, l.pct, { size: TICK_FONT, anchor: "middle", fill: l.fill });
  }
}

export function renderChartSvg(m: ChartModel, box: ChartBox, fonts: ChartFonts): string {
  const svg = new Svg(fonts);
  const top = drawTitle(svg, m, box);
  const legend = drawLegend(svg, m, box, top);
  if (m.type === "pie") pieChart(svg, m, box, top, legend);
  else if (m.type === "horizontal bar") horizontalChart(svg, m, box, top, legend);
  else if (m.type === "scatter") scatterChart(svg, m, box, top, legend);
  else verticalChart(svg, m, box, top, legend);
  return svg.toString(box);
}
