import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { type ColumnarJson, fromColumnarJson, materialiseRows, toColumnarJson } from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { type Storage, StorageNotFoundError } from "@/lib/storage";
import { type FileParser, inProcessParser } from "@/modules/analysis/engine-pool";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import type { AnalysisCaches } from "./caches";
import * as q from "./queries";
import * as repo from "./repository";
import { getSessionDetail, loadSession, toAnalysisFile, writableSession } from "./service";

/*
 * Analysis files (api.md §2.7, analysis.md §1–2): registering a project file parses every sheet
 * once to list what is usable; choosing a sheet and axes stores the selected table in the
 * columnar layout of analysis.md §1.10; selecting it as the input resets snapshot 0.
 */

/** `parser`: the worker pool in the app (analysis.md §1.7); in process when absent. */
export type AnalysisFileDeps = {
  db: Database;
  storage: Storage;
  actor: AuditActor;
  caches: AnalysisCaches;
  parser?: FileParser;
};

const ANALYSABLE = ["xlsx", "xlsm", "xls", "csv", "txt"];
const fileNotFound = () => problem("ANALYSIS_FILE_NOT_FOUND");

async function readProjectFile(storage: Storage, key: string): Promise<Uint8Array> {
  try {
    const { stream } = await storage.get("uploads", key);
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (error) {
    if (error instanceof StorageNotFoundError) {
      throw problem("FILE_CONTENT_MISSING");
    }
    throw error;
  }
}

export async function registerAnalysisFile(
  deps: AnalysisFileDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  projectFileId: string,
) {
  await writableSession(deps.db, access, caller, sessionId);
  const pf = await q.findProjectFile(deps.db, projectFileId, access.project.id);
  if (!pf) throw problem("FILE_NOT_FOUND");
  if (!ANALYSABLE.includes(pf.kind)) {
    throw problem("FILE_NOT_ANALYSABLE", {
      detail: `Files of kind ${pf.kind} cannot be analysed.`,
      extensions: { allowed: ANALYSABLE },
    });
  }
  const parser = deps.parser ?? inProcessParser;
  const registration = await parser.registerFile(await readProjectFile(deps.storage, pf.storageKey), pf.kind);
  const id = newId();
  const inserted = await deps.db.transaction(async (tx) => {
    const row = await repo.insertFile(tx, {
      id,
      sessionId,
      projectFileId: pf.id,
      sourceFilename: pf.originalFilename,
      configList: registration.configList,
      addedBy: caller.user.id,
    });
    if (!row) {
      throw problem("ANALYSIS_FILE_DUPLICATE");
    }
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "analysis_file",
      resourceId: id,
      projectId: access.project.id,
      newValue: { sessionId, projectFileId: pf.id, sheets: registration.configList.length },
    });
    return row;
  });
  const { id: userId, email, displayName } = caller.user;
  return {
    ...toAnalysisFile(inserted, { id: userId, email, displayName }),
    skippedSheets: registration.skippedSheets,
  };
}

async function loadFile(db: DbOrTx, sessionId: string, fileId: string): Promise<q.FileRow> {
  const f = await q.findFile(db, sessionId, fileId);
  if (!f) throw fileNotFound();
  return f;
}

/** Parses the chosen sheet with the chosen axes from the version registered (analysis.md §1.10). */
export async function configureAnalysisFile(
  deps: AnalysisFileDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  fileId: string,
  body: { sheetName: string; axisConfig: Record<string, string> },
) {
  const session = await writableSession(deps.db, access, caller, sessionId);
  const f = await loadFile(deps.db, sessionId, fileId);
  if (!f.projectFileId) {
    throw problem("FILE_CONTENT_MISSING", {
      detail: "The project file behind this analysis file was deleted.",
    });
  }
  const pf = await q.findProjectFile(deps.db, f.projectFileId);
  // The foreign key nulls `projectFileId` when the project file goes: only a race lands here.
  if (!pf)
    throw problem("FILE_CONTENT_MISSING", {
      detail: "The project file behind this analysis file was deleted.",
    });
  const parsed = await (deps.parser ?? inProcessParser).parseFileSheet(
    await readProjectFile(deps.storage, pf.storageKey),
    pf.kind,
    body.sheetName,
    Object.values(body.axisConfig),
  );
  const data = toColumnarJson(parsed.frame, parsed.dataHash);
  const after = await deps.db.transaction(async (tx) => {
    const row = await repo.setFileSheet(tx, fileId, {
      sheetName: parsed.sheetName,
      axisConfig: body.axisConfig,
      data,
      rowCount: parsed.rowCount,
    });
    // Re-parsing the selected input changes the data under every step: same reset as selecting it.
    if (session.inputFileId === fileId) await repo.resetToZero(tx, sessionId);
    return row;
  });
  const addedBy = after.addedBy ? await q.userRefOf(deps.db, after.addedBy) : null;
  return {
    ...toAnalysisFile(after, addedBy, materialiseRows(parsed.frame, 0, 100)),
    dataHash: parsed.dataHash,
    duplicateCombinations: parsed.duplicateCombinations,
    warnings: parsed.warnings,
  };
}

export async function listAnalysisFiles(
  db: DbOrTx,
  projectId: string,
  sessionId: string,
  query: { skip?: number; limit?: number; includeData?: boolean; rowLimit?: number },
) {
  await loadSession(db, projectId, sessionId);
  const skip = query.skip ?? 0;
  const limit = query.limit ?? 50;
  const { rows, total } = await q.filePage(db, sessionId, {
    skip,
    limit,
    includeData: query.includeData ?? false,
  });
  const items = rows.map(({ f, addedBy }) => {
    const data = f.data as ColumnarJson | unknown[] | undefined;
    const rowsOf =
      data && !Array.isArray(data)
        ? materialiseRows(fromColumnarJson(data), 0, query.rowLimit ?? 1000)
        : undefined;
    return toAnalysisFile(f, addedBy, rowsOf);
  });
  return { items, total, skip, limit };
}

export async function removeAnalysisFile(
  deps: AnalysisFileDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  fileId: string,
) {
  const session = await writableSession(deps.db, access, caller, sessionId);
  await loadFile(deps.db, sessionId, fileId);
  if (session.inputFileId === fileId) {
    throw problem("ANALYSIS_FILE_IN_USE");
  }
  await repo.deleteFile(deps.db, fileId);
}

/**
 * Selects the input (analysis.md §2.4): snapshots above 0 are deleted, snapshot 0 keeps only the
 * recipe and the opening message, and a draft or completed session becomes active.
 */
export async function selectInput(
  deps: AnalysisFileDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  fileId: string,
) {
  const session = await writableSession(deps.db, access, caller, sessionId);
  const f = await loadFile(deps.db, sessionId, fileId);
  if (!f.sheetName || f.rowCount === 0) {
    throw problem("ANALYSIS_FILE_NOT_CONFIGURED");
  }
  await deps.db.transaction(async (tx) => {
    await repo.resetToZero(tx, sessionId, { inputFileId: fileId, ...repo.reopened(session) });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "analysis_session",
      resourceId: sessionId,
      projectId: access.project.id,
      oldValue: { inputFileId: session.inputFileId, status: session.status },
      newValue: { inputFileId: fileId },
      metadata: { operation: "select_input" },
    });
  });
  return getSessionDetail(deps.db, access.project.id, sessionId, deps.caches);
}

/** Moves the session back to snapshot `order`: every later snapshot is deleted (analysis.md §2.3). */
export async function restoreSnapshot(
  deps: AnalysisFileDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  order: number,
) {
  await writableSession(deps.db, access, caller, sessionId);
  await deps.db.transaction(async (tx) => {
    const target = await repo.restoreTo(tx, sessionId, order);
    if (!target) throw problem("SNAPSHOT_NOT_FOUND", { detail: `No snapshot ${order} in this session.` });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "analysis_session",
      resourceId: sessionId,
      projectId: access.project.id,
      newValue: { currentSnapshot: order },
      metadata: { operation: "restore_snapshot" },
    });
  });
  return getSessionDetail(deps.db, access.project.id, sessionId, deps.caches);
}
