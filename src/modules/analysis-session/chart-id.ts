import { type ChartModel, canonicalJson, sha256Hex } from "@/engine";
import { RENDERER_VERSION } from "@/lib/chart-render";

export const DEFAULT_CHART_SIZE = { width: 960, height: 540, scale: 2 } as const;

/** `graphId` = first 32 hex of SHA-256(renderer version, canonical model, width, height, scale) (analysis.md §4.5). */
export function graphIdOf(model: ChartModel, size: { width: number; height: number; scale: number }): string {
  return sha256Hex(
    RENDERER_VERSION,
    canonicalJson(model),
    String(size.width),
    String(size.height),
    String(size.scale),
  ).slice(0, 32);
}
