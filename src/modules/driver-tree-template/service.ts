import type { Database, DbOrTx } from "@/db/client";
import { isUniqueViolation } from "@/db/pg-errors";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { type TemplateConfig, templateFromTree, treeFromTemplate } from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { page } from "@/lib/schema";
import type { Caller } from "@/modules/auth/service";
import type { TreeDetailOut } from "@/modules/driver-tree/model";
import { loadTreeDetail } from "@/modules/driver-tree/queries";
import { insertStructure, insertTree } from "@/modules/driver-tree/repository";
import { assertOwnerOrModerator, type ProjectAccess, ROLE_RANK } from "@/modules/project/access";
import type { TreeTemplateApply, TreeTemplateCreate, TreeTemplateOut, TreeTemplateQuery } from "./model";
import {
  countTemplateUse,
  deleteTemplateRow,
  findVisibleTemplateView,
  insertTemplate,
  listVisibleTemplates,
  lockVisibleTemplate,
  type TemplateRow,
  type TemplateView,
} from "./queries";

/*
 * Driver-tree templates (api.md §2.8, analysis.md §7.10): a tree's structure with positions
 * relative to its root and the values of constant nodes — no bindings, no policies, no manual
 * input values. A template belongs to one project; a public one is visible from every project but
 * deleted only in its own. Applying one creates a new tree through the aggregate's one writer
 * (driver-tree/repository.ts) and counts the use in the same transaction.
 */

export type TemplateDeps = { db: Database; actor: AuditActor };

const templateNotFound = () => problem("TEMPLATE_NOT_FOUND");
const nameTaken = () =>
  problem("NAME_TAKEN", { detail: "This project already has a driver-tree template with that name." });

function nonBlank(value: string, path: string): string {
  const v = value.trim();
  if (!v)
    throw problem("VALIDATION_FAILED", {
      detail: "The name is empty.",
      errors: [{ path, message: "must contain a non-blank character" }],
    });
  return v;
}

function canDelete(access: ProjectAccess, callerId: string, t: TemplateRow): boolean {
  if (t.projectId !== access.project.id) return false;
  const rank = ROLE_RANK[access.role];
  if (rank < ROLE_RANK.member) return false;
  return rank >= ROLE_RANK.project_moderator || (t.createdBy !== null && t.createdBy === callerId);
}

function toTemplate(
  v: TemplateView,
  access: ProjectAccess,
  callerId: string,
  withConfig: boolean,
): TreeTemplateOut {
  const t = v.t;
  return {
    id: t.id,
    projectId: t.projectId,
    name: t.name,
    description: t.description,
    category: t.category as TreeTemplateOut["category"],
    isPublic: t.isPublic,
    nodeCount: t.nodeCount,
    sourceTreeId: t.sourceTreeId,
    usageCount: t.usageCount,
    lastUsedAt: t.lastUsedAt ? t.lastUsedAt.toISOString() : null,
    createdBy: v.createdBy?.id ? v.createdBy : null,
    editable: canDelete(access, callerId, t),
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    ...(withConfig ? { config: t.templateConfig as TemplateConfig } : {}),
  };
}

async function readTemplate(db: DbOrTx, access: ProjectAccess, callerId: string, id: string) {
  const row = await findVisibleTemplateView(db, access.project.id, id);
  if (!row) throw templateNotFound();
  return toTemplate(row, access, callerId, true);
}

/** This project's templates plus, unless `includePublic=false`, public ones of any project. */
export async function listTemplates(db: DbOrTx, access: ProjectAccess, caller: Caller, q: TreeTemplateQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listVisibleTemplates(db, access.project.id, q, skip, limit);
  return page(
    rows.map((r) => toTemplate(r, access, caller.user.id, false)),
    total,
    skip,
    limit,
  );
}

export function getTemplate(db: DbOrTx, access: ProjectAccess, caller: Caller, id: string) {
  return readTemplate(db, access, caller.user.id, id);
}

/** Saves the source tree's structure; making it public needs a project manager. */
export async function createTemplate(
  deps: TemplateDeps,
  caller: Caller,
  access: ProjectAccess,
  body: TreeTemplateCreate,
): Promise<TreeTemplateOut> {
  const projectId = access.project.id;
  const isPublic = body.isPublic ?? false;
  if (isPublic && ROLE_RANK[access.role] < ROLE_RANK.project_manager)
    throw problem("ROLE_INSUFFICIENT", { detail: "Only a project manager can make a template public." });
  const name = nonBlank(body.name, "/body/name");
  const id = newId();
  try {
    await deps.db.transaction(async (tx) => {
      const tree = await loadTreeDetail(tx, projectId, body.sourceTreeId);
      if (!tree) throw problem("TREE_NOT_FOUND");
      const config = templateFromTree({
        rootId: tree.rootNodeId,
        nodes: tree.nodes,
        relationships: tree.relationship.map((r) => ({
          parentId: r.parentId,
          operator: r.operator,
          childIds: r.childIdList,
        })),
      });
      const description = body.description?.trim() || null;
      await insertTemplate(tx, {
        id,
        projectId,
        name,
        description,
        category: body.category ?? null,
        templateConfig: config,
        nodeCount: config.nodes.length,
        sourceTreeId: tree.id,
        isPublic,
        createdBy: caller.user.id,
      });
      await writeAudit(tx, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "CREATE",
        resourceType: "driver_tree_template",
        resourceId: id,
        projectId,
        newValue: {
          name,
          description,
          category: body.category ?? null,
          isPublic,
          sourceTreeId: tree.id,
          nodeCount: config.nodes.length,
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw nameTaken();
    throw error;
  }
  return readTemplate(deps.db, access, caller.user.id, id);
}

/** Own|Mod+ in the owning project; a public template seen from another project is NOT_OWNER. */
export async function deleteTemplate(
  deps: TemplateDeps,
  caller: Caller,
  access: ProjectAccess,
  id: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const before = await lockVisibleTemplate(tx, access.project.id, id);
    if (!before) throw templateNotFound();
    if (before.projectId !== access.project.id)
      throw problem("NOT_OWNER", {
        detail: "A public template can only be deleted in the project that owns it.",
      });
    assertOwnerOrModerator(access, caller.user.id, before.createdBy);
    await deleteTemplateRow(tx, id);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "driver_tree_template",
      resourceId: id,
      projectId: access.project.id,
      oldValue: {
        name: before.name,
        category: before.category,
        isPublic: before.isPublic,
        nodeCount: before.nodeCount,
      },
    });
  });
}

/** A new tree from the template (fresh ids, root at the given position); usageCount +1. */
export async function applyTemplate(
  deps: TemplateDeps,
  caller: Caller,
  access: ProjectAccess,
  id: string,
  body: TreeTemplateApply,
): Promise<TreeDetailOut> {
  const projectId = access.project.id;
  const requested = body.name === undefined ? undefined : nonBlank(body.name, "/body/name");
  return deps.db.transaction(async (tx) => {
    const template = await lockVisibleTemplate(tx, projectId, id);
    if (!template) throw templateNotFound();
    const config = template.templateConfig as TemplateConfig;
    const tree = await insertTree(tx, {
      projectId,
      name: requested ?? template.name,
      description: template.description ?? "",
      createdBy: caller.user.id,
      sourceTemplateId: template.id,
    });
    const structure = treeFromTemplate(config, { x: body.positionX ?? 0, y: body.positionY ?? 0 }, newId);
    await insertStructure(tx, tree.id, structure);
    const usageCount = await countTemplateUse(tx, template.id);
    if (usageCount === null) throw templateNotFound();
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "driver_tree",
      resourceId: tree.id,
      projectId,
      newValue: { name: tree.name, sourceTemplateId: template.id, nodeCount: structure.nodes.length },
    });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "APPLY",
      resourceType: "driver_tree_template",
      resourceId: template.id,
      projectId,
      newValue: { usageCount, treeId: tree.id },
      metadata: template.projectId === projectId ? null : { templateProjectId: template.projectId },
    });
    const detail = await loadTreeDetail(tx, projectId, tree.id);
    if (!detail) throw problem("TREE_NOT_FOUND");
    return detail;
  });
}
