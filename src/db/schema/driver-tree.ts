import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  char,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  smallint,
  text,
  unique,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import { createdAt, id, inList, ts, updatedAt } from "./columns";
import { userAccount } from "./identity";
import { project, projectFile } from "./projects";

/*
 * Driver trees (api.md §3.5, analysis.md §7). Nodes form a DAG through one relationship per
 * parent with ordered children. `driver_tree.root_node_id` and the child order are DEFERRABLE in
 * the migration: a tree and its root are created together, and reorders swap order indexes.
 */

export const TREE_STATUSES = ["draft", "active", "completed", "archived"] as const;
export const NODE_TYPES = ["calculation", "input", "constant"] as const;
export const OPERATORS = ["+", "-", "*", "/"] as const;
export const BINDING_AGGREGATIONS = ["sum", "mean", "latest"] as const;
export const POLICY_VALUE_KINDS = ["percent", "factor", "absolute"] as const;
export const POLICY_STATUSES = ["planned", "in_progress", "completed"] as const;
export const COLUMN_ROLES = ["time", "axis", "value", "unused"] as const;
export const KPIS = ["売上", "原価", "販管費", "粗利", "営業利益", "EBITDA"] as const;
export const TREE_TEMPLATE_CATEGORIES = ["retail_ec", "manufacturing", "services", "saas", "other"] as const;

export const driverTreeCategory = pgTable(
  "driver_tree_category",
  {
    id: id(),
    categoryId: uuid("category_id").notNull(),
    categoryName: varchar("category_name", { length: 255 }).notNull(),
    industryId: uuid("industry_id").notNull(),
    industryName: varchar("industry_name", { length: 255 }).notNull(),
    driverTypeId: uuid("driver_type_id").notNull(),
    driverType: varchar("driver_type", { length: 255 }).notNull(),
    description: text("description"),
    createdBy: uuid("created_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_dt_category_triple").on(t.categoryId, t.industryId, t.driverTypeId),
    index("ix_dt_category_industry").on(t.industryId),
    index("ix_dt_category_driver_type").on(t.driverTypeId),
  ],
);

export const driverTreeFormula = pgTable(
  "driver_tree_formula",
  {
    id: id(),
    driverTypeId: uuid("driver_type_id").notNull(),
    driverType: varchar("driver_type", { length: 255 }).notNull(),
    kpi: varchar("kpi", { length: 10 }).notNull(),
    formulas: jsonb("formulas").$type<string[]>().notNull(),
    categoryId: uuid("category_id").references(() => driverTreeCategory.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_dt_formula_driver_kpi").on(t.driverTypeId, t.kpi),
    check("ck_dt_formula_kpi", inList("kpi", KPIS)),
    check("ck_dt_formula_formulas", sql`jsonb_typeof(${t.formulas}) = 'array'`),
  ],
);

export const driverTree = pgTable(
  "driver_tree",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => project.id, { onDelete: "cascade" }),
    name: varchar("name", { length: 255 }).notNull(),
    description: text("description").notNull().default(""),
    status: varchar("status", { length: 10 }).notNull().default("draft"),
    // Made DEFERRABLE INITIALLY DEFERRED in the migration (circular with driver_tree_node).
    rootNodeId: uuid("root_node_id").references((): AnyPgColumn => driverTreeNode.id, {
      onDelete: "set null",
    }),
    formulaId: uuid("formula_id").references(() => driverTreeFormula.id, { onDelete: "set null" }),
    sourceTemplateId: uuid("source_template_id").references((): AnyPgColumn => driverTreeTemplate.id, {
      onDelete: "set null",
    }),
    createdBy: uuid("created_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("ix_dt_tree_project").on(t.projectId, t.updatedAt.desc()),
    index("ix_dt_tree_name").on(t.projectId, sql`lower(${t.name})`),
    index("ix_dt_tree_name_trgm").using("gin", sql`lower(${t.name}) gin_trgm_ops`),
    index("ix_dt_tree_description_trgm").using("gin", sql`lower(${t.description}) gin_trgm_ops`),
    check("ck_dt_tree_status", inList("status", TREE_STATUSES)),
  ],
);

export const driverTreeFile = pgTable(
  "driver_tree_file",
  {
    id: id(),
    projectFileId: uuid("project_file_id")
      .notNull()
      .references(() => projectFile.id, { onDelete: "cascade" }),
    sheetName: varchar("sheet_name", { length: 255 }).notNull(),
    sheetIndex: smallint("sheet_index").notNull(),
    isSelected: boolean("is_selected").notNull().default(false),
    selectedAt: ts("selected_at"),
    selectedBy: uuid("selected_by").references(() => userAccount.id, { onDelete: "set null" }),
    rowCount: integer("row_count"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_dt_file_sheet").on(t.projectFileId, t.sheetName),
    index("ix_dt_file_selected").on(t.projectFileId).where(sql`${t.isSelected}`),
  ],
);

export const driverTreeNode = pgTable(
  "driver_tree_node",
  {
    id: id(),
    driverTreeId: uuid("driver_tree_id")
      .notNull()
      .references(() => driverTree.id, { onDelete: "cascade" }),
    label: varchar("label", { length: 255 }).notNull(),
    nodeType: varchar("node_type", { length: 12 }).notNull(),
    positionX: integer("position_x").notNull().default(0),
    positionY: integer("position_y").notNull().default(0),
    value: doublePrecision("value"),
    unit: varchar("unit", { length: 20 }),
    boundSheetId: uuid("bound_sheet_id").references(() => driverTreeFile.id, { onDelete: "set null" }),
    boundItem: varchar("bound_item", { length: 255 }),
    aggregation: varchar("aggregation", { length: 6 }),
    axisFilter: jsonb("axis_filter").$type<Record<string, string[]>>(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    // Import reuses nodes by exact label (analysis.md §7.1, §10).
    uniqueIndex("uq_dt_node_label").on(t.driverTreeId, t.label),
    index("ix_dt_node_label_lower").on(t.driverTreeId, sql`lower(${t.label})`),
    index("ix_dt_node_sheet").on(t.boundSheetId),
    check("ck_dt_node_type", inList("node_type", NODE_TYPES)),
    check(
      "ck_dt_node_aggregation",
      sql`aggregation IS NULL OR ${inList("aggregation", BINDING_AGGREGATIONS)}`,
    ),
    check("ck_dt_node_binding", sql`(bound_sheet_id IS NULL) = (bound_item IS NULL)`),
  ],
);

export const driverTreeRelationship = pgTable(
  "driver_tree_relationship",
  {
    id: id(),
    driverTreeId: uuid("driver_tree_id")
      .notNull()
      .references(() => driverTree.id, { onDelete: "cascade" }),
    parentNodeId: uuid("parent_node_id")
      .notNull()
      .references(() => driverTreeNode.id, { onDelete: "cascade" }),
    operator: char("operator", { length: 1 }).notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_dt_relationship_parent").on(t.parentNodeId),
    index("ix_dt_relationship_tree").on(t.driverTreeId),
    check("ck_dt_relationship_operator", inList("operator", OPERATORS)),
  ],
);

export const driverTreeRelationshipChild = pgTable(
  "driver_tree_relationship_child",
  {
    id: id(),
    relationshipId: uuid("relationship_id")
      .notNull()
      .references(() => driverTreeRelationship.id, { onDelete: "cascade" }),
    childNodeId: uuid("child_node_id")
      .notNull()
      .references(() => driverTreeNode.id, { onDelete: "cascade" }),
    orderIndex: integer("order_index").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_dt_child_node").on(t.relationshipId, t.childNodeId),
    // Made DEFERRABLE in the migration: replacing a child list renumbers inside one transaction.
    unique("uq_dt_child_order").on(t.relationshipId, t.orderIndex),
    index("ix_dt_child_node").on(t.childNodeId),
  ],
);

export const driverTreePolicy = pgTable(
  "driver_tree_policy",
  {
    id: id(),
    nodeId: uuid("node_id")
      .notNull()
      .references(() => driverTreeNode.id, { onDelete: "cascade" }),
    label: varchar("label", { length: 255 }).notNull(),
    value: doublePrecision("value").notNull().default(0),
    valueKind: varchar("value_kind", { length: 8 }).notNull().default("percent"),
    description: text("description"),
    cost: numeric("cost", { precision: 15, scale: 2, mode: "number" }),
    durationMonths: smallint("duration_months"),
    startPeriod: varchar("start_period", { length: 50 }),
    status: varchar("status", { length: 12 }).notNull().default("planned"),
    createdBy: uuid("created_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("ix_dt_policy_node").on(t.nodeId),
    check("ck_dt_policy_value_kind", inList("value_kind", POLICY_VALUE_KINDS)),
    check("ck_dt_policy_status", inList("status", POLICY_STATUSES)),
    check("ck_dt_policy_cost", sql`cost IS NULL OR cost >= 0`),
    check("ck_dt_policy_duration", sql`duration_months IS NULL OR duration_months BETWEEN 0 AND 600`),
  ],
);

export const driverTreeDataFrame = pgTable(
  "driver_tree_data_frame",
  {
    id: id(),
    driverTreeFileId: uuid("driver_tree_file_id")
      .notNull()
      .references(() => driverTreeFile.id, { onDelete: "cascade" }),
    columnId: uuid("column_id").notNull(),
    columnName: varchar("column_name", { length: 255 }).notNull(),
    isSubject: boolean("is_subject").notNull().default(false),
    role: varchar("role", { length: 6 }).notNull().default("unused"),
    items: jsonb("items").$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    data: jsonb("data").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_dt_frame_column_id").on(t.driverTreeFileId, t.columnId),
    unique("uq_dt_frame_column_name").on(t.driverTreeFileId, t.columnName),
    check("ck_dt_frame_role", inList("role", COLUMN_ROLES)),
  ],
);

export const driverTreeTemplate = pgTable(
  "driver_tree_template",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => project.id, { onDelete: "cascade" }),
    name: varchar("name", { length: 255 }).notNull(),
    description: text("description"),
    category: varchar("category", { length: 15 }),
    templateConfig: jsonb("template_config").notNull(),
    nodeCount: integer("node_count").notNull().default(0),
    sourceTreeId: uuid("source_tree_id").references((): AnyPgColumn => driverTree.id, {
      onDelete: "set null",
    }),
    isPublic: boolean("is_public").notNull().default(false),
    usageCount: integer("usage_count").notNull().default(0),
    lastUsedAt: ts("last_used_at"),
    createdBy: uuid("created_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_dt_template_name").on(t.projectId, sql`lower(${t.name})`),
    index("ix_dt_template_category").on(t.projectId, t.category),
    index("ix_dt_template_public").on(t.category).where(sql`${t.isPublic}`),
    check(
      "ck_dt_template_category",
      sql`category IS NULL OR ${inList("category", TREE_TEMPLATE_CATEGORIES)}`,
    ),
  ],
);
