import { t } from "elysia";
import { Closed, IdOf, INT32_MAX, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

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

/* ---------- requests (api.md §2.8) ---------- */

const Position = (what: string) => Int({ minimum: -INT32_MAX - 1, maximum: INT32_MAX, description: what });
const Name = t.String({ minLength: 1, maxLength: 255 });
const Description = t.String({ maxLength: 2000 });

/* Requests may send the reference system's Japanese node types; responses carry the English literal. */
export const NodeTypeIn = t.Union(
  [...NodeType.anyOf, t.Literal("計算"), t.Literal("入力"), t.Literal("定数")],
  { description: "calculation | input | constant (also 計算 | 入力 | 定数)" },
);
export const NODE_TYPE_ALIASES: Record<string, "calculation" | "input" | "constant"> = {
  calculation: "calculation",
  input: "input",
  constant: "constant",
  計算: "calculation",
  入力: "input",
  定数: "constant",
};

export const TreeParams = Closed({ projectId: IdOf("Project"), treeId: IdOf("Driver tree") });
export const NodeParams = Closed({ projectId: IdOf("Project"), nodeId: IdOf("Driver-tree node") });
export const PolicyParams = Closed({
  projectId: IdOf("Project"),
  nodeId: IdOf("Driver-tree node"),
  policyId: IdOf("Policy"),
});

export const TreeListQuery = Closed({
  ...PageQuery,
  status: t.Optional(t.Union(TreeStatus.anyOf, { description: "Only trees in this status" })),
  q: t.Optional(
    t.String({ minLength: 1, maxLength: 100, description: "Name or description contains this text" }),
  ),
  sort: t.Optional(
    t.Union([t.Literal("-updatedAt"), t.Literal("name"), t.Literal("-createdAt")], {
      description: "Sort order; a leading - sorts descending (default -updatedAt)",
    }),
  ),
});

export const TreeCreate = Closed(
  {
    name: Name,
    description: t.Optional(Description),
    formulaId: t.Optional(IdOf("Formula master; builds the tree from its formulas")),
    positionX: t.Optional(Position("x of the root when built from a formula (default 0)")),
    positionY: t.Optional(Position("y of the root when built from a formula (default 0)")),
  },
  { title: "TreeCreate" },
);

export const TreePatch = Closed(
  {
    name: t.Optional(Name),
    description: t.Optional(Description),
    status: t.Optional(TreeStatus),
    rootNodeId: t.Optional(IdOf("A node of this tree to become the root")),
  },
  { title: "TreePatch" },
);

export const TreeImport = Closed(
  {
    formulas: t.Array(t.String({ minLength: 1, maxLength: 500 }), { minItems: 1, maxItems: 200 }),
    positionX: t.Optional(Position("x of the import's origin (default 0)")),
    positionY: t.Optional(Position("y of the import's origin (default 0)")),
    sheetId: t.Optional(IdOf("A selected sheet; created input nodes named like its subjects are bound")),
  },
  { title: "TreeImport" },
);

export const TreeDuplicate = Closed(
  { name: t.Optional(t.String({ minLength: 1, maxLength: 255, description: "Default `<name> (コピー)`" })) },
  { title: "TreeDuplicate" },
);

export const TreeDataQuery = Closed({
  withPolicies: t.Optional(
    t.Boolean({ default: true, description: "Apply the tree's policies (default true)" }),
  ),
});

export const PolicyListQuery = Closed({
  ...PageQuery,
  status: t.Optional(t.Union(PolicyStatus.anyOf, { description: "Only policies in this status" })),
});
export const NodePolicyListQuery = Closed({ ...PageQuery });

export const NodeCreate = Closed(
  {
    label: Name,
    nodeType: NodeTypeIn,
    positionX: Position("Canvas x"),
    positionY: Position("Canvas y"),
    value: t.Optional(t.Number({ description: "Constant, or manual value of an unbound input" })),
    unit: t.Optional(t.String({ maxLength: 20 })),
    parentId: t.Optional(IdOf("Append the node to this parent's children")),
    operator: t.Optional(Operator),
  },
  { title: "NodeCreate" },
);

export const NodePatch = Closed(
  {
    label: t.Optional(Name),
    nodeType: t.Optional(NodeTypeIn),
    positionX: t.Optional(Position("Canvas x")),
    positionY: t.Optional(Position("Canvas y")),
    value: t.Optional(Nullable(t.Number())),
    unit: t.Optional(Nullable(t.String({ maxLength: 20 }))),
    operator: t.Optional(Operator),
    childrenIdList: t.Optional(
      t.Array(IdOf("Child node"), {
        maxItems: 100,
        description: "The ordered children; creates the relationship when missing, [] removes it",
      }),
    ),
  },
  { title: "NodePatch" },
);

const Cost = t.Number({ minimum: 0, maximum: 9_999_999_999_999, description: "Cost of the policy (≥ 0)" });
const Duration = Int({ minimum: 0, maximum: 600, description: "Duration in months" });
const StartPeriod = t.String({
  maxLength: 50,
  description: "First period it applies in; null = every period",
});

export const PolicyCreate = Closed(
  {
    name: Name,
    value: t.Number(),
    valueKind: t.Optional(PolicyValueKind),
    description: t.Optional(Description),
    cost: t.Optional(Cost),
    durationMonths: t.Optional(Duration),
    startPeriod: t.Optional(StartPeriod),
    status: t.Optional(PolicyStatus),
  },
  { title: "PolicyCreate" },
);

export const PolicyPatch = Closed(
  {
    name: t.Optional(Name),
    value: t.Optional(t.Number()),
    valueKind: t.Optional(PolicyValueKind),
    description: t.Optional(Nullable(Description)),
    cost: t.Optional(Nullable(Cost)),
    durationMonths: t.Optional(Nullable(Duration)),
    startPeriod: t.Optional(Nullable(StartPeriod)),
    status: t.Optional(PolicyStatus),
  },
  { title: "PolicyPatch" },
);

/* ---------- responses ---------- */

export const TreeDetailCreated = t.Composite([TreeDetail, t.Object({ createdNodeId: Uuid })], {
  title: "TreeDetailWithCreatedNode",
});

export const NodeDetail = t.Object(
  {
    node: TreeNode,
    relationship: Nullable(Relationship),
    parentIds: t.Array(Uuid),
    data: Nullable(t.Object({ periods: t.Array(t.String()), values: t.Array(Nullable(t.Number())) })),
    policies: t.Array(Policy),
  },
  { title: "NodeDetail" },
);

const Series = t.Array(Nullable(t.Number()));
export const TreeData = t.Object(
  {
    treeId: Uuid,
    periods: t.Array(t.String()),
    withPolicies: t.Boolean(),
    calculatedAt: Ts,
    calculatedDataList: t.Array(
      t.Object({
        nodeId: Uuid,
        label: t.String(),
        nodeType: NodeType,
        unit: Nullable(t.String()),
        baseline: Series,
        simulated: Series,
        delta: Series,
        policyCost: t.Number(),
        warnings: t.Array(t.String()),
      }),
    ),
    summary: t.Object({
      rootBaseline: Nullable(t.Number()),
      rootSimulated: Nullable(t.Number()),
      totalPolicyCost: t.Number(),
      roi: Nullable(t.Number()),
    }),
  },
  { title: "TreeData" },
);

export type TreeListQuery = typeof TreeListQuery.static;
export type TreeCreate = typeof TreeCreate.static;
export type TreePatch = typeof TreePatch.static;
export type TreeImport = typeof TreeImport.static;
export type NodeCreate = typeof NodeCreate.static;
export type NodePatch = typeof NodePatch.static;
export type NodeDetailOut = typeof NodeDetail.static;
export type PolicyCreate = typeof PolicyCreate.static;
export type PolicyPatch = typeof PolicyPatch.static;
export type TreeDataOut = typeof TreeData.static;

/* ---------- outputs: sensitivity, export, picture (analysis.md §7.8–7.9) ---------- */

const WithPoliciesQuery = (dflt: boolean) =>
  t.Boolean({ default: dflt, description: `Apply the tree's policies (default ${dflt})` });
const PeriodQuery = t.String({ minLength: 1, maxLength: 255, description: "One of the tree's periods" });

export const SensitivityQuery = Closed({
  deltaPct: t.Optional(
    t.Number({
      exclusiveMinimum: 0,
      maximum: 100,
      default: 10,
      description: "d in percent, (0, 100]; default 10",
    }),
  ),
  withPolicies: t.Optional(WithPoliciesQuery(false)),
  period: t.Optional(PeriodQuery),
  includeConstants: t.Optional(t.Boolean({ default: false, description: "Also vary constant nodes" })),
});

const NodeRefOut = { nodeId: Uuid, label: t.String(), nodeType: NodeType };
export const TreeSensitivity = t.Object(
  {
    treeId: Uuid,
    periods: t.Array(t.String()),
    period: Nullable(t.String({ description: "null: root values are sums over all periods" })),
    deltaPct: t.Number(),
    withPolicies: t.Boolean(),
    includeConstants: t.Boolean(),
    rootNodeId: Nullable(Uuid),
    items: t.Array(
      t.Object(
        {
          ...NodeRefOut,
          baseValue: t.Number({ description: "The node's value before policies, at period or summed" }),
          rootBase: Nullable(t.Number()),
          rootUp: Nullable(t.Number()),
          rootDown: Nullable(t.Number()),
          impactUp: Nullable(t.Number()),
          impactDown: Nullable(t.Number()),
          elasticity: Nullable(t.Number()),
        },
        { title: "SensitivityItem" },
      ),
      { description: "By max(|impactUp|, |impactDown|) descending, then label" },
    ),
    skipped: t.Array(t.Object(NodeRefOut, { title: "SensitivitySkip" }), {
      description: "Candidates whose value is null",
    }),
  },
  { title: "TreeSensitivity" },
);

export const TreeOutputQuery = Closed({
  format: t.Union([t.Literal("xlsx"), t.Literal("csv")], {
    description: "xlsx: Tree, Policies and Summary sheets; csv: the node × period rows",
  }),
  withPolicies: t.Optional(WithPoliciesQuery(true)),
});

export const TreeImageQuery = Closed({
  format: t.Optional(t.Union([t.Literal("png"), t.Literal("svg")], { description: "png (default) or svg" })),
  withPolicies: t.Optional(WithPoliciesQuery(true)),
  period: t.Optional(t.String({ minLength: 1, maxLength: 255, description: "Default: the last period" })),
});

export type SensitivityQuery = typeof SensitivityQuery.static;
export type TreeSensitivityOut = typeof TreeSensitivity.static;
export type TreeOutputQuery = typeof TreeOutputQuery.static;
export type TreeImageQuery = typeof TreeImageQuery.static;

/* ---------- data files, sheets, columns and bindings (api.md §2.8, analysis.md §7.5) ---------- */

export const ColumnRole = t.Union(
  [t.Literal("time"), t.Literal("axis"), t.Literal("value"), t.Literal("unused")],
  {
    title: "ColumnRole",
  },
);
/* Requests may send the reference system's Japanese roles; responses carry the English literal. */
export const ColumnRoleIn = t.Union(
  [...ColumnRole.anyOf, t.Literal("推移"), t.Literal("軸"), t.Literal("値"), t.Literal("利用しない")],
  {
    description: "time | axis | value | unused (also 推移 | 軸 | 値 | 利用しない)",
  },
);
export const COLUMN_ROLE_ALIASES: Record<string, "time" | "axis" | "value" | "unused"> = {
  time: "time",
  axis: "axis",
  value: "value",
  unused: "unused",
  推移: "time",
  軸: "axis",
  値: "value",
  利用しない: "unused",
};

export const SheetColumn = t.Object(
  { columnId: Uuid, columnName: t.String(), role: ColumnRole, items: t.Array(t.String()) },
  { title: "SheetColumn" },
);
export const DtFile = t.Object(
  {
    fileId: Uuid,
    fileName: t.String(),
    version: Int(),
    uploadedAt: Ts,
    uploadedBy: Nullable(UserRef),
    sheets: t.Array(t.Object({ sheetId: Uuid, sheetName: t.String(), selected: t.Boolean() })),
  },
  { title: "DtFile" },
);
export const SelectedSheet = t.Object(
  { fileId: Uuid, fileName: t.String(), sheetId: Uuid, sheetName: t.String(), columns: t.Array(SheetColumn) },
  { title: "SelectedSheet" },
);
export const SheetColumns = t.Object(
  { sheetId: Uuid, columns: t.Array(SheetColumn) },
  { title: "SheetColumns" },
);
export const SheetDetail = t.Object(
  {
    sheetId: Uuid,
    sheetName: t.String(),
    selected: t.Boolean(),
    columns: t.Array(
      t.Object({
        columnId: Nullable(Uuid),
        name: t.String(),
        dataType: t.Union([t.Literal("string"), t.Literal("number"), t.Literal("date")]),
        role: ColumnRole,
      }),
    ),
    rowCount: Int(),
    sampleData: t.Array(t.Record(t.String(), t.Union([t.String(), t.Number(), t.Null()]))),
  },
  { title: "SheetDetail" },
);

export const DtFileParams = Closed({
  projectId: IdOf("Project"),
  fileId: IdOf("Driver-tree file (any version)"),
});
export const SheetParams = Closed({
  projectId: IdOf("Project"),
  fileId: IdOf("Driver-tree file (any version)"),
  sheetId: IdOf("Sheet"),
});
export const ForceQuery = Closed({
  force: t.Optional(t.Boolean({ default: false, description: "Go ahead even while nodes are bound" })),
});
export const DtPageQuery = Closed({ ...PageQuery });
export const ColumnPatch = Closed(
  {
    columns: t.Array(Closed({ columnId: Uuid, role: ColumnRoleIn }), { minItems: 1, maxItems: 500 }),
  },
  { title: "SheetColumnPatch" },
);
export const BindingPut = Closed(
  {
    sheetId: Uuid,
    item: t.String({ minLength: 1, maxLength: 255, description: "A 科目 value of the sheet" }),
    aggregation: t.Optional(BindingAggregation),
    axisFilter: t.Optional(
      t.Record(t.String(), t.Array(t.String({ maxLength: 1000 }), { maxItems: 1000 }), {
        description: "Allowed values per axis column (columnId)",
      }),
    ),
  },
  { title: "NodeBindingPut" },
);

export type SheetColumnOut = typeof SheetColumn.static;
export type DtFileOut = typeof DtFile.static;
export type SelectedSheetOut = typeof SelectedSheet.static;
export type SheetColumnsOut = typeof SheetColumns.static;
export type SheetDetailOut = typeof SheetDetail.static;
export type ColumnPatch = typeof ColumnPatch.static;
export type BindingPut = typeof BindingPut.static;
