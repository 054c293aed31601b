import type { Database, DbOrTx } from "@/db/client";
import { writeAudit } from "@/db/queries/audit";
import { checkAppendChild, checkNodeEdit, type EditRefusal, planNodeDelete } from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import { evaluateStored, snapshotRead } from "./data";
import { treeUpdated } from "./events";
import type { FrameCache } from "./frame-cache";
import {
  NODE_TYPE_ALIASES,
  type NodeCreate,
  type NodeDetailOut,
  type NodePatch,
  type TreeDetailOut,
} from "./model";
import * as q from "./queries";
import * as repo from "./repository";
import { type TreeDeps, writeTree } from "./service";

/*
 * Nodes (api.md §2.8, analysis.md §7.4): create (optionally appended to a parent), read with its
 * relationship, parents, values and policies, change (fields, type, operator and ordered children)
 * and delete. The rules are the engine's (`checkAppendChild`, `checkNodeEdit`, `planNodeDelete`),
 * asked against the tree loaded under its lock.
 */

export const nodeNotFound = () => problem("NODE_NOT_FOUND");

/** The 422 of a refused edit, with what the caller needs to correct it. */
export function editProblem(refusal: EditRefusal) {
  switch (refusal.code) {
    case "TREE_CYCLE":
      return problem("TREE_CYCLE", {
        detail: `The change would create a cycle: ${refusal.cycle.join(" → ")}.`,
        extensions: { cycle: refusal.cycle },
      });
    case "NODE_NOT_IN_TREE":
      return problem("NODE_NOT_IN_TREE", {
        detail: `Not nodes of this tree: ${refusal.nodeIds.join(", ")}.`,
        extensions: { nodeIds: refusal.nodeIds },
      });
    case "VALIDATION_FAILED":
      return problem("VALIDATION_FAILED", {
        detail: refusal.message,
        errors: [{ path: `/body/${refusal.field}`, message: refusal.message }],
      });
    case "OPERATOR_REQUIRED":
      return problem("OPERATOR_REQUIRED", {
        errors: [{ path: "/body/operator", message: "required: the parent has no relationship yet" }],
      });
    case "ROOT_NODE_PROTECTED":
      return problem("ROOT_NODE_PROTECTED");
  }
}

const labelTaken = (label: string) =>
  problem("NAME_TAKEN", {
    detail: `The tree already has a node labelled 「${label}」.`,
    errors: [{ path: "/body/label", message: "a node of this tree already has this label" }],
  });

/** The node of this project (404 for unknown nodes and nodes of other projects alike). */
export async function nodeRef(db: DbOrTx, projectId: string, nodeId: string): Promise<q.NodeRef> {
  const ref = await q.findNodeRef(db, projectId, nodeId);
  if (!ref) throw nodeNotFound();
  return ref;
}

/** Runs `write` under the lock of the node's tree (Own|Mod+ of that tree), the node re-checked. */
export async function writeNode<T>(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  nodeId: string,
  write: (tx: DbOrTx, ref: q.NodeRef) => Promise<T>,
  first?: (tx: DbOrTx) => Promise<void>,
): Promise<T> {
  const ref = await nodeRef(deps.db, access.project.id, nodeId);
  return writeTree(
    deps,
    caller,
    access,
    ref.treeId,
    async (tx) => {
      // Deleted while this request waited for the lock.
      const current = await q.findNodeRef(tx, access.project.id, nodeId);
      if (!current) throw nodeNotFound();
      return write(tx, current);
    },
    nodeNotFound,
    first,
  );
}

const nodeAudit = (
  tx: DbOrTx,
  deps: TreeDeps,
  projectId: string,
  action: string,
  nodeId: string,
  values: { oldValue?: unknown; newValue?: unknown; metadata?: Record<string, unknown> },
) =>
  writeAudit(tx, deps.actor, {
    eventType: "DATA_CHANGE",
    action,
    resourceType: "driver_tree_node",
    resourceId: nodeId,
    projectId,
    ...values,
  });

export async function createNode(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  treeId: string,
  body: NodeCreate,
): Promise<TreeDetailOut & { createdNodeId: string }> {
  const projectId = access.project.id;
  return writeTree(deps, caller, access, treeId, async (tx) => {
    const state = await q.loadTreeState(tx, treeId);
    const label = body.label.trim() || body.label;
    if (state.nodes.some((n) => n.label === label)) throw labelTaken(label);
    const nodeType = NODE_TYPE_ALIASES[body.nodeType];
    const id = newId();
    const append = body.parentId ? checkAppendChild(state, body.parentId, id, body.operator) : null;
    if (append && !append.ok) throw editProblem(append);
    await repo.insertNodes(tx, treeId, [
      {
        id,
        label,
        nodeType,
        positionX: body.positionX,
        positionY: body.positionY,
        value: nodeType === "calculation" ? null : (body.value ?? null),
        unit: body.unit ?? null,
      },
    ]);
    if (append?.ok) await repo.replaceRelationships(tx, treeId, [append.relationship]);
    const becomesRoot = state.rootId === null && state.nodes.length === 0;
    await repo.updateTree(tx, treeId, becomesRoot ? { rootNodeId: id } : {});
    await nodeAudit(tx, deps, projectId, "CREATE", id, {
      newValue: { treeId, label, nodeType, value: body.value ?? null, parentId: body.parentId ?? null },
    });
    await treeUpdated(tx, { projectId, treeId, actorId: caller.user.id, message: `node ${label} added` });
    const detail = (await q.loadTreeDetail(tx, projectId, treeId)) as TreeDetailOut;
    return { ...detail, createdNodeId: id };
  });
}

/** The node with its relationship, parents, evaluated series (with policies) and policies. */
export async function nodeDetail(
  tx: DbOrTx,
  projectId: string,
  ref: q.NodeRef,
  frames?: FrameCache,
): Promise<NodeDetailOut> {
  const tree = (await q.loadTreeDetail(tx, projectId, ref.treeId)) as TreeDetailOut;
  const node = tree.nodes.find((n) => n.id === ref.nodeId);
  if (!node) throw nodeNotFound();
  const result = await evaluateStored(tx, ref.treeId, true, frames);
  const values = result.nodes.find((n) => n.nodeId === ref.nodeId)?.simulated ?? null;
  return {
    node,
    relationship: tree.relationship.find((r) => r.parentId === ref.nodeId) ?? null,
    parentIds: tree.relationship.filter((r) => r.childIdList.includes(ref.nodeId)).map((r) => r.parentId),
    data: values ? { periods: result.periods, values } : null,
    policies: await q.policiesOfNode(tx, ref.nodeId),
  };
}

export function getNode(
  db: Database,
  projectId: string,
  nodeId: string,
  frames?: FrameCache,
): Promise<NodeDetailOut> {
  return snapshotRead(db, async (tx) =>
    nodeDetail(tx, projectId, await nodeRef(tx, projectId, nodeId), frames),
  );
}

const STRUCTURAL = ["label", "nodeType", "value", "unit", "operator", "childrenIdList"] as const;

export async function updateNode(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  nodeId: string,
  body: NodePatch,
): Promise<NodeDetailOut> {
  const projectId = access.project.id;
  return writeNode(deps, caller, access, nodeId, async (tx, ref) => {
    const state = await q.loadTreeState(tx, ref.treeId);
    const before = state.nodes.find((n) => n.id === nodeId);
    if (!before) throw nodeNotFound();
    const label = body.label === undefined ? undefined : body.label.trim() || body.label;
    if (label !== undefined && label !== before.label && state.nodes.some((n) => n.label === label)) {
      throw labelTaken(label);
    }
    const nodeType = body.nodeType === undefined ? undefined : NODE_TYPE_ALIASES[body.nodeType];
    const edit = checkNodeEdit(state, nodeId, {
      nodeType,
      operator: body.operator,
      childIds: body.childrenIdList,
    });
    if (!edit.ok) throw editProblem(edit);
    const typeChanged = edit.nodeType !== before.nodeType;
    await repo.updateNode(tx, nodeId, {
      label,
      nodeType: typeChanged ? edit.nodeType : undefined,
      positionX: body.positionX,
      positionY: body.positionY,
      // A calculation's value is its children's fold; only inputs and constants keep one.
      value: edit.nodeType === "calculation" ? null : body.value,
      unit: body.unit,
      // Only an input node is bound to sheet data.
      unbind: typeChanged && edit.nodeType !== "input",
    });
    const current = state.relationships.find((r) => r.parentId === nodeId) ?? null;
    if (edit.changed && edit.relationship === null && current) {
      await repo.deleteRelationships(tx, ref.treeId, [nodeId]);
    } else if (edit.changed && edit.relationship) {
      await repo.replaceRelationships(tx, ref.treeId, [edit.relationship]);
    }
    await repo.updateTree(tx, ref.treeId);
    await nodeAudit(tx, deps, projectId, "UPDATE", nodeId, {
      oldValue: {
        label: before.label,
        nodeType: before.nodeType,
        value: before.value,
        unit: before.unit,
        positionX: before.positionX,
        positionY: before.positionY,
        operator: current?.operator ?? null,
        childIds: current?.childIds ?? [],
      },
      newValue: {
        label: label ?? before.label,
        nodeType: edit.nodeType,
        value: edit.nodeType === "calculation" ? null : body.value === undefined ? before.value : body.value,
        unit: body.unit === undefined ? before.unit : body.unit,
        positionX: body.positionX ?? before.positionX,
        positionY: body.positionY ?? before.positionY,
        operator: edit.relationship?.operator ?? null,
        childIds: edit.relationship?.childIds ?? [],
      },
    });
    // Moving a node on the canvas changes nothing the tree computes (api.md §2.10).
    if (STRUCTURAL.some((k) => body[k] !== undefined)) {
      await treeUpdated(tx, {
        projectId,
        treeId: ref.treeId,
        actorId: caller.user.id,
        message: `node ${label ?? before.label} changed`,
      });
    }
    return nodeDetail(tx, projectId, ref, deps.frames);
  });
}

export async function deleteNode(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  nodeId: string,
): Promise<void> {
  const projectId = access.project.id;
  await writeNode(deps, caller, access, nodeId, async (tx, ref) => {
    const state = await q.loadTreeState(tx, ref.treeId);
    const plan = planNodeDelete(state, nodeId);
    if (!plan.ok) throw editProblem(plan);
    await repo.replaceRelationships(tx, ref.treeId, plan.update);
    await repo.deleteRelationships(tx, ref.treeId, plan.remove);
    const before = state.nodes.find((n) => n.id === nodeId);
    await nodeAudit(tx, deps, projectId, "DELETE", nodeId, {
      oldValue: {
        treeId: ref.treeId,
        label: before?.label,
        nodeType: before?.nodeType,
        value: before?.value,
      },
    });
    await repo.deleteNode(tx, nodeId);
    await repo.updateTree(tx, ref.treeId);
    await treeUpdated(tx, {
      projectId,
      treeId: ref.treeId,
      actorId: caller.user.id,
      message: `node ${ref.label} deleted`,
    });
  });
}
