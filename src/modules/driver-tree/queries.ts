import { and, asc, desc, eq, inArray, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { type DbOrTx, readRows } from "@/db/client";
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
import type { PolicyOut, TreeDetailOut, TreeNodeOut, TreeSummaryOut } from "@/modules/driver-tree/model";

/* Reads of the driver-tree aggregate, shaped as api.md §2.8 answers them. */

const creator = alias(userAccount, "dt_creator");

function summaryQuery(db: DbOrTx) {
  return db
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
    .leftJoin(driverTreeFormula, eq(driverTreeFormula.id, driverTree.formulaId));
}

function toSummary(r: Awaited<ReturnType<typeof summaryQuery>>[number]): TreeSummaryOut {
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

/* The tree when it belongs to the project; another project's tree is simply not found. */
export async function findTreeSummary(
  db: DbOrTx,
  projectId: string,
  treeId: string,
): Promise<TreeSummaryOut | null> {
  const [r] = await summaryQuery(db).where(
    and(eq(driverTree.id, treeId), eq(driverTree.projectId, projectId)),
  );
  return r ? toSummary(r) : null;
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

/* ---------- lists ---------- */

export const TREE_SORTS = {
  "-updatedAt": [desc(driverTree.updatedAt), desc(driverTree.id)],
  name: [asc(sql`lower(${driverTree.name})`), asc(driverTree.id)],
  "-createdAt": [desc(driverTree.createdAt), desc(driverTree.id)],
} as const;
export type TreeSort = keyof typeof TREE_SORTS;

export type TreeListFilter = {
  status?: string;
  /** A LIKE pattern (already escaped) matched against name and description. */
  like?: string;
  sort: TreeSort;
  skip: number;
  limit: number;
};

export async function listTreeSummaries(
  db: DbOrTx,
  projectId: string,
  f: TreeListFilter,
): Promise<{ items: TreeSummaryOut[]; total: number }> {
  const where = and(
    eq(driverTree.projectId, projectId),
    f.status ? eq(driverTree.status, f.status) : undefined,
    f.like
      ? or(
          sql`lower(${driverTree.name}) like lower(${f.like})`,
          sql`lower(${driverTree.description}) like lower(${f.like})`,
        )
      : undefined,
  );
  const [{ total }] = await db.select({ total: sql<number>`count(*)::int` }).from(driverTree).where(where);
  if (total === 0) return { items: [], total };
  const rows = await summaryQuery(db)
    .where(where)
    .orderBy(...TREE_SORTS[f.sort])
    .offset(f.skip)
    .limit(f.limit);
  return { items: rows.map(toSummary), total };
}

/* ---------- the tree as the engine sees it ---------- */

export type StateNode = {
  id: string;
  label: string;
  nodeType: "calculation" | "input" | "constant";
  positionX: number;
  positionY: number;
  value: number | null;
  unit: string | null;
  bound: boolean;
};
export type TreeState = {
  rootId: string | null;
  nodes: StateNode[];
  relationships: { parentId: string; operator: "+" | "-" | "*" | "/"; childIds: string[] }[];
};

const STATE_NODES = `select id::text as id, label, node_type as "nodeType", position_x as "positionX",
  position_y as "positionY", value::float8 as value, unit, (bound_sheet_id is not null) as bound
from driver_tree_node where driver_tree_id = $1 order by created_at, id`;
const STATE_RELS = `select r.parent_node_id::text as "parentId", r.operator,
  string_agg(c.child_node_id::text, ',' order by c.order_index) as kids
from driver_tree_relationship r left join driver_tree_relationship_child c on c.relationship_id = r.id
where r.driver_tree_id = $1 group by r.id order by r.created_at, r.id`;
const STATE_ROOT = `select root_node_id::text as root from driver_tree where id = $1`;

/** Nodes, relationships (children in order) and root, in the engine's shapes; lean SQL, no mapping. */
export async function loadTreeState(db: DbOrTx, treeId: string): Promise<TreeState> {
  const [root] = await readRows<{ root: string | null }>(db, STATE_ROOT, [treeId]);
  const nodes = await readRows<StateNode>(db, STATE_NODES, [treeId]);
  const rels = await readRows<{ parentId: string; operator: string; kids: string | null }>(db, STATE_RELS, [
    treeId,
  ]);
  return {
    rootId: root?.root ?? null,
    nodes,
    relationships: rels.map((r) => ({
      parentId: r.parentId,
      operator: r.operator as TreeState["relationships"][number]["operator"],
      childIds: r.kids ? r.kids.split(",") : [],
    })),
  };
}

export type EvalPolicyRow = {
  id: string;
  nodeId: string;
  value: number;
  valueKind: "percent" | "factor" | "absolute";
  startPeriod: string | null;
  cost: number | null;
};
const TREE_POLICIES = `select p.id::text as id, p.node_id::text as "nodeId", p.value::float8 as value,
  p.value_kind as "valueKind", p.start_period as "startPeriod", p.cost::float8 as cost
from driver_tree_policy p join driver_tree_node n on n.id = p.node_id
where n.driver_tree_id = $1 order by p.created_at, p.id`;

/** The tree's policies in creation order (the order they apply in, analysis.md §7.7). */
export function loadTreePolicies(db: DbOrTx, treeId: string): Promise<EvalPolicyRow[]> {
  return readRows<EvalPolicyRow>(db, TREE_POLICIES, [treeId]);
}

/* ---------- nodes and policies ---------- */

export type NodeRef = { nodeId: string; treeId: string; treeCreatedBy: string | null; label: string };

/** The node when its tree belongs to the project; another project's node is simply not found. */
export async function findNodeRef(db: DbOrTx, projectId: string, nodeId: string): Promise<NodeRef | null> {
  const [r] = await db
    .select({
      nodeId: driverTreeNode.id,
      treeId: driverTree.id,
      treeCreatedBy: driverTree.createdBy,
      label: driverTreeNode.label,
    })
    .from(driverTreeNode)
    .innerJoin(driverTree, eq(driverTree.id, driverTreeNode.driverTreeId))
    .where(and(eq(driverTreeNode.id, nodeId), eq(driverTree.projectId, projectId)));
  return r ?? null;
}

export async function findNodeRow(db: DbOrTx, nodeId: string) {
  const [r] = await db.select().from(driverTreeNode).where(eq(driverTreeNode.id, nodeId));
  return r ?? null;
}

const policyCreator = alias(userAccount, "dt_policy_creator");

function policyQuery(db: DbOrTx) {
  return db
    .select({
      p: driverTreePolicy,
      nodeLabel: driverTreeNode.label,
      cId: policyCreator.id,
      cEmail: policyCreator.email,
      cName: policyCreator.displayName,
    })
    .from(driverTreePolicy)
    .innerJoin(driverTreeNode, eq(driverTreeNode.id, driverTreePolicy.nodeId))
    .leftJoin(policyCreator, eq(policyCreator.id, driverTreePolicy.createdBy));
}
type PolicyJoined = Awaited<ReturnType<typeof policyQuery>>[number];

function toPolicy(r: PolicyJoined): PolicyOut {
  const p = r.p;
  return {
    id: p.id,
    nodeId: p.nodeId,
    nodeLabel: r.nodeLabel,
    name: p.label,
    value: p.value,
    valueKind: p.valueKind as PolicyOut["valueKind"],
    description: p.description,
    cost: p.cost === null ? null : Number(p.cost),
    durationMonths: p.durationMonths,
    startPeriod: p.startPeriod,
    status: p.status as PolicyOut["status"],
    createdBy: r.cId ? { id: r.cId, email: r.cEmail as string, displayName: r.cName ?? null } : null,
    createdAt: iso(p.createdAt) as string,
    updatedAt: iso(p.updatedAt) as string,
  };
}

export async function findPolicy(db: DbOrTx, nodeId: string, policyId: string): Promise<PolicyOut | null> {
  const [r] = await policyQuery(db).where(
    and(eq(driverTreePolicy.id, policyId), eq(driverTreePolicy.nodeId, nodeId)),
  );
  return r ? toPolicy(r) : null;
}

/** A page of policies of one node (creation order) or of a whole tree (by node label, then name). */
export async function listPolicies(
  db: DbOrTx,
  scope: { nodeId: string } | { treeId: string },
  f: { status?: string; skip: number; limit: number },
): Promise<{ items: PolicyOut[]; total: number }> {
  const where = and(
    "nodeId" in scope
      ? eq(driverTreePolicy.nodeId, scope.nodeId)
      : eq(driverTreeNode.driverTreeId, scope.treeId),
    f.status ? eq(driverTreePolicy.status, f.status) : undefined,
  );
  const [{ total }] = await db
    .select({ total: sql<number>`count(*)::int` })
    .from(driverTreePolicy)
    .innerJoin(driverTreeNode, eq(driverTreeNode.id, driverTreePolicy.nodeId))
    .where(where);
  const order =
    "nodeId" in scope
      ? [asc(driverTreePolicy.createdAt), asc(driverTreePolicy.id)]
      : [asc(driverTreeNode.label), asc(driverTreePolicy.label), asc(driverTreePolicy.id)];
  const rows = await policyQuery(db)
    .where(where)
    .orderBy(...order)
    .offset(f.skip)
    .limit(f.limit);
  return { items: rows.map(toPolicy), total };
}

/** All policies of one node, in creation order (the node detail shows them whole). */
export async function policiesOfNode(db: DbOrTx, nodeId: string): Promise<PolicyOut[]> {
  const rows = await policyQuery(db)
    .where(eq(driverTreePolicy.nodeId, nodeId))
    .orderBy(asc(driverTreePolicy.createdAt), asc(driverTreePolicy.id));
  return rows.map(toPolicy);
}

/* ---------- masters ---------- */

/** The formula master row a tree is built from (masters are another module's; this only reads). */
export async function findFormula(
  db: DbOrTx,
  formulaId: string,
): Promise<{ id: string; kpi: string; formulas: string[] } | null> {
  const [r] = await db
    .select({ id: driverTreeFormula.id, kpi: driverTreeFormula.kpi, formulas: driverTreeFormula.formulas })
    .from(driverTreeFormula)
    .where(eq(driverTreeFormula.id, formulaId));
  return r ?? null;
}

const TREE_EXISTS = `select 1 as one from driver_tree where id = $1 and project_id = $2`;
export async function treeExists(db: DbOrTx, projectId: string, treeId: string): Promise<boolean> {
  return (await readRows(db, TREE_EXISTS, [treeId, projectId])).length > 0;
}
