import { and, asc, count, desc, eq, getTableColumns, inArray, type SQL, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { DbOrTx } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import {
  analysisChat,
  analysisFile,
  analysisIssueMaster,
  analysisSession,
  analysisSnapshot,
  analysisStep,
  analysisValidationMaster,
  projectFile,
  userAccount,
} from "@/db/schema";
import { likePattern } from "@/lib/schema";
import type { ChatRow, SessionRow, SnapshotRow, StepRow } from "./repository";

/*
 * Reads of the session aggregate for the services (the writes are `repository.ts`). Plain rows
 * out; lists page in SQL.
 */

export type FileRow = typeof analysisFile.$inferSelect;
export type FileMeta = Omit<FileRow, "data">;
export type ProjectFileRow = typeof projectFile.$inferSelect;
export type UserRef = { id: string; email: string; displayName: string | null };
export type Page<T> = { rows: T[]; total: number };
type PageArgs = { skip: number; limit: number };

/* ---------- sessions ---------- */

export async function findSession(
  db: DbOrTx,
  projectId: string,
  sessionId: string,
): Promise<SessionRow | null> {
  const [row] = await db
    .select()
    .from(analysisSession)
    .where(and(eq(analysisSession.id, sessionId), eq(analysisSession.projectId, projectId)));
  return row ?? null;
}

const creator = alias(userAccount, "creator");
const inputFile = alias(analysisFile, "input_file");

function summarySelect(db: DbOrTx) {
  return db
    .select({
      s: analysisSession,
      issueName: analysisIssueMaster.name,
      validationName: analysisValidationMaster.name,
      cId: creator.id,
      cEmail: creator.email,
      cName: creator.displayName,
      inputFileName: inputFile.sourceFilename,
      currentSnapshot: sql<number>`coalesce((select max(o.snapshot_order) from analysis_snapshot o where o.session_id = ${analysisSession.id}), 0)`,
      snapshotCount: sql<number>`(select count(*)::int from analysis_snapshot o where o.session_id = ${analysisSession.id})`,
    })
    .from(analysisSession)
    .innerJoin(analysisIssueMaster, eq(analysisIssueMaster.id, analysisSession.issueId))
    .innerJoin(analysisValidationMaster, eq(analysisValidationMaster.id, analysisIssueMaster.validationId))
    .leftJoin(creator, eq(creator.id, analysisSession.creatorId))
    .leftJoin(inputFile, eq(inputFile.id, analysisSession.inputFileId));
}

/** A session with the names and counts of its summary (api.md §2.7). */
export type SummaryRow = Awaited<ReturnType<ReturnType<typeof summarySelect>["execute"]>>[number];

/** The summary row of a session; with `projectId`, only if the session is in that project. */
export async function sessionSummary(
  db: DbOrTx,
  sessionId: string,
  projectId?: string,
): Promise<SummaryRow | null> {
  const [row] = await summarySelect(db).where(
    and(
      eq(analysisSession.id, sessionId),
      projectId === undefined ? undefined : eq(analysisSession.projectId, projectId),
    ),
  );
  return row ?? null;
}

export type SessionFilter = {
  status?: string;
  issueId?: string;
  creatorId?: string;
  q?: string;
  sort?: "name" | "-createdAt" | "-updatedAt" | string;
};

export async function listSessionSummaries(
  db: DbOrTx,
  projectId: string,
  f: SessionFilter,
  { skip, limit }: PageArgs,
): Promise<Page<SummaryRow>> {
  const where = and(
    eq(analysisSession.projectId, projectId),
    f.status ? eq(analysisSession.status, f.status) : undefined,
    f.issueId ? eq(analysisSession.issueId, f.issueId) : undefined,
    f.creatorId ? eq(analysisSession.creatorId, f.creatorId) : undefined,
    f.q ? sql`lower(${analysisSession.name}) like lower(${likePattern(f.q)})` : undefined,
  );
  const order: SQL[] =
    f.sort === "name"
      ? [asc(sql`lower(${analysisSession.name})`)]
      : f.sort === "-createdAt"
        ? [desc(analysisSession.createdAt)]
        : [desc(analysisSession.updatedAt)];
  const rows = await summarySelect(db)
    .where(where)
    .orderBy(...order, asc(analysisSession.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(analysisSession).where(where);
  return { rows, total: n };
}

export async function issueName(db: DbOrTx, issueId: string): Promise<string | null> {
  const [row] = await db
    .select({ name: analysisIssueMaster.name })
    .from(analysisIssueMaster)
    .where(eq(analysisIssueMaster.id, issueId));
  return row?.name ?? null;
}

/* ---------- snapshots, chats, steps ---------- */

export type SnapshotWithAuthor = { s: SnapshotRow; author: UserRef | null };
export type ChatWithAuthor = { c: ChatRow; author: UserRef | null };

/** The session's snapshots in order (a page of them when `page` is given), with their authors. */
export async function snapshotsWithAuthors(
  db: DbOrTx,
  sessionId: string,
  page?: PageArgs,
): Promise<SnapshotWithAuthor[]> {
  const q = db
    .select({ s: analysisSnapshot, author: userRef })
    .from(analysisSnapshot)
    .leftJoin(userAccount, eq(userAccount.id, analysisSnapshot.createdBy))
    .where(eq(analysisSnapshot.sessionId, sessionId))
    .orderBy(asc(analysisSnapshot.snapshotOrder))
    .$dynamic();
  return page ? q.offset(page.skip).limit(page.limit) : q;
}

export async function countSnapshots(db: DbOrTx, sessionId: string): Promise<number> {
  const [{ n }] = await db
    .select({ n: count() })
    .from(analysisSnapshot)
    .where(eq(analysisSnapshot.sessionId, sessionId));
  return n;
}

/** Chats of these snapshots, in chat order, with their authors. */
export function chatsWithAuthors(db: DbOrTx, snapshotIds: string[]): Promise<ChatWithAuthor[]> {
  return db
    .select({ c: analysisChat, author: userRef })
    .from(analysisChat)
    .leftJoin(userAccount, eq(userAccount.id, analysisChat.authorId))
    .where(inArray(analysisChat.snapshotId, snapshotIds))
    .orderBy(asc(analysisChat.chatOrder));
}

/** Steps of these snapshots, in step order. */
export function stepsOfSnapshots(db: DbOrTx, snapshotIds: string[]): Promise<StepRow[]> {
  return db
    .select()
    .from(analysisStep)
    .where(inArray(analysisStep.snapshotId, snapshotIds))
    .orderBy(asc(analysisStep.stepOrder));
}

/** The session's highest-numbered snapshot (the one `currentSnapshot` of a summary names). */
export async function latestSnapshotId(db: DbOrTx, sessionId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: analysisSnapshot.id })
    .from(analysisSnapshot)
    .where(eq(analysisSnapshot.sessionId, sessionId))
    .orderBy(desc(analysisSnapshot.snapshotOrder))
    .limit(1);
  return row?.id ?? null;
}

/** A page of one snapshot's chats in order, with authors, and how many it has. */
export async function chatPage(
  db: DbOrTx,
  snapshotId: string,
  { skip, limit }: PageArgs,
): Promise<Page<ChatWithAuthor>> {
  const where = eq(analysisChat.snapshotId, snapshotId);
  const [rows, [{ n }]] = await Promise.all([
    db
      .select({ c: analysisChat, author: userRef })
      .from(analysisChat)
      .leftJoin(userAccount, eq(userAccount.id, analysisChat.authorId))
      .where(where)
      .orderBy(asc(analysisChat.chatOrder))
      .offset(skip)
      .limit(limit),
    db.select({ n: count() }).from(analysisChat).where(where),
  ]);
  return { rows, total: n };
}

export async function findSnapshot(db: DbOrTx, snapshotId: string): Promise<SnapshotRow | null> {
  const [row] = await db.select().from(analysisSnapshot).where(eq(analysisSnapshot.id, snapshotId));
  return row ?? null;
}

/** A snapshot of this session, or null. */
export async function findSessionSnapshot(
  db: DbOrTx,
  sessionId: string,
  snapshotId: string,
): Promise<SnapshotRow | null> {
  const [row] = await db
    .select()
    .from(analysisSnapshot)
    .where(and(eq(analysisSnapshot.id, snapshotId), eq(analysisSnapshot.sessionId, sessionId)));
  return row ?? null;
}

export async function snapshotOrder(db: DbOrTx, snapshotId: string): Promise<number | null> {
  const [row] = await db
    .select({ order: analysisSnapshot.snapshotOrder })
    .from(analysisSnapshot)
    .where(eq(analysisSnapshot.id, snapshotId));
  return row?.order ?? null;
}

/** A chat of this snapshot, or null. */
export async function findChat(db: DbOrTx, snapshotId: string, chatId: string): Promise<ChatRow | null> {
  const [row] = await db
    .select()
    .from(analysisChat)
    .where(and(eq(analysisChat.id, chatId), eq(analysisChat.snapshotId, snapshotId)));
  return row ?? null;
}

/** The transcript of a snapshot for the export's chat sheet. */
export function transcript(
  db: DbOrTx,
  snapshotId: string,
): Promise<{ order: number; role: string; message: string }[]> {
  return db
    .select({ order: analysisChat.chatOrder, role: analysisChat.role, message: analysisChat.message })
    .from(analysisChat)
    .where(eq(analysisChat.snapshotId, snapshotId))
    .orderBy(asc(analysisChat.chatOrder));
}

/** A step of any snapshot of this session, or null. */
export async function findSessionStep(
  db: DbOrTx,
  sessionId: string,
  stepId: string,
): Promise<StepRow | null> {
  const [row] = await db
    .select({ step: analysisStep })
    .from(analysisStep)
    .innerJoin(analysisSnapshot, eq(analysisSnapshot.id, analysisStep.snapshotId))
    .where(and(eq(analysisStep.id, stepId), eq(analysisSnapshot.sessionId, sessionId)));
  return row?.step ?? null;
}

export async function stepInSnapshot(db: DbOrTx, snapshotId: string, stepId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: analysisStep.id })
    .from(analysisStep)
    .where(and(eq(analysisStep.id, stepId), eq(analysisStep.snapshotId, snapshotId)));
  return row !== undefined;
}

/* ---------- analysis files ---------- */

/** The version stamp of an analysis file (the input cache key), without its data. */
export async function fileVersion(db: DbOrTx, fileId: string): Promise<Date | null> {
  const [row] = await db
    .select({ updatedAt: analysisFile.updatedAt })
    .from(analysisFile)
    .where(eq(analysisFile.id, fileId));
  return row?.updatedAt ?? null;
}

/** The parsed data of an analysis file with the version it was read at. */
export async function fileData(
  db: DbOrTx,
  fileId: string,
): Promise<{ data: unknown; updatedAt: Date } | null> {
  const [row] = await db
    .select({ data: analysisFile.data, updatedAt: analysisFile.updatedAt })
    .from(analysisFile)
    .where(eq(analysisFile.id, fileId));
  return row ?? null;
}

export async function fileNames(
  db: DbOrTx,
  fileId: string,
): Promise<{ sourceFilename: string; sheetName: string | null } | null> {
  const [row] = await db
    .select({ sourceFilename: analysisFile.sourceFilename, sheetName: analysisFile.sheetName })
    .from(analysisFile)
    .where(eq(analysisFile.id, fileId));
  return row ?? null;
}

/** An analysis file of this session, or null. */
export async function findFile(db: DbOrTx, sessionId: string, fileId: string): Promise<FileRow | null> {
  const [row] = await db
    .select()
    .from(analysisFile)
    .where(and(eq(analysisFile.id, fileId), eq(analysisFile.sessionId, sessionId)));
  return row ?? null;
}

const { data: _data, ...fileMeta } = getTableColumns(analysisFile);

/** The session's files without their data, oldest first, with who added them. */
export function filesWithAdders(
  db: DbOrTx,
  sessionId: string,
): Promise<{ f: FileMeta; addedBy: UserRef | null }[]> {
  return db
    .select({ f: fileMeta, addedBy: userRef })
    .from(analysisFile)
    .leftJoin(userAccount, eq(userAccount.id, analysisFile.addedBy))
    .where(eq(analysisFile.sessionId, sessionId))
    .orderBy(asc(analysisFile.createdAt));
}

/**
 * A page of the session's files with who added them. The parsed `data` can be megabytes per
 * file: read only for the page, and only when asked for.
 */
export async function filePage(
  db: DbOrTx,
  sessionId: string,
  { skip, limit, includeData }: PageArgs & { includeData: boolean },
): Promise<Page<{ f: FileMeta & { data?: unknown }; addedBy: UserRef | null }>> {
  const where = eq(analysisFile.sessionId, sessionId);
  const [rows, [{ n }]] = await Promise.all([
    db
      .select({ f: { ...fileMeta, ...(includeData ? { data: analysisFile.data } : {}) }, addedBy: userRef })
      .from(analysisFile)
      .leftJoin(userAccount, eq(userAccount.id, analysisFile.addedBy))
      .where(where)
      .orderBy(asc(analysisFile.createdAt), asc(analysisFile.id))
      .offset(skip)
      .limit(limit),
    db.select({ n: count() }).from(analysisFile).where(where),
  ]);
  return { rows, total: n };
}

export async function userRefOf(db: DbOrTx, userId: string): Promise<UserRef | null> {
  const [row] = await db.select(userRef).from(userAccount).where(eq(userAccount.id, userId));
  return row ?? null;
}

/** A project file by id, within `projectId` when given. */
export async function findProjectFile(
  db: DbOrTx,
  fileId: string,
  projectId?: string,
): Promise<ProjectFileRow | null> {
  const [row] = await db
    .select()
    .from(projectFile)
    .where(
      and(
        eq(projectFile.id, fileId),
        projectId === undefined ? undefined : eq(projectFile.projectId, projectId),
      ),
    );
  return row ?? null;
}
