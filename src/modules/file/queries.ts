import { and, asc, count, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import {
  analysisFile,
  analysisSession,
  driverTreeFile,
  driverTreeNode,
  project,
  projectFile,
  storageDeletionQueue,
  userAccount,
} from "@/db/schema";
import { newId } from "@/lib/ids";
import { likePattern } from "@/lib/schema";
import type { FileListQuery } from "./model";

export type FileRow = typeof projectFile.$inferSelect;
export type NewFileRow = typeof projectFile.$inferInsert;

function fileSelect(db: DbOrTx) {
  return db
    .select({
      f: projectFile,
      uploadedBy: userRef,
      versionCount: sql<number>`(select count(*)::int from project_file v where v.chain_id = ${projectFile.chainId})`,
    })
    .from(projectFile)
    .leftJoin(userAccount, eq(userAccount.id, projectFile.uploadedBy));
}

/** A file row with its uploader and the size of its chain. */
export type FileView = Awaited<ReturnType<ReturnType<typeof fileSelect>["execute"]>>[number];

export async function findFile(db: DbOrTx, projectId: string, fileId: string): Promise<FileView | undefined> {
  const [row] = await fileSelect(db).where(
    and(eq(projectFile.id, fileId), eq(projectFile.projectId, projectId)),
  );
  return row;
}

/* A page of rows and the count of all rows matching the same filter. */
async function pageOf(db: DbOrTx, where: SQL | undefined, order: SQL[], skip: number, limit: number) {
  const rows = await fileSelect(db)
    .where(where)
    .orderBy(...order)
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(projectFile).where(where);
  return { rows, total: n };
}

/** The latest version of each of the project's files, filtered and sorted as the list query asks. */
export function listLatestFiles(
  db: DbOrTx,
  projectId: string,
  q: FileListQuery,
  skip: number,
  limit: number,
) {
  const kinds = q.kind ? q.kind.split(",") : null;
  const where = and(
    eq(projectFile.projectId, projectId),
    eq(projectFile.isLatest, true),
    kinds ? inArray(projectFile.kind, kinds) : undefined,
    q.mimeType
      ? sql`${projectFile.mimeType} like ${`${q.mimeType.replace(/[\\%_]/g, (c: string) => `\\${c}`)}%`}`
      : undefined,
    q.q ? sql`lower(${projectFile.originalFilename}) like lower(${likePattern(q.q)})` : undefined,
    q.uploadedBy ? eq(projectFile.uploadedBy, q.uploadedBy) : undefined,
  );
  const order: SQL[] =
    q.sort === "originalFilename"
      ? [asc(sql`lower(${projectFile.originalFilename})`)]
      : q.sort === "-sizeBytes"
        ? [desc(projectFile.sizeBytes)]
        : [desc(projectFile.uploadedAt)];
  return pageOf(db, where, [...order, asc(projectFile.id)], skip, limit);
}

export function listChainVersions(db: DbOrTx, chainId: string, skip: number, limit: number) {
  return pageOf(db, eq(projectFile.chainId, chainId), [asc(projectFile.version)], skip, limit);
}

/** Locks the chain's first row (its id is the chain id): the serialisation point of a chain. */
export async function lockChainRoot(tx: DbOrTx, chainId: string): Promise<boolean> {
  const [root] = await tx
    .select({ id: projectFile.id })
    .from(projectFile)
    .where(eq(projectFile.id, chainId))
    .for("update");
  return root !== undefined;
}

export async function latestOfChain(db: DbOrTx, chainId: string): Promise<FileRow | undefined> {
  const [row] = await db
    .select()
    .from(projectFile)
    .where(and(eq(projectFile.chainId, chainId), eq(projectFile.isLatest, true)));
  return row;
}

/** Inserts a new latest version; the previous latest of the chain (if any) stops being latest. */
export async function insertLatestVersion(
  tx: DbOrTx,
  values: NewFileRow,
  hasParent: boolean,
): Promise<FileRow> {
  if (hasParent) {
    await tx
      .update(projectFile)
      .set({ isLatest: false, updatedAt: new Date() })
      .where(and(eq(projectFile.chainId, values.chainId), eq(projectFile.isLatest, true)));
  }
  const [row] = await tx
    .insert(projectFile)
    .values({ ...values, isLatest: true })
    .returning();
  return row;
}

/** Adds `deltaBytes` (may be negative, floored at 0) to the project's storage use and marks it active. */
export async function addProjectStorage(tx: DbOrTx, projectId: string, deltaBytes: number): Promise<void> {
  await tx
    .update(project)
    .set({
      storageBytes: sql`greatest(${project.storageBytes} + ${deltaBytes}, 0)`,
      lastActivityAt: new Date(),
    })
    .where(eq(project.id, projectId));
}

export async function chainUploader(db: DbOrTx, chainId: string): Promise<string | null> {
  const [first] = await db
    .select({ uploadedBy: projectFile.uploadedBy })
    .from(projectFile)
    .where(and(eq(projectFile.chainId, chainId), eq(projectFile.version, 1)));
  return first?.uploadedBy ?? null;
}

/** Analysis files of the project's sessions registered from any version of the chain, oldest first. */
export function chainSessionUses(db: DbOrTx, projectId: string, chainId: string) {
  return db
    .select({
      sessionId: analysisSession.id,
      sessionName: analysisSession.name,
      sheetName: analysisFile.sheetName,
      usedAt: analysisFile.createdAt,
    })
    .from(analysisFile)
    .innerJoin(projectFile, eq(projectFile.id, analysisFile.projectFileId))
    .innerJoin(analysisSession, eq(analysisSession.id, analysisFile.sessionId))
    .where(and(eq(projectFile.chainId, chainId), eq(analysisSession.projectId, projectId)))
    .orderBy(asc(analysisFile.createdAt));
}

/** Selected driver-tree sheets of any version of the chain, with how many nodes are bound to each. */
export function chainSheetUses(db: DbOrTx, projectId: string, chainId: string) {
  return db
    .select({
      sheetId: driverTreeFile.id,
      sheetName: driverTreeFile.sheetName,
      usedAt: sql<Date>`coalesce(${driverTreeFile.selectedAt}, ${driverTreeFile.createdAt})`.mapWith(
        (v: string | Date) => new Date(v),
      ),
      boundNodes: sql<number>`(select count(*)::int from ${driverTreeNode} n where n.bound_sheet_id = ${driverTreeFile.id})`,
    })
    .from(driverTreeFile)
    .innerJoin(projectFile, eq(projectFile.id, driverTreeFile.projectFileId))
    .where(
      and(
        eq(projectFile.chainId, chainId),
        eq(projectFile.projectId, projectId),
        eq(driverTreeFile.isSelected, true),
      ),
    )
    .orderBy(asc(driverTreeFile.selectedAt), asc(driverTreeFile.id));
}

/*
 * Locks and deletes every version of the chain, queueing their stored objects for deletion in
 * the same transaction; answers the deleted rows.
 */
export async function deleteChainRows(
  tx: DbOrTx,
  projectId: string,
  chainId: string,
  container: string,
): Promise<FileRow[]> {
  const versions = await tx
    .select()
    .from(projectFile)
    .where(and(eq(projectFile.chainId, chainId), eq(projectFile.projectId, projectId)))
    // Version 1 (the chain's lock row for new versions) first, so the two never deadlock.
    .orderBy(asc(projectFile.version))
    .for("update");
  if (versions.length === 0) return versions;
  await tx
    .insert(storageDeletionQueue)
    .values(
      versions.map((v) => ({ id: newId(), container, storageKey: v.storageKey, reason: "file_deleted" })),
    )
    .onConflictDoNothing();
  await tx.delete(projectFile).where(eq(projectFile.chainId, chainId));
  return versions;
}
