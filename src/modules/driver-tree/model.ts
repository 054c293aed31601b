import { t } from "elysia";
import { Int, Ts, UserRef, Uuid } from "@/lib/schema";

/* Shapes of api.md §2.8 shared by the tree, node, policy and template routes. Literal unions,
 * not t.UnionEnum: an optional UnionEnum in a body or query was filled with its first member. */
const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);

export const TreeStatus = t.Union(
  [t.Literal("draft"), t.Literal("active"), t.Literal("completed"), t.Literal("archived")],
  { title: "TreeStatus" },
);
export const NodeType = t.Union([t.Literal("calculation"), t.Literal("input"), t.Literal("constant")], {
  title: "NodeType",
});
export const Operator = t.Union([t.Literal("+"), t.Literal("-"), t.Literal("*"), t.Literal("/")], {
  title: "Operator",
});
export const BindingAggregation = t.Union([t.Literal("sum"), t.Literal("mean"), t.Literal("latest")], {
  title: "BindingAggregation",
});
export const PolicyValueKind = t.Union([t.Literal("percent"), t.Literal("factor"), t.Literal("absolute")], {
  title: "PolicyValueKind",
});
export const PolicyStatus = t.Union(
  [t.Literal("planned"), t.Literal("in_progress"), t.Literal("completed")],
  {
    title: "PolicyStatus",
  },
);

export const TreeSummary = t.Object(
  {
    id: Uuid,
    projectId: Uuid,
    name: t.String(),
    description: t.String(),
    status: TreeStatus,
    formulaId: Nullable(Uuid),
    formulaMasterName: Nullable(t.String()),
    sourceTemplateId: Nullable(Uuid),
    nodeCount: Int(),
    policyCount: Int(),
    createdBy: Nullable(UserRef),
    createdAt: Ts,
    updatedAt: Ts,
  },
  { title: "TreeSummary" },
);

export const NodeBinding = t.Object(
  {
    sheetId: Uuid,
    fileId: Uuid,
    sheetName: t.String(),
    item: t.String(),
    aggregation: BindingAggregation,
    axisFilter: Nullable(t.Record(t.String(), t.Array(t.String()))),
  },
  { title: "NodeBinding" },
);

export const TreeNode = t.Object(
  {
    id: Uuid,
    label: t.String(),
    nodeType: NodeType,
    positionX: Int(),
    positionY: Int(),
    value: Nullable(t.Number()),
    unit: Nullable(t.String()),
    binding: Nullable(NodeBinding),
    policyCount: Int(),
  },
  { title: "TreeNode" },
);

export const Relationship = t.Object(
  { parentId: Uuid, operator: Operator, childIdList: t.Array(Uuid) },
  { title: "Relationship" },
);

export const TreeDetail = t.Composite(
  [
    TreeSummary,
    t.Object({ rootNodeId: Nullable(Uuid), nodes: t.Array(TreeNode), relationship: t.Array(Relationship) }),
  ],
  { title: "TreeDetail" },
);

export const Policy = t.Object(
  {
    id: Uuid,
    nodeId: Uuid,
    nodeLabel: t.String(),
    name: t.String(),
    value: t.Number(),
    valueKind: PolicyValueKind,
    description: Nullable(t.String()),
    cost: Nullable(t.Number()),
    durationMonths: Nullable(Int()),
    startPeriod: Nullable(t.String()),
    status: PolicyStatus,
    createdBy: Nullable(UserRef),
    createdAt: Ts,
    updatedAt: Ts,
  },
  { title: "Policy" },
);

export type TreeSummaryOut = typeof TreeSummary.static;
export type TreeDetailOut = typeof TreeDetail.static;
export type TreeNodeOut = typeof TreeNode.static;
export type PolicyOut = typeof Policy.static;
