/*
 * Sample chart models of every type, shaped as chart validation builds them. Used by the renderer
 * tests and by `bun run bench:chart` (the P3 case).
 */

import { PALETTE, WATERFALL_COLORS } from "@/engine/contract";
import type { ChartModel } from "@/engine/steps/chart";

type Series = ChartModel["series"][number];

const colour = (i: number) => PALETTE[i % PALETTE.length];
const REGIONS = ["東京", "大阪", "名古屋", "福岡", "札幌", "仙台", "広島", "那覇"];

/** P3: bar chart, `categories` × `series`, Japanese labels, deterministic values. */
export function benchBarModel(categories = 20, series = 5): ChartModel {
  const cats = Array.from({ length: categories }, (_, i) => `${REGIONS[i % REGIONS.length]}支店${i + 1}`);
  return {
    type: "bar",
    title: "地域別売上推移",
    xTitle: "地域",
    yTitle: "値",
    legendTitle: "年度",
    categories: cats,
    series: Array.from(
      { length: series },
      (_, s): Series => ({
        name: `${2020 + s}年度`,
        color: colour(s),
        mark: "bar",
        axis: "y",
        points: cats.map((x, i) => ({ x, y: 1000 + ((i * 37 + s * 101) % 50) * 123.5 })),
      }),
    ),
  };
}

const QUARTERS = ["第1四半期", "第2四半期", "第3四半期", "第4四半期"];
const bars = (mark: Series["mark"], names: string[], values: number[][]): Series[] =>
  names.map((name, s) => ({
    name,
    color: colour(s),
    mark,
    axis: "y",
    points: QUARTERS.map((x, i) => ({ x, y: values[s][i] })),
  }));

export function sampleModels(title: string | null = "売上推移"): Record<ChartModel["type"], ChartModel> {
  return {
    bar: {
      type: "bar",
      title,
      xTitle: "四半期",
      yTitle: "値",
      legendTitle: "部門",
      categories: QUARTERS,
      series: bars(
        "bar",
        ["営業部", "開発部 <R&D>"],
        [
          [120, 135, -20, 160],
          [80, 95, 110, 100],
        ],
      ),
    },
    "horizontal bar": {
      type: "horizontal bar",
      title,
      xTitle: "値",
      yTitle: "四半期",
      legendTitle: null,
      categories: QUARTERS,
      series: bars("bar", ["値"], [[1200.5, 980, 1430, 1105]]),
    },
    "stacked bar": {
      type: "stacked bar",
      title,
      xTitle: "四半期",
      yTitle: "値",
      legendTitle: "製品",
      categories: QUARTERS,
      series: bars(
        "bar",
        ["製品A", "製品B", "製品C"],
        [
          [10, 12, 14, 16],
          [5, 6, 7, 8],
          [3, 3, 4, 4],
        ],
      ),
    },
    line: {
      type: "line",
      title,
      xTitle: "四半期",
      yTitle: "値",
      legendTitle: "年度",
      categories: QUARTERS,
      series: [
        {
          name: "2023年度",
          color: colour(0),
          mark: "line",
          axis: "y",
          points: [
            { x: "第1四半期", y: 0.12 },
            { x: "第2四半期", y: 0.18 },
            { x: "第3四半期", y: null },
            { x: "第4四半期", y: 0.25 },
          ],
        },
        {
          name: "2024年度",
          color: colour(1),
          mark: "line",
          axis: "y",
          points: QUARTERS.map((x, i) => ({ x, y: 0.1 + i * 0.05 })),
        },
      ],
    },
    scatter: {
      type: "scatter",
      title,
      xTitle: "売上",
      yTitle: "粗利",
      legendTitle: "地域",
      categories: [],
      series: ["関東", "関西"].map(
        (name, s): Series => ({
          name,
          color: colour(s),
          mark: "markers",
          axis: "y",
          points: Array.from({ length: 12 }, (_, i) => ({
            x: 100 + i * 37 + s * 11,
            y: 20 + ((i * 7 + s * 5) % 13) * 3.5,
            text: `2024 / 製品${i}`,
          })),
        }),
      ),
    },
    "line&bar": {
      type: "line&bar",
      title,
      xTitle: "四半期",
      yTitle: "売上",
      y2Title: "粗利率",
      legendTitle: null,
      categories: QUARTERS,
      series: [
        {
          name: "売上",
          color: colour(0),
          mark: "bar",
          axis: "y",
          points: QUARTERS.map((x, i) => ({ x, y: 1_200_000 + i * 150_000 })),
        },
        {
          name: "粗利率",
          color: colour(1),
          mark: "line",
          axis: "y2",
          points: QUARTERS.map((x, i) => ({ x, y: 0.31 + (i % 2) * 0.04 })),
        },
      ],
    },
    waterfall: {
      type: "waterfall",
      title,
      xTitle: "要因",
      yTitle: "値",
      legendTitle: null,
      categories: ["基準", "価格", "数量", "原価", "合計"],
      series: [
        {
          name: "値",
          color: WATERFALL_COLORS.total,
          mark: "waterfall",
          axis: "y",
          points: [
            { x: "基準", y: 100, measure: "absolute", start: 0, end: 100 },
            { x: "価格", y: 30, measure: "relative", start: 100, end: 130 },
            { x: "数量", y: -15, measure: "relative", start: 130, end: 115 },
            { x: "原価", y: -25, measure: "relative", start: 115, end: 90 },
            { x: "合計", y: 90, measure: "total", start: 0, end: 90 },
          ],
        },
      ],
    },
    pie: {
      type: "pie",
      title,
      xTitle: "製品",
      yTitle: "値",
      legendTitle: "製品",
      categories: ["製品A", "製品B", "製品C", "その他"],
      series: [
        {
          name: "値",
          color: colour(0),
          mark: "pie",
          axis: "y",
          points: [
            { x: "製品A", y: 45 },
            { x: "製品B", y: 30 },
            { x: "製品C", y: 20 },
            { x: "その他", y: 5 },
          ],
          colors: [0, 1, 2, 3].map(colour),
        },
      ],
    },
  };
}
