/*
 * ChartModel → Vega-Lite v5 spec (analysis.md §4.2, `format=vegalite`). Plain JSON with inline
 * data; colours, category order and titles come from the model so a Vega-Lite client draws the
 * same chart as the Plotly figure. Deterministic: key order and values depend only on the input.
 */

import { WATERFALL_COLORS } from "@/engine/contract";
import type { ChartModel } from "@/engine/steps/chart";
import { FONT_FAMILY } from "./svg";

export type VegaLiteSpec = Record<string, unknown>;

type Row = Record<string, string | number | null>;

const SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

function colourScale(m: ChartModel) {
  const names: string[] = [];
  const colours: string[] = [];
  for (const s of m.series) {
    if (names.includes(s.name)) continue;
    names.push(s.name);
    colours.push(s.color);
  }
  return { domain: names, range: colours };
}

function legend(m: ChartModel) {
  return m.series.length > 1 || m.legendTitle ? { title: m.legendTitle } : null;
}

function seriesColour(m: ChartModel) {
  return { field: "series", type: "nominal", scale: colourScale(m), legend: legend(m), sort: null };
}

function rows(m: ChartModel): Row[] {
  const out: Row[] = [];
  for (const s of m.series)
    for (const p of s.points)
      out.push({ series: s.name, x: p.x, y: p.y, ...(p.text ? { text: p.text } : {}) });
  return out;
}

function body(m: ChartModel): VegaLiteSpec {
  const category = (title: string) => ({ field: "x", type: "nominal", sort: m.categories, title });
  const value = (title: string, extra: Record<string, unknown> = {}) => ({
    field: "y",
    type: "quantitative",
    title,
    ...extra,
  });
  switch (m.type) {
    case "bar":
      return {
        data: { values: rows(m) },
        mark: { type: "bar" },
        encoding: {
          x: category(m.xTitle),
          xOffset: { field: "series", type: "nominal", sort: colourScale(m).domain },
          y: value(m.yTitle),
          color: seriesColour(m),
        },
      };
    case "horizontal bar":
      return {
        data: { values: rows(m) },
        mark: { type: "bar" },
        encoding: {
          y: category(m.yTitle),
          yOffset: { field: "series", type: "nominal", sort: colourScale(m).domain },
          x: value(m.xTitle),
          color: seriesColour(m),
        },
      };
    case "stacked bar":
      return {
        data: { values: rows(m).map((r, i) => ({ ...r, order: i })) },
        mark: { type: "bar" },
        encoding: {
          x: category(m.xTitle),
          y: value(m.yTitle, { stack: "zero" }),
          color: seriesColour(m),
          order: { field: "order", type: "quantitative" },
        },
      };
    case "line":
      return {
        data: { values: rows(m) },
        mark: { type: "line", point: true },
        encoding: { x: category(m.xTitle), y: value(m.yTitle), color: seriesColour(m) },
      };
    case "scatter":
      return {
        data: { values: rows(m) },
        mark: { type: "point", filled: true, size: 50 },
        encoding: {
          x: { field: "x", type: "quantitative", title: m.xTitle, scale: { zero: false } },
          y: value(m.yTitle, { scale: { zero: false } }),
          color: seriesColour(m),
          tooltip: [{ field: "series" }, { field: "text" }, { field: "x" }, { field: "y" }],
        },
      };
    case "line&bar": {
      const layer = (axis: "y" | "y2") => {
        const ss = m.series.filter((s) => (axis === "y2" ? s.axis === "y2" : s.axis !== "y2"));
        const bar = ss.some((s) => s.mark === "bar");
        const title = axis === "y2" ? (m.y2Title ?? "") : m.yTitle;
        return {
          data: {
            values: ss.flatMap((s) => s.points.map((p) => ({ series: s.name, x: p.x, y: p.y }))),
          },
          mark: bar ? { type: "bar", opacity: axis === "y2" ? 0.8 : 1 } : { type: "line", point: true },
          encoding: {
            x: category(m.xTitle),
            ...(bar ? { xOffset: { field: "series", type: "nominal" } } : {}),
            y: value(title, { axis: { orient: axis === "y2" ? "right" : "left" } }),
            color: seriesColour(m),
          },
        };
      };
      return { layer: [layer("y"), layer("y2")], resolve: { scale: { y: "independent" } } };
    }
    case "waterfall": {
      const single = m.series.length === 1 && !m.legendTitle;
      const values = m.series.flatMap((s) =>
        s.points.map((p) => ({
          series: s.name,
          x: p.x,
          y: p.y,
          start: p.start ?? 0,
          end: p.end ?? p.y,
          measure: p.measure ?? "relative",
          kind: p.measure === "relative" ? ((p.y ?? 0) >= 0 ? "increase" : "decrease") : "total",
        })),
      );
      return {
        data: { values },
        mark: { type: "bar" },
        encoding: {
          x: category(m.xTitle),
          ...(single ? {} : { xOffset: { field: "series", type: "nominal", sort: colourScale(m).domain } }),
          y: { field: "start", type: "quantitative", title: m.yTitle },
          y2: { field: "end" },
          color: single
            ? {
                field: "kind",
                type: "nominal",
                scale: {
                  domain: ["increase", "decrease", "total"],
                  range: [WATERFALL_COLORS.increase, WATERFALL_COLORS.decrease, WATERFALL_COLORS.total],
                },
                legend: null,
              }
            : seriesColour(m),
        },
      };
    }
    default: {
      const s = m.series[0];
      const values = (s?.points ?? []).map((p, i) => ({ category: p.x, y: p.y, order: i }));
      return {
        data: { values },
        mark: { type: "arc" },
        encoding: {
          theta: { field: "y", type: "quantitative", stack: true },
          order: { field: "order", type: "quantitative" },
          color: {
            field: "category",
            type: "nominal",
            sort: m.categories,
            scale: { domain: m.categories, range: s?.colors ?? [] },
            legend: { title: m.legendTitle },
          },
        },
      };
    }
  }
}

export function toVegaLite(m: ChartModel, size: { width: number; height: number }): VegaLiteSpec {
  return {
    $schema: SCHEMA,
    width: size.width,
    height: size.height,
    autosize: { type: "fit", contains: "padding" },
    background: "white",
    ...(m.title ? { title: { text: m.title } } : {}),
    config: { font: FONT_FAMILY },
    ...body(m),
  };
}
