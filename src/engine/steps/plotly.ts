/*
 * Plotly figure JSON from a ChartModel (analysis.md §4.3): plain arrays, finite numbers or null,
 * no templates, no typed-array encodings, no width/height (the client sizes the figure).
 */
import { CHART_FONT_FAMILY, PALETTE, WATERFALL_COLORS } from "@/engine/contract";
import type { ChartModel } from "@/engine/steps/chart";

export type PlotlyFigure = { data: Record<string, unknown>[]; layout: Record<string, unknown> };

const title = (text: string) => ({ text });

export function toPlotly(m: ChartModel): PlotlyFigure {
  const layout: Record<string, unknown> = {
    ...(m.title ? { title: title(m.title) } : {}),
    xaxis: { title: title(m.xTitle) },
    yaxis: { title: title(m.yTitle) },
    ...(m.legendTitle ? { legend: { title: title(m.legendTitle) } } : {}),
    font: { family: CHART_FONT_FAMILY },
    colorway: [...PALETTE],
  };
  const xs = (s: ChartModel["series"][number]) => s.points.map((p) => p.x);
  const ys = (s: ChartModel["series"][number]) => s.points.map((p) => p.y);
  let data: Record<string, unknown>[];
  switch (m.type) {
    case "bar":
    case "stacked bar":
      layout.barmode = m.type === "bar" ? "group" : "stack";
      (layout.xaxis as Record<string, unknown>).type = "category";
      data = m.series.map((s) => ({
        type: "bar",
        name: s.name,
        x: xs(s),
        y: ys(s),
        marker: { color: s.color },
      }));
      break;
    case "horizontal bar":
      layout.barmode = "group";
      // First category on top, as the server-rendered image draws it and as a ranking reads.
      Object.assign(layout.yaxis as Record<string, unknown>, { type: "category", autorange: "reversed" });
      data = m.series.map((s) => ({
        type: "bar",
        orientation: "h",
        name: s.name,
        x: ys(s),
        y: xs(s),
        marker: { color: s.color },
      }));
      break;
    case "line":
      (layout.xaxis as Record<string, unknown>).type = "category";
      data = m.series.map((s) => ({
        type: "scatter",
        mode: "lines+markers",
        name: s.name,
        x: xs(s),
        y: ys(s),
        line: { color: s.color },
        marker: { color: s.color },
      }));
      break;
    case "scatter":
      data = m.series.map((s) => ({
        type: "scatter",
        mode: "markers",
        name: s.name,
        x: xs(s),
        y: ys(s),
        text: s.points.map((p) => p.text ?? ""),
        marker: { color: s.color },
      }));
      break;
    case "line&bar":
      (layout.xaxis as Record<string, unknown>).type = "category";
      layout.yaxis2 = { title: title(m.y2Title ?? ""), overlaying: "y", side: "right" };
      data = m.series.map((s) => ({
        ...(s.mark === "bar"
          ? { type: "bar" }
          : { type: "scatter", mode: "lines+markers", line: { color: s.color } }),
        name: s.name,
        x: xs(s),
        y: ys(s),
        yaxis: s.axis,
        marker: { color: s.color },
      }));
      break;
    case "waterfall":
      (layout.xaxis as Record<string, unknown>).type = "category";
      data = m.series.map((s) => {
        const single = m.series.length === 1 && !m.legendTitle;
        const inc = single ? WATERFALL_COLORS.increase : s.color;
        const dec = single ? WATERFALL_COLORS.decrease : s.color;
        const tot = single ? WATERFALL_COLORS.total : s.color;
        return {
          type: "waterfall",
          name: s.name,
          x: xs(s),
          y: s.points.map((p) => (p.measure === "total" ? 0 : p.y)),
          measure: s.points.map((p) => p.measure ?? "relative"),
          increasing: { marker: { color: inc } },
          decreasing: { marker: { color: dec } },
          totals: { marker: { color: tot } },
        };
      });
      break;
    default:
      data = m.series.map((s) => ({
        type: "pie",
        name: s.name,
        labels: xs(s),
        values: ys(s),
        sort: false,
        direction: "clockwise",
        textinfo: "label+percent",
        marker: { colors: s.colors ?? [] },
      }));
  }
  return { data, layout };
}
