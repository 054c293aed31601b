import { eq } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { driverTree, driverTreeNode, driverTreeRelationship, driverTreeRelationshipChild } from "@/db/schema";
import type { TemplateSourceNode, TreeRelationship } from "@/engine";
import { newId } from "@/lib/ids";

/*
 * The one writer of the driver-tree aggregate (tree, nodes, relationships with their ordered
 * children, policies, bindings): every INSERT, UPDATE and DELETE of those rows is a function here
 * taking the transaction first. Services (trees, nodes, policies, templates, import) decide and
 * audit; they never write these tables themselves.
 */

export type TreeRow = typeof driverTree.$inferSelect;

export type NewTree = {
  projectId: string;
  name: string;
  description?: string;
  createdBy: string | null;
  formulaId?: string | null;
  sourceTemplateId?: string | null;
};

export async function insertTree(tx: DbOrTx, input: NewTree): Promise<TreeRow> {
  const [row] = await tx
    .insert(driverTree)
    .values({
      id: newId(),
      projectId: input.projectId,
      name: input.name,
      description: input.description ?? "",
      createdBy: input.createdBy,
      formulaId: input.formulaId ?? null,
      sourceTemplateId: input.sourceTemplateId ?? null,
    })
    .returning();
  return row as TreeRow;
}

/*
 * Writes a whole structure into an (empty or growing) tree: nodes with the ids given, one
 * relationship per parent with children in order, and the root when one is named. The root FK is
 * DEFERRABLE, so the order of these statements inside the transaction does not matter.
 */
export async function insertStructure(
  tx: DbOrTx,
  treeId: string,
  structure: {
    rootId: string | null;
    nodes: readonly (TemplateSourceNode & { unit?: string | null })[];
    relationships: readonly TreeRelationship[];
  },
): Promise<void> {
  if (structure.nodes.length > 0) {
    await tx.insert(driverTreeNode).values(
      structure.nodes.map((n) => ({
        id: n.id,
        driverTreeId: treeId,
        label: n.label,
        nodeType: n.nodeType,
        positionX: n.positionX,
        positionY: n.positionY,
        value: n.value,
        unit: n.unit ?? null,
      })),
    );
  }
  const rels = structure.relationships.map((r) => ({ ...r, id: newId() }));
  if (rels.length > 0) {
    await tx
      .insert(driverTreeRelationship)
      .values(
        rels.map((r) => ({ id: r.id, driverTreeId: treeId, parentNodeId: r.parentId, operator: r.operator })),
      );
    const children = rels.flatMap((r) =>
      r.childIds.map((childNodeId, orderIndex) => ({
        id: newId(),
        relationshipId: r.id,
        childNodeId,
        orderIndex,
      })),
    );
    if (children.length > 0) await tx.insert(driverTreeRelationshipChild).values(children);
  }
  if (structure.rootId) {
    await tx.update(driverTree).set({ rootNodeId: structure.rootId }).where(eq(driverTree.id, treeId));
  }
}
