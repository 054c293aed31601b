import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  char,
  check,
  date,
  index,
  integer,
  numeric,
  pgTable,
  text,
  unique,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import { createdAt, id, inList, ts, updatedAt } from "./columns";
import { userAccount } from "./identity";

export const PROJECT_ROLES = ["project_manager", "project_moderator", "member", "viewer"] as const;
export const FILE_KINDS = [
  "xlsx",
  "xlsm",
  "xls",
  "docx",
  "csv",
  "txt",
  "json",
  "pdf",
  "png",
  "jpeg",
  "gif",
] as const;

export const project = pgTable(
  "project",
  {
    id: id(),
    name: varchar("name", { length: 255 }).notNull(),
    code: varchar("code", { length: 50 }).notNull(),
    description: text("description"),
    isActive: boolean("is_active").notNull().default(true),
    deactivatedAt: ts("deactivated_at"),
    createdBy: uuid("created_by").references(() => userAccount.id, { onDelete: "set null" }),
    startDate: date("start_date", { mode: "string" }),
    endDate: date("end_date", { mode: "string" }),
    budget: numeric("budget", { precision: 15, scale: 2 }),
    storageBytes: bigint("storage_bytes", { mode: "number" }).notNull().default(0),
    lastActivityAt: ts("last_activity_at").notNull().defaultNow(),
    // Kept by triggers (0005_project_counters) in the transaction that adds or removes the row,
    // so a page of projects is one indexed read instead of three grouped scans.
    memberCount: integer("member_count").notNull().default(0),
    fileCount: integer("file_count").notNull().default(0),
    sessionCount: integer("session_count").notNull().default(0),
    treeCount: integer("tree_count").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("uq_project_code").on(sql`lower(${t.code})`),
    index("ix_project_active_activity").on(t.isActive, t.lastActivityAt),
    index("ix_project_created").on(t.createdAt),
    index("ix_project_name").on(sql`lower(${t.name})`),
    // Trigram indexes for the substring search (api.md §2.11, migration 0009_search_trigram).
    index("ix_project_name_trgm").using("gin", sql`lower(${t.name}) gin_trgm_ops`),
    index("ix_project_code_trgm").using("gin", sql`lower(${t.code}) gin_trgm_ops`),
    index("ix_project_description_trgm").using("gin", sql`lower(${t.description}) gin_trgm_ops`),
    check("ck_project_dates", sql`${t.endDate} >= ${t.startDate}`),
    check("ck_project_budget", sql`${t.budget} >= 0`),
  ],
);

export const projectMember = pgTable(
  "project_member",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => project.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => userAccount.id, { onDelete: "cascade" }),
    role: varchar("role", { length: 20 }).notNull().default("member"),
    joinedAt: ts("joined_at").notNull().defaultNow(),
    addedBy: uuid("added_by").references(() => userAccount.id, { onDelete: "set null" }),
    lastActivityAt: ts("last_activity_at"),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_project_member").on(t.projectId, t.userId),
    index("ix_project_member_user").on(t.userId),
    index("ix_project_member_role").on(t.projectId, t.role),
    check("ck_project_member_role", inList("role", PROJECT_ROLES)),
  ],
);

export const projectFile = pgTable(
  "project_file",
  {
    id: id(),
    projectId: uuid("project_id")
      .notNull()
      .references(() => project.id, { onDelete: "cascade" }),
    chainId: uuid("chain_id").notNull(),
    parentFileId: uuid("parent_file_id").references((): any => projectFile.id, { onDelete: "set null" }),
    restoredFromId: uuid("restored_from_id").references((): any => projectFile.id, { onDelete: "set null" }),
    version: integer("version").notNull(),
    isLatest: boolean("is_latest").notNull().default(true),
    filename: varchar("filename", { length: 255 }).notNull(),
    originalFilename: varchar("original_filename", { length: 255 }).notNull(),
    storageKey: varchar("storage_key", { length: 1024 }).notNull().unique("uq_project_file_key"),
    kind: varchar("kind", { length: 5 }).notNull(),
    mimeType: varchar("mime_type", { length: 100 }).notNull(),
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    checksumSha256: char("checksum_sha256", { length: 64 }).notNull(),
    comment: varchar("comment", { length: 500 }),
    uploadedBy: uuid("uploaded_by").references(() => userAccount.id, { onDelete: "set null" }),
    uploadedAt: ts("uploaded_at").notNull().defaultNow(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("uq_project_file_chain_version").on(t.chainId, t.version),
    uniqueIndex("uq_project_file_latest").on(t.chainId).where(sql`${t.isLatest}`),
    index("ix_project_file_latest").on(t.projectId, t.isLatest, t.uploadedAt.desc()),
    index("ix_project_file_name").on(t.projectId, sql`lower(${t.originalFilename})`),
    // Search matches the latest version of each chain only, so the index holds only those.
    index("ix_project_file_name_trgm")
      .using("gin", sql`lower(${t.originalFilename}) gin_trgm_ops`)
      .where(sql`${t.isLatest}`),
    index("ix_project_file_uploader").on(t.uploadedBy),
    check("ck_project_file_version", sql`${t.version} >= 1`),
    check("ck_project_file_size", sql`${t.sizeBytes} >= 0`),
    check("ck_project_file_kind", inList("kind", FILE_KINDS)),
  ],
);
