import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { type DbOrTx, readRows } from "@/db/client";
import { driverTreeDataFrame, driverTreeFile, driverTreeNode, projectFile } from "@/db/schema";
import { newId } from "@/lib/ids";

/*
 * Sheets of driver-tree files (`driver_tree_file`, one row per sheet of a project-file version)
 * and their columns (`driver_tree_data_frame`, one row per column of a selected sheet). Bindings
 * are node columns and stay with the tree's repository.
 */

export type SheetRow = typeof driverTreeFile.$inferSelect;
export type FrameRow = typeof driverTreeDataFrame.$inferSelect;

/** Sheet rows of these file versions, in workbook order. */
export function sheetsOfFiles(db: DbOrTx, fileIds: readonly string[]): Promise<SheetRow[]> {
  if (fileIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(driverTreeFile)
    .where(inArray(driverTreeFile.projectFileId, [...fileIds]))
    .orderBy(asc(driverTreeFile.sheetIndex), asc(driverTreeFile.sheetName));
}

/** Selected sheets of older versions of these chains (a refresh moves them to the latest). */
export async function selectedSheetsOfChains(
  db: DbOrTx,
  chainIds: readonly string[],
): Promise<(SheetRow & { chainId: string })[]> {
  if (chainIds.length === 0) return [];
  const rows = await db
    .select({ s: driverTreeFile, chainId: projectFile.chainId })
    .from(driverTreeFile)
    .innerJoin(projectFile, eq(projectFile.id, driverTreeFile.projectFileId))
    .where(and(inArray(projectFile.chainId, [...chainIds]), eq(driverTreeFile.isSelected, true)));
  return rows.map((r) => ({ ...r.s, chainId: r.chainId }));
}

/** Catalogues the sheets of one file version; sheets already there are left alone (idempotent). */
export async function catalogueSheets(tx: DbOrTx, fileId: string, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  await tx
    .insert(driverTreeFile)
    .values(names.map((sheetName, i) => ({ id: newId(), projectFileId: fileId, sheetName, sheetIndex: i })))
    .onConflictDoNothing();
}

export type SheetRef = {
  sheet: SheetRow;
  file: { id: string; chainId: string; kind: string; storageKey: string; originalFilename: string };
};

/** The sheet when its file belongs to the project; another project's sheet is simply not found. */
export async function findSheet(db: DbOrTx, projectId: string, sheetId: string): Promise<SheetRef | null> {
  const [r] = await db
    .select({
      sheet: driverTreeFile,
      file: {
        id: projectFile.id,
        chainId: projectFile.chainId,
        kind: projectFile.kind,
        storageKey: projectFile.storageKey,
        originalFilename: projectFile.originalFilename,
      },
    })
    .from(driverTreeFile)
    .innerJoin(projectFile, eq(projectFile.id, driverTreeFile.projectFileId))
    .where(and(eq(driverTreeFile.id, sheetId), eq(projectFile.projectId, projectId)));
  return r ?? null;
}

/** Locks the sheet row: selection, refresh, roles and unselect of one sheet run one at a time. */
export async function lockSheet(tx: DbOrTx, sheetId: string): Promise<SheetRow | null> {
  const [r] = await tx.select().from(driverTreeFile).where(eq(driverTreeFile.id, sheetId)).for("update");
  return r ?? null;
}

/** Share-locks the sheet row (a binding reading it): waits for, and holds off, `lockSheet`. Unknown ids lock nothing. */
export async function shareSheet(tx: DbOrTx, sheetId: string): Promise<void> {
  await tx
    .select({ id: driverTreeFile.id })
    .from(driverTreeFile)
    .where(eq(driverTreeFile.id, sheetId))
    .for("share");
}

export async function markSelected(
  tx: DbOrTx,
  sheetId: string,
  selected: { by: string; rowCount: number } | null,
): Promise<void> {
  await tx
    .update(driverTreeFile)
    .set(
      selected
        ? { isSelected: true, selectedAt: new Date(), selectedBy: selected.by, rowCount: selected.rowCount }
        : { isSelected: false, selectedAt: null, selectedBy: null, rowCount: null },
    )
    .where(eq(driverTreeFile.id, sheetId));
}

/** Moves a selected sheet onto another version of its chain (refresh), replacing that version's unselected row of the same name. */
export async function moveSheet(
  tx: DbOrTx,
  sheet: SheetRow,
  fileId: string,
  rowCount: number,
): Promise<void> {
  if (sheet.projectFileId !== fileId) {
    await tx
      .delete(driverTreeFile)
      .where(
        and(
          eq(driverTreeFile.projectFileId, fileId),
          eq(driverTreeFile.sheetName, sheet.sheetName),
          eq(driverTreeFile.isSelected, false),
        ),
      );
  }
  await tx
    .update(driverTreeFile)
    .set({ projectFileId: fileId, rowCount, updatedAt: new Date() })
    .where(eq(driverTreeFile.id, sheet.id));
}

export type NewFrame = {
  columnId: string;
  columnName: string;
  isSubject: boolean;
  role: string;
  items: string[];
  data: unknown;
};

export async function insertFrames(tx: DbOrTx, sheetId: string, frames: readonly NewFrame[]): Promise<void> {
  if (frames.length === 0) return;
  await tx
    .insert(driverTreeDataFrame)
    .values(frames.map((f) => ({ id: newId(), driverTreeFileId: sheetId, ...f })));
}

export async function deleteFrames(tx: DbOrTx, sheetId: string): Promise<void> {
  await tx.delete(driverTreeDataFrame).where(eq(driverTreeDataFrame.driverTreeFileId, sheetId));
}

export async function setRoles(
  tx: DbOrTx,
  sheetId: string,
  roles: readonly { columnId: string; role: string }[],
): Promise<void> {
  for (const r of roles) {
    await tx
      .update(driverTreeDataFrame)
      .set({ role: r.role, updatedAt: new Date() })
      .where(
        and(eq(driverTreeDataFrame.driverTreeFileId, sheetId), eq(driverTreeDataFrame.columnId, r.columnId)),
      );
  }
}

/** Column metadata of a sheet (no data), axis columns first in sheet order, 科目 last. */
export function columnsOf(db: DbOrTx, sheetIds: readonly string[]) {
  if (sheetIds.length === 0) return Promise.resolve([]);
  return db
    .select({
      id: driverTreeDataFrame.id,
      sheetId: driverTreeDataFrame.driverTreeFileId,
      columnId: driverTreeDataFrame.columnId,
      columnName: driverTreeDataFrame.columnName,
      isSubject: driverTreeDataFrame.isSubject,
      role: driverTreeDataFrame.role,
      items: driverTreeDataFrame.items,
    })
    .from(driverTreeDataFrame)
    .where(inArray(driverTreeDataFrame.driverTreeFileId, [...sheetIds]))
    .orderBy(
      asc(driverTreeDataFrame.isSubject),
      asc(driverTreeDataFrame.createdAt),
      asc(driverTreeDataFrame.id),
    );
}

/** Whole frames (with data) of these sheets. */
export function framesOf(db: DbOrTx, sheetIds: readonly string[]): Promise<FrameRow[]> {
  if (sheetIds.length === 0) return Promise.resolve([]);
  return db
    .select()
    .from(driverTreeDataFrame)
    .where(inArray(driverTreeDataFrame.driverTreeFileId, [...sheetIds]))
    .orderBy(
      asc(driverTreeDataFrame.isSubject),
      asc(driverTreeDataFrame.createdAt),
      asc(driverTreeDataFrame.id),
    );
}

/** A page of the project's selected sheets with their file's name. */
export async function listSelectedSheets(db: DbOrTx, projectId: string, skip: number, limit: number) {
  const where = and(eq(projectFile.projectId, projectId), eq(driverTreeFile.isSelected, true));
  const [{ total }] = await db
    .select({ total: sql<number>`count(*)::int` })
    .from(driverTreeFile)
    .innerJoin(projectFile, eq(projectFile.id, driverTreeFile.projectFileId))
    .where(where);
  const rows = await db
    .select({
      fileId: projectFile.id,
      fileName: projectFile.originalFilename,
      sheetId: driverTreeFile.id,
      sheetName: driverTreeFile.sheetName,
    })
    .from(driverTreeFile)
    .innerJoin(projectFile, eq(projectFile.id, driverTreeFile.projectFileId))
    .where(where)
    .orderBy(asc(driverTreeFile.selectedAt), asc(driverTreeFile.id))
    .offset(skip)
    .limit(limit);
  return { rows, total };
}

/** Nodes bound to this sheet (any tree), with their tree. */
export function nodesBoundToSheet(db: DbOrTx, sheetId: string) {
  return db
    .select({
      nodeId: driverTreeNode.id,
      treeId: driverTreeNode.driverTreeId,
      label: driverTreeNode.label,
      item: driverTreeNode.boundItem,
      axisFilter: driverTreeNode.axisFilter,
    })
    .from(driverTreeNode)
    .where(eq(driverTreeNode.boundSheetId, sheetId));
}

export type BoundNode = {
  nodeId: string;
  sheetId: string;
  item: string;
  aggregation: "sum" | "mean" | "latest";
  axisFilter: Record<string, string[]> | null;
};
const BOUND_NODES = `select id::text as "nodeId", bound_sheet_id::text as "sheetId", bound_item as item,
  coalesce(aggregation, 'sum') as aggregation, axis_filter as "axisFilter"
from driver_tree_node where driver_tree_id = $1 and bound_sheet_id is not null and node_type = 'input'`;

/** The tree's bound input nodes. */
export function boundNodesOfTree(db: DbOrTx, treeId: string): Promise<BoundNode[]> {
  return readRows<BoundNode>(db, BOUND_NODES, [treeId]);
}

export type EvalFrame = {
  sheetId: string;
  columnId: string;
  role: string;
  isSubject: boolean;
  data: unknown;
};
const EVAL_FRAMES = `select driver_tree_file_id::text as "sheetId", column_id::text as "columnId", role,
  is_subject as "isSubject",
  case when is_subject then jsonb_build_object('items',
    (select coalesce(jsonb_object_agg(k, v), '{}'::jsonb) from jsonb_each(data->'items') as e(k, v) where k in (select jsonb_array_elements_text($2::jsonb))))
  else data end as data
from driver_tree_data_frame where driver_tree_file_id in (select jsonb_array_elements_text($1::jsonb)::uuid) and (is_subject or role in ('time', 'axis'))`;

/** The time and axis columns of these sheets (ids and items go as JSON text, which both drivers bind alike), and of 科目 only the items asked for. */
export function evalFrames(
  db: DbOrTx,
  sheetIds: readonly string[],
  items: readonly string[],
): Promise<EvalFrame[]> {
  if (sheetIds.length === 0) return Promise.resolve([]);
  return readRows<EvalFrame>(db, EVAL_FRAMES, [JSON.stringify(sheetIds), JSON.stringify(items)]);
}

export type EvalFrameRef = {
  id: string;
  sheetId: string;
  columnId: string;
  role: string;
  isSubject: boolean;
};
const EVAL_FRAME_REFS = `select id::text as id, driver_tree_file_id::text as "sheetId", column_id::text as "columnId",
  role, is_subject as "isSubject"
from driver_tree_data_frame where driver_tree_file_id in (select jsonb_array_elements_text($1::jsonb)::uuid) and (is_subject or role in ('time', 'axis'))`;

/** The rows `evalFrames` would read, without their data: which frames (by row id) and roles. */
export function evalFrameRefs(db: DbOrTx, sheetIds: readonly string[]): Promise<EvalFrameRef[]> {
  if (sheetIds.length === 0) return Promise.resolve([]);
  return readRows<EvalFrameRef>(db, EVAL_FRAME_REFS, [JSON.stringify(sheetIds)]);
}

const FRAME_DATA = `select id::text as id, data::text as data
from driver_tree_data_frame where id in (select jsonb_array_elements_text($1::jsonb)::uuid)`;

/** The whole `data` of these frame rows as JSON text (parsed once by the caller, then cached). */
export function frameDataText(
  db: DbOrTx,
  frameIds: readonly string[],
): Promise<{ id: string; data: string }[]> {
  if (frameIds.length === 0) return Promise.resolve([]);
  return readRows<{ id: string; data: string }>(db, FRAME_DATA, [JSON.stringify(frameIds)]);
}
