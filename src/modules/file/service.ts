import type { Database, DbOrTx } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { csvOutline, DEFAULT_LIMITS, type Outline, workbookOutline } from "@/engine";
import { problem } from "@/lib/errors";
import { ContentSniffer, type FileKind, kindFromFilename, MIME, SPREADSHEET_KINDS } from "@/lib/file-types";
import { newId } from "@/lib/ids";
import { badStringReason, inputRefused } from "@/lib/input-guard";
import { MultipartError, readMultipart, readTextPart } from "@/lib/multipart";
import { page } from "@/lib/schema";
import { type Storage, StorageNotFoundError, StorageTooLargeError } from "@/lib/storage";
import { projectFileKey, sanitiseFilename } from "@/lib/storage/keys";
import type { Caller } from "@/modules/auth/service";
import { clearBindingsOfChain } from "@/modules/driver-tree/repository";
import * as notify from "@/modules/notification/producers";
import { assertOwnerOrModerator, type ProjectAccess } from "@/modules/project/access";
import { queueDeletions } from "@/modules/storage-deletion/queries";
import type { FileCompare, FileListQuery, FileUsage, ProjectFile, VersionInfo } from "./model";
import {
  addProjectStorage,
  chainSessionUses,
  chainSheetUses,
  chainUploader,
  deleteChainRows,
  type FileRow,
  type FileView,
  findFile,
  insertLatestVersion,
  latestOfChain,
  listChainVersions,
  listLatestFiles,
  lockChainRoot,
} from "./queries";

export type FileDeps = { db: Database; storage: Storage; actor: AuditActor; maxBytes: number; maxMb: number };

const CONTAINER = "uploads" as const;
const fileNotFound = () => problem("FILE_NOT_FOUND");
const contentMissing = () => problem("FILE_CONTENT_MISSING");
const unsupported = (detail: string) => problem("UNSUPPORTED_FILE_TYPE", { detail });
const malformed = (detail: string) => problem("MALFORMED_REQUEST", { detail });

function toFile(r: FileView): ProjectFile {
  const f = r.f;
  return {
    id: f.id,
    projectId: f.projectId,
    chainId: f.chainId,
    version: f.version,
    isLatest: f.isLatest,
    parentFileId: f.parentFileId,
    restoredFromId: f.restoredFromId,
    filename: f.filename,
    originalFilename: f.originalFilename,
    kind: f.kind as FileKind,
    mimeType: f.mimeType,
    sizeBytes: f.sizeBytes,
    checksumSha256: f.checksumSha256,
    comment: f.comment,
    uploadedBy: r.uploadedBy,
    uploadedAt: f.uploadedAt.toISOString(),
    versionCount: Number(r.versionCount),
  };
}

const toVersionInfo = (r: FileView): VersionInfo => ({
  id: r.f.id,
  version: r.f.version,
  sizeBytes: r.f.sizeBytes,
  checksumSha256: r.f.checksumSha256,
  uploadedAt: r.f.uploadedAt.toISOString(),
  uploadedBy: r.uploadedBy,
});

/** A file (any version) of this project; ids of other projects answer 404 like unknown ones. */
async function loadFile(db: DbOrTx, projectId: string, fileId: string): Promise<FileView> {
  const row = await findFile(db, projectId, fileId);
  if (!row) throw fileNotFound();
  return row;
}

export async function getFile(db: DbOrTx, projectId: string, fileId: string): Promise<ProjectFile> {
  return toFile(await loadFile(db, projectId, fileId));
}

export async function listFiles(db: DbOrTx, projectId: string, q: FileListQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listLatestFiles(db, projectId, q, skip, limit);
  return page(rows.map(toFile), total, skip, limit);
}

/* ---------- for the driver-tree files (api.md §2.8), which are project files ---------- */

/** A file version with where its bytes are, for the modules that parse them. */
export type DtFileSource = ProjectFile & { storageKey: string };
const toSource = (r: FileView): DtFileSource => ({ ...toFile(r), storageKey: r.f.storageKey });

/** A page of the latest versions of the project's files of these kinds. */
export async function spreadsheetSources(
  db: DbOrTx,
  projectId: string,
  kinds: readonly FileKind[],
  skip: number,
  limit: number,
): Promise<{ items: DtFileSource[]; total: number }> {
  const { rows, total } = await listLatestFiles(db, projectId, { kind: kinds.join(",") }, skip, limit);
  return { items: rows.map(toSource), total };
}

export async function sourcesOf(
  db: DbOrTx,
  projectId: string,
  ids: readonly string[],
): Promise<DtFileSource[]> {
  const out: DtFileSource[] = [];
  for (const id of ids) out.push(toSource(await loadFile(db, projectId, id)));
  return out;
}

/** The latest version of a chain of this project, or null when the chain is gone. */
export async function latestSource(
  db: DbOrTx,
  projectId: string,
  chainId: string,
): Promise<DtFileSource | null> {
  const latest = await latestOfChain(db, chainId);
  if (!latest) return null;
  const row = await findFile(db, projectId, latest.id);
  return row ? toSource(row) : null;
}

type Stored = {
  fileId: string;
  key: string;
  size: number;
  sha256: string;
  kind: FileKind;
  original: string;
  safe: string;
};

/*
 * An object no row points at. Removed now; when storage refuses the delete (read-only, full,
 * unreachable) it goes to the deletion queue, whose worker removes it once storage is back,
 * instead of staying behind as an orphan.
 */
async function discardObject(deps: FileDeps, key: string): Promise<void> {
  try {
    await deps.storage.delete(CONTAINER, key);
  } catch {
    await queueDeletions(deps.db, [{ container: CONTAINER, storageKey: key }], "upload failed").catch(
      () => {},
    );
  }
}

/**
 * An upload as the controller hands it over: the declared content type and the body stream (the
 * HTTP edge wraps it so it ends at the request deadline), opened only once the type is accepted.
 */
export type Upload = { contentType: string | null; body: () => ReadableStream<Uint8Array> | null };

/*
 * Streams the single `file` part into storage while counting, hashing and sniffing it. Anything
 * that fails after the first byte was written removes the object again.
 */
async function receiveUpload(
  deps: FileDeps,
  projectId: string,
  upload: Upload,
  kinds?: readonly FileKind[],
): Promise<{ stored: Stored; comment: string | null }> {
  const { contentType } = upload;
  if (!contentType?.toLowerCase().startsWith("multipart/form-data")) {
    throw problem("UNSUPPORTED_MEDIA_TYPE", { detail: "Uploads must be sent as multipart/form-data." });
  }
  const body = upload.body();
  if (!body) throw malformed("The upload has no body.");
  let stored: Stored | null = null;
  let comment: string | null = null;
  try {
    for await (const part of readMultipart(body, contentType)) {
      if (part.name === "comment" && part.filename === null) {
        comment = (await readTextPart(part.stream, 2000)).trim() || null;
        refuseBadText(comment, "/body/comment");
        if (comment && comment.length > 500) {
          throw problem("VALIDATION_FAILED", {
            detail: "comment is longer than 500 characters.",
            errors: [{ path: "/body/comment", message: "at most 500 characters" }],
          });
        }
        continue;
      }
      if (part.name !== "file") {
        await part.stream.cancel();
        continue;
      }
      if (stored) throw malformed("Send exactly one `file` part.");
      stored = await storePart(deps, projectId, part.filename, part.stream, kinds);
    }
  } catch (error) {
    if (stored) await discardObject(deps, stored.key);
    if (error instanceof MultipartError) throw malformed(`The multipart body is malformed: ${error.message}`);
    throw error;
  }
  if (!stored) throw malformed("The multipart body has no `file` part.");
  return { stored, comment };
}

/* Text PostgreSQL cannot store (NUL, lone surrogates) is a 422 naming the field, not a 500. */
function refuseBadText(value: string | null, path: string): void {
  const reason = value === null ? null : badStringReason(value);
  if (reason) throw inputRefused([{ path, message: `The value ${reason}.` }]);
}

async function storePart(
  deps: FileDeps,
  projectId: string,
  rawName: string | null,
  stream: ReadableStream<Uint8Array>,
  kinds?: readonly FileKind[],
): Promise<Stored> {
  // The name is kept verbatim (NFC) for display; only the storage key uses the sanitised basename.
  const original = (rawName ?? "").normalize("NFC").trim();
  if (badStringReason(original)) await stream.cancel().catch(() => {});
  refuseBadText(original, "/body/file/filename");
  const base = original.split(/[\\/]/).pop() ?? "";
  if (!base) throw malformed("The `file` part has no filename.");
  const kind = kindFromFilename(base);
  if (!kind) {
    await stream.cancel();
    throw unsupported(`Files of this type are not accepted: ${base}`);
  }
  if (kinds && !kinds.includes(kind)) {
    // A route that takes fewer kinds than the project file routes says which, so the user knows what to convert to.
    await stream.cancel();
    throw problem("UNSUPPORTED_FILE_TYPE", {
      detail: `.${kind} files are not accepted here (${base}); accepted: ${kinds.map((k) => `.${k}`).join(", ")}.`,
      extensions: { kind, allowed: [...kinds] },
    });
  }
  const fileId = newId();
  const safe = sanitiseFilename(base);
  const key = projectFileKey(projectId, fileId, safe);
  const sniffer = new ContentSniffer();
  let mismatch = false;
  const watched = stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      async transform(chunk, controller) {
        sniffer.feed(chunk);
        if (sniffer.size <= 16 * 1024 && (await sniffer.headMismatch(kind))) {
          mismatch = true;
          controller.error(unsupported(`The content of ${base} does not match its .${kind} extension.`));
          return;
        }
        controller.enqueue(chunk);
      },
    }),
  );
  let result: { size: number; sha256: string };
  try {
    result = await deps.storage.put(CONTAINER, key, watched, {
      maxBytes: deps.maxBytes,
      contentType: MIME[kind],
    });
  } catch (error) {
    await discardObject(deps, key);
    if (error instanceof StorageTooLargeError) {
      throw problem("FILE_TOO_LARGE", {
        detail: `The upload exceeds the limit of ${deps.maxMb} MiB.`,
        extensions: { maxBytes: deps.maxBytes },
      });
    }
    if (mismatch) throw unsupported(`The content of ${base} does not match its .${kind} extension.`);
    throw error;
  }
  const jsonText = kind === "json" ? await readAllText(deps.storage, key) : undefined;
  if (!(await sniffer.matches(kind, () => jsonText ?? ""))) {
    await discardObject(deps, key);
    throw unsupported(`The content of ${base} does not match its .${kind} extension.`);
  }
  return {
    fileId,
    key,
    size: result.size,
    sha256: result.sha256,
    kind,
    original: original.slice(0, 255),
    safe,
  };
}

async function readAll(storage: Storage, key: string): Promise<Uint8Array> {
  const { stream } = await storage.get(CONTAINER, key);
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function readAllText(storage: Storage, key: string): Promise<string> {
  return new TextDecoder().decode(await readAll(storage, key));
}

type VersionValues = {
  chainId: string;
  version: number;
  parentFileId: string | null;
  restoredFromId: string | null;
};

async function insertVersion(
  deps: FileDeps,
  projectId: string,
  stored: Stored,
  values: VersionValues | ((tx: DbOrTx) => Promise<VersionValues>),
  comment: string | null,
  uploaderId: string,
  action: string,
): Promise<ProjectFile> {
  // The answer is read inside the transaction: once COMMIT succeeded the request must neither fail
  // on a second round trip nor, failing, remove the object the committed row points at.
  return deps.db.transaction(async (tx) => {
    if (typeof values === "function") values = await values(tx);
    const row = await insertLatestVersion(
      tx,
      {
        id: stored.fileId,
        projectId,
        chainId: values.chainId,
        parentFileId: values.parentFileId,
        restoredFromId: values.restoredFromId,
        version: values.version,
        filename: stored.safe,
        originalFilename: stored.original,
        storageKey: stored.key,
        kind: stored.kind,
        mimeType: MIME[stored.kind],
        sizeBytes: stored.size,
        checksumSha256: stored.sha256,
        comment,
        uploadedBy: uploaderId,
      },
      values.parentFileId !== null,
    );
    await addProjectStorage(tx, projectId, stored.size);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "project_file",
      resourceId: row.id,
      projectId,
      newValue: {
        chainId: row.chainId,
        version: row.version,
        originalFilename: row.originalFilename,
        kind: row.kind,
        sizeBytes: row.sizeBytes,
        checksumSha256: row.checksumSha256,
      },
      metadata: { operation: action },
    });
    await notify.fileUploaded(tx, {
      projectId,
      fileId: row.id,
      chainId: row.chainId,
      fileName: row.originalFilename,
      version: row.version,
      actorId: uploaderId,
    });
    return getFile(tx, projectId, stored.fileId);
  });
}

/** `kinds`: the only kinds this upload accepts (driver-tree files take spreadsheets only). */
export async function uploadFile(
  deps: FileDeps,
  caller: Caller,
  projectId: string,
  upload: Upload,
  kinds?: readonly FileKind[],
) {
  const { stored, comment } = await receiveUpload(deps, projectId, upload, kinds);
  try {
    return await insertVersion(
      deps,
      projectId,
      stored,
      { chainId: stored.fileId, version: 1, parentFileId: null, restoredFromId: null },
      comment,
      caller.user.id,
      "upload",
    );
  } catch (error) {
    // The row failed, so the object it would describe must not stay behind.
    await discardObject(deps, stored.key);
    throw error;
  }
}

export async function uploadVersion(
  deps: FileDeps,
  caller: Caller,
  projectId: string,
  fileId: string,
  upload: Upload,
) {
  const anchor = await loadFile(deps.db, projectId, fileId);
  const { stored, comment } = await receiveUpload(deps, projectId, upload);
  return addToChain(deps, caller, projectId, anchor.f.chainId, stored, comment, null, "version");
}

async function addToChain(
  deps: FileDeps,
  caller: Caller,
  projectId: string,
  chainId: string,
  stored: Stored,
  comment: string | null,
  restoredFromId: string | null,
  action: string,
): Promise<ProjectFile> {
  // Versions of one chain are numbered under a lock on the chain's first row (its id is the
  // chain id), so concurrent uploads and restores queue up instead of racing for the next
  // number and the single `isLatest`. Whole-chain deletes lock the same row first.
  try {
    return await insertVersion(
      deps,
      projectId,
      stored,
      async (tx) => {
        const latest = (await lockChainRoot(tx, chainId)) ? await latestOfChain(tx, chainId) : undefined;
        if (!latest) throw fileNotFound();
        return { chainId, version: latest.version + 1, parentFileId: latest.id, restoredFromId };
      },
      comment,
      caller.user.id,
      action,
    );
  } catch (error) {
    await discardObject(deps, stored.key);
    throw error;
  }
}

export async function restoreVersion(
  deps: FileDeps,
  caller: Caller,
  projectId: string,
  fileId: string,
  versionId: string,
  comment: string | undefined,
): Promise<ProjectFile> {
  const anchor = await loadFile(deps.db, projectId, fileId);
  const source = await loadFile(deps.db, projectId, versionId).catch(() => null);
  if (!source || source.f.chainId !== anchor.f.chainId) {
    throw problem("VERSION_NOT_IN_CHAIN", { detail: "versionId is not a version of this file." });
  }
  const fileIdNew = newId();
  const key = projectFileKey(projectId, fileIdNew, source.f.filename);
  let result: { size: number; sha256: string };
  try {
    const { stream } = await deps.storage.get(CONTAINER, source.f.storageKey);
    result = await deps.storage.put(CONTAINER, key, stream, { contentType: source.f.mimeType });
  } catch (error) {
    await discardObject(deps, key);
    if (error instanceof StorageNotFoundError) throw contentMissing();
    throw error;
  }
  const stored: Stored = {
    fileId: fileIdNew,
    key,
    size: result.size,
    sha256: result.sha256,
    kind: source.f.kind as FileKind,
    original: source.f.originalFilename,
    safe: source.f.filename,
  };
  return addToChain(
    deps,
    caller,
    projectId,
    anchor.f.chainId,
    stored,
    comment?.trim() || `Restored from v${source.f.version}`,
    source.f.id,
    "restore",
  );
}

export async function listVersions(db: DbOrTx, projectId: string, fileId: string, skip = 0, limit = 50) {
  const anchor = await loadFile(db, projectId, fileId);
  const { rows, total } = await listChainVersions(db, anchor.f.chainId, skip, limit);
  return page(rows.map(toFile), total, skip, limit);
}

/* Sessions whose registered analysis files, and selected driver-tree sheets, come from any version of the chain. */
export async function fileUsage(db: DbOrTx, projectId: string, fileId: string): Promise<FileUsage> {
  const anchor = await loadFile(db, projectId, fileId);
  const rows = await chainSessionUses(db, projectId, anchor.f.chainId);
  const sheets = await chainSheetUses(db, projectId, anchor.f.chainId);
  return {
    fileId: anchor.f.id,
    chainId: anchor.f.chainId,
    analysisSessionCount: new Set(rows.map((r) => r.sessionId)).size,
    driverTreeSheetCount: sheets.length,
    boundNodeCount: sheets.reduce((n, s) => n + s.boundNodes, 0),
    usages: [
      ...rows.map((r) => ({
        usageType: "analysis_session" as const,
        targetId: r.sessionId,
        targetName: r.sessionName,
        sheetName: r.sheetName,
        usedAt: r.usedAt.toISOString(),
      })),
      ...sheets.map((s) => ({
        usageType: "driver_tree_sheet" as const,
        targetId: s.sheetId,
        targetName: s.sheetName,
        sheetName: s.sheetName,
        usedAt: s.usedAt.toISOString(),
      })),
    ],
  };
}

/* In use = a session reads the chain or a driver-tree node is bound to one of its sheets; a selected sheet nobody binds does not hold the file. */
const inUse = (u: FileUsage) => u.analysisSessionCount > 0 || u.boundNodeCount > 0;

/**
 * Deletes the whole chain. Stored objects are queued for deletion in the same transaction and
 * then removed right away; a failed removal stays queued for the background job to retry.
 */
export async function deleteChain(
  deps: FileDeps,
  caller: Caller,
  access: ProjectAccess,
  fileId: string,
  force: boolean,
): Promise<string[]> {
  const projectId = access.project.id;
  const anchor = await loadFile(deps.db, projectId, fileId);
  assertOwnerOrModerator(access, caller.user.id, await chainUploader(deps.db, anchor.f.chainId));
  const usage = await fileUsage(deps.db, projectId, fileId);
  if (inUse(usage) && !force) {
    throw problem("FILE_IN_USE", { extensions: { usage } });
  }
  return deps.db.transaction(async (tx) => {
    await clearBindingsOfChain(tx, anchor.f.chainId);
    const versions = await deleteChainRows(tx, projectId, anchor.f.chainId, CONTAINER);
    // A concurrent delete took the chain between the read above and the lock.
    if (versions.length === 0) throw fileNotFound();
    const keys = versions.map((v) => v.storageKey);
    const total = versions.reduce((n, v) => n + v.sizeBytes, 0);
    await addProjectStorage(tx, projectId, -total);
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "project_file",
      resourceId: anchor.f.chainId,
      projectId,
      severity: force ? "WARNING" : "INFO",
      oldValue: { originalFilename: anchor.f.originalFilename, versions: versions.length, sizeBytes: total },
      metadata: { force },
    });
    return keys;
  });
}

/**
 * One stored version as the edge serves it (api.md §2.5): what conditional and range requests
 * need, and `open`, which streams the bytes (all, or one inclusive range) and records the access.
 */
export type Download = {
  checksumSha256: string;
  mimeType: string;
  filename: string;
  size: number;
  open(range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array>>;
};

export async function download(deps: FileDeps, projectId: string, fileId: string): Promise<Download> {
  const row = (await loadFile(deps.db, projectId, fileId)).f;
  const size = row.sizeBytes;
  return {
    checksumSha256: row.checksumSha256,
    mimeType: row.mimeType,
    filename: row.originalFilename,
    size,
    async open(range) {
      let object: { stream: ReadableStream<Uint8Array> };
      try {
        object = await deps.storage.get(CONTAINER, row.storageKey, range ?? {});
      } catch (error) {
        if (error instanceof StorageNotFoundError) throw contentMissing();
        throw error;
      }
      await writeAudit(deps.db, deps.actor, {
        eventType: "ACCESS",
        action: "EXPORT",
        resourceType: "project_file",
        resourceId: row.id,
        projectId,
        metadata: { operation: "download", bytes: range ? range.end - range.start + 1 : size },
      });
      return object.stream;
    },
  };
}

async function outline(deps: FileDeps, row: FileRow): Promise<Outline | null> {
  const kind = row.kind as FileKind;
  if (!SPREADSHEET_KINDS.includes(kind) || kind === "xls") return null;
  let bytes: Uint8Array;
  try {
    bytes = await readAll(deps.storage, row.storageKey);
  } catch (error) {
    if (error instanceof StorageNotFoundError) throw contentMissing();
    throw error;
  }
  return kind === "csv" ? csvOutline(bytes) : workbookOutline(bytes, DEFAULT_LIMITS);
}

export async function compareVersions(
  deps: FileDeps,
  projectId: string,
  fileId: string,
  baseId: string,
  targetId: string,
): Promise<FileCompare> {
  const anchor = await loadFile(deps.db, projectId, fileId);
  const base = await loadFile(deps.db, projectId, baseId).catch(() => null);
  const target = await loadFile(deps.db, projectId, targetId).catch(() => null);
  if (!base || !target || base.f.chainId !== anchor.f.chainId || target.f.chainId !== anchor.f.chainId) {
    throw problem("VERSION_NOT_IN_CHAIN", { detail: "base and target must be versions of this file." });
  }
  const [a, b] = await Promise.all([outline(deps, base.f), outline(deps, target.f)]);
  const sheets =
    a && b
      ? {
          added: b.sheets.filter((s) => !a.sheets.includes(s)),
          removed: a.sheets.filter((s) => !b.sheets.includes(s)),
          common: a.sheets.filter((s) => b.sheets.includes(s)),
        }
      : null;
  return {
    base: toVersionInfo(base),
    target: toVersionInfo(target),
    identical: base.f.checksumSha256 === target.f.checksumSha256,
    sizeDeltaBytes: target.f.sizeBytes - base.f.sizeBytes,
    sheets,
    rowCounts: a && b ? { base: a.rows, target: b.rows } : null,
  };
}
