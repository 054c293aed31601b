/*
 * One-at-a-time sensitivity of a driver tree's root (analysis.md §7.8). Each input node (and each
 * constant when asked) is scaled by (1 + d) and by (1 − d) in every period, the tree is evaluated
 * again, and the root is read at one period or summed over all of them. Scaling is done as
 * v · (100 ± pct) / 100 so that round percentages of round values stay exact (10000 · 110 / 100 is
 * 11000, where 10000 · 1.1 is not).
 */

import { type EvalInput, type EvalNode, type EvalResult, evaluateTree } from "@/engine/driver-tree/evaluate";
import type { TreeNodeType } from "@/engine/driver-tree/graph";

export type SensitivityOptions = {
  /** d in percent, (0, 100]. */
  deltaPct: number;
  /** Read the root at this period; null or absent: the sum over all periods. */
  period?: string | null;
  includeConstants?: boolean;
  withPolicies?: boolean;
};

export type SensitivityItem = {
  nodeId: string;
  label: string;
  nodeType: TreeNodeType;
  /** The node's own value before policies, at `period` or summed over the periods. */
  baseValue: number;
  rootBase: number | null;
  rootUp: number | null;
  rootDown: number | null;
  impactUp: number | null;
  impactDown: number | null;
  elasticity: number | null;
};

export type SensitivitySkip = { nodeId: string; label: string; nodeType: TreeNodeType };

export type SensitivityResult = {
  periods: string[];
  period: string | null;
  deltaPct: number;
  withPolicies: boolean;
  rootId: string | null;
  items: SensitivityItem[];
  /** Candidates whose value is null (at `period`, or in any period for the sum). */
  skipped: SensitivitySkip[];
};

/** `period` names no period of the tree. */
export class UnknownPeriodError extends Error {
  constructor(
    readonly period: string,
    readonly periods: readonly string[],
  ) {
    super(`unknown period ${period}; the tree's periods are ${periods.join(", ")}`);
    this.name = "UnknownPeriodError";
  }
}

/* The value at period index k, or the Neumaier sum over periods; null when any term is null. */
function pick(values: readonly (number | null)[], k: number): number | null {
  if (k >= 0) return values[k] ?? null;
  if (values.length === 0) return null;
  let sum = 0;
  let comp = 0;
  for (const v of values) {
    if (v === null) return null;
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  const r = sum + comp;
  return Number.isFinite(r) ? r + 0 : null;
}

/* The node with every leaf value scaled by (100 + pct) / 100; series keep their periods. */
function scaled(node: EvalNode, periods: readonly string[], pct: number): EvalNode {
  const f = (v: number | null | undefined) => (typeof v === "number" ? (v * (100 + pct)) / 100 : null);
  if (node.nodeType === "input" && node.series) {
    const series: Record<string, number | null> = {};
    for (const p of periods) series[p] = f(node.series[p]);
    return { ...node, series };
  }
  return { ...node, value: f(node.value) };
}

const diff = (a: number | null, b: number | null) => (a === null || b === null ? null : a - b + 0);

const magnitude = (x: SensitivityItem) =>
  x.impactUp === null || x.impactDown === null ? -1 : Math.max(Math.abs(x.impactUp), Math.abs(x.impactDown));

/* Larger impact first; impacts equal up to rounding noise (a product tree's inputs all move the
 * root by the same amount, give or take an ulp) count as a tie, so the label decides. */
function byMagnitude(a: SensitivityItem, b: SensitivityItem): number {
  const x = magnitude(a);
  const y = magnitude(b);
  return Math.abs(x - y) <= 1e-9 * Math.max(Math.abs(x), Math.abs(y)) ? 0 : y - x;
}

export function sensitivity(input: EvalInput, options: SensitivityOptions): SensitivityResult {
  const { deltaPct } = options;
  if (!(deltaPct > 0 && deltaPct <= 100))
    throw new RangeError(`deltaPct must be in (0, 100], got ${deltaPct}`);
  const withPolicies = options.withPolicies ?? false;
  const period = options.period ?? null;
  const k = period === null ? -1 : input.periods.indexOf(period);
  if (period !== null && k < 0) throw new UnknownPeriodError(period, input.periods);

  const base: EvalInput = { ...input, withPolicies, policies: withPolicies ? input.policies : [] };
  const rootIndex = input.rootId === null ? -1 : input.nodes.findIndex((n) => n.id === input.rootId);
  // `simulated` is the baseline when policies are off, so it is the root value in both cases.
  const rootOf = (r: EvalResult) => (rootIndex < 0 ? null : pick(r.nodes[rootIndex].simulated, k));
  const first = evaluateTree(base);
  const rootBase = rootOf(first);
  const d = deltaPct / 100;

  const items: SensitivityItem[] = [];
  const skipped: SensitivitySkip[] = [];
  input.nodes.forEach((node, i) => {
    if (!(node.nodeType === "input" || (node.nodeType === "constant" && options.includeConstants))) return;
    const baseValue = pick(first.nodes[i].baseline, k);
    if (baseValue === null) {
      skipped.push({ nodeId: node.id, label: node.label, nodeType: node.nodeType });
      return;
    }
    const withNode = (pct: number) => {
      const nodes = input.nodes.slice();
      nodes[i] = scaled(node, input.periods, pct);
      return rootOf(evaluateTree({ ...base, nodes }));
    };
    const rootUp = withNode(deltaPct);
    const rootDown = withNode(-deltaPct);
    const spread = diff(rootUp, rootDown);
    const elasticity =
      spread === null || rootBase === null || rootBase === 0 ? null : spread / (2 * d * rootBase);
    items.push({
      nodeId: node.id,
      label: node.label,
      nodeType: node.nodeType,
      baseValue,
      rootBase,
      rootUp,
      rootDown,
      impactUp: diff(rootUp, rootBase),
      impactDown: diff(rootDown, rootBase),
      elasticity: elasticity !== null && Number.isFinite(elasticity) ? elasticity + 0 : null,
    });
  });
  items.sort((a, b) => byMagnitude(a, b) || (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
  return {
    periods: [...input.periods],
    period,
    deltaPct,
    withPolicies,
    rootId: input.rootId,
    items,
    skipped,
  };
}
