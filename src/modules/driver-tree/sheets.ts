import type { Database, DbOrTx } from "@/db/client";
import { writeAudit } from "@/db/queries/audit";
import {
  DEFAULT_LIMITS,
  type Frame,
  isEngineError,
  materialiseRows,
  ResultCache,
  type SelectedInput,
  sheetTable,
  workbookOutline,
} from "@/engine";
import { problem } from "@/lib/errors";
import type { FileKind } from "@/lib/file-types";
import { newId } from "@/lib/ids";
import { page } from "@/lib/schema";
import { type Storage, StorageNotFoundError } from "@/lib/storage";
import type { FileParser } from "@/modules/analysis/engine-pool";
import type { Caller } from "@/modules/auth/service";
import * as files from "@/modules/file/service";
import { assertOwnerOrModerator, type ProjectAccess } from "@/modules/project/access";
import { bindingsBrokenBy, unbindableReason } from "./binding-rules";
import { treeUpdated } from "./events";
import {
  COLUMN_ROLE_ALIASES,
  type ColumnPatch,
  type DtFileOut,
  type SelectedSheetOut,
  type SheetColumnOut,
  type SheetColumnsOut,
  type SheetDetailOut,
} from "./model";
import * as repo from "./repository";
import type { TreeDeps } from "./service";
import * as sq from "./sheet-queries";

/*
 * Driver-tree files and sheets (api.md §2.8 "Data files, sheets and columns", analysis.md §7.5).
 * A driver-tree file is a normal project file (the file module's upload pipeline, versions and
 * deletes); each sheet of a version gets one `driver_tree_file` row, catalogued on upload or on
 * first listing. Selecting a sheet parses it (§1.4) into one data frame per column; a refresh
 * re-parses it from the chain's latest version, moving the sheet row there and keeping column ids
 * and roles by name. Parsing happens before the transaction; the sheet row is locked inside it,
 * so selection, roles, refresh and unselect of one sheet run one at a time.
 */

/*
 * Legacy .xls (OLE) workbooks are not driver-tree files: api.md lists them, on the assumption of
 * SheetJS (analysis.md §1.7), but the engine reads OOXML only and SheetJS is not installable from
 * the npm registry in a safe version. Refusing them at upload (415 naming the accepted kinds) and
 * leaving them out of the listing beats listing a file whose sheets can never be selected.
 */
export const SPREADSHEETS: readonly FileKind[] = ["xlsx", "xlsm"];

export type SheetDeps = TreeDeps & {
  storage: Storage;
  parser: FileParser;
  maxBytes: number;
  maxMb: number;
  /** Parsed sheet previews of this app (sheetDetail); absent → every call parses. */
  previews?: SheetPreviewCache;
};

/* What a sheet detail takes from the parsed workbook; the ids and roles come from the database. */
type SheetPreview = {
  axes: { name: string; type: "string" | "number" | "date" }[];
  subject: string;
  rowCount: number;
  sampleData: ReturnType<typeof materialiseRows>;
};
export type SheetPreviewCache = ResultCache<SheetPreview>;
/* A sheet preview is a few KiB; a few hundred fit. */
export const createSheetPreviewCache = (maxBytes = 4 * 1024 * 1024): SheetPreviewCache =>
  new ResultCache<SheetPreview>(maxBytes);

const fileDeps = (deps: SheetDeps): files.FileDeps => ({
  db: deps.db,
  storage: deps.storage,
  actor: deps.actor,
  maxBytes: deps.maxBytes,
  maxMb: deps.maxMb,
});

const sheetNotFound = () => problem("SHEET_NOT_FOUND");
const notSelected = () => problem("SHEET_NOT_SELECTED");

async function readBytes(storage: Storage, key: string): Promise<Uint8Array> {
  try {
    const { stream } = await storage.get("uploads", key);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    if (error instanceof StorageNotFoundError) throw problem("FILE_CONTENT_MISSING");
    throw error;
  }
}

/* ---------- files ---------- */

/** Sheet rows for every file version that has none yet (unreadable files are left for later). */
async function catalogue(deps: SheetDeps, list: { id: string; kind: string; storageKey: string }[]) {
  for (const f of list) {
    if (!(SPREADSHEETS as readonly string[]).includes(f.kind)) continue;
    try {
      const outline = workbookOutline(await readBytes(deps.storage, f.storageKey), DEFAULT_LIMITS);
      if (outline) await sq.catalogueSheets(deps.db, f.id, outline.sheets);
    } catch {
      // A missing or unreadable object lists the file without sheets; the next listing retries.
    }
  }
}

async function toDtFiles(deps: SheetDeps, list: files.DtFileSource[]): Promise<DtFileOut[]> {
  let sheets = await sq.sheetsOfFiles(
    deps.db,
    list.map((f) => f.id),
  );
  const missing = list.filter((f) => !sheets.some((s) => s.projectFileId === f.id));
  if (missing.length > 0) {
    await catalogue(deps, missing);
    sheets = await sq.sheetsOfFiles(
      deps.db,
      list.map((f) => f.id),
    );
  }
  // A selected sheet of an older version (not refreshed yet) stands for its name.
  const older = await sq.selectedSheetsOfChains(
    deps.db,
    list.map((f) => f.chainId),
  );
  return list.map((f) => {
    const own = sheets.filter((s) => s.projectFileId === f.id);
    const old = older.filter((s) => s.chainId === f.chainId && s.projectFileId !== f.id);
    const byName = new Map(own.map((s) => [s.sheetName, s]));
    for (const s of old) if (!byName.get(s.sheetName)?.isSelected) byName.set(s.sheetName, s);
    return {
      fileId: f.id,
      fileName: f.originalFilename,
      version: f.version,
      uploadedAt: f.uploadedAt,
      uploadedBy: f.uploadedBy,
      sheets: [...byName.values()]
        .sort((a, b) => a.sheetIndex - b.sheetIndex || a.sheetName.localeCompare(b.sheetName))
        .map((s) => ({ sheetId: s.id, sheetName: s.sheetName, selected: s.isSelected })),
    };
  });
}

export async function listDtFiles(deps: SheetDeps, projectId: string, q: { skip?: number; limit?: number }) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const result = await files.spreadsheetSources(deps.db, projectId, SPREADSHEETS, skip, limit);
  return page(await toDtFiles(deps, result.items), result.total, skip, limit);
}

export async function uploadDtFile(
  deps: SheetDeps,
  caller: Caller,
  projectId: string,
  upload: files.Upload,
): Promise<DtFileOut> {
  const file = await files.uploadFile(fileDeps(deps), caller, projectId, upload, SPREADSHEETS);
  const [source] = await files.sourcesOf(deps.db, projectId, [file.id]);
  return (await toDtFiles(deps, [source]))[0];
}

/** The file module's chain delete (Own = uploader of version 1; FILE_IN_USE while nodes are bound). */
export function deleteDtFile(
  deps: SheetDeps,
  caller: Caller,
  access: ProjectAccess,
  fileId: string,
  force: boolean,
): Promise<string[]> {
  return files.deleteChain(fileDeps(deps), caller, access, fileId, force);
}

/* ---------- sheets ---------- */

/** The sheet of this project whose file is a version of the chain `fileId` names. */
async function resolveSheet(db: DbOrTx, projectId: string, fileId: string, sheetId: string) {
  const file = await files.getFile(db, projectId, fileId);
  const ref = await sq.findSheet(db, projectId, sheetId);
  if (!ref || ref.file.chainId !== file.chainId) throw sheetNotFound();
  return ref;
}

/** Parses one sheet of one stored version (analysis.md §1.4); every reason is a SHEET_PARSE_ERROR. */
async function parse(
  deps: SheetDeps,
  file: { kind: string; storageKey: string },
  sheetName: string,
): Promise<SelectedInput> {
  const bytes = await readBytes(deps.storage, file.storageKey);
  try {
    return await deps.parser.parseFileSheet(bytes, file.kind, sheetName, undefined);
  } catch (error) {
    if (isEngineError(error) && (error.code === "UNKNOWN_SHEET" || error.code === "FILE_NOT_ANALYSABLE")) {
      throw problem("SHEET_PARSE_ERROR", {
        detail:
          error.code === "UNKNOWN_SHEET"
            ? `The file no longer has a sheet named ${sheetName}.`
            : `This workbook format cannot be parsed: ${error.detail}`,
        extensions: { reason: error.code },
      });
    }
    throw error;
  }
}

/** One frame per axis column and one for 科目 (§7.5), keeping ids and roles of same-named columns. */
function framesOf(frame: Frame, previous: Map<string, { columnId: string; role: string }> = new Map()) {
  const table = sheetTable(frame);
  const keep = (name: string) => previous.get(name);
  const frames: sq.NewFrame[] = table.axes.map((a) => ({
    columnId: keep(a.name)?.columnId ?? newId(),
    columnName: a.name,
    isSubject: false,
    role: keep(a.name)?.role ?? "unused",
    items: a.items,
    data: { values: a.values },
  }));
  const subject = table.subject;
  frames.push({
    columnId: keep(subject.name)?.columnId ?? newId(),
    columnName: subject.name,
    isSubject: true,
    role: keep(subject.name)?.role ?? "unused",
    items: subject.items,
    // `subjects` keeps the sheet's order: jsonb reorders object keys.
    data: { items: Object.fromEntries(subject.byItem), subjects: [...subject.byItem.keys()] },
  });
  return { frames, subjects: [...subject.byItem.keys()] };
}

const toColumn = (c: Pick<sq.FrameRow, "columnId" | "columnName" | "role" | "items">): SheetColumnOut => ({
  columnId: c.columnId,
  columnName: c.columnName,
  role: c.role as SheetColumnOut["role"],
  items: c.items,
});

async function sheetColumns(db: DbOrTx, sheetId: string): Promise<SheetColumnsOut> {
  return { sheetId, columns: (await sq.columnsOf(db, [sheetId])).map(toColumn) };
}

export async function listSelectedSheets(
  db: Database,
  projectId: string,
  q: { skip?: number; limit?: number },
) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await sq.listSelectedSheets(db, projectId, skip, limit);
  const columns = await sq.columnsOf(
    db,
    rows.map((r) => r.sheetId),
  );
  const items: SelectedSheetOut[] = rows.map((r) => ({
    ...r,
    columns: columns.filter((c) => c.sheetId === r.sheetId).map(toColumn),
  }));
  return page(items, total, skip, limit);
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2})?$/;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
function dataType(values: readonly (string | null)[]): "string" | "number" | "date" {
  const present = values.filter((v): v is string => v !== null);
  if (present.length > 0 && present.every((v) => NUMBER.test(v))) return "number";
  if (present.length > 0 && present.every((v) => ISO_DATE.test(v))) return "date";
  return "string";
}

export async function sheetDetail(
  deps: SheetDeps,
  projectId: string,
  fileId: string,
  sheetId: string,
): Promise<SheetDetailOut> {
  const ref = await resolveSheet(deps.db, projectId, fileId, sheetId);
  // A stored object's bytes never change (a new version is a new key), so neither does its parse.
  const key = `${ref.file.storageKey}\u0000${ref.sheet.sheetName}`;
  let preview = deps.previews?.get(key);
  if (!preview) {
    const parsed = await parse(deps, ref.file, ref.sheet.sheetName);
    const table = sheetTable(parsed.frame);
    preview = {
      axes: table.axes.map((a) => ({ name: a.name, type: dataType(a.values) })),
      subject: table.subject.name,
      rowCount: parsed.rowCount,
      sampleData: materialiseRows(parsed.frame, 0, 10),
    };
    deps.previews?.set(key, preview, JSON.stringify(preview).length * 2);
  }
  const stored = new Map((await sq.columnsOf(deps.db, [sheetId])).map((c) => [c.columnName, c]));
  const column = (name: string, type: "string" | "number" | "date") => ({
    columnId: stored.get(name)?.columnId ?? null,
    name,
    dataType: type,
    role: (stored.get(name)?.role ?? "unused") as SheetColumnOut["role"],
  });
  return {
    sheetId,
    sheetName: ref.sheet.sheetName,
    selected: ref.sheet.isSelected,
    columns: [...preview.axes.map((a) => column(a.name, a.type)), column(preview.subject, "string")],
    rowCount: preview.rowCount,
    sampleData: preview.sampleData,
  };
}

const sheetAudit = (
  tx: DbOrTx,
  deps: TreeDeps,
  projectId: string,
  action: string,
  sheetId: string,
  values: { oldValue?: unknown; newValue?: unknown; metadata?: Record<string, unknown> },
) =>
  writeAudit(tx, deps.actor, {
    eventType: "DATA_CHANGE",
    action,
    resourceType: "driver_tree_sheet",
    resourceId: sheetId,
    projectId,
    ...values,
  });

const touched = async (
  tx: DbOrTx,
  projectId: string,
  actorId: string,
  treeIds: string[],
  message: string,
) => {
  for (const treeId of treeIds) {
    await repo.updateTree(tx, treeId);
    await treeUpdated(tx, { projectId, treeId, actorId, message });
  }
};

/** Selects a sheet (M+): parsed into one frame per column, every role `unused`. */
export async function selectSheet(
  deps: SheetDeps,
  caller: Caller,
  access: ProjectAccess,
  fileId: string,
  sheetId: string,
): Promise<SheetColumnsOut> {
  const projectId = access.project.id;
  const ref = await resolveSheet(deps.db, projectId, fileId, sheetId);
  if (ref.sheet.isSelected) throw problem("SHEET_ALREADY_SELECTED");
  const parsed = await parse(deps, ref.file, ref.sheet.sheetName);
  const { frames } = framesOf(parsed.frame);
  return deps.db.transaction(async (tx) => {
    const sheet = await sq.lockSheet(tx, sheetId);
    if (!sheet) throw sheetNotFound();
    if (sheet.isSelected) throw problem("SHEET_ALREADY_SELECTED");
    await sq.markSelected(tx, sheetId, { by: caller.user.id, rowCount: parsed.rowCount });
    await sq.insertFrames(tx, sheetId, frames);
    await sheetAudit(tx, deps, projectId, "CREATE", sheetId, {
      newValue: { fileId: ref.file.id, sheetName: sheet.sheetName, columns: frames.map((f) => f.columnName) },
      metadata: { operation: "select", rowCount: parsed.rowCount },
    });
    return sheetColumns(tx, sheetId);
  });
}

/** The selected sheet locked, after the Own|Mod+ check (Own = the user who selected it). */
async function writableSheet(tx: DbOrTx, access: ProjectAccess, caller: Caller, sheetId: string) {
  const sheet = await sq.lockSheet(tx, sheetId);
  if (!sheet) throw sheetNotFound();
  if (!sheet.isSelected) throw notSelected();
  assertOwnerOrModerator(access, caller.user.id, sheet.selectedBy);
  return sheet;
}

export async function refreshSheet(
  deps: SheetDeps,
  caller: Caller,
  access: ProjectAccess,
  fileId: string,
  sheetId: string,
): Promise<SheetColumnsOut> {
  const projectId = access.project.id;
  const ref = await resolveSheet(deps.db, projectId, fileId, sheetId);
  if (!ref.sheet.isSelected) throw notSelected();
  assertOwnerOrModerator(access, caller.user.id, ref.sheet.selectedBy);
  const latest = await files.latestSource(deps.db, projectId, ref.file.chainId);
  if (!latest) throw sheetNotFound();
  const parsed = await parse(deps, latest, ref.sheet.sheetName);
  return deps.db.transaction(async (tx) => {
    const sheet = await writableSheet(tx, access, caller, sheetId);
    const previous = new Map(
      (await sq.columnsOf(tx, [sheetId])).map((c) => [c.columnName, { columnId: c.columnId, role: c.role }]),
    );
    const { frames, subjects } = framesOf(parsed.frame, previous);
    await sq.deleteFrames(tx, sheetId);
    await sq.insertFrames(tx, sheetId, frames);
    await sq.moveSheet(tx, sheet, latest.id, parsed.rowCount);
    const readersBefore = (await sq.nodesBoundToSheet(tx, sheetId)).map((n) => n.treeId);
    // A time column gone by name leaves nothing to read (§7.5): all its bindings go, as for vanished items.
    const cleared = unbindableReason(frames)
      ? await repo.clearBindings(tx, { sheetId })
      : await repo.clearBindings(tx, { sheetId, keepItems: subjects });
    await repo.pruneAxisFilters(
      tx,
      sheetId,
      frames.map((f) => f.columnId),
    );
    await sheetAudit(tx, deps, projectId, "UPDATE", sheetId, {
      oldValue: { fileId: sheet.projectFileId, columns: [...previous.keys()] },
      newValue: { fileId: latest.id, columns: frames.map((f) => f.columnName) },
      metadata: { operation: "refresh", rowCount: parsed.rowCount, treesWithClearedBindings: cleared },
    });
    // Every tree reading this sheet computes from the new data.
    const readers = [...new Set([...readersBefore, ...cleared])];
    await touched(tx, projectId, caller.user.id, readers, `sheet ${sheet.sheetName} refreshed`);
    return sheetColumns(tx, sheetId);
  });
}

/** §7.5: at most one `time` column; `value` only on 科目; 科目 takes `value` or `unused`. */
function checkRoles(columns: { columnId: string; columnName: string; isSubject: boolean; role: string }[]) {
  const errors: { path: string; message: string }[] = [];
  const times = columns.filter((c) => c.role === "time");
  if (times.length > 1) {
    errors.push({
      path: "/body/columns",
      message: `at most one time column (${times.map((c) => c.columnName).join(", ")})`,
    });
  }
  for (const c of columns) {
    if (c.isSubject && c.role !== "value" && c.role !== "unused") {
      errors.push({ path: "/body/columns", message: `${c.columnName} takes value or unused, not ${c.role}` });
    }
    if (!c.isSubject && c.role === "value") {
      errors.push({ path: "/body/columns", message: `value is only for 科目, not ${c.columnName}` });
    }
  }
  if (errors.length > 0) {
    throw problem("VALIDATION_FAILED", { detail: errors.map((e) => e.message).join("; "), errors });
  }
}

/**
 * A role change that would leave bound nodes reading nothing (no time column, 科目 no longer the
 * value column) or silently widen their numbers (an axisFilter column no longer an axis) is
 * refused, naming those nodes: bindings are work, and losing them must be asked for (`force`).
 */
function rolesBreakBindings(broken: { nodeId: string; treeId: string; label: string; reason: string }[]) {
  const shown = broken.slice(0, 10).map((b) => b.label);
  const more = broken.length > shown.length ? ` and ${broken.length - shown.length} more` : "";
  return problem("FILE_IN_USE", {
    detail: `This role change would break the binding of ${broken.length} node(s) (${shown.join(", ")}${more}): ${broken[0].reason}. Send it again with force=true to unbind them.`,
    extensions: {
      usage: { boundNodeCount: broken.length, nodeIds: broken.map((b) => b.nodeId) },
      nodes: broken.map((b) => ({ nodeId: b.nodeId, treeId: b.treeId, label: b.label, reason: b.reason })),
    },
  });
}

export async function patchColumns(
  deps: SheetDeps,
  caller: Caller,
  access: ProjectAccess,
  fileId: string,
  sheetId: string,
  body: ColumnPatch,
  force = false,
): Promise<SheetColumnsOut> {
  const projectId = access.project.id;
  await resolveSheet(deps.db, projectId, fileId, sheetId);
  return deps.db.transaction(async (tx) => {
    await writableSheet(tx, access, caller, sheetId);
    const columns = await sq.columnsOf(tx, [sheetId]);
    const changes = body.columns.map((c, i) => {
      const column = columns.find((x) => x.columnId === c.columnId);
      if (!column) {
        throw problem("COLUMN_NOT_FOUND", {
          errors: [{ path: `/body/columns/${i}/columnId`, message: "not a column of this sheet" }],
          extensions: { columnId: c.columnId },
        });
      }
      return { columnId: c.columnId, role: COLUMN_ROLE_ALIASES[c.role] };
    });
    const after = columns.map((c) => ({
      ...c,
      role: changes.findLast((x) => x.columnId === c.columnId)?.role ?? c.role,
    }));
    checkRoles(after);
    const bound = await sq.nodesBoundToSheet(tx, sheetId);
    const broken = bindingsBrokenBy(columns, after, bound);
    if (broken.length > 0 && !force) throw rolesBreakBindings(broken);
    await sq.setRoles(tx, sheetId, changes);
    await repo.clearBindings(tx, { nodeIds: broken.map((b) => b.nodeId) });
    await sheetAudit(tx, deps, projectId, "UPDATE", sheetId, {
      oldValue: Object.fromEntries(columns.map((c) => [c.columnName, c.role])),
      newValue: Object.fromEntries(after.map((c) => [c.columnName, c.role])),
      metadata: {
        operation: "roles",
        force,
        clearedBindings: broken.map((b) => ({ nodeId: b.nodeId, treeId: b.treeId, label: b.label })),
      },
    });
    const readers = [...new Set(bound.map((n) => n.treeId))];
    await touched(tx, projectId, caller.user.id, readers, "sheet column roles changed");
    return sheetColumns(tx, sheetId);
  });
}

/** Unselects a sheet: frames removed; with bound nodes FILE_IN_USE unless `force`, which clears them. */
export async function unselectSheet(
  deps: SheetDeps,
  caller: Caller,
  access: ProjectAccess,
  fileId: string,
  sheetId: string,
  force: boolean,
): Promise<void> {
  const projectId = access.project.id;
  await resolveSheet(deps.db, projectId, fileId, sheetId);
  await deps.db.transaction(async (tx) => {
    const sheet = await writableSheet(tx, access, caller, sheetId);
    const bound = await sq.nodesBoundToSheet(tx, sheetId);
    if (bound.length > 0 && !force) {
      throw problem("FILE_IN_USE", {
        detail: `${bound.length} node(s) are bound to this sheet; unselect with force=true to clear them.`,
        extensions: {
          usage: { boundNodeCount: bound.length, nodeIds: bound.map((b) => b.nodeId) },
        },
      });
    }
    const cleared = await repo.clearBindings(tx, { sheetId });
    await sq.deleteFrames(tx, sheetId);
    await sq.markSelected(tx, sheetId, null);
    await sheetAudit(tx, deps, projectId, "DELETE", sheetId, {
      oldValue: { sheetName: sheet.sheetName, boundNodes: bound.length },
      metadata: { operation: "unselect", force },
    });
    await touched(tx, projectId, caller.user.id, cleared, `sheet ${sheet.sheetName} unselected`);
  });
}

export { notSelected, sheetNotFound };
