import { and, asc, eq, inArray, notInArray, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import {
  driverTree,
  driverTreeFile,
  driverTreeNode,
  driverTreePolicy,
  driverTreeRelationship,
  driverTreeRelationshipChild,
  projectFile,
} from "@/db/schema";
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
  await insertNodes(
    tx,
    treeId,
    structure.nodes.map((n) => ({ ...n, unit: n.unit ?? null })),
  );
  await insertRelationships(tx, treeId, structure.relationships);
  if (structure.rootId) {
    await tx.update(driverTree).set({ rootNodeId: structure.rootId }).where(eq(driverTree.id, treeId));
  }
}

/* Multi-row INSERTs in slices: PostgreSQL binds at most 65,535 parameters per statement. */
const SLICE = 2000;
async function insertSliced<T>(rows: readonly T[], write: (slice: T[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += SLICE) await write(rows.slice(i, i + SLICE));
}

/*
 * The tree row of this project, locked until the transaction ends. Every structural write takes
 * it first, so two imports (or an import and a node edit) into one tree run one after the other
 * and each plans against the tree the other committed.
 */
export async function lockTree(tx: DbOrTx, projectId: string, treeId: string): Promise<TreeRow | null> {
  const [row] = await tx
    .select()
    .from(driverTree)
    .where(and(eq(driverTree.id, treeId), eq(driverTree.projectId, projectId)))
    .for("update");
  return row ?? null;
}

export type TreePatch = Partial<Pick<TreeRow, "name" | "description" | "status" | "rootNodeId">>;

/** Changes the tree row; every write to the aggregate also moves its `updatedAt`. */
export async function updateTree(tx: DbOrTx, treeId: string, patch: TreePatch = {}): Promise<void> {
  await tx
    .update(driverTree)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(driverTree.id, treeId));
}

/* Nodes, relationships, children and policies go with it (ON DELETE CASCADE). */
export async function deleteTree(tx: DbOrTx, treeId: string): Promise<void> {
  await tx.delete(driverTree).where(eq(driverTree.id, treeId));
}

export type NodeRow = typeof driverTreeNode.$inferSelect;
export type NewNodeRow = Pick<NodeRow, "id" | "label" | "nodeType" | "positionX" | "positionY" | "value"> &
  Partial<Pick<NodeRow, "unit" | "boundSheetId" | "boundItem" | "aggregation" | "axisFilter">>;

export async function insertNodes(tx: DbOrTx, treeId: string, nodes: readonly NewNodeRow[]): Promise<void> {
  await insertSliced(nodes, (slice) =>
    tx.insert(driverTreeNode).values(
      slice.map((n) => ({
        id: n.id,
        driverTreeId: treeId,
        label: n.label,
        nodeType: n.nodeType,
        positionX: n.positionX,
        positionY: n.positionY,
        value: n.value,
        unit: n.unit ?? null,
        boundSheetId: n.boundSheetId ?? null,
        boundItem: n.boundItem ?? null,
        aggregation: n.aggregation ?? null,
        axisFilter: n.axisFilter ?? null,
      })),
    ),
  );
}

export type NodePatch = Partial<
  Pick<NodeRow, "label" | "nodeType" | "positionX" | "positionY" | "value" | "unit">
> & { unbind?: boolean };

export async function updateNode(tx: DbOrTx, nodeId: string, patch: NodePatch): Promise<void> {
  const { unbind, ...fields } = patch;
  await tx
    .update(driverTreeNode)
    .set({
      ...fields,
      ...(unbind ? { boundSheetId: null, boundItem: null, aggregation: null, axisFilter: null } : {}),
      updatedAt: new Date(),
    })
    .where(eq(driverTreeNode.id, nodeId));
}

/** Input nodes that gained a formula (import): calculations now, without value or binding. */
export async function promoteNodes(tx: DbOrTx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx
    .update(driverTreeNode)
    .set({
      nodeType: "calculation",
      value: null,
      boundSheetId: null,
      boundItem: null,
      aggregation: null,
      axisFilter: null,
      updatedAt: new Date(),
    })
    .where(inArray(driverTreeNode.id, [...ids]));
}

/* Its own relationship, its links as a child and its policies go with it (ON DELETE CASCADE). */
export async function deleteNode(tx: DbOrTx, nodeId: string): Promise<void> {
  await tx.delete(driverTreeNode).where(eq(driverTreeNode.id, nodeId));
}

/** New relationships, one per parent, children in order. */
export async function insertRelationships(
  tx: DbOrTx,
  treeId: string,
  relationships: readonly TreeRelationship[],
): Promise<void> {
  const rels = relationships.map((r) => ({ ...r, id: newId() }));
  await insertSliced(rels, (slice) =>
    tx.insert(driverTreeRelationship).values(
      slice.map((r) => ({
        id: r.id,
        driverTreeId: treeId,
        parentNodeId: r.parentId,
        operator: r.operator,
      })),
    ),
  );
  const children = rels.flatMap((r) =>
    r.childIds.map((childNodeId, orderIndex) => ({
      id: newId(),
      relationshipId: r.id,
      childNodeId,
      orderIndex,
    })),
  );
  await insertSliced(children, (slice) => tx.insert(driverTreeRelationshipChild).values(slice));
}

/** Removes the relationships of these parents (children rows cascade); all of the tree's when omitted. */
export async function deleteRelationships(
  tx: DbOrTx,
  treeId: string,
  parentIds?: readonly string[],
): Promise<number> {
  if (parentIds && parentIds.length === 0) return 0;
  const gone = await tx
    .delete(driverTreeRelationship)
    .where(
      and(
        eq(driverTreeRelationship.driverTreeId, treeId),
        parentIds ? inArray(driverTreeRelationship.parentNodeId, [...parentIds]) : undefined,
      ),
    )
    .returning({ id: driverTreeRelationship.id });
  return gone.length;
}

/** Replaces each parent's relationship (operator and ordered child list) with the one given. */
export async function replaceRelationships(
  tx: DbOrTx,
  treeId: string,
  relationships: readonly TreeRelationship[],
): Promise<void> {
  await deleteRelationships(
    tx,
    treeId,
    relationships.map((r) => r.parentId),
  );
  await insertRelationships(tx, treeId, relationships);
}

export type PolicyRow = typeof driverTreePolicy.$inferSelect;
export type NewPolicyRow = Omit<PolicyRow, "createdAt" | "updatedAt">;
export type PolicyPatch = Partial<Omit<NewPolicyRow, "id" | "nodeId" | "createdBy">>;

export async function insertPolicies(tx: DbOrTx, policies: readonly NewPolicyRow[]): Promise<void> {
  await insertSliced(policies, (slice) => tx.insert(driverTreePolicy).values(slice));
}

export async function updatePolicy(tx: DbOrTx, policyId: string, patch: PolicyPatch): Promise<void> {
  await tx
    .update(driverTreePolicy)
    .set({ ...patch, updatedAt: new Date() })
    .where(eq(driverTreePolicy.id, policyId));
}

export async function deletePolicy(tx: DbOrTx, policyId: string): Promise<void> {
  await tx.delete(driverTreePolicy).where(eq(driverTreePolicy.id, policyId));
}

/**
 * Copies the structure of `sourceId` into the empty tree `targetId` with new ids: nodes (with
 * values, units, positions and bindings), relationships with their child order, the root and the
 * policies (new creator, the source's creation order kept). Answers the number of nodes copied.
 */
export async function copyStructure(
  tx: DbOrTx,
  sourceId: string,
  targetId: string,
  createdBy: string | null,
): Promise<number> {
  const [src] = await tx
    .select({ root: driverTree.rootNodeId })
    .from(driverTree)
    .where(eq(driverTree.id, sourceId));
  const nodes = await tx
    .select()
    .from(driverTreeNode)
    .where(eq(driverTreeNode.driverTreeId, sourceId))
    .orderBy(asc(driverTreeNode.createdAt), asc(driverTreeNode.id));
  const idMap = new Map(nodes.map((n) => [n.id, newId()]));
  const map = (id: string) => idMap.get(id) as string;
  await insertNodes(
    tx,
    targetId,
    nodes.map((n) => ({ ...n, id: map(n.id) })),
  );
  const rels = await tx
    .select({
      id: driverTreeRelationship.id,
      parentId: driverTreeRelationship.parentNodeId,
      operator: driverTreeRelationship.operator,
    })
    .from(driverTreeRelationship)
    .where(eq(driverTreeRelationship.driverTreeId, sourceId))
    .orderBy(asc(driverTreeRelationship.createdAt), asc(driverTreeRelationship.id));
  const kids = rels.length
    ? await tx
        .select()
        .from(driverTreeRelationshipChild)
        .where(
          inArray(
            driverTreeRelationshipChild.relationshipId,
            rels.map((r) => r.id),
          ),
        )
        .orderBy(asc(driverTreeRelationshipChild.orderIndex))
    : [];
  const byRel = new Map<string, string[]>();
  for (const k of kids) {
    const list = byRel.get(k.relationshipId) ?? [];
    list.push(map(k.childNodeId));
    byRel.set(k.relationshipId, list);
  }
  await insertRelationships(
    tx,
    targetId,
    rels.map((r) => ({
      parentId: map(r.parentId),
      operator: r.operator as TreeRelationship["operator"],
      childIds: byRel.get(r.id) ?? [],
    })),
  );
  const policies = await tx
    .select()
    .from(driverTreePolicy)
    .innerJoin(driverTreeNode, eq(driverTreeNode.id, driverTreePolicy.nodeId))
    .where(eq(driverTreeNode.driverTreeId, sourceId))
    .orderBy(asc(driverTreePolicy.createdAt), asc(driverTreePolicy.id));
  // New ids are time-ordered, so the copies keep the source's application order (§7.7).
  await insertPolicies(
    tx,
    policies.map(({ driver_tree_policy: p }) => {
      const { createdAt: _c, updatedAt: _u, ...rest } = p;
      return { ...rest, id: newId(), nodeId: map(p.nodeId), createdBy };
    }),
  );
  if (src?.root) await updateTree(tx, targetId, { rootNodeId: map(src.root) });
  return nodes.length;
}

/* ---------- bindings (node columns, analysis.md §7.5) ---------- */

export type Binding = {
  sheetId: string;
  item: string;
  aggregation: "sum" | "mean" | "latest";
  axisFilter: Record<string, string[]> | null;
};

export async function setBinding(tx: DbOrTx, nodeId: string, b: Binding): Promise<void> {
  await tx
    .update(driverTreeNode)
    .set({
      boundSheetId: b.sheetId,
      boundItem: b.item,
      aggregation: b.aggregation,
      axisFilter: b.axisFilter,
      updatedAt: new Date(),
    })
    .where(eq(driverTreeNode.id, nodeId));
}

const UNBOUND = { boundSheetId: null, boundItem: null, aggregation: null, axisFilter: null };

/**
 * Clears bindings and answers the trees touched: of the nodes given, of every node bound to a
 * sheet, or only those bound to a sheet's items other than `keepItems` (a refresh).
 */
export async function clearBindings(
  tx: DbOrTx,
  scope: { nodeIds: readonly string[] } | { sheetId: string; keepItems?: readonly string[] },
): Promise<string[]> {
  const where =
    "nodeIds" in scope
      ? scope.nodeIds.length === 0
        ? undefined
        : inArray(driverTreeNode.id, [...scope.nodeIds])
      : and(
          eq(driverTreeNode.boundSheetId, scope.sheetId),
          scope.keepItems && scope.keepItems.length > 0
            ? notInArray(driverTreeNode.boundItem, [...scope.keepItems])
            : undefined,
        );
  if (!where) return [];
  const rows = await tx
    .update(driverTreeNode)
    .set({ ...UNBOUND, updatedAt: new Date() })
    .where(where)
    .returning({ treeId: driverTreeNode.driverTreeId });
  return [...new Set(rows.map((r) => r.treeId))];
}

/*
 * Before a file chain goes: its sheets' rows cascade, and the node FK alone would null only
 * `bound_sheet_id` (which the binding CHECK refuses), so the bindings are cleared first.
 */
export async function clearBindingsOfChain(tx: DbOrTx, chainId: string): Promise<string[]> {
  const rows = await tx
    .update(driverTreeNode)
    .set({ ...UNBOUND, updatedAt: new Date() })
    .where(
      inArray(
        driverTreeNode.boundSheetId,
        tx
          .select({ id: driverTreeFile.id })
          .from(driverTreeFile)
          .innerJoin(projectFile, eq(projectFile.id, driverTreeFile.projectFileId))
          .where(eq(projectFile.chainId, chainId)),
      ),
    )
    .returning({ treeId: driverTreeNode.driverTreeId });
  return [...new Set(rows.map((r) => r.treeId))];
}

/** Drops axis filters on columns that no longer exist in the sheet (a refresh). */
export async function pruneAxisFilters(
  tx: DbOrTx,
  sheetId: string,
  columnIds: readonly string[],
): Promise<void> {
  const nodes = await tx
    .select({ id: driverTreeNode.id, axisFilter: driverTreeNode.axisFilter })
    .from(driverTreeNode)
    .where(and(eq(driverTreeNode.boundSheetId, sheetId), sql`${driverTreeNode.axisFilter} is not null`));
  const keep = new Set(columnIds);
  for (const n of nodes) {
    const filter = Object.fromEntries(Object.entries(n.axisFilter ?? {}).filter(([k]) => keep.has(k)));
    if (Object.keys(filter).length === Object.keys(n.axisFilter ?? {}).length) continue;
    await tx
      .update(driverTreeNode)
      .set({ axisFilter: Object.keys(filter).length ? filter : null, updatedAt: new Date() })
      .where(eq(driverTreeNode.id, n.id));
  }
}
