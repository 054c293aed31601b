import type { Database, DbOrTx } from "@/db/client";
import { type EvalResult, evaluateTree } from "@/engine";
import type { TreeDataOut } from "./model";
import * as q from "./queries";
import { treeNotFound } from "./service";

/*
 * Evaluation of a stored tree (analysis.md §7.6–7.7): the tree and its policies are read in one
 * read-only snapshot, so a concurrent edit never shows half-applied, and evaluated by the engine.
 * Bound series join in with the binding routes (part 2); until then every tree has the one
 * period `total` and inputs take their manual values.
 */

export async function evaluateStored(db: DbOrTx, treeId: string, withPolicies: boolean): Promise<EvalResult> {
  const [state, policies] = [await q.loadTreeState(db, treeId), await q.loadTreePolicies(db, treeId)];
  return evaluateTree({
    periods: ["total"],
    rootId: state.rootId,
    nodes: state.nodes,
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
): Promise<TreeDataOut> {
  const result = await snapshotRead(db, async (tx) => {
    if (!(await q.treeExists(tx, projectId, treeId))) throw treeNotFound();
    return evaluateStored(tx, treeId, withPolicies);
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
