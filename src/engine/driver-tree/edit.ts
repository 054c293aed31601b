/*
 * The rules of analysis.md §7.4 for editing a tree, as pure checks over an in-memory tree: the
 * service loads the tree (under its lock), asks here, and writes what comes back.
 */
import {
  findCycle,
  type TreeNodeType,
  type TreeOperator,
  type TreeRelationship,
} from "@/engine/driver-tree/graph";

export type EditNode = { id: string; label: string; nodeType: TreeNodeType };
export type EditTree = {
  rootId: string | null;
  nodes: readonly EditNode[];
  relationships: readonly TreeRelationship[];
};

export type EditRefusal =
  | { ok: false; code: "TREE_CYCLE"; cycle: string[] }
  | { ok: false; code: "NODE_NOT_IN_TREE"; nodeIds: string[] }
  | { ok: false; code: "OPERATOR_REQUIRED" }
  | { ok: false; code: "VALIDATION_FAILED"; field: string; message: string }
  | { ok: false; code: "ROOT_NODE_PROTECTED" };

/** What to write for the edited node: its relationship (null = none) and its type. */
export type NodeEdit = {
  ok: true;
  nodeType: TreeNodeType;
  relationship: TreeRelationship | null;
  changed: boolean;
};

function cycleThrough(tree: EditTree, parentId: string, childIds: readonly string[]): string[] | null {
  const rel = new Map(tree.relationships.map((r) => [r.parentId, r.childIds]));
  rel.set(parentId, childIds);
  // From the root first, so the cycle reads top-down (`売上 → 客数 → 売上`).
  const cycle = findCycle(tree.rootId ? [tree.rootId, parentId] : [parentId], (id) => rel.get(id));
  if (!cycle) return null;
  const label = new Map(tree.nodes.map((n) => [n.id, n.label]));
  return cycle.map((id) => label.get(id) ?? id);
}

/**
 * `PATCH …/node/{nodeId}` with `nodeType`, `operator` and/or `childrenIdList` (absent = unchanged):
 * creates the relationship when missing, replaces the ordered child list, `[]` removes it.
 */
export function checkNodeEdit(
  tree: EditTree,
  nodeId: string,
  patch: { nodeType?: TreeNodeType; operator?: TreeOperator; childIds?: readonly string[] },
): NodeEdit | EditRefusal {
  const node = tree.nodes.find((n) => n.id === nodeId);
  if (!node) return { ok: false, code: "NODE_NOT_IN_TREE", nodeIds: [nodeId] };
  const current = tree.relationships.find((r) => r.parentId === nodeId) ?? null;
  const nodeType = patch.nodeType ?? node.nodeType;

  let relationship = current;
  if (patch.childIds !== undefined) {
    const ids = patch.childIds;
    const known = new Set(tree.nodes.map((n) => n.id));
    const foreign = ids.filter((c) => !known.has(c));
    if (foreign.length > 0) return { ok: false, code: "NODE_NOT_IN_TREE", nodeIds: foreign };
    const twice = ids.find((c, i) => ids.indexOf(c) !== i);
    if (twice !== undefined) {
      return {
        ok: false,
        code: "VALIDATION_FAILED",
        field: "childrenIdList",
        message: `${twice} is listed twice`,
      };
    }
    if (ids.length === 0) relationship = null;
    else {
      const operator = patch.operator ?? current?.operator;
      if (!operator) return { ok: false, code: "OPERATOR_REQUIRED" };
      relationship = { parentId: nodeId, operator, childIds: [...ids] };
    }
  } else if (patch.operator !== undefined && current) {
    relationship = { ...current, operator: patch.operator };
  }

  if (relationship && nodeType !== "calculation") {
    return {
      ok: false,
      code: "VALIDATION_FAILED",
      field: patch.childIds !== undefined ? "childrenIdList" : "nodeType",
      message:
        patch.childIds !== undefined
          ? `only a calculation node has children; this node is ${nodeType}`
          : `a node with children must stay a calculation node`,
    };
  }
  if (relationship && relationship !== current) {
    const cycle = cycleThrough(tree, nodeId, relationship.childIds);
    if (cycle) return { ok: false, code: "TREE_CYCLE", cycle };
  }
  const changed =
    nodeType !== node.nodeType ||
    (relationship === null) !== (current === null) ||
    (relationship !== null &&
      current !== null &&
      (relationship.operator !== current.operator ||
        relationship.childIds.join("\u0000") !== current.childIds.join("\u0000")));
  return { ok: true, nodeType, relationship, changed };
}

/**
 * `POST …/node` with `parentId`: the new node is appended to the parent's children; the parent's
 * relationship is created when absent (then `operator` is required).
 */
export function checkAppendChild(
  tree: EditTree,
  parentId: string,
  childId: string,
  operator?: TreeOperator,
): { ok: true; relationship: TreeRelationship; created: boolean } | EditRefusal {
  const parent = tree.nodes.find((n) => n.id === parentId);
  if (!parent) return { ok: false, code: "NODE_NOT_IN_TREE", nodeIds: [parentId] };
  if (parent.nodeType !== "calculation") {
    return {
      ok: false,
      code: "VALIDATION_FAILED",
      field: "parentId",
      message: `the parent is a ${parent.nodeType} node; only a calculation node has children`,
    };
  }
  const current = tree.relationships.find((r) => r.parentId === parentId);
  if (current)
    return {
      ok: true,
      relationship: { ...current, childIds: [...current.childIds, childId] },
      created: false,
    };
  if (!operator) return { ok: false, code: "OPERATOR_REQUIRED" };
  return { ok: true, relationship: { parentId, operator, childIds: [childId] }, created: true };
}

/**
 * `DELETE …/node/{nodeId}`: the node leaves its parents' lists (an emptied relationship is
 * removed) and its own relationship goes; the root is protected.
 */
export function planNodeDelete(
  tree: EditTree,
  nodeId: string,
): { ok: true; update: TreeRelationship[]; remove: string[] } | EditRefusal {
  if (tree.rootId === nodeId) return { ok: false, code: "ROOT_NODE_PROTECTED" };
  if (!tree.nodes.some((n) => n.id === nodeId))
    return { ok: false, code: "NODE_NOT_IN_TREE", nodeIds: [nodeId] };
  const update: TreeRelationship[] = [];
  const remove: string[] = [];
  for (const r of tree.relationships) {
    if (r.parentId === nodeId) {
      remove.push(r.parentId);
      continue;
    }
    if (!r.childIds.includes(nodeId)) continue;
    const childIds = r.childIds.filter((c) => c !== nodeId);
    if (childIds.length === 0) remove.push(r.parentId);
    else update.push({ ...r, childIds });
  }
  return { ok: true, update, remove };
}
