import type { Database } from "@/db/client";
import type { EvalInput, EvalResult } from "@/engine";
import { evaluateStored, snapshotRead } from "./data";
import type { FrameCache } from "./frame-cache";
import type { PolicyOut, TreeSummaryOut } from "./model";
import * as q from "./queries";
import { treeNotFound } from "./service";

/*
 * A stored tree with its evaluation, read in one consistent snapshot: what the sensitivity,
 * export and picture routes start from. The evaluation is whatever `evaluateStored` makes of the
 * tree (manual values, bound series, periods); everything after it works on its result.
 */

export type EvaluatedTree = {
  tree: TreeSummaryOut;
  state: q.TreeState;
  policies: q.EvalPolicyRow[];
  result: EvalResult;
  /** Full policy rows (export only), by node label then name. */
  policyRows: PolicyOut[];
};

const ALL = 1_000_000;

export function loadEvaluated(
  db: Database,
  projectId: string,
  treeId: string,
  opts: { withPolicies: boolean; policyRows?: boolean; frames?: FrameCache },
): Promise<EvaluatedTree> {
  return snapshotRead(db, async (tx) => {
    const tree = await q.findTreeSummary(tx, projectId, treeId);
    if (!tree) throw treeNotFound();
    const result = await evaluateStored(tx, treeId, opts.withPolicies, opts.frames);
    const state = await q.loadTreeState(tx, treeId);
    const policies = await q.loadTreePolicies(tx, treeId);
    const policyRows = opts.policyRows
      ? (await q.listPolicies(tx, { treeId }, { skip: 0, limit: ALL })).items
      : [];
    return { tree, state, policies, result, policyRows };
  });
}

/**
 * The engine input that reproduces `result`: the tree's structure and policies, with every
 * input and constant node given its evaluated baseline per period as its series. Perturbing
 * these leaves (sensitivity) then needs no knowledge of where the values came from.
 */
export function evalInputOf(e: EvaluatedTree): EvalInput {
  const byId = new Map(e.result.nodes.map((n) => [n.nodeId, n]));
  const periods = e.result.periods;
  return {
    periods,
    rootId: e.state.rootId,
    relationships: e.state.relationships,
    policies: e.policies,
    withPolicies: e.result.withPolicies,
    nodes: e.state.nodes.map((n) => {
      const base = byId.get(n.id)?.baseline ?? [];
      if (n.nodeType === "calculation")
        return { id: n.id, label: n.label, nodeType: n.nodeType, value: null };
      const series: Record<string, number | null> = {};
      periods.forEach((p, k) => {
        series[p] = base[k] ?? null;
      });
      // Constants are read from `value` by the engine; a constant is the same in every period.
      return n.nodeType === "constant"
        ? { id: n.id, label: n.label, nodeType: n.nodeType, unit: n.unit, value: base[0] ?? null }
        : { id: n.id, label: n.label, nodeType: n.nodeType, unit: n.unit, value: null, series };
    }),
  };
}
