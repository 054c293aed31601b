import type { Database, DbOrTx } from "@/db/client";
import { writeAudit } from "@/db/queries/audit";
import { policyValueIssue } from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { page } from "@/lib/schema";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import { treeUpdated } from "./events";
import type { PolicyCreate, PolicyOut, PolicyPatch } from "./model";
import { nodeRef, writeNode } from "./nodes";
import * as q from "./queries";
import * as repo from "./repository";
import { type TreeDeps, treeNotFound } from "./service";

/*
 * Policies (施策, analysis.md §7.7) on a node: every field is persisted; each write changes what
 * the tree computes, so it runs under the tree's lock and produces `tree_updated`.
 */

const policyNotFound = () => problem("POLICY_NOT_FOUND");

function checkValue(kind: PolicyOut["valueKind"], value: number) {
  const issue = policyValueIssue(kind, value);
  if (issue)
    throw problem("VALIDATION_FAILED", { detail: issue, errors: [{ path: "/body/value", message: issue }] });
}

const policyAudit = (
  tx: DbOrTx,
  deps: TreeDeps,
  projectId: string,
  action: string,
  policyId: string,
  values: { oldValue?: unknown; newValue?: unknown },
) =>
  writeAudit(tx, deps.actor, {
    eventType: "DATA_CHANGE",
    action,
    resourceType: "driver_tree_policy",
    resourceId: policyId,
    projectId,
    ...values,
  });

const auditView = (p: PolicyOut) => ({
  nodeId: p.nodeId,
  name: p.name,
  value: p.value,
  valueKind: p.valueKind,
  description: p.description,
  cost: p.cost,
  durationMonths: p.durationMonths,
  startPeriod: p.startPeriod,
  status: p.status,
});

export async function createPolicy(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  nodeId: string,
  body: PolicyCreate,
): Promise<PolicyOut> {
  const projectId = access.project.id;
  const valueKind = body.valueKind ?? "percent";
  checkValue(valueKind, body.value);
  return writeNode(deps, caller, access, nodeId, async (tx, ref) => {
    const id = newId();
    await repo.insertPolicies(tx, [
      {
        id,
        nodeId,
        label: body.name.trim() || body.name,
        value: body.value,
        valueKind,
        description: body.description ?? null,
        cost: body.cost ?? null,
        durationMonths: body.durationMonths ?? null,
        startPeriod: body.startPeriod ?? null,
        status: body.status ?? "planned",
        createdBy: caller.user.id,
      },
    ]);
    await repo.updateTree(tx, ref.treeId);
    const created = (await q.findPolicy(tx, nodeId, id)) as PolicyOut;
    await policyAudit(tx, deps, projectId, "CREATE", id, { newValue: auditView(created) });
    await treeUpdated(tx, {
      projectId,
      treeId: ref.treeId,
      actorId: caller.user.id,
      message: `policy ${created.name} added`,
    });
    return created;
  });
}

export async function listNodePolicies(
  db: Database,
  projectId: string,
  nodeId: string,
  query: { skip?: number; limit?: number },
) {
  await nodeRef(db, projectId, nodeId);
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { items, total } = await q.listPolicies(db, { nodeId }, { skip, limit });
  return page(items, total, skip, limit);
}

export async function listTreePolicies(
  db: Database,
  projectId: string,
  treeId: string,
  query: { skip?: number; limit?: number; status?: string },
) {
  if (!(await q.treeExists(db, projectId, treeId))) throw treeNotFound();
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { items, total } = await q.listPolicies(db, { treeId }, { skip, limit, status: query.status });
  return page(items, total, skip, limit);
}

export async function updatePolicy(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  nodeId: string,
  policyId: string,
  body: PolicyPatch,
): Promise<PolicyOut> {
  const projectId = access.project.id;
  return writeNode(deps, caller, access, nodeId, async (tx, ref) => {
    const before = await q.findPolicy(tx, nodeId, policyId);
    if (!before) throw policyNotFound();
    checkValue(body.valueKind ?? before.valueKind, body.value ?? before.value);
    await repo.updatePolicy(tx, policyId, {
      label: body.name === undefined ? undefined : body.name.trim() || before.name,
      value: body.value,
      valueKind: body.valueKind,
      description: body.description,
      cost: body.cost,
      durationMonths: body.durationMonths,
      startPeriod: body.startPeriod,
      status: body.status,
    });
    await repo.updateTree(tx, ref.treeId);
    const after = (await q.findPolicy(tx, nodeId, policyId)) as PolicyOut;
    await policyAudit(tx, deps, projectId, "UPDATE", policyId, {
      oldValue: auditView(before),
      newValue: auditView(after),
    });
    await treeUpdated(tx, {
      projectId,
      treeId: ref.treeId,
      actorId: caller.user.id,
      message: `policy ${after.name} changed`,
    });
    return after;
  });
}

export async function deletePolicy(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  nodeId: string,
  policyId: string,
): Promise<void> {
  const projectId = access.project.id;
  await writeNode(deps, caller, access, nodeId, async (tx, ref) => {
    const before = await q.findPolicy(tx, nodeId, policyId);
    if (!before) throw policyNotFound();
    await policyAudit(tx, deps, projectId, "DELETE", policyId, { oldValue: auditView(before) });
    await repo.deletePolicy(tx, policyId);
    await repo.updateTree(tx, ref.treeId);
    await treeUpdated(tx, {
      projectId,
      treeId: ref.treeId,
      actorId: caller.user.id,
      message: `policy ${before.name} deleted`,
    });
  });
}
