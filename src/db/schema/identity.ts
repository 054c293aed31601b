import { sql } from "drizzle-orm";
import {
  boolean,
  char,
  check,
  index,
  inet,
  integer,
  pgTable,
  smallint,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import { createdAt, id, inList, ts, updatedAt } from "./columns";

export const SYSTEM_ROLES = ["system_admin", "user"] as const;
export const USER_SOURCES = ["sso", "import", "seed"] as const;
export const SESSION_END_REASONS = ["MANUAL", "FORCED", "EXPIRED", "DEACTIVATED"] as const;

export const userAccount = pgTable(
  "user_account",
  {
    id: id(),
    azureOid: varchar("azure_oid", { length: 255 }),
    email: varchar("email", { length: 320 }).notNull(),
    displayName: varchar("display_name", { length: 255 }),
    idpName: varchar("idp_name", { length: 255 }),
    roles: text("roles").array().notNull().default(sql`'{user}'::text[]`),
    isActive: boolean("is_active").notNull().default(true),
    deactivatedAt: ts("deactivated_at"),
    source: varchar("source", { length: 10 }).notNull().default("sso"),
    lastLoginAt: ts("last_login_at"),
    loginCount: integer("login_count").notNull().default(0),
    tokensValidAfter: ts("tokens_valid_after"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_user_oid").on(t.azureOid).where(sql`${t.azureOid} IS NOT NULL`),
    uniqueIndex("uq_user_email").on(sql`lower(${t.email})`),
    index("ix_user_active").on(t.isActive),
    index("ix_user_active_admin").on(t.id).where(sql`${t.isActive} AND 'system_admin' = ANY(${t.roles})`),
    index("ix_user_last_login").on(t.lastLoginAt),
    check("ck_user_roles", sql`${t.roles} <@ '{system_admin,user}'::text[] AND cardinality(${t.roles}) >= 1`),
    check("ck_user_source", inList("source", USER_SOURCES)),
    check("ck_user_login_count", sql`${t.loginCount} >= 0`),
  ],
);

export const userSettings = pgTable(
  "user_settings",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .unique("uq_user_settings_user")
      .references(() => userAccount.id, { onDelete: "cascade" }),
    theme: varchar("theme", { length: 10 }).notNull().default("light"),
    language: varchar("language", { length: 5 }).notNull().default("ja"),
    timezone: varchar("timezone", { length: 64 }).notNull().default("Asia/Tokyo"),
    notifyEmail: boolean("notify_email").notNull().default(true),
    notifyMemberChanges: boolean("notify_member_changes").notNull().default(true),
    notifyFileUploaded: boolean("notify_file_uploaded").notNull().default(true),
    notifySessionCompleted: boolean("notify_session_completed").notNull().default(true),
    notifyTreeUpdated: boolean("notify_tree_updated").notNull().default(true),
    notifyAnnouncement: boolean("notify_announcement").notNull().default(true),
    itemsPerPage: smallint("items_per_page").notNull().default(20),
    defaultProjectView: varchar("default_project_view", { length: 10 }).notNull().default("grid"),
    showWelcomeMessage: boolean("show_welcome_message").notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    check("ck_settings_theme", inList("theme", ["light", "dark", "system"])),
    check("ck_settings_language", inList("language", ["ja", "en"])),
    check("ck_settings_items", sql`${t.itemsPerPage} BETWEEN 10 AND 100`),
    check("ck_settings_view", inList("default_project_view", ["grid", "list"])),
  ],
);

export const userSession = pgTable(
  "user_session",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => userAccount.id, { onDelete: "cascade" }),
    sessionKeyHash: char("session_key_hash", { length: 64 }).notNull().unique("uq_user_session_key"),
    keySource: varchar("key_source", { length: 5 }).notNull(),
    ipAddress: inet("ip_address"),
    userAgent: varchar("user_agent", { length: 500 }),
    startedAt: ts("started_at").notNull().defaultNow(),
    lastActivityAt: ts("last_activity_at").notNull().defaultNow(),
    expiresAt: ts("expires_at").notNull(),
    endedAt: ts("ended_at"),
    endReason: varchar("end_reason", { length: 12 }),
    endedBy: uuid("ended_by").references(() => userAccount.id, { onDelete: "set null" }),
    endNote: varchar("end_note", { length: 500 }),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("ix_user_session_user").on(t.userId, t.endedAt),
    index("ix_user_session_expiry").on(t.expiresAt).where(sql`${t.endedAt} IS NULL`),
    index("ix_user_session_started").on(t.startedAt),
    index("ix_user_session_ip").on(t.ipAddress),
    check("ck_user_session_source", inList("key_source", ["sid", "token", "dev"])),
    check("ck_user_session_reason", inList("end_reason", SESSION_END_REASONS)),
    check("ck_user_session_ended", sql`(${t.endedAt} IS NULL) = (${t.endReason} IS NULL)`),
  ],
);
