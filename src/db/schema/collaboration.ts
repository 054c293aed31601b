import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  pgTable,
  smallint,
  text,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import { createdAt, emptyTextArray, id, inList, ts, updatedAt } from "./columns";
import { userAccount } from "./identity";
import { project } from "./projects";

export const NOTIFICATION_TYPES = [
  "member_added",
  "member_removed",
  "file_uploaded",
  "session_completed",
  "tree_updated",
  "announcement",
] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export const NOTIFICATION_REFERENCE_TYPES = ["project", "session", "file", "tree", "announcement"] as const;

export const ANNOUNCEMENT_TYPES = ["INFO", "WARNING", "MAINTENANCE", "RELEASE", "URGENT"] as const;

export const TEMPLATE_LANGUAGES = ["ja", "en"] as const;

/* api.md §3.7: one row per recipient; the unread `tree_updated` row of a tree is refreshed, not repeated. */
export const userNotification = pgTable(
  "user_notification",
  {
    id: id(),
    userId: uuid("user_id")
      .notNull()
      .references(() => userAccount.id, { onDelete: "cascade" }),
    type: varchar("type", { length: 20 }).notNull(),
    title: varchar("title", { length: 255 }).notNull(),
    message: text("message"),
    icon: varchar("icon", { length: 16 }),
    linkUrl: varchar("link_url", { length: 500 }),
    projectId: uuid("project_id").references(() => project.id, { onDelete: "cascade" }),
    referenceType: varchar("reference_type", { length: 12 }),
    referenceId: uuid("reference_id"),
    actorId: uuid("actor_id").references(() => userAccount.id, { onDelete: "set null" }),
    isRead: boolean("is_read").notNull().default(false),
    readAt: ts("read_at"),
    dedupeKey: varchar("dedupe_key", { length: 200 }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("ix_notification_user").on(t.userId, t.isRead, t.createdAt.desc()),
    uniqueIndex("uq_notification_unread_dedupe")
      .on(t.userId, t.dedupeKey)
      .where(sql`NOT ${t.isRead} AND ${t.dedupeKey} IS NOT NULL`),
    // Project deletes cascade here; without it each one scans every notification.
    index("ix_notification_project").on(t.projectId),
    index("ix_notification_read_at").on(t.readAt).where(sql`${t.isRead}`),
    check("ck_notification_type", inList("type", NOTIFICATION_TYPES)),
    check("ck_notification_ref_type", inList("reference_type", NOTIFICATION_REFERENCE_TYPES)),
  ],
);

/* Seeded per (event type, language); admins edit the text, never the set (api.md §2.12.7). */
export const notificationTemplate = pgTable(
  "notification_template",
  {
    id: id(),
    eventType: varchar("event_type", { length: 20 }).notNull(),
    language: varchar("language", { length: 5 }).notNull(),
    name: varchar("name", { length: 100 }).notNull(),
    titleTemplate: varchar("title_template", { length: 255 }).notNull(),
    bodyTemplate: text("body_template").notNull(),
    variables: text("variables").array().notNull().default(emptyTextArray),
    isActive: boolean("is_active").notNull().default(true),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_notification_template").on(t.eventType, t.language),
    check("ck_template_event", inList("event_type", NOTIFICATION_TYPES)),
    check("ck_template_language", inList("language", TEMPLATE_LANGUAGES)),
  ],
);

export const systemAnnouncement = pgTable(
  "system_announcement",
  {
    id: id(),
    title: varchar("title", { length: 200 }).notNull(),
    content: text("content").notNull(),
    announcementType: varchar("announcement_type", { length: 12 }).notNull(),
    priority: smallint("priority").notNull().default(5),
    startAt: ts("start_at").notNull().defaultNow(),
    endAt: ts("end_at"),
    isActive: boolean("is_active").notNull().default(true),
    targetRoles: text("target_roles").array(),
    notify: boolean("notify").notNull().default(false),
    notifiedAt: ts("notified_at"),
    createdBy: uuid("created_by").references(() => userAccount.id, { onDelete: "set null" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("ix_announcement_window").on(t.isActive, t.startAt, t.endAt),
    index("ix_announcement_pending").on(t.startAt).where(sql`${t.notify} AND ${t.notifiedAt} IS NULL`),
    check("ck_announcement_type", inList("announcement_type", ANNOUNCEMENT_TYPES)),
    check("ck_announcement_priority", sql`${t.priority} BETWEEN 1 AND 10`),
    check("ck_announcement_range", sql`${t.endAt} IS NULL OR ${t.endAt} > ${t.startAt}`),
  ],
);
