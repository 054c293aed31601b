/*
 * The driver-tree evaluator (analysis.md §7.6) and policies (§7.7).
 *
 * Every node is computed once per period in topological order (children first). Values are kept
 * in one Float64Array per pass with NaN standing for null, so null propagates through arithmetic
 * by itself; only x / 0 and overflow need an explicit check. Two passes: `baseline` without
 * policies and `simulated` with all of them.
 */
import {
  type ChildrenOf,
  type TreeNodeType,
  type TreeOperator,
  type TreeRelationship,
  topologicalOrder,
} from "@/engine/driver-tree/graph";

export type PolicyValueKind = "percent" | "factor" | "absolute";

export type EvalNode = {
  id: string;
  label: string;
  nodeType: TreeNodeType;
  /** Constant of a `constant` node, manual value of an `input` node; ignored for calculations. */
  value: number | null;
  unit?: string | null;
  /** Bound series of an `input` node, by period label (§7.5); wins over `value`. */
  series?: Readonly<Record<string, number | null>> | null;
};

export type EvalPolicy = {
  id: string;
  nodeId: string;
  value: number;
  valueKind: PolicyValueKind;
  startPeriod: string | null;
  cost: number | null;
};

export type EvalInput = {
  /** The tree's periods in order (`orderPeriods`); `["total"]` for a tree without bindings. */
  periods: readonly string[];
  rootId: string | null;
  nodes: readonly EvalNode[];
  relationships: readonly TreeRelationship[];
  /** The tree's policies in creation order: several on one node apply in this order. */
  policies: readonly EvalPolicy[];
  withPolicies?: boolean;
};

export type EvalWarning = "MISSING_INPUT" | "DIVISION_BY_ZERO" | "NON_FINITE" | "UNKNOWN_START_PERIOD";

export type NodeResult = {
  nodeId: string;
  label: string;
  nodeType: TreeNodeType;
  unit: string | null;
  baseline: (number | null)[];
  simulated: (number | null)[];
  delta: (number | null)[];
  policyCost: number;
  warnings: EvalWarning[];
};

export type EvalSummary = {
  rootBaseline: number | null;
  rootSimulated: number | null;
  totalPolicyCost: number;
  roi: number | null;
};

export type EvalResult = {
  periods: string[];
  withPolicies: boolean;
  /** In the order of `input.nodes`. */
  nodes: NodeResult[];
  summary: EvalSummary;
};

/** A policy value the engine refuses (§7.7: a factor must be > 0), or null. */
export function policyValueIssue(kind: PolicyValueKind, value: number): string | null {
  if (!Number.isFinite(value)) return "value must be a finite number";
  if (kind === "factor" && !(value > 0)) return "a factor must be greater than 0";
  return null;
}

/** v after one policy (null stays null). */
export function applyPolicy(kind: PolicyValueKind, value: number, v: number): number {
  return kind === "percent" ? v * (1 + value / 100) : kind === "factor" ? v * value : v + value;
}

const W_MISSING = 1;
const W_DIV0 = 2;
const W_NONFINITE = 4;
const W_START = 8;

type Compiled = {
  n: number;
  p: number;
  order: Int32Array; // node indexes, children first
  op: Uint8Array; // 0 none, 1 +, 2 -, 3 *, 4 /
  kidStart: Int32Array;
  kids: Int32Array;
  leaf: Float64Array; // n × p leaf values (NaN = null) for input/constant nodes
  isCalc: Uint8Array;
  flags: Uint8Array;
  policies: { kind: PolicyValueKind; value: number; from: number }[][];
};

const OPCODE: Record<TreeOperator, number> = { "+": 1, "-": 2, "*": 3, "/": 4 };

function compile(input: EvalInput): Compiled {
  const n = input.nodes.length;
  const p = input.periods.length;
  const index = new Map<string, number>();
  input.nodes.forEach((node, i) => {
    index.set(node.id, i);
  });
  const rel = new Map<string, TreeRelationship>();
  for (const r of input.relationships) rel.set(r.parentId, r);
  const childrenOf: ChildrenOf = (id) => rel.get(id)?.childIds;
  const topo = topologicalOrder(
    input.nodes.map((x) => x.id),
    childrenOf,
  );

  const order = new Int32Array(n);
  topo.forEach((id, k) => {
    order[k] = index.get(id) as number;
  });
  const op = new Uint8Array(n);
  const kidStart = new Int32Array(n + 1);
  const kidList: number[] = [];
  const leaf = new Float64Array(n * p).fill(Number.NaN);
  const isCalc = new Uint8Array(n);
  const flags = new Uint8Array(n);
  const periodIndex = new Map(input.periods.map((x, i) => [x, i]));

  input.nodes.forEach((node, i) => {
    kidStart[i] = kidList.length;
    if (node.nodeType === "calculation") {
      isCalc[i] = 1;
      const r = rel.get(node.id);
      if (r) {
        op[i] = OPCODE[r.operator];
        for (const c of r.childIds) {
          const ci = index.get(c);
          if (ci === undefined) throw new Error(`relationship of ${node.id} names an unknown node ${c}`);
          kidList.push(ci);
        }
      }
      if (!r || r.childIds.length === 0) flags[i] |= W_MISSING;
      return;
    }
    const row = i * p;
    if (node.nodeType === "input" && node.series) {
      for (let k = 0; k < p; k++) {
        const v = node.series[input.periods[k]];
        if (typeof v === "number" && Number.isFinite(v)) leaf[row + k] = v;
        else flags[i] |= W_MISSING;
      }
      return;
    }
    if (node.value === null || !Number.isFinite(node.value)) {
      flags[i] |= W_MISSING;
      return;
    }
    leaf.fill(node.value, row, row + p);
  });
  kidStart[n] = kidList.length;

  const policies: Compiled["policies"] = Array.from({ length: n }, () => []);
  for (const pol of input.policies) {
    const i = index.get(pol.nodeId);
    if (i === undefined) continue;
    let from = 0;
    if (pol.startPeriod !== null) {
      const at = periodIndex.get(pol.startPeriod);
      if (at === undefined) {
        flags[i] |= W_START;
        continue;
      }
      from = at;
    }
    policies[i].push({ kind: pol.valueKind, value: pol.value, from });
  }
  return { n, p, order, op, kidStart, kids: Int32Array.from(kidList), leaf, isCalc, flags, policies };
}

function run(c: Compiled, withPolicies: boolean): Float64Array {
  const { p, order, op, kidStart, kids, leaf, isCalc, flags } = c;
  const out = new Float64Array(c.n * p);
  for (let o = 0; o < order.length; o++) {
    const i = order[o];
    const row = i * p;
    if (!isCalc[i]) {
      for (let k = 0; k < p; k++) out[row + k] = leaf[row + k];
    } else {
      const a = kidStart[i];
      const b = kidStart[i + 1];
      const code = op[i];
      if (a === b) {
        for (let k = 0; k < p; k++) out[row + k] = Number.NaN;
      } else {
        for (let k = 0; k < p; k++) {
          let acc = out[kids[a] * p + k];
          for (let j = a + 1; j < b; j++) {
            const v = out[kids[j] * p + k];
            if (code === 1) acc += v;
            else if (code === 2) acc -= v;
            else if (code === 3) acc *= v;
            else if (v === 0) {
              if (!Number.isNaN(acc)) flags[i] |= W_DIV0;
              acc = Number.NaN;
            } else acc /= v;
          }
          if (acc === Number.POSITIVE_INFINITY || acc === Number.NEGATIVE_INFINITY) {
            flags[i] |= W_NONFINITE;
            acc = Number.NaN;
          }
          out[row + k] = acc + 0;
        }
      }
    }
    if (withPolicies) {
      const list = c.policies[i];
      for (let q = 0; q < list.length; q++) {
        const pol = list[q];
        for (let k = pol.from; k < p; k++) {
          const v = applyPolicy(pol.kind, pol.value, out[row + k]);
          if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
            flags[i] |= W_NONFINITE;
            out[row + k] = Number.NaN;
          } else out[row + k] = v + 0;
        }
      }
    }
  }
  return out;
}

const toNull = (v: number) => (Number.isNaN(v) ? null : v);

/** Neumaier-compensated sum; null when any term is null or there are none. */
function total(values: Float64Array, from: number, count: number): number | null {
  if (count === 0) return null;
  let sum = 0;
  let comp = 0;
  for (let k = 0; k < count; k++) {
    const v = values[from + k];
    if (Number.isNaN(v)) return null;
    const t = sum + v;
    comp += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  const r = sum + comp;
  return Number.isFinite(r) ? r + 0 : null;
}

export function evaluateTree(input: EvalInput): EvalResult {
  const withPolicies = input.withPolicies ?? true;
  const c = compile(input);
  const { p } = c;
  const base = run(c, false);
  const sim = withPolicies && input.policies.length > 0 ? run(c, true) : base;

  const costByNode = new Map<string, number>();
  let totalPolicyCost = 0;
  for (const pol of input.policies) {
    const cost = pol.cost ?? 0;
    totalPolicyCost += cost;
    costByNode.set(pol.nodeId, (costByNode.get(pol.nodeId) ?? 0) + cost);
  }

  const nodes: NodeResult[] = input.nodes.map((node, i) => {
    const row = i * p;
    const baseline = new Array<number | null>(p);
    const simulated = new Array<number | null>(p);
    const delta = new Array<number | null>(p);
    for (let k = 0; k < p; k++) {
      const b = base[row + k];
      const s = sim[row + k];
      baseline[k] = toNull(b);
      simulated[k] = toNull(s);
      delta[k] = toNull(s - b + 0);
    }
    const f = c.flags[i];
    const warnings: EvalWarning[] = [];
    if (f & W_MISSING) warnings.push("MISSING_INPUT");
    if (f & W_DIV0) warnings.push("DIVISION_BY_ZERO");
    if (f & W_NONFINITE) warnings.push("NON_FINITE");
    if (f & W_START) warnings.push("UNKNOWN_START_PERIOD");
    return {
      nodeId: node.id,
      label: node.label,
      nodeType: node.nodeType,
      unit: node.unit ?? null,
      baseline,
      simulated,
      delta,
      policyCost: costByNode.get(node.id) ?? 0,
      warnings,
    };
  });

  const rootIndex = input.rootId === null ? -1 : input.nodes.findIndex((x) => x.id === input.rootId);
  const rootBaseline = rootIndex < 0 ? null : total(base, rootIndex * p, p);
  const rootSimulated = rootIndex < 0 ? null : total(sim, rootIndex * p, p);
  const roi =
    totalPolicyCost === 0 || rootBaseline === null || rootSimulated === null
      ? null
      : (rootSimulated - rootBaseline - totalPolicyCost) / totalPolicyCost;
  return {
    periods: [...input.periods],
    withPolicies,
    nodes,
    summary: {
      rootBaseline,
      rootSimulated,
      totalPolicyCost,
      roi: roi === null || !Number.isFinite(roi) ? null : roi + 0,
    },
  };
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const NUMERIC = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * The periods of a tree (§7.6): the union of the time values of its bound series, sorted
 * numerically when all are numbers, chronologically when all are ISO dates, else by first
 * appearance; `["total"]` when there are none.
 */
export function orderPeriods(lists: Iterable<Iterable<string>>): string[] {
  const seen = new Set<string>();
  for (const list of lists) for (const x of list) seen.add(x);
  const all = [...seen];
  if (all.length === 0) return ["total"];
  if (all.every((x) => NUMERIC.test(x.trim()))) return all.sort((a, b) => Number(a) - Number(b));
  if (all.every((x) => ISO_DATE.test(x) && !Number.isNaN(Date.parse(x)))) {
    return all.sort((a, b) => Date.parse(a) - Date.parse(b));
  }
  return all;
}
