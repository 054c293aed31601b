/*
 * Server-side chart rendering (analysis.md §4.4): ChartModel → SVG (own emitter, measured with the
 * shipped Noto Sans JP) → PNG via resvg. resvg rasterises on its own thread (`renderAsync`), so
 * the JS thread only builds the SVG and encodes the PNG. The fonts are plain files beside the
 * executable because native code cannot read files embedded in a compiled Bun binary.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Config } from "@/config";
import {
  type ChartFonts,
  type ChartModel,
  FONT_FAMILY,
  type FontMetrics,
  parseFontMetrics,
  renderChartSvg,
  toVegaLite,
  type VegaLiteSpec,
} from "@/engine";
import { AppError, problem } from "@/lib/errors";
import type { Logger } from "@/lib/logger";

export { FONT_FAMILY, toVegaLite, type VegaLiteSpec } from "@/engine";

/** Part of every graphId: bump when the drawing changes so stored PNGs are not reused. */
export const RENDERER_VERSION = "chart-svg-1+resvg-2.6.2+noto-sans-jp-2.004-jis";

export const FONT_FILES = { regular: "NotoSansJP-Regular.ttf", bold: "NotoSansJP-Bold.ttf" } as const;
export const CHART_RENDER_TIMEOUT_MS = 10_000;
const CHECK_TEXT = "売上推移";

export type ChartSize = { width: number; height: number };
export type ChartRenderSize = ChartSize & { scale: number };

export type ChartRenderer = {
  readonly available: boolean;
  readonly reason?: string;
  readonly version: string;
  readonly fontDir: string;
  toVegaLite(model: ChartModel, size: ChartSize): VegaLiteSpec;
  /** SVG of `width`×`height` user units (the scale only matters for PNG). */
  renderSvg(model: ChartModel, size: ChartSize | ChartRenderSize): string;
  /** PNG of ceil(width·scale) × ceil(height·scale) pixels (exact for integral products). */
  renderPng(model: ChartModel, size: ChartRenderSize): Promise<Uint8Array>;
  /**
   * Another picture drawn with the same fonts (a driver tree): `draw` builds the SVG from the
   * loaded font metrics, so its text is measured exactly as resvg will set it.
   */
  drawSvg<T extends { svg: string }>(draw: (fonts: ChartFonts) => T): T;
  /** Such an SVG as PNG, through the same resvg pool, fonts, limits and timeout as charts. */
  rasterise(svg: string, scale: number): Promise<Uint8Array>;
  /** Successful renderSvg + renderPng (+ drawSvg + rasterise) calls since creation (lets callers prove a cache hit). */
  renderCount(): number;
};

export type ChartRendererOptions = { timeoutMs?: number };

type RendererConfig = Pick<Config, "chartFontDir" | "chartRenderConcurrency">;

/** CHART_FONT_DIR, else `assets/fonts` beside the executable (compiled binary), else in the cwd. */
export function resolveFontDir(config: Pick<Config, "chartFontDir">): string {
  if (config.chartFontDir) return config.chartFontDir;
  const besideExecutable = join(dirname(process.execPath), "assets", "fonts");
  if (existsSync(join(besideExecutable, FONT_FILES.regular))) return besideExecutable;
  return join(process.cwd(), "assets", "fonts");
}

type LoadedFonts = { regular: FontMetrics; bold: FontMetrics; files: string[] };

function loadFonts(dir: string): LoadedFonts {
  const load = (file: string) => {
    const path = join(dir, file);
    let metrics: FontMetrics;
    try {
      metrics = parseFontMetrics(readFileSync(path));
    } catch (e) {
      throw new Error(`cannot load ${path}: ${(e as Error).message}`);
    }
    const missing = [...CHECK_TEXT].filter((ch) => metrics.glyphId(ch.codePointAt(0)!) === 0);
    if (missing.length) throw new Error(`${path} has no glyphs for ${missing.join("")}`);
    return { path, metrics };
  };
  const regular = load(FONT_FILES.regular);
  const bold = load(FONT_FILES.bold);
  return { regular: regular.metrics, bold: bold.metrics, files: [regular.path, bold.path] };
}

type Resvg = typeof import("@resvg/resvg-js");

/** Counting semaphore; a waiter that times out leaves the queue. */
class Limiter {
  private active = 0;
  private readonly queue: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  acquire(): { ready: Promise<void>; cancel: () => void } {
    if (this.active < this.limit) {
      this.active++;
      return { ready: Promise.resolve(), cancel: () => {} };
    }
    let wake!: () => void;
    const ready = new Promise<void>((resolve) => {
      wake = () => {
        this.active++;
        resolve();
      };
      this.queue.push(wake);
    });
    return {
      ready,
      cancel: () => {
        const i = this.queue.indexOf(wake);
        if (i >= 0) this.queue.splice(i, 1);
      },
    };
  }

  release(): void {
    this.active--;
    this.queue.shift()?.();
  }
}

const unavailable = (detail: string) => problem("CHART_RENDERER_UNAVAILABLE", { detail });

function checkSize(size: ChartSize & { scale?: number }): void {
  const ok = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n > 0;
  if (!ok(size.width) || !ok(size.height) || (size.scale !== undefined && !ok(size.scale)))
    throw new RangeError(`invalid chart size ${JSON.stringify(size)}`);
}

export function createChartRenderer(
  config: RendererConfig,
  logger?: Pick<Logger, "warn" | "error">,
  options: ChartRendererOptions = {},
): ChartRenderer {
  const fontDir = resolveFontDir(config);
  const timeoutMs = options.timeoutMs ?? CHART_RENDER_TIMEOUT_MS;
  // Checked at start (so a missing or broken font is reported then), but kept only once something
  // is drawn: the two fonts are 5.6 MB that most processes never measure text with.
  let fonts: LoadedFonts | null = null;
  let reason: string | undefined;
  try {
    loadFonts(fontDir);
  } catch (e) {
    reason = (e as Error).message;
    logger?.warn({ fontDir, reason }, "chart renderer unavailable: fonts did not load");
  }
  const limiter = new Limiter(Math.max(1, config.chartRenderConcurrency));
  let count = 0;
  let resvg: Promise<Resvg> | null = null;

  const ready = (): LoadedFonts => {
    if (fonts) return fonts;
    if (reason === undefined) {
      try {
        fonts = loadFonts(fontDir);
        return fonts;
      } catch (e) {
        reason = (e as Error).message;
        logger?.warn({ fontDir, reason }, "chart renderer unavailable: fonts did not load");
      }
    }
    throw unavailable(`chart rendering is unavailable: ${reason}`);
  };
  const svgOf = (model: ChartModel, size: ChartSize) => {
    checkSize(size);
    return renderChartSvg(model, { width: size.width, height: size.height }, ready());
  };

  async function rasterise(svg: string, scale: number, files: string[]): Promise<Uint8Array> {
    resvg ??= import("@resvg/resvg-js");
    let lib: Resvg;
    try {
      lib = await resvg;
    } catch (e) {
      resvg = null;
      logger?.error({ err: e }, "chart renderer: resvg failed to load");
      throw unavailable("the PNG renderer could not be loaded");
    }
    const slot = limiter.acquire();
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        slot.cancel();
        abort.abort();
        reject(unavailable(`chart rendering took longer than ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
    const work = slot.ready.then(async () => {
      try {
        if (abort.signal.aborted) throw unavailable("chart rendering timed out while queued");
        const image = await lib.renderAsync(svg, {
          fitTo: { mode: "zoom", value: scale },
          background: "#ffffff",
          font: { fontFiles: files, loadSystemFonts: false, defaultFontFamily: FONT_FAMILY },
          logLevel: "off",
        });
        return new Uint8Array(image.asPng());
      } finally {
        // The slot is held until resvg really finishes, even after a timeout answered the caller.
        limiter.release();
      }
    });
    work.catch(() => {});
    try {
      return await Promise.race([work, timeout]);
    } catch (e) {
      if (e instanceof AppError) throw e;
      logger?.error({ err: e }, "chart renderer: resvg failed");
      throw unavailable(`chart rendering failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    available: reason === undefined,
    ...(reason ? { reason } : {}),
    version: RENDERER_VERSION,
    fontDir,
    toVegaLite,
    renderSvg(model, size) {
      const svg = svgOf(model, size);
      count++;
      return svg;
    },
    async renderPng(model, size) {
      const svg = svgOf(model, size);
      const png = await rasterise(svg, size.scale, ready().files);
      count++;
      return png;
    },
    drawSvg(draw) {
      const out = draw(ready());
      count++;
      return out;
    },
    async rasterise(svg, scale) {
      checkSize({ width: 1, height: 1, scale });
      const png = await rasterise(svg, scale, ready().files);
      count++;
      return png;
    },
    renderCount: () => count,
  };
}
