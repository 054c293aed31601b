/*
 * Driver-tree outputs benchmark (issue 17 items 5–7), pure engine level:
 *   X1  sensitivity of a 200-node tree over 50 inputs × 12 periods, ±10 %, with 20 policies
 *       (100 re-evaluations + the base one; target ≤ 500 ms)
 *   X2  the same with includeConstants (every leaf varied: 50 inputs + the constants)
 *   X3  the tree picture of that tree as SVG (layout + measuring with Noto Sans JP)
 *   X4  the same SVG rasterised to PNG by resvg at scale 2 (what a first `…/image` request pays)
 * 2 warm-up + 15 runs each (X4: 1 + 5), in this process; reports median and p95 and the load average.
 *
 * `bun bench/driver-tree-outputs.ts [--write]` (`--write` saves bench/results/<date>-<host>-driver-tree-outputs.json).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg } from "node:os";
import { join } from "node:path";
import { getConfig } from "@/config";
import {
  type EvalInput,
  type EvalNode,
  evaluateTree,
  renderTreeSvg,
  sensitivity,
  type TreeImageModel,
  type TreeOperator,
  type TreeRelationship,
} from "@/engine";
import { createChartRenderer } from "@/lib/chart-render";
import { treePngScale } from "@/modules/driver-tree/image";
import { measure, measureAsync } from "./measure";

function rng(seed: number) {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* Breadth-first tree of `nodeCount` nodes, 2–4 children per calculation node; of its leaves the
 * first `inputs` are inputs with a series per period, the rest constants. */
function generate(nodeCount: number, inputs: number, periods: string[], policyCount: number): EvalInput {
  const rand = rng(7);
  const relationships: TreeRelationship[] = [];
  const ops: TreeOperator[] = ["+", "+", "*", "-"];
  const calc = new Set<number>();
  let next = 1;
  for (let i = 0; i < nodeCount && next < nodeCount; i++) {
    const k = Math.min(2 + Math.floor(rand() * 3), nodeCount - next);
    calc.add(i);
    const childIds: string[] = [];
    for (let j = 0; j < k; j++) childIds.push(`n${next++}`);
    relationships.push({ parentId: `n${i}`, operator: ops[Math.floor(rand() * ops.length)], childIds });
  }
  let leaves = 0;
  const nodes: EvalNode[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const id = `n${i}`;
    if (calc.has(i)) {
      nodes.push({ id, label: `計算${i}`, nodeType: "calculation", value: null });
    } else if (leaves++ < inputs) {
      const series: Record<string, number> = {};
      for (const p of periods) series[p] = Math.round((0.5 + rand()) * 1000) / 1000;
      nodes.push({ id, label: `入力${i}`, nodeType: "input", value: null, series, unit: "円" });
    } else {
      nodes.push({
        id,
        label: `定数${i}`,
        nodeType: "constant",
        value: Math.round((0.5 + rand()) * 100) / 100,
      });
    }
  }
  const policies = Array.from({ length: policyCount }, (_, i) => ({
    id: `p${i}`,
    nodeId: `n${Math.floor(rand() * nodeCount)}`,
    value: 1 + Math.floor(rand() * 10),
    valueKind: "percent" as const,
    startPeriod: i % 3 === 0 ? periods[6] : null,
    cost: 1000,
  }));
  return { periods, rootId: "n0", nodes, relationships, policies };
}

const loadBefore = loadavg().map((x) => Math.round(x * 100) / 100);
const periods = Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, "0")}`);
const input = generate(200, 50, periods, 20);
const opts = { deltaPct: 10, withPolicies: true };
const check = sensitivity(input, opts);
if (check.items.length !== 50) throw new Error(`expected 50 inputs, got ${check.items.length}`);
const withConstants = sensitivity(input, { ...opts, includeConstants: true });

const evaluated = evaluateTree(input);
const model: TreeImageModel = {
  title: "ベンチマーク 200 ノード",
  subtitle: `期間 ${periods[11]}`,
  rootId: input.rootId,
  withPolicies: true,
  relationships: [...input.relationships],
  nodes: evaluated.nodes.map((n) => ({
    id: n.nodeId,
    label: n.label,
    nodeType: n.nodeType,
    unit: n.unit,
    baseline: n.baseline[11],
    simulated: n.simulated[11],
    delta: n.delta[11],
    policyCount: input.policies.filter((p) => p.nodeId === n.nodeId).length,
  })),
};
const renderer = createChartRenderer(getConfig());
const image = renderer.drawSvg((f) => renderTreeSvg(model, f));
const pngScale = treePngScale(image);

const results = [
  measure("X1 sensitivity, 50 inputs × 12 periods, 200 nodes, 20 policies", () => sensitivity(input, opts)),
  measure(`X2 sensitivity with constants (${withConstants.items.length} leaves)`, () =>
    sensitivity(input, { ...opts, includeConstants: true }),
  ),
  measure("X3 tree picture SVG, 200 nodes", () => renderer.drawSvg((f) => renderTreeSvg(model, f))),
  await measureAsync(
    `X4 tree picture PNG at scale ${pngScale.toFixed(2)} (${image.width}×${image.height} user units)`,
    () => renderer.rasterise(image.svg, pngScale),
    1,
    5,
  ),
];

const report = {
  date: new Date().toISOString(),
  cpu: cpus()[0]?.model ?? "unknown",
  cores: cpus().length,
  bun: Bun.version,
  loadAverage: { before: loadBefore, after: loadavg().map((x) => Math.round(x * 100) / 100) },
  shape: {
    nodes: input.nodes.length,
    inputs: check.items.length,
    leaves: withConstants.items.length,
    periods: periods.length,
    policies: input.policies.length,
    topImpact: check.items[0]?.label,
    svgBytes: image.svg.length,
  },
  targets: { X1: 500 },
  results,
};
console.log(JSON.stringify(report, null, 2));
if (process.argv.includes("--write")) {
  const dir = join(import.meta.dir, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, `${report.date.slice(0, 10)}-${hostname()}-driver-tree-outputs.json`),
    `${JSON.stringify(report, null, 2)}\n`,
  );
}
