import { expect } from "bun:test";
import type { DatabaseHandle } from "@/db/client";
import { newId } from "@/lib/ids";
import type { NodeDetailOut, PolicyOut, TreeDataOut, TreeDetailOut } from "@/modules/driver-tree/model";
import { json } from "./http";
import { jsonInit } from "./users";

type Requester = (path: string, init?: RequestInit) => Promise<Response>;
type Auth = { auth: Record<string, string> };

/*
 * Typed calls to the driver-tree routes of one project (api.md §2.8): each returns the Response
 * for status checks; the `…Ok` variants assert the success status and return the parsed body.
 */
export function driverTreeApi(request: Requester, projectId: string) {
  const base = `/api/v1/project/${projectId}/driver-tree`;
  const call = (method: string, path: string, who: Auth, body?: unknown) =>
    request(
      `${base}${path}`,
      body === undefined ? { method, headers: who.auth } : jsonInit(method, body, who.auth),
    );
  const ok = async <T>(res: Promise<Response>, status = 200): Promise<T> => {
    const r = await res;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${await r.text()}`);
    return status === 204 ? (undefined as T) : json<T>(r);
  };
  return {
    base,
    call,
    createTree: (who: Auth, body: Record<string, unknown>) =>
      ok<TreeDetailOut>(call("POST", "/tree", who, body), 201),
    getTree: (who: Auth, treeId: string) => ok<TreeDetailOut>(call("GET", `/tree/${treeId}`, who)),
    importFormulas: (who: Auth, treeId: string, formulas: string[], origin: Record<string, number> = {}) =>
      call("POST", `/tree/${treeId}/import`, who, { formulas, ...origin }),
    importOk: (who: Auth, treeId: string, formulas: string[], origin: Record<string, number> = {}) =>
      ok<TreeDetailOut>(call("POST", `/tree/${treeId}/import`, who, { formulas, ...origin })),
    patchNode: (who: Auth, nodeId: string, body: Record<string, unknown>) =>
      call("PATCH", `/node/${nodeId}`, who, body),
    patchNodeOk: (who: Auth, nodeId: string, body: Record<string, unknown>) =>
      ok<NodeDetailOut>(call("PATCH", `/node/${nodeId}`, who, body)),
    addPolicy: (who: Auth, nodeId: string, body: Record<string, unknown>) =>
      ok<PolicyOut>(call("POST", `/node/${nodeId}/policy`, who, body), 201),
    data: (who: Auth, treeId: string, query = "") =>
      ok<TreeDataOut>(call("GET", `/tree/${treeId}/data${query}`, who)),
  };
}

/** The node of `tree` labelled `label` (fails the test when absent). */
export function nodeByLabel(tree: TreeDetailOut, label: string) {
  const node = tree.nodes.find((n) => n.label === label);
  expect(node, `node ${label}`).toBeDefined();
  return node!;
}

/** Labels of `parent`'s children, in order. */
export function childLabels(tree: TreeDetailOut, parent: string): string[] {
  const id = nodeByLabel(tree, parent).id;
  const rel = tree.relationship.find((r) => r.parentId === id);
  return (rel?.childIdList ?? []).map((c) => tree.nodes.find((n) => n.id === c)?.label ?? c);
}

/** The series of `label` in a TreeData answer. */
export function seriesOf(data: TreeDataOut, label: string) {
  const row = data.calculatedDataList.find((r) => r.label === label);
  expect(row, `data row ${label}`).toBeDefined();
  return row!;
}

/** A formula master row, written straight to the table (the masters are another module's). */
export async function insertFormula(db: DatabaseHandle, formulas: string[], kpi = "売上") {
  const id = newId();
  await db.raw.query(
    "insert into driver_tree_formula (id, driver_type_id, driver_type, kpi, formulas) values ($1, $2, $3, $4, $5::jsonb)",
    [id, newId(), `テスト型 ${id.slice(-6)}`, kpi, JSON.stringify(formulas)],
  );
  return id;
}
