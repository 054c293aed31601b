import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  inet,
  jsonb,
  pgTable,
  smallint,
  text,
  unique,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import { createdAt, emptyTextArray, id, inList, ts, updatedAt } from "./columns";
import { userAccount } from "./identity";
import { project } from "./projects";

export const AUDIT_EVENT_TYPES = ["DATA_CHANGE", "ACCESS", "SECURITY", "SYSTEM"] as const;
export const SEVERITIES = ["INFO", "WARNING", "ERROR", "CRITICAL"] as const;
export const SETTING_CATEGORIES = [
  "GENERAL",
  "SECURITY",
  "NOTIFICATION",
  "MAINTENANCE",
  "STORAGE",
  "API",
  "RETENTION",
  "LLM",
] as const;
export const STORAGE_CONTAINERS = ["uploads", "analysis", "public"] as const;

/*
 * role_history.project_id keeps SET NULL on project delete (history outlives the project), so the
 * "required for project roles" rule is enforced by the service at insert time rather than by a
 * CHECK that the cascade would then violate.
 */
export const roleHistory = pgTable(
  "role_history",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => userAccount.id, { onDelete: "cascade" }),
    changedById: uuid("changed_by_id").references(() => userAccount.id, { onDelete: "set null" }),
    roleType: varchar("role_type", { length: 10 }).notNull(),
    projectId: uuid("project_id").references(() => project.id, { onDelete: "set null" }),
    action: varchar("action", { length: 10 }).notNull(),
    oldRoles: text("old_roles").array().notNull().default(emptyTextArray),
    newRoles: text("new_roles").array().notNull().default(emptyTextArray),
    reason: varchar("reason", { length: 500 }),
    changedAt: ts("changed_at").notNull().defaultNow(),
  },
  (t) => [
    index("ix_role_history_user").on(t.userId, t.changedAt.desc()),
    index("ix_role_history_project").on(t.projectId, t.changedAt.desc()),
    check("ck_role_history_type", inList("role_type", ["system", "project"])),
    check("ck_role_history_action", inList("action", ["grant", "revoke", "update"])),
  ],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: id(),
    userId: uuid("user_id").references(() => userAccount.id, { onDelete: "set null" }),
    actorEmail: varchar("actor_email", { length: 320 }),
    eventType: varchar("event_type", { length: 12 }).notNull(),
    action: varchar("action", { length: 50 }).notNull(),
    resourceType: varchar("resource_type", { length: 50 }).notNull(),
    resourceId: uuid("resource_id"),
    projectId: uuid("project_id"),
    outcome: varchar("outcome", { length: 8 }).notNull().default("success"),
    statusCode: smallint("status_code"),
    severity: varchar("severity", { length: 8 }).notNull().default("INFO"),
    oldValue: jsonb("old_value"),
    newValue: jsonb("new_value"),
    changedFields: text("changed_fields").array().notNull().default(emptyTextArray),
    ipAddress: inet("ip_address"),
    userAgent: varchar("user_agent", { length: 500 }),
    requestId: varchar("request_id", { length: 64 }),
    metadata: jsonb("metadata"),
    createdAt: createdAt(),
  },
  (t) => [
    index("ix_audit_created").on(t.createdAt.desc()),
    index("ix_audit_user").on(t.userId, t.createdAt.desc()),
    index("ix_audit_resource").on(t.resourceType, t.resourceId, t.createdAt.desc()),
    index("ix_audit_project").on(t.projectId, t.createdAt.desc()),
    index("ix_audit_type").on(t.eventType, t.severity, t.createdAt.desc()),
    // The dashboard's activity feed (api.md §2.9): its rows in feed order, with the columns its
    // count filters on, so a page is an ordered index read and the count an index-only scan.
    index("ix_audit_dashboard")
      .on(t.createdAt.desc(), t.id.desc(), t.resourceType, t.projectId)
      .where(
        sql`${t.outcome} = 'success' AND ${t.projectId} IS NOT NULL AND ((${t.eventType} = 'DATA_CHANGE' AND ${t.action} IN ('CREATE', 'UPDATE', 'DELETE')) OR ${t.action} IN ('MEMBER_ADD', 'MEMBER_REMOVE'))`,
      ),
    check("ck_audit_event_type", inList("event_type", AUDIT_EVENT_TYPES)),
    check("ck_audit_outcome", inList("outcome", ["success", "denied", "failed"])),
    check("ck_audit_severity", inList("severity", SEVERITIES)),
  ],
);

export const systemSetting = pgTable(
  "system_setting",
  {
    id: id(),
    category: varchar("category", { length: 12 }).notNull(),
    key: varchar("key", { length: 100 }).notNull(),
    value: jsonb("value").notNull(),
    valueType: varchar("value_type", { length: 8 }).notNull(),
    description: text("description"),
    isSecret: boolean("is_secret").notNull().default(false),
    isEditable: boolean("is_editable").notNull().default(true),
    updatedBy: uuid("updated_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_system_setting").on(t.category, t.key),
    check("ck_setting_category", inList("category", SETTING_CATEGORIES)),
    check("ck_setting_type", inList("value_type", ["STRING", "NUMBER", "BOOLEAN", "JSON"])),
  ],
);

export const storageDeletionQueue = pgTable(
  "storage_deletion_queue",
  {
    id: id(),
    container: varchar("container", { length: 20 }).notNull(),
    storageKey: varchar("storage_key", { length: 1024 }).notNull(),
    reason: varchar("reason", { length: 50 }).notNull(),
    attempts: smallint("attempts").notNull().default(0),
    nextAttemptAt: ts("next_attempt_at").notNull().defaultNow(),
    lastError: text("last_error"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_storage_deletion").on(t.container, t.storageKey),
    index("ix_storage_deletion_next").on(t.nextAttemptAt),
    check("ck_storage_deletion_container", inList("container", STORAGE_CONTAINERS)),
  ],
);
