import type { Database, DbOrTx } from "@/db/client";
import { type BoundSeries, bindingSeries, type EvalResult, evaluateTree, orderPeriods } from "@/engine";
import type { FrameCache } from "./frame-cache";
import type { TreeDataOut } from "./model";
import * as q from "./queries";
import { treeNotFound } from "./service";
import { evalFrames } from "./sheet-frames";
import * as sq from "./sheet-queries";

/*
 * Evaluation of a stored tree (analysis.md §7.5–7.7): the tree, its policies and the bound sheet
 * columns are read in one read-only snapshot, so a concurrent edit never shows half-applied, and
 * evaluated by the engine. The periods are the union of the bound series' time values (§7.6);
 * a tree without bindings has the one period `total`.
 */

type AxisData = { values?: (string | null)[] };
type SubjectData = { items?: Record<string, (number | null)[]> };

/**
 * The series of every bound input node whose sheet has a time column (a node bound to a sheet
 * without one keeps its manual value). Each sheet's columns are read once.
 */
export async function boundSeries(
  db: DbOrTx,
  treeId: string,
  cache?: FrameCache,
): Promise<Map<string, BoundSeries>> {
  const bound = await sq.boundNodesOfTree(db, treeId);
  const out = new Map<string, BoundSeries>();
  if (bound.length === 0) return out;
  const frames = await evalFrames(
    db,
    [...new Set(bound.map((b) => b.sheetId))],
    [...new Set(bound.map((b) => b.item))],
    cache,
  );
  for (const b of bound) {
    const own = frames.filter((f) => f.sheetId === b.sheetId);
    const time = own.find((f) => f.role === "time" && !f.isSubject);
    if (!time) continue;
    const items = (own.find((f) => f.isSubject)?.data as SubjectData | undefined)?.items ?? {};
    const filters = Object.entries(b.axisFilter ?? {}).flatMap(([columnId, allowed]) => {
      const column = own.find((f) => f.columnId === columnId && f.role === "axis");
      return column ? [{ values: (column.data as AxisData).values ?? [], allowed }] : [];
    });
    out.set(
      b.nodeId,
      bindingSeries({
        time: (time.data as AxisData).values ?? [],
        values: items[b.item] ?? [],
        filters,
        aggregation: b.aggregation,
      }),
    );
  }
  return out;
}

export async function evaluateStored(
  db: DbOrTx,
  treeId: string,
  withPolicies: boolean,
  cache?: FrameCache,
): Promise<EvalResult> {
  const state = await q.loadTreeState(db, treeId);
  const policies = await q.loadTreePolicies(db, treeId);
  const series = await boundSeries(db, treeId, cache);
  return evaluateTree({
    periods: orderPeriods([...series.values()].map((s) => s.periods)),
    rootId: state.rootId,
    nodes: state.nodes.map((n) => {
      const s = series.get(n.id);
      return s ? { ...n, series: s.values } : n;
    }),
    relationships: state.relationships,
    policies,
    withPolicies,
  });
}

/** Reads in one repeatable-read, read-only transaction (a single consistent snapshot). */
export function snapshotRead<T>(db: Database, read: (tx: DbOrTx) => Promise<T>): Promise<T> {
  return db.transaction(read, { isolationLevel: "repeatable read", accessMode: "read only" });
}

export async function treeData(
  db: Database,
  projectId: string,
  treeId: string,
  withPolicies: boolean,
  cache?: FrameCache,
): Promise<TreeDataOut> {
  const result = await snapshotRead(db, async (tx) => {
    if (!(await q.treeExists(tx, projectId, treeId))) throw treeNotFound();
    return evaluateStored(tx, treeId, withPolicies, cache);
  });
  return {
    treeId,
    periods: result.periods,
    withPolicies: result.withPolicies,
    calculatedAt: new Date().toISOString(),
    calculatedDataList: result.nodes,
    summary: result.summary,
  };
}
