/*
 * The reading order of a tree for exports and pictures (analysis.md §7.9): depth-first from the
 * root, children in relationship order, each node once at its first visit (a node with several
 * parents sits under the first); then the detached parts, each from a node nobody points at, in
 * the given node order. Iterative, like the other graph walks.
 */
import { canonicalIdentifier, canonicalNumber } from "@/engine/driver-tree/grammar";
import type { TreeNodeType, TreeRelationship } from "@/engine/driver-tree/graph";

export type OutlineNode = { id: string; label: string; nodeType: TreeNodeType; value?: number | null };
export type OutlineEntry = {
  id: string;
  depth: number;
  /** The node this one was first reached from; null for the root and detached starts. */
  parentId: string | null;
  /** False for the root's part, true for nodes not reachable from the root. */
  detached: boolean;
};

export function treeOutline(
  rootId: string | null,
  nodes: readonly OutlineNode[],
  relationships: readonly TreeRelationship[],
): OutlineEntry[] {
  const kids = new Map(relationships.map((r) => [r.parentId, r.childIds]));
  const known = new Set(nodes.map((n) => n.id));
  const hasParent = new Set(relationships.flatMap((r) => r.childIds));
  const out: OutlineEntry[] = [];
  const seen = new Set<string>();
  const from = (start: string, detached: boolean) => {
    if (seen.has(start) || !known.has(start)) return;
    // Stack of [id, depth, parent]; children pushed in reverse so they pop in order.
    const stack: [string, number, string | null][] = [[start, 0, null]];
    while (stack.length > 0) {
      const [id, depth, parentId] = stack.pop() as [string, number, string | null];
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ id, depth, parentId, detached });
      const list = kids.get(id) ?? [];
      for (let i = list.length - 1; i >= 0; i--) {
        if (!seen.has(list[i]) && known.has(list[i])) stack.push([list[i], depth + 1, id]);
      }
    }
  };
  if (rootId !== null) from(rootId, false);
  for (const n of nodes) if (!hasParent.has(n.id)) from(n.id, true);
  // Whatever is left sits only under detached nodes' descendants already seen, or in a cycle.
  for (const n of nodes) from(n.id, true);
  return out;
}

/* A node as it is written in a formula: constants as their number, everything else as a label. */
function operand(n: OutlineNode): string {
  if (n.nodeType === "constant" && typeof n.value === "number" && canonicalNumber(n.value) === n.label) {
    return n.label;
  }
  return canonicalIdentifier(n.label);
}

/** `売上 = 稼働部屋数 * 単価` for a node with a relationship, else null. */
export function formulaOf(
  nodeId: string,
  byId: ReadonlyMap<string, OutlineNode>,
  relationship: TreeRelationship | undefined,
): string | null {
  const self = byId.get(nodeId);
  if (!self || !relationship || relationship.childIds.length === 0) return null;
  const terms = relationship.childIds.map((c) => {
    const child = byId.get(c);
    return child ? operand(child) : c;
  });
  return `${canonicalIdentifier(self.label)} = ${terms.join(` ${relationship.operator} `)}`;
}
