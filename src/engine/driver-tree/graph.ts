/*
 * Graph helpers over a driver tree's DAG (node ids; children in relationship order). Iterative, so
 * deep chains (a 10,000-node spine) never overflow the call stack.
 */
import type { BinaryOp } from "@/engine/driver-tree/grammar";

export type TreeOperator = BinaryOp;
export type TreeNodeType = "calculation" | "input" | "constant";
export type TreeRelationship = { parentId: string; operator: TreeOperator; childIds: readonly string[] };

export type ChildrenOf = (id: string) => readonly string[] | undefined;

export function childrenMap(relationships: readonly TreeRelationship[]): Map<string, readonly string[]> {
  return new Map(relationships.map((r) => [r.parentId, r.childIds]));
}

/**
 * Depth-first walk from each of `ids` (in order) with an explicit stack. `done` sees each node
 * once, after all its children (post-order); the walk stops at the first back edge and returns
 * that cycle as a path that starts and ends with the same id (`[a, b, a]`), else null.
 */
function walk(ids: Iterable<string>, childrenOf: ChildrenOf, done?: (id: string) => void): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1 = on the current path, 2 = done
  for (const start of ids) {
    if (state.has(start)) continue;
    const path: string[] = [start];
    const cursor: number[] = [0];
    state.set(start, 1);
    while (path.length > 0) {
      const top = path[path.length - 1];
      const kids = childrenOf(top) ?? [];
      const i = cursor[cursor.length - 1];
      if (i >= kids.length) {
        state.set(top, 2);
        done?.(top);
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[cursor.length - 1] = i + 1;
      const next = kids[i];
      const s = state.get(next);
      if (s === 1) return [...path.slice(path.indexOf(next)), next];
      if (s === undefined) {
        state.set(next, 1);
        path.push(next);
        cursor.push(0);
      }
    }
  }
  return null;
}

/** The first cycle reachable from `ids` (in order), as `[a, b, a]`, or null when acyclic. */
export function findCycle(ids: Iterable<string>, childrenOf: ChildrenOf): string[] | null {
  return walk(ids, childrenOf);
}

/** Children before parents; every id once. Throws `CycleError` on a cycle. */
export function topologicalOrder(ids: readonly string[], childrenOf: ChildrenOf): string[] {
  const order: string[] = [];
  const cycle = walk(ids, childrenOf, (id) => order.push(id));
  if (cycle) throw new CycleError(cycle);
  return order;
}

export class CycleError extends Error {
  constructor(readonly cycle: string[]) {
    super(`cycle: ${cycle.join(" → ")}`);
    this.name = "CycleError";
  }
}

export type LayoutPosition = { x: number; y: number };

/**
 * The tidy layout of analysis.md §7.3: depth-first from each start in order (children in order,
 * each node placed once, at its first visit), y = originY + 120 × depth, x = originX + 200 × the
 * index of the node's first leaf in depth-first order. The leaf counter runs across all starts.
 */
export function tidyLayout(
  starts: readonly string[],
  childrenOf: ChildrenOf,
  origin: { x: number; y: number },
): Map<string, LayoutPosition> {
  const depth = new Map<string, number>();
  const firstLeaf = new Map<string, number>();
  let leaves = 0;
  for (const start of starts) {
    if (depth.has(start)) continue;
    depth.set(start, 0);
    const path: string[] = [start];
    const cursor: number[] = [0];
    while (path.length > 0) {
      const top = path[path.length - 1];
      const kids = childrenOf(top) ?? [];
      if (kids.length === 0 && !firstLeaf.has(top)) firstLeaf.set(top, leaves++);
      const i = cursor[cursor.length - 1];
      if (i >= kids.length) {
        if (kids.length > 0) firstLeaf.set(top, firstLeaf.get(kids[0]) ?? 0);
        path.pop();
        cursor.pop();
        continue;
      }
      cursor[cursor.length - 1] = i + 1;
      const next = kids[i];
      // A node already on the path (a cycle) or placed earlier keeps its first placement.
      if (depth.has(next)) continue;
      depth.set(next, path.length);
      path.push(next);
      cursor.push(0);
    }
  }
  const out = new Map<string, LayoutPosition>();
  for (const [id, d] of depth)
    out.set(id, { x: origin.x + 200 * (firstLeaf.get(id) ?? 0), y: origin.y + 120 * d });
  return out;
}
