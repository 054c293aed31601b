/*
 * Import planning (analysis.md §7.3) as a pure function: given the tree as it is and a list of
 * formulas, decide which nodes to create or promote, which relationships to add, the root and the
 * positions of new nodes — or why the import is refused. The service applies the plan in one
 * transaction (and does the sheet binding of step 6 with `createdInputs`).
 */
import {
  type BinaryOp,
  canonicalNumber,
  FormulaSyntaxError,
  parseFormula,
} from "@/engine/driver-tree/grammar";
import { findCycle, type TreeNodeType, type TreeRelationship, tidyLayout } from "@/engine/driver-tree/graph";
import { type FormulaTerm, printTerm, toTerm } from "@/engine/driver-tree/nary";

export const MAX_NODE_LABEL_LENGTH = 255;
const ZERO_LABEL = "0";

export type ExistingNode = {
  id: string;
  label: string;
  nodeType: TreeNodeType;
  positionX: number;
  positionY: number;
  /** The node is bound to sheet data (§7.5); promotion to calculation removes the binding. */
  bound?: boolean;
};

export type TreeState = {
  rootId: string | null;
  nodes: readonly ExistingNode[];
  relationships: readonly TreeRelationship[];
};

export type FormulaIssue = {
  /** 0-based position in the formula list. */
  line: number;
  /** Character offset inside that formula. */
  index: number;
  message: string;
  expected?: string;
  /** Every line involved (conflicts name both). */
  lines?: number[];
  labels?: string[];
};

export type NewNode = {
  id: string;
  label: string;
  nodeType: TreeNodeType;
  value: number | null;
  positionX: number;
  positionY: number;
};

export type ImportPlan = {
  ok: true;
  rootId: string | null;
  /** True when the tree had no root and this import gives it one. */
  rootChanged: boolean;
  createNodes: NewNode[];
  /** Existing input nodes that gain a formula: set `nodeType = calculation`, `value = null`. */
  promoteNodes: { id: string; label: string; unbind: boolean }[];
  createRelationships: TreeRelationship[];
  /** New input nodes, for the optional binding to sheet subjects. */
  createdInputs: { id: string; label: string }[];
  warnings: { code: "BINDING_REMOVED"; nodeId: string; label: string }[];
};

export type ImportRefusal =
  | { ok: false; code: "FORMULA_INVALID"; errors: FormulaIssue[] }
  | { ok: false; code: "TREE_CYCLE"; cycle: string[] };

export type ImportOptions = { positionX?: number; positionY?: number; newId: () => string };

type Desired = { op: BinaryOp; children: string[]; line: number };
type Leaf = { kind: "constant"; value: number } | { kind: "input" };

export function planImport(
  tree: TreeState,
  formulas: readonly string[],
  options: ImportOptions,
): ImportPlan | ImportRefusal {
  const errors: FormulaIssue[] = [];
  const parsed: { line: number; label: string; term: FormulaTerm }[] = [];
  formulas.forEach((src, line) => {
    try {
      const f = parseFormula(src);
      parsed.push({ line, label: f.label, term: toTerm(f.expr) });
    } catch (e) {
      if (!(e instanceof FormulaSyntaxError)) throw e;
      errors.push({ line, index: e.index, message: e.message, expected: e.expected });
    }
  });
  if (errors.length > 0) return { ok: false, code: "FORMULA_INVALID", errors };

  // Labels in first-appearance order; each is either calculated (desired) or a leaf.
  const desired = new Map<string, Desired>();
  const leaves = new Map<string, Leaf>();
  const order: string[] = [];
  const seen = (label: string) => {
    if (!desired.has(label) && !leaves.has(label)) order.push(label);
  };
  const lhs: string[] = [];

  const tooLong = (label: string, line: number) => {
    if (label.length <= MAX_NODE_LABEL_LENGTH) return false;
    errors.push({
      line,
      index: 0,
      message: `the label 「${label.slice(0, 40)}…」 is longer than ${MAX_NODE_LABEL_LENGTH} characters`,
      labels: [label],
    });
    return true;
  };

  const declare = (label: string, op: BinaryOp, children: string[], line: number) => {
    const twice = children.find((c, i) => children.indexOf(c) !== i);
    if (twice !== undefined) {
      errors.push({
        line,
        index: 0,
        message: `「${twice}」 appears twice among the operands of 「${label}」; a node is a child of one parent at most once`,
        labels: [label, twice],
      });
      return;
    }
    const prior = desired.get(label);
    if (prior) {
      if (prior.op !== op || prior.children.join("\u0000") !== children.join("\u0000")) {
        errors.push({
          line,
          index: 0,
          message: `「${label}」 has two different formulas (lines ${prior.line} and ${line})`,
          lines: [prior.line, line],
          labels: [label],
        });
      }
      return;
    }
    seen(label);
    desired.set(label, { op, children, line });
  };

  const leaf = (label: string, kind: Leaf) => {
    seen(label);
    if (!leaves.has(label)) leaves.set(label, kind);
  };

  const operand = (t: FormulaTerm, line: number): string => {
    switch (t.k) {
      case "num": {
        const label = canonicalNumber(t.value);
        leaf(label, { kind: "constant", value: t.value });
        return label;
      }
      case "id":
        if (!tooLong(t.name, line)) leaf(t.name, { kind: "input" });
        return t.name;
      default: {
        const label = printTerm(t);
        if (!tooLong(label, line)) relationOf(label, t, line);
        return label;
      }
    }
  };

  const relationOf = (label: string, t: FormulaTerm, line: number) => {
    if (t.k === "op") {
      declare(
        label,
        t.op,
        t.args.map((a) => operand(a, line)),
        line,
      );
    } else if (t.k === "neg") {
      leaf(ZERO_LABEL, { kind: "constant", value: 0 });
      declare(label, "-", [ZERO_LABEL, operand(t.arg, line)], line);
    } else {
      // `a = b` and `a = 5`: a one-child sum keeps the fold rule uniform.
      declare(label, "+", [operand(t, line)], line);
    }
  };

  for (const f of parsed) {
    if (tooLong(f.label, f.line)) continue;
    if (!lhs.includes(f.label)) lhs.push(f.label);
    relationOf(f.label, f.term, f.line);
  }
  if (errors.length > 0) return { ok: false, code: "FORMULA_INVALID", errors };

  // Resolve labels against the tree.
  const byLabel = new Map(tree.nodes.map((n) => [n.label, n]));
  const existingRel = new Map(tree.relationships.map((r) => [r.parentId, r]));
  const idOf = new Map<string, string>();
  const createNodes: NewNode[] = [];
  const promoteNodes: ImportPlan["promoteNodes"] = [];
  const warnings: ImportPlan["warnings"] = [];
  for (const label of order) {
    const node = byLabel.get(label);
    const want = desired.get(label);
    if (node) {
      idOf.set(label, node.id);
      if (want && node.nodeType === "constant") {
        errors.push({
          line: want.line,
          index: 0,
          message: `「${label}」 is a constant node of the tree and cannot get a formula`,
          lines: [want.line],
          labels: [label],
        });
      } else if (want && node.nodeType === "input") {
        promoteNodes.push({ id: node.id, label, unbind: node.bound === true });
        if (node.bound) warnings.push({ code: "BINDING_REMOVED", nodeId: node.id, label });
      }
      continue;
    }
    const id = options.newId();
    idOf.set(label, id);
    const l = leaves.get(label);
    createNodes.push({
      id,
      label,
      nodeType: want ? "calculation" : (l?.kind ?? "input"),
      value: !want && l?.kind === "constant" ? l.value : null,
      positionX: 0,
      positionY: 0,
    });
  }

  const createRelationships: TreeRelationship[] = [];
  for (const [label, want] of desired) {
    const parentId = idOf.get(label) as string;
    const childIds = want.children.map((c) => idOf.get(c) as string);
    const have = existingRel.get(parentId);
    if (have) {
      if (have.operator !== want.op || have.childIds.join("\u0000") !== childIds.join("\u0000")) {
        errors.push({
          line: want.line,
          index: 0,
          message: `「${label}」 already has a different relationship in the tree`,
          lines: [want.line],
          labels: [label],
        });
      }
      continue;
    }
    createRelationships.push({ parentId, operator: want.op, childIds });
  }
  if (errors.length > 0) return { ok: false, code: "FORMULA_INVALID", errors };

  const children = new Map<string, readonly string[]>();
  for (const r of tree.relationships) children.set(r.parentId, r.childIds);
  for (const r of createRelationships) children.set(r.parentId, r.childIds);
  const childrenOf = (id: string) => children.get(id);
  const labelOf = new Map<string, string>();
  for (const n of tree.nodes) labelOf.set(n.id, n.label);
  for (const n of createNodes) labelOf.set(n.id, n.label);

  const usedAsChild = new Set<string>();
  for (const kids of children.values()) for (const k of kids) usedAsChild.add(k);
  const importRoots = lhs.filter((l) => !usedAsChild.has(idOf.get(l) as string));

  let rootId = tree.rootId;
  if (rootId === null) {
    if (importRoots.length > 1) {
      const lines = importRoots.map((l) => desired.get(l)?.line ?? 0);
      return {
        ok: false,
        code: "FORMULA_INVALID",
        errors: [
          {
            line: lines[0],
            index: 0,
            message: `expected one root, found ${importRoots.length}: ${importRoots.map((l) => `「${l}」`).join(", ")}`,
            lines,
            labels: importRoots,
          },
        ],
      };
    }
    rootId = importRoots.length === 1 ? (idOf.get(importRoots[0]) as string) : null;
  }

  const allIds = [...(rootId ? [rootId] : []), ...lhs.map((l) => idOf.get(l) as string), ...labelOf.keys()];
  const cycle = findCycle(allIds, childrenOf);
  if (cycle) return { ok: false, code: "TREE_CYCLE", cycle: cycle.map((id) => labelOf.get(id) ?? id) };
  if (rootId === null) {
    return {
      ok: false,
      code: "FORMULA_INVALID",
      errors: [
        { line: 0, index: 0, message: "expected a root: every left-hand label is used on a right-hand side" },
      ],
    };
  }

  const starts = [rootId, ...importRoots.map((l) => idOf.get(l) as string), ...createNodes.map((n) => n.id)];
  const positions = tidyLayout(starts, childrenOf, { x: options.positionX ?? 0, y: options.positionY ?? 0 });
  for (const n of createNodes) {
    const p = positions.get(n.id);
    if (p) {
      n.positionX = p.x;
      n.positionY = p.y;
    }
  }

  return {
    ok: true,
    rootId,
    rootChanged: rootId !== tree.rootId,
    createNodes,
    promoteNodes,
    createRelationships,
    createdInputs: createNodes
      .filter((n) => n.nodeType === "input")
      .map((n) => ({ id: n.id, label: n.label })),
    warnings,
  };
}

/** The tree after `plan` (what the service writes), for callers that keep a tree in memory. */
export function applyImportPlan(tree: TreeState, plan: ImportPlan): TreeState {
  const promoted = new Set(plan.promoteNodes.map((n) => n.id));
  return {
    rootId: plan.rootId,
    nodes: [
      ...tree.nodes.map((n) =>
        promoted.has(n.id) ? { ...n, nodeType: "calculation" as const, bound: false } : n,
      ),
      ...plan.createNodes.map((n) => ({
        id: n.id,
        label: n.label,
        nodeType: n.nodeType,
        positionX: n.positionX,
        positionY: n.positionY,
      })),
    ],
    relationships: [...tree.relationships, ...plan.createRelationships],
  };
}

/**
 * A formula master's list (analysis.md §7.10, admin `FORMULA_INVALID`): it must parse, be acyclic
 * and, when `kpi` is given, have that KPI as its single root. Returns the refusal, or null.
 */
export function formulaListIssue(formulas: readonly string[], kpi?: string): ImportRefusal | null {
  if (formulas.length === 0) {
    return {
      ok: false,
      code: "FORMULA_INVALID",
      errors: [{ line: 0, index: 0, message: "expected at least one formula" }],
    };
  }
  let n = 0;
  const plan = planImport({ rootId: null, nodes: [], relationships: [] }, formulas, {
    newId: () => `f${n++}`,
  });
  if (!plan.ok) return plan;
  const root = plan.createNodes.find((x) => x.id === plan.rootId)?.label;
  if (kpi !== undefined && root !== kpi) {
    return {
      ok: false,
      code: "FORMULA_INVALID",
      errors: [
        {
          line: 0,
          index: 0,
          message: `expected the root 「${kpi}」, found 「${root}」`,
          labels: [root ?? ""],
        },
      ],
    };
  }
  return null;
}
