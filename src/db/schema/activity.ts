import { sql } from "drizzle-orm";
import { check, index, inet, integer, jsonb, pgTable, smallint, uuid, varchar } from "drizzle-orm/pg-core";
import { createdAt, id, inList } from "./columns";
import { userAccount } from "./identity";

export const ACTIVITY_ACTION_TYPES = [
  "CREATE",
  "READ",
  "UPDATE",
  "DELETE",
  "LOGIN",
  "LOGOUT",
  "EXPORT",
  "IMPORT",
  "BULK_UPDATE",
  "ERROR",
] as const;

/* One row per API request (api.md §3.7), written in batches by the activity recorder; append-only. */
export const userActivity = pgTable(
  "user_activity",
  {
    id: id(),
    userId: uuid("user_id").references(() => userAccount.id, { onDelete: "set null" }),
    actionType: varchar("action_type", { length: 12 }).notNull(),
    resourceType: varchar("resource_type", { length: 50 }),
    resourceId: uuid("resource_id"),
    projectId: uuid("project_id"),
    method: varchar("method", { length: 7 }).notNull(),
    route: varchar("route", { length: 255 }).notNull(),
    path: varchar("path", { length: 1024 }).notNull(),
    statusCode: smallint("status_code").notNull(),
    durationMs: integer("duration_ms").notNull().default(0),
    errorCode: varchar("error_code", { length: 64 }),
    errorMessage: varchar("error_message", { length: 1000 }),
    requestBody: jsonb("request_body"),
    ipAddress: inet("ip_address"),
    userAgent: varchar("user_agent", { length: 500 }),
    requestId: varchar("request_id", { length: 64 }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index("ix_activity_created").on(t.createdAt.desc()),
    index("ix_activity_user").on(t.userId, t.createdAt.desc()),
    index("ix_activity_resource").on(t.resourceType, t.resourceId),
    index("ix_activity_project").on(t.projectId, t.createdAt.desc()),
    index("ix_activity_errors").on(t.createdAt.desc()).where(sql`${t.statusCode} >= 400`),
    check("ck_activity_action", inList("action_type", ACTIVITY_ACTION_TYPES)),
  ],
);
