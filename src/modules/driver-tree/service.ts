import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { type ImportPlan, type ImportRefusal, planImport } from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { likePattern, page } from "@/lib/schema";
import { treeImagePrefix } from "@/lib/storage/keys";
import type { Caller } from "@/modules/auth/service";
import { assertOwnerOrModerator, type ProjectAccess } from "@/modules/project/access";
import { queueDeletions } from "@/modules/storage-deletion/queries";
import { unbindableReason } from "./binding-rules";
import { treeUpdated } from "./events";
import type { FrameCache } from "./frame-cache";
import type {
  TreeCreate,
  TreeDetailOut,
  TreeImport,
  TreeListQuery,
  TreePatch,
  TreeSummaryOut,
} from "./model";
import * as q from "./queries";
import * as repo from "./repository";
import { selectedSheetSubjects } from "./sheet-frames";
import * as sq from "./sheet-queries";

/*
 * Driver trees (api.md §2.8, analysis.md §7.1–7.4): list, create (empty or from a formula master),
 * change, delete, import formulas, reset, duplicate. Every write locks the tree row first
 * (`repo.lockTree`), so concurrent writers to one tree are serialised and each plans against the
 * committed state; the answer is read inside the same transaction.
 */

/** `frames`: the app's parsed sheet columns, when the caller has them (the routes do). */
export type TreeDeps = { db: Database; actor: AuditActor; frames?: FrameCache };

export const treeNotFound = () => problem("TREE_NOT_FOUND");

const audit = (
  tx: DbOrTx,
  deps: TreeDeps,
  projectId: string,
  action: string,
  resourceId: string,
  values: { oldValue?: unknown; newValue?: unknown; metadata?: Record<string, unknown> } = {},
  resourceType = "driver_tree",
) =>
  writeAudit(tx, deps.actor, {
    eventType: "DATA_CHANGE",
    action,
    resourceType,
    resourceId,
    projectId,
    ...values,
  });

/**
 * Runs `write` with the tree row of this project locked, after the Own|Mod+ check (the tree's
 * creator, moderators, managers). Unknown trees and trees of other projects are 404 alike.
 */
export async function writeTree<T>(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  treeId: string,
  write: (tx: DbOrTx, tree: repo.TreeRow) => Promise<T>,
  notFound: () => Error = treeNotFound,
  /** Locks taken before the tree's: a sheet read by the write (sheet, then tree, as the sheet routes do). */
  first?: (tx: DbOrTx) => Promise<void>,
): Promise<T> {
  return deps.db.transaction(async (tx) => {
    await first?.(tx);
    const tree = await repo.lockTree(tx, access.project.id, treeId);
    if (!tree) throw notFound();
    assertOwnerOrModerator(access, caller.user.id, tree.createdBy);
    return write(tx, tree);
  });
}

export async function listTrees(db: DbOrTx, projectId: string, query: TreeListQuery) {
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { items, total } = await q.listTreeSummaries(db, projectId, {
    status: query.status,
    like: query.q ? likePattern(query.q) : undefined,
    sort: query.sort ?? "-updatedAt",
    skip,
    limit,
  });
  return page(items, total, skip, limit);
}

export async function getTree(db: DbOrTx, projectId: string, treeId: string): Promise<TreeDetailOut> {
  const detail = await q.loadTreeDetail(db, projectId, treeId);
  if (!detail) throw treeNotFound();
  return detail;
}

/* ---------- import (analysis.md §7.3) ---------- */

/** The 科目 values of a selected sheet of this project (SHEET_NOT_FOUND, SHEET_NOT_SELECTED, BINDING_INVALID). */
async function sheetSubjects(
  tx: DbOrTx,
  projectId: string,
  sheetId: string,
  cache?: FrameCache,
): Promise<Set<string>> {
  const { columns, subjects } = await selectedSheetSubjects(tx, projectId, sheetId, cache);
  const unbindable = unbindableReason(columns);
  if (unbindable) {
    throw problem("BINDING_INVALID", {
      detail: `Nodes cannot be bound to this sheet: ${unbindable}.`,
      errors: [{ path: "/body/sheetId", message: unbindable }],
      extensions: { sheetId },
    });
  }
  return new Set(subjects);
}

/** The 422 of a refused plan: every formula issue with its `line` and `index`, or the cycle. */
export function refusalProblem(refusal: ImportRefusal) {
  if (refusal.code === "TREE_CYCLE") {
    return problem("TREE_CYCLE", {
      detail: `The formulas form a cycle: ${refusal.cycle.join(" → ")}.`,
      extensions: { cycle: refusal.cycle },
    });
  }
  const [first] = refusal.errors;
  return problem("FORMULA_INVALID", {
    detail: refusal.errors.map((e) => `line ${e.line}, index ${e.index}: ${e.message}`).join("; "),
    errors: refusal.errors.map((e) => ({
      path: `/body/formulas/${e.line}`,
      message: e.message,
      line: e.line,
      index: e.index,
      ...(e.expected ? { expected: e.expected } : {}),
      ...(e.lines ? { lines: e.lines } : {}),
      ...(e.labels ? { labels: e.labels } : {}),
    })),
    extensions: { line: first?.line ?? 0, index: first?.index ?? 0 },
  });
}

/** Plans `formulas` against the tree as committed (the caller holds its lock) and writes the plan. */
async function importInto(
  tx: DbOrTx,
  treeId: string,
  formulas: readonly string[],
  origin: { positionX?: number; positionY?: number },
): Promise<ImportPlan> {
  const state = await q.loadTreeState(tx, treeId);
  const plan = planImport(state, formulas, { ...origin, newId });
  if (!plan.ok) throw refusalProblem(plan);
  await repo.promoteNodes(
    tx,
    plan.promoteNodes.map((n) => n.id),
  );
  await repo.insertStructure(tx, treeId, {
    rootId: plan.rootChanged ? plan.rootId : null,
    nodes: plan.createNodes,
    relationships: plan.createRelationships,
  });
  return plan;
}

const importSummary = (plan: ImportPlan) => ({
  createdNodes: plan.createNodes.length,
  promotedNodes: plan.promoteNodes.map((n) => n.label),
  createdRelationships: plan.createRelationships.length,
  warnings: plan.warnings,
});

export async function createTree(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  body: TreeCreate,
): Promise<TreeDetailOut> {
  const projectId = access.project.id;
  const formula = body.formulaId ? await q.findFormula(deps.db, body.formulaId) : null;
  if (body.formulaId && !formula) throw problem("FORMULA_NOT_FOUND");
  return deps.db.transaction(async (tx) => {
    const tree = await repo.insertTree(tx, {
      projectId,
      name: body.name.trim() || body.name,
      description: body.description ?? "",
      createdBy: caller.user.id,
      formulaId: formula?.id ?? null,
    });
    const plan = formula
      ? await importInto(tx, tree.id, formula.formulas, {
          positionX: body.positionX,
          positionY: body.positionY,
        })
      : null;
    await audit(tx, deps, projectId, "CREATE", tree.id, {
      newValue: { name: tree.name, description: tree.description, formulaId: tree.formulaId },
      metadata: plan ? importSummary(plan) : undefined,
    });
    return (await q.loadTreeDetail(tx, projectId, tree.id)) as TreeDetailOut;
  });
}

export async function updateTree(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  treeId: string,
  body: TreePatch,
): Promise<TreeSummaryOut> {
  const projectId = access.project.id;
  return writeTree(deps, caller, access, treeId, async (tx, before) => {
    if (body.rootNodeId !== undefined && body.rootNodeId !== before.rootNodeId) {
      const node = await q.findNodeRef(tx, projectId, body.rootNodeId);
      if (!node || node.treeId !== treeId) {
        throw problem("NODE_NOT_IN_TREE", {
          detail: "rootNodeId is not a node of this tree.",
          errors: [{ path: "/body/rootNodeId", message: "not a node of this tree" }],
          extensions: { nodeIds: [body.rootNodeId] },
        });
      }
    }
    const patch: repo.TreePatch = {
      name: body.name === undefined ? undefined : body.name.trim() || before.name,
      description: body.description,
      status: body.status,
      rootNodeId: body.rootNodeId,
    };
    await repo.updateTree(tx, treeId, patch);
    const pick = (t: repo.TreePatch) => ({
      name: t.name,
      description: t.description,
      status: t.status,
      rootNodeId: t.rootNodeId,
    });
    await audit(tx, deps, projectId, "UPDATE", treeId, {
      oldValue: pick(before),
      newValue: pick({
        ...before,
        ...Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)),
      }),
    });
    await treeUpdated(tx, { projectId, treeId, actorId: caller.user.id, message: "tree changed" });
    return (await q.findTreeSummary(tx, projectId, treeId)) as TreeSummaryOut;
  });
}

export async function deleteTree(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  treeId: string,
): Promise<void> {
  const projectId = access.project.id;
  await writeTree(deps, caller, access, treeId, async (tx, before) => {
    await audit(tx, deps, projectId, "DELETE", treeId, {
      oldValue: { name: before.name, status: before.status, formulaId: before.formulaId },
    });
    await repo.deleteTree(tx, treeId);
    // Its stored pictures (driver-tree/{treeId}/image_*.png) go with it, drained by the job runner.
    await queueDeletions(
      tx,
      [{ container: "analysis", storageKey: treeImagePrefix(treeId) }],
      "tree_deleted",
    );
  });
}

export async function importFormulas(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  treeId: string,
  body: TreeImport,
): Promise<TreeDetailOut> {
  const projectId = access.project.id;
  const sheetId = body.sheetId;
  const shareSheet = sheetId ? (tx: DbOrTx) => sq.shareSheet(tx, sheetId) : undefined;
  return writeTree(
    deps,
    caller,
    access,
    treeId,
    async (tx) => {
      const subjects =
        body.sheetId === undefined ? null : await sheetSubjects(tx, projectId, body.sheetId, deps.frames);
      const plan = await importInto(tx, treeId, body.formulas, body);
      // §7.3 rule 6: created input nodes named like a subject of the sheet read it (sum).
      const bound =
        subjects && body.sheetId
          ? plan.createNodes.filter((n) => n.nodeType === "input" && subjects.has(n.label))
          : [];
      for (const n of bound) {
        await repo.setBinding(tx, n.id, {
          sheetId: body.sheetId as string,
          item: n.label,
          aggregation: "sum",
          axisFilter: null,
        });
      }
      await repo.updateTree(tx, treeId);
      await audit(tx, deps, projectId, "IMPORT", treeId, {
        newValue: { formulas: body.formulas, sheetId: body.sheetId ?? null },
        metadata: { ...importSummary(plan), boundNodes: bound.map((n) => n.label) },
      });
      await treeUpdated(tx, { projectId, treeId, actorId: caller.user.id, message: "formulas imported" });
      return (await q.loadTreeDetail(tx, projectId, treeId)) as TreeDetailOut;
    },
    undefined,
    shareSheet,
  );
}

export async function resetTree(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  treeId: string,
): Promise<TreeDetailOut> {
  const projectId = access.project.id;
  return writeTree(deps, caller, access, treeId, async (tx) => {
    const removed = await repo.deleteRelationships(tx, treeId);
    await repo.updateTree(tx, treeId);
    await audit(tx, deps, projectId, "UPDATE", treeId, {
      metadata: { reset: true, removedRelationships: removed },
    });
    await treeUpdated(tx, { projectId, treeId, actorId: caller.user.id, message: "tree reset" });
    return (await q.loadTreeDetail(tx, projectId, treeId)) as TreeDetailOut;
  });
}

/** M+ on the project (not Own): the caller becomes the copy's creator. */
export async function duplicateTree(
  deps: TreeDeps,
  caller: Caller,
  access: ProjectAccess,
  treeId: string,
  body: { name?: string },
): Promise<TreeDetailOut> {
  const projectId = access.project.id;
  return deps.db.transaction(async (tx) => {
    // The source stays locked while it is copied, so the copy is one committed state of it.
    const source = await q.findTreeSummary(tx, projectId, treeId);
    if (!source) throw treeNotFound();
    await repo.lockTree(tx, projectId, treeId);
    const name = body.name?.trim() || `${source.name} (コピー)`.slice(0, 255);
    const copy = await repo.insertTree(tx, {
      projectId,
      name,
      description: source.description,
      createdBy: caller.user.id,
      formulaId: source.formulaId,
      sourceTemplateId: source.sourceTemplateId,
    });
    const nodes = await repo.copyStructure(tx, treeId, copy.id, caller.user.id);
    await audit(tx, deps, projectId, "CREATE", copy.id, {
      newValue: { name, duplicatedFrom: treeId },
      metadata: { nodes, policies: source.policyCount },
    });
    return (await q.loadTreeDetail(tx, projectId, copy.id)) as TreeDetailOut;
  });
}
