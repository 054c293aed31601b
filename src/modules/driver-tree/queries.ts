import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "@/db/client";
import {
  driverTree,
  driverTreeFile,
  driverTreeFormula,
  driverTreeNode,
  driverTreePolicy,
  driverTreeRelationship,
  driverTreeRelationshipChild,
  projectFile,
  userAccount,
} from "@/db/schema";
import { iso } from "@/lib/schema";
import type { TreeDetailOut, TreeNodeOut, TreeSummaryOut } from "@/modules/driver-tree/model";

/* Reads of the driver-tree aggregate, shaped as api.md §2.8 answers them. */

const creator = alias(userAccount, "dt_creator");

/* The tree when it belongs to the project; another project's tree is simply not found. */
export async function findTreeSummary(
  db: DbOrTx,
  projectId: string,
  treeId: string,
): Promise<TreeSummaryOut | null> {
  const [r] = await db
    .select({
      t: driverTree,
      formulaKpi: driverTreeFormula.kpi,
      formulaDriverType: driverTreeFormula.driverType,
      cId: creator.id,
      cEmail: creator.email,
      cName: creator.displayName,
      nodeCount: sql<number>`(select count(*)::int from ${driverTreeNode} n where n.driver_tree_id = ${driverTree.id})`,
      policyCount: sql<number>`(select count(*)::int from ${driverTreePolicy} p join ${driverTreeNode} n on n.id = p.node_id where n.driver_tree_id = ${driverTree.id})`,
    })
    .from(driverTree)
    .leftJoin(creator, eq(creator.id, driverTree.createdBy))
    .leftJoin(driverTreeFormula, eq(driverTreeFormula.id, driverTree.formulaId))
    .where(and(eq(driverTree.id, treeId), eq(driverTree.projectId, projectId)));
  if (!r) return null;
  return {
    id: r.t.id,
    projectId: r.t.projectId,
    name: r.t.name,
    description: r.t.description,
    status: r.t.status as TreeSummaryOut["status"],
    formulaId: r.t.formulaId,
    formulaMasterName: r.formulaKpi ? `${r.formulaDriverType} / ${r.formulaKpi}` : null,
    sourceTemplateId: r.t.sourceTemplateId,
    nodeCount: r.nodeCount,
    policyCount: r.policyCount,
    createdBy: r.cId ? { id: r.cId, email: r.cEmail as string, displayName: r.cName ?? null } : null,
    createdAt: iso(r.t.createdAt) as string,
    updatedAt: iso(r.t.updatedAt) as string,
  };
}

/* Every node (linked or not) and every relationship with children in order. */
export async function loadTreeDetail(
  db: DbOrTx,
  projectId: string,
  treeId: string,
): Promise<TreeDetailOut | null> {
  const summary = await findTreeSummary(db, projectId, treeId);
  if (!summary) return null;
  const [root] = await db
    .select({ id: driverTree.rootNodeId })
    .from(driverTree)
    .where(eq(driverTree.id, treeId));
  const nodes = await db
    .select({
      n: driverTreeNode,
      sheetName: driverTreeFile.sheetName,
      fileId: projectFile.id,
      policyCount: sql<number>`(select count(*)::int from ${driverTreePolicy} p where p.node_id = ${driverTreeNode.id})`,
    })
    .from(driverTreeNode)
    .leftJoin(driverTreeFile, eq(driverTreeFile.id, driverTreeNode.boundSheetId))
    .leftJoin(projectFile, eq(projectFile.id, driverTreeFile.projectFileId))
    .where(eq(driverTreeNode.driverTreeId, treeId))
    .orderBy(asc(driverTreeNode.createdAt), asc(driverTreeNode.id));
  const rels = await db
    .select()
    .from(driverTreeRelationship)
    .where(eq(driverTreeRelationship.driverTreeId, treeId))
    .orderBy(asc(driverTreeRelationship.createdAt), asc(driverTreeRelationship.id));
  const children =
    rels.length === 0
      ? []
      : await db
          .select()
          .from(driverTreeRelationshipChild)
          .where(
            inArray(
              driverTreeRelationshipChild.relationshipId,
              rels.map((r) => r.id),
            ),
          )
          .orderBy(asc(driverTreeRelationshipChild.orderIndex));
  const childIds = new Map<string, string[]>();
  for (const c of children) {
    const list = childIds.get(c.relationshipId) ?? [];
    list.push(c.childNodeId);
    childIds.set(c.relationshipId, list);
  }
  return {
    ...summary,
    rootNodeId: root?.id ?? null,
    nodes: nodes.map(
      ({ n, sheetName, fileId, policyCount }): TreeNodeOut => ({
        id: n.id,
        label: n.label,
        nodeType: n.nodeType as TreeNodeOut["nodeType"],
        positionX: n.positionX,
        positionY: n.positionY,
        value: n.value,
        unit: n.unit,
        binding:
          n.boundSheetId && n.boundItem && fileId && sheetName
            ? {
                sheetId: n.boundSheetId,
                fileId,
                sheetName,
                item: n.boundItem,
                aggregation: (n.aggregation ?? "sum") as "sum" | "mean" | "latest",
                axisFilter: n.axisFilter ?? null,
              }
            : null,
        policyCount,
      }),
    ),
    relationship: rels.map((r) => ({
      parentId: r.parentNodeId,
      operator: r.operator as "+" | "-" | "*" | "/",
      childIdList: childIds.get(r.id) ?? [],
    })),
  };
}
