import type { Database } from "@/db/client";
import { canonicalJson, renderTreeSvg, sha256Hex, type TreeImageModel } from "@/engine";
import { type ChartRenderer, RENDERER_VERSION } from "@/lib/chart-render";
import { storedPng } from "@/lib/chart-render/stored";
import { problem } from "@/lib/errors";
import type { Storage } from "@/lib/storage";
import { treeImageKey } from "@/lib/storage/keys";
import { loadEvaluated } from "./evaluated";
import type { FrameCache } from "./frame-cache";
import type { TreeImageQuery } from "./model";

/*
 * `GET …/tree/{treeId}/image` (beyond the specification): the evaluated tree drawn by the chart
 * renderer with its bundled Noto Sans JP. The picture's id is a hash of everything drawn, so a
 * conditional request is answered before anything is rendered, and each PNG is rendered once and
 * kept in storage like the analysis charts (`driver-tree/{treeId}/image_{imageId}.png`).
 */

/** Bump when the drawing changes so that stored pictures are not reused. */
export const TREE_IMAGE_VERSION = "tree-svg-1";
const PNG_SCALE = 2;
/* Large trees are rasterised at a smaller scale so that a picture stays under this many pixels. */
const MAX_PIXELS = 12_000_000;

/* Past this many nodes a picture is a poster nobody can read, and resvg would need seconds. */
export const MAX_PICTURE_NODES = 500;

/** Scale 2, less for a picture that would otherwise exceed MAX_PIXELS. */
export const treePngScale = (image: { width: number; height: number }) =>
  Math.min(PNG_SCALE, Math.sqrt(MAX_PIXELS / (image.width * image.height)));

export type TreePicture = { model: TreeImageModel; imageId: string; treeName: string; period: string };

const unavailable = (reason?: string) =>
  problem("CHART_RENDERER_UNAVAILABLE", {
    detail: `Pictures cannot be rendered on this server${reason ? `: ${reason}` : "."}`,
  });

/** What the picture shows and its content id (analysis.md §7.6 values at one period). */
export async function findTreePicture(
  db: Database,
  projectId: string,
  treeId: string,
  query: TreeImageQuery,
  frames?: FrameCache,
): Promise<TreePicture> {
  const withPolicies = query.withPolicies ?? true;
  const e = await loadEvaluated(db, projectId, treeId, { withPolicies, frames });
  const { periods } = e.result;
  const period = query.period ?? periods[periods.length - 1];
  const k = periods.indexOf(period);
  if (k < 0) {
    throw problem("VALIDATION_FAILED", {
      detail: `unknown period ${period}`,
      errors: [
        { path: "/query/period", message: `must be one of the tree's periods: ${periods.join(", ")}` },
      ],
    });
  }
  if (e.state.nodes.length > MAX_PICTURE_NODES) {
    throw problem("VALIDATION_FAILED", {
      detail: `The tree has ${e.state.nodes.length} nodes; pictures are drawn for at most ${MAX_PICTURE_NODES}.`,
      errors: [{ path: "/params/treeId", message: `at most ${MAX_PICTURE_NODES} nodes can be drawn` }],
    });
  }
  const policyCount = new Map<string, number>();
  for (const p of e.policies) policyCount.set(p.nodeId, (policyCount.get(p.nodeId) ?? 0) + 1);
  const values = new Map(e.result.nodes.map((n) => [n.nodeId, n]));
  const model: TreeImageModel = {
    title: e.tree.name,
    subtitle: `期間 ${period}　${withPolicies ? `施策反映 (${e.policies.length} 件)` : "施策なし"}`,
    rootId: e.state.rootId,
    withPolicies,
    relationships: e.state.relationships,
    nodes: e.state.nodes.map((n) => {
      const v = values.get(n.id);
      return {
        id: n.id,
        label: n.label,
        nodeType: n.nodeType,
        unit: n.unit,
        baseline: v?.baseline[k] ?? null,
        simulated: v?.simulated[k] ?? null,
        delta: v?.delta[k] ?? null,
        policyCount: policyCount.get(n.id) ?? 0,
      };
    }),
  };
  const imageId = sha256Hex(
    RENDERER_VERSION,
    TREE_IMAGE_VERSION,
    canonicalJson(model),
    String(PNG_SCALE),
  ).slice(0, 32);
  return { model, imageId, treeName: e.tree.name, period };
}

export type RenderedPicture = {
  body: string | Uint8Array | ReadableStream<Uint8Array>;
  contentType: string;
  length?: number;
};

export async function renderTreePicture(
  deps: { storage: Storage; renderer: ChartRenderer | null | undefined },
  treeId: string,
  picture: TreePicture,
  format: "png" | "svg",
): Promise<RenderedPicture> {
  const renderer = deps.renderer;
  if (!renderer?.available) throw unavailable(renderer?.reason);
  const draw = () => renderer.drawSvg((fonts) => renderTreeSvg(picture.model, fonts));
  if (format === "svg") return { body: draw().svg, contentType: "image/svg+xml; charset=utf-8" };
  return storedPng(deps.storage, treeImageKey(treeId, picture.imageId), () => {
    const image = draw();
    return renderer.rasterise(image.svg, treePngScale(image));
  });
}
