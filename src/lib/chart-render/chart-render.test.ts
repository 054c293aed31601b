import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { benchBarModel, type ChartModel, sampleModels } from "@/engine";
import { frameFromRows } from "@/engine/frame";
import { DEFAULT_LIMITS } from "@/engine/limits";
import { buildChart } from "@/engine/steps/chart";
import { Warnings } from "@/engine/steps/common";
import { AppError } from "@/lib/errors";
import { F1_RECORDS } from "../../../tests/fixtures/analysis/fixtures";
import { createChartRenderer, FONT_FILES, RENDERER_VERSION, resolveFontDir } from "./index";

const config = { chartFontDir: null, chartRenderConcurrency: 2 };
const renderer = createChartRenderer(config);
const SIZE = { width: 640, height: 360, scale: 2 };

function pngSize(png: Uint8Array): { width: number; height: number } {
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(new TextDecoder().decode(png.subarray(12, 16))).toBe("IHDR");
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** RGBA pixels of an SVG rasterised exactly as renderPng does it. */
function pixels(svg: string, scale: number): { data: Uint8Array; width: number } {
  const image = new Resvg(svg, {
    fitTo: { mode: "zoom", value: scale },
    background: "#ffffff",
    font: {
      fontFiles: [join(renderer.fontDir, FONT_FILES.regular), join(renderer.fontDir, FONT_FILES.bold)],
      loadSystemFonts: false,
      defaultFontFamily: "Noto Sans JP",
    },
  }).render();
  return { data: new Uint8Array(image.pixels), width: image.width };
}

/** Text-coloured pixels in the top-centre band where the title is drawn. */
function darkTitlePixels(svg: string, size: typeof SIZE): number {
  const { data, width } = pixels(svg, size.scale);
  let dark = 0;
  const x0 = Math.floor((size.width / 2 - 80) * size.scale);
  const x1 = Math.ceil((size.width / 2 + 80) * size.scale);
  for (let y = 0; y < 40 * size.scale; y++)
    for (let x = x0; x < x1; x++) {
      const i = (y * width + x) * 4;
      if (data[i] < 100 && data[i + 1] < 100 && data[i + 2] < 100) dark++;
    }
  return dark;
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected a rejection");
}

describe("chart renderer", () => {
  test("starts available with the shipped fonts", () => {
    expect(renderer.available).toBe(true);
    expect(renderer.reason).toBeUndefined();
    expect(renderer.version).toBe(RENDERER_VERSION);
    expect(renderer.fontDir).toBe(join(process.cwd(), "assets", "fonts"));
  });

  for (const [type, model] of Object.entries(sampleModels())) {
    test(`${type}: SVG and PNG`, async () => {
      const svg = renderer.renderSvg(model, SIZE);
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"')).toBe(true);
      expect(svg).toContain('font-family="Noto Sans JP"');
      expect(svg).toContain(">売上推移</text>");
      for (const s of model.series) if (type !== "pie") expect(svg).toContain(s.color);
      const png = await renderer.renderPng(model, SIZE);
      expect(pngSize(png)).toEqual({ width: 1280, height: 720 });
    });
  }

  test("PNG is exactly width·scale × height·scale", async () => {
    const png = await renderer.renderPng(sampleModels().bar, { width: 961, height: 541, scale: 3 });
    expect(pngSize(png)).toEqual({ width: 2883, height: 1623 });
    const small = await renderer.renderPng(sampleModels().pie, { width: 200, height: 150, scale: 1 });
    expect(pngSize(small)).toEqual({ width: 200, height: 150 });
  });

  test("same model and size give byte-identical SVG and PNG", async () => {
    const model = benchBarModel();
    const other = createChartRenderer(config);
    const size = { width: 960, height: 540, scale: 2 };
    expect(renderer.renderSvg(model, size)).toBe(other.renderSvg(structuredClone(model), size));
    const a = await renderer.renderPng(model, size);
    const b = await other.renderPng(structuredClone(model), size);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Bun.hash(a)).toBe(Bun.hash(await renderer.renderPng(model, size)));
  });

  test("the Japanese title is drawn with real glyphs", async () => {
    const titled = sampleModels("売上推移").bar;
    const untitled = sampleModels("").bar;
    const withTitle = renderer.renderSvg(titled, SIZE);
    const without = renderer.renderSvg(untitled, SIZE);
    expect(darkTitlePixels(withTitle, SIZE)).toBeGreaterThanOrEqual(200);
    expect(darkTitlePixels(without, SIZE)).toBeLessThan(50);
    const a = await renderer.renderPng(titled, SIZE);
    const b = await renderer.renderPng(untitled, SIZE);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  test("text is escaped and invalid XML characters are replaced", () => {
    const model: ChartModel = {
      ...sampleModels().bar,
      title: `売上 <"A&B"> 'q'\u0001`,
      categories: ["第1四半期", "第2四半期", "第3四半期", "x<y>&z"],
    };
    model.series = model.series.map((s) => ({
      ...s,
      points: s.points.map((p, i) => (i === 3 ? { ...p, x: "x<y>&z" } : p)),
    }));
    const svg = renderer.renderSvg(model, SIZE);
    expect(svg).toContain("開発部 &lt;R&amp;D&gt;");
    expect(svg).toContain("売上 &lt;&quot;A&amp;B&quot;&gt; &apos;q&apos;\uFFFD");
    expect(svg).toContain("x&lt;y&gt;&amp;z");
    expect(svg).not.toContain("<R&D>");
    expect(svg).not.toContain("\u0001");
    // resvg parses the document (it throws on malformed XML).
    expect(pixels(svg, 1).width).toBe(640);
  });

  test("a crowded category axis rotates and truncates labels", () => {
    const model = benchBarModel(60, 2);
    model.categories = model.categories.map((c, i) => (i === 0 ? "とても長いカテゴリ名".repeat(8) : c));
    model.series = model.series.map((s) => ({
      ...s,
      points: s.points.map((p, i) => ({ ...p, x: model.categories[i] })),
    }));
    const svg = renderer.renderSvg(model, { width: 960, height: 540 });
    expect(svg).toContain("rotate(-45)");
    expect(svg).not.toContain("とても長いカテゴリ名".repeat(8));
    expect(svg).toContain("…");
  });

  test("renders a model built by chart validation", async () => {
    const frame = frameFromRows(["年度", "部門"], F1_RECORDS);
    const model = buildChart(
      {
        graphType: "line&bar",
        xAxis: "年度",
        yLeftSubject: "売上",
        yLeftType: "bar",
        yRightSubject: "コスト",
        yRightType: "line",
        legendAxis: "部門",
        title: "売上とコスト",
      },
      frame,
      DEFAULT_LIMITS,
      new Warnings(),
    );
    const svg = renderer.renderSvg(model, SIZE);
    expect(svg).toContain("売上 (営業)");
    expect(svg).toContain("コスト (開発)");
    expect(pngSize(await renderer.renderPng(model, SIZE))).toEqual({ width: 1280, height: 720 });
  });

  test("renderCount counts successful renders", async () => {
    const r = createChartRenderer(config);
    expect(r.renderCount()).toBe(0);
    r.renderSvg(sampleModels().line, SIZE);
    await r.renderPng(sampleModels().line, SIZE);
    expect(r.renderCount()).toBe(2);
  });

  test("concurrency limit queues renders instead of failing them", async () => {
    const r = createChartRenderer({ chartFontDir: null, chartRenderConcurrency: 1 });
    const models = Object.values(sampleModels());
    const pngs = await Promise.all(models.map((m) => r.renderPng(m, { width: 400, height: 300, scale: 1 })));
    for (const p of pngs) expect(pngSize(p)).toEqual({ width: 400, height: 300 });
    expect(r.renderCount()).toBe(models.length);
  });

  test("a render over the time limit answers 503", async () => {
    const r = createChartRenderer(config, undefined, { timeoutMs: 1 });
    const e = await rejection(r.renderPng(benchBarModel(), { width: 960, height: 540, scale: 2 }));
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).status).toBe(503);
    expect((e as AppError).code).toBe("CHART_RENDERER_UNAVAILABLE");
  });

  test("without usable fonts the renderer is unavailable and answers 503", async () => {
    const missing = createChartRenderer({ chartFontDir: "/nonexistent/fonts", chartRenderConcurrency: 2 });
    expect(missing.available).toBe(false);
    expect(missing.reason).toContain("NotoSansJP-Regular.ttf");
    const e = await rejection(missing.renderPng(sampleModels().bar, SIZE));
    expect((e as AppError).status).toBe(503);
    expect((e as AppError).code).toBe("CHART_RENDERER_UNAVAILABLE");
    expect(() => missing.renderSvg(sampleModels().bar, SIZE)).toThrow(AppError);
    // toVegaLite needs no font.
    expect(missing.toVegaLite(sampleModels().bar, SIZE).width).toBe(640);

    const dir = mkdtempSync(join(tmpdir(), "chart-fonts-"));
    writeFileSync(join(dir, FONT_FILES.regular), "not a font");
    writeFileSync(join(dir, FONT_FILES.bold), "not a font");
    const broken = createChartRenderer({ chartFontDir: dir, chartRenderConcurrency: 2 });
    expect(broken.available).toBe(false);
    expect(broken.reason).toContain("not a TrueType/OpenType font");
  });

  test("font dir: CHART_FONT_DIR wins, else beside the executable or in the cwd", () => {
    expect(resolveFontDir({ chartFontDir: "/opt/fonts" })).toBe("/opt/fonts");
    expect(resolveFontDir({ chartFontDir: null })).toBe(join(process.cwd(), "assets", "fonts"));
  });
});
