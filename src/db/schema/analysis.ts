import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  check,
  index,
  integer,
  json,
  jsonb,
  pgTable,
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
 * Analysis catalogue and sessions (api.md §3.3–3.4, analysis.md §10). Catalogue rows are archived,
 * not deleted, while sessions or templates use them (RESTRICT backs that in the database).
 */

export const SESSION_STATUSES = ["draft", "active", "completed", "archived"] as const;
export const STEP_TYPES = ["filter", "aggregate", "transform", "summary"] as const;
export const CHAT_ROLES = ["system", "user", "assistant"] as const;
export const SNAPSHOT_TRIGGERS = ["create", "chat", "manual", "template", "duplicate"] as const;

export const analysisValidationMaster = pgTable(
  "analysis_validation_master",
  {
    id: id(),
    name: varchar("name", { length: 255 }).notNull(),
    validationOrder: integer("validation_order").notNull().default(0),
    isActive: boolean("is_active").notNull().default(true),
    archivedAt: ts("archived_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_validation_name").on(sql`lower(${t.name})`),
    index("ix_validation_active_order").on(t.isActive, t.validationOrder),
  ],
);

export const analysisIssueMaster = pgTable(
  "analysis_issue_master",
  {
    id: id(),
    validationId: uuid("validation_id")
      .notNull()
      .references(() => analysisValidationMaster.id, { onDelete: "restrict" }),
    name: varchar("name", { length: 255 }).notNull(),
    description: text("description"),
    agentPrompt: text("agent_prompt").notNull(),
    initialMsg: text("initial_msg"),
    dummyHint: text("dummy_hint"),
    dummyInput: jsonb("dummy_input"),
    issueOrder: integer("issue_order").notNull().default(0),
    isActive: boolean("is_active").notNull().default(true),
    archivedAt: ts("archived_at"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_issue_name").on(t.validationId, sql`lower(${t.name})`),
    index("ix_issue_validation").on(t.validationId, t.isActive, t.issueOrder),
    check("ck_issue_dummy_input", sql`${t.dummyInput} IS NULL OR jsonb_typeof(${t.dummyInput}) = 'array'`),
  ],
);

export const analysisGraphAxisMaster = pgTable(
  "analysis_graph_axis_master",
  {
    id: id(),
    issueId: uuid("issue_id")
      .notNull()
      .references(() => analysisIssueMaster.id, { onDelete: "cascade" }),
    name: varchar("name", { length: 255 }).notNull(),
    option: varchar("option", { length: 10 }).notNull(),
    multiple: boolean("multiple").notNull().default(false),
    axisOrder: integer("axis_order").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_axis_name").on(t.issueId, sql`lower(${t.name})`),
    index("ix_axis_order").on(t.issueId, t.axisOrder),
    check("ck_axis_option", inList("option", ["subject", "column"])),
  ],
);

export const analysisDummyFormulaMaster = pgTable(
  "analysis_dummy_formula_master",
  {
    id: id(),
    issueId: uuid("issue_id")
      .notNull()
      .references(() => analysisIssueMaster.id, { onDelete: "cascade" }),
    name: varchar("name", { length: 255 }).notNull(),
    value: varchar("value", { length: 255 }).notNull(),
    formulaOrder: integer("formula_order").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [index("ix_formula_order").on(t.issueId, t.formulaOrder)],
);

export const analysisDummyChartMaster = pgTable(
  "analysis_dummy_chart_master",
  {
    id: id(),
    issueId: uuid("issue_id")
      .notNull()
      .references(() => analysisIssueMaster.id, { onDelete: "cascade" }),
    chart: jsonb("chart").notNull(),
    chartOrder: integer("chart_order").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("ix_chart_order").on(t.issueId, t.chartOrder),
    check("ck_chart_object", sql`jsonb_typeof(${t.chart}) = 'object'`),
  ],
);

export const analysisSession = pgTable(
  "analysis_session",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => project.id, { onDelete: "cascade" }),
    issueId: uuid("issue_id")
      .notNull()
      .references(() => analysisIssueMaster.id, { onDelete: "restrict" }),
    creatorId: uuid("creator_id").references(() => userAccount.id, { onDelete: "set null" }),
    name: varchar("name", { length: 255 }).notNull().default(""),
    status: varchar("status", { length: 10 }).notNull().default("draft"),
    customSystemPrompt: text("custom_system_prompt"),
    initialMessage: text("initial_message"),
    inputFileId: uuid("input_file_id").references((): AnyPgColumn => analysisFile.id, {
      onDelete: "set null",
    }),
    currentSnapshotId: uuid("current_snapshot_id").references((): AnyPgColumn => analysisSnapshot.id, {
      onDelete: "set null",
    }),
    completedAt: ts("completed_at"),
    chatLeaseUntil: ts("chat_lease_until"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("ix_session_project").on(t.projectId, t.updatedAt.desc()),
    index("ix_session_issue").on(t.issueId),
    index("ix_session_creator").on(t.creatorId),
    index("ix_session_name").on(t.projectId, sql`lower(${t.name})`),
    index("ix_session_name_trgm").using("gin", sql`lower(${t.name}) gin_trgm_ops`),
    check("ck_session_status", inList("status", SESSION_STATUSES)),
  ],
);

export const analysisFile = pgTable(
  "analysis_file",
  {
    id: id(),
    sessionId: uuid("session_id")
      .notNull()
      .references((): AnyPgColumn => analysisSession.id, { onDelete: "cascade" }),
    projectFileId: uuid("project_file_id").references(() => projectFile.id, { onDelete: "set null" }),
    sourceFilename: varchar("source_filename", { length: 255 }).notNull(),
    sheetName: varchar("sheet_name", { length: 255 }),
    axisConfig: jsonb("axis_config").notNull().default(sql`'{}'::jsonb`),
    configList: jsonb("config_list").notNull().default(sql`'[]'::jsonb`),
    // json, not jsonb: the columnar document is only ever read whole, and jsonb→text costs ~5× the read (bench P2c).
    data: json("data").notNull().default(sql`'[]'::json`),
    rowCount: integer("row_count").notNull().default(0),
    addedBy: uuid("added_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_analysis_file_source").on(t.sessionId, t.projectFileId),
    index("ix_analysis_file_project_file").on(t.projectFileId),
  ],
);

export const analysisSnapshot = pgTable(
  "analysis_snapshot",
  {
    id: id(),
    sessionId: uuid("session_id")
      .notNull()
      .references((): AnyPgColumn => analysisSession.id, { onDelete: "cascade" }),
    parentSnapshotId: uuid("parent_snapshot_id").references((): AnyPgColumn => analysisSnapshot.id, {
      onDelete: "set null",
    }),
    snapshotOrder: integer("snapshot_order").notNull(),
    name: varchar("name", { length: 255 }),
    description: text("description"),
    trigger: varchar("trigger", { length: 12 }).notNull(),
    conversationSummary: text("conversation_summary"),
    createdBy: uuid("created_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_snapshot_order").on(t.sessionId, t.snapshotOrder),
    check("ck_snapshot_order", sql`${t.snapshotOrder} >= 0`),
    check("ck_snapshot_trigger", inList("trigger", SNAPSHOT_TRIGGERS)),
  ],
);

export const analysisChat = pgTable(
  "analysis_chat",
  {
    id: id(),
    snapshotId: uuid("snapshot_id")
      .notNull()
      .references(() => analysisSnapshot.id, { onDelete: "cascade" }),
    chatOrder: integer("chat_order").notNull(),
    role: varchar("role", { length: 10 }).notNull(),
    message: text("message").notNull(),
    toolTrace: jsonb("tool_trace"),
    authorId: uuid("author_id").references(() => userAccount.id, { onDelete: "set null" }),
    tokenUsage: jsonb("token_usage"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_chat_order").on(t.snapshotId, t.chatOrder),
    index("ix_chat_created").on(t.createdAt),
    index("ix_chat_author").on(t.authorId, t.createdAt),
    check("ck_chat_role", inList("role", CHAT_ROLES)),
  ],
);

export const analysisStep = pgTable(
  "analysis_step",
  {
    id: id(),
    snapshotId: uuid("snapshot_id")
      .notNull()
      .references(() => analysisSnapshot.id, { onDelete: "cascade" }),
    stepKey: uuid("step_key").notNull(),
    stepOrder: integer("step_order").notNull(),
    name: varchar("name", { length: 255 }).notNull(),
    type: varchar("type", { length: 10 }).notNull(),
    input: varchar("input", { length: 64 }).notNull(),
    config: jsonb("config").notNull().default(sql`'{}'::jsonb`),
    triggeredByChatId: uuid("triggered_by_chat_id").references(() => analysisChat.id, {
      onDelete: "set null",
    }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_step_key").on(t.snapshotId, t.stepKey),
    // Made DEFERRABLE in the migration: reorders swap orders inside one transaction.
    unique("uq_step_order").on(t.snapshotId, t.stepOrder),
    check("ck_step_type", inList("type", STEP_TYPES)),
  ],
);

export const analysisTemplate = pgTable(
  "analysis_template",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => project.id, { onDelete: "cascade" }),
    issueId: uuid("issue_id")
      .notNull()
      .references(() => analysisIssueMaster.id, { onDelete: "restrict" }),
    name: varchar("name", { length: 255 }).notNull(),
    description: text("description"),
    templateType: varchar("template_type", { length: 10 }).notNull().default("session"),
    templateConfig: jsonb("template_config").notNull(),
    sourceSessionId: uuid("source_session_id").references(() => analysisSession.id, { onDelete: "set null" }),
    isPublic: boolean("is_public").notNull().default(false),
    usageCount: integer("usage_count").notNull().default(0),
    lastUsedAt: ts("last_used_at"),
    createdBy: uuid("created_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_template_name").on(t.projectId, sql`lower(${t.name})`),
    index("ix_template_project").on(t.projectId, t.updatedAt.desc()),
    index("ix_template_public").on(t.updatedAt.desc()).where(sql`${t.isPublic}`),
    check("ck_template_type", inList("template_type", ["session", "step"])),
  ],
);

export const seedState = pgTable("seed_state", {
  seedKey: text("seed_key").primaryKey(),
  contentHash: text("content_hash"),
  rowHash: text("row_hash"),
  updatedAt: updatedAt(),
});
