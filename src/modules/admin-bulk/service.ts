import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import type { Cache } from "@/lib/cache";
import { AppError, problem } from "@/lib/errors";
import { exportStream } from "@/lib/export-stream";
import { MultipartError, readMultipart } from "@/lib/multipart";
import { iso } from "@/lib/schema";
import type { Caller } from "@/modules/auth/service";
import { invalidateProject } from "@/modules/project/access";
import * as accounts from "@/modules/user-account/service";
import { decodeCsv, parseImport } from "./import-csv";
import {
  archiveProjects,
  countUsers,
  type ExportFilter,
  type ExportUserRow,
  existingEmails,
  exportUserBatch,
  idleProjects,
  idleUsers,
  insertImportedUsers,
} from "./queries";

/*
 * Bulk operations (api.md §2.12.9). Imports and exports of accounts, and the two sweeps that
 * deactivate idle users and archive idle projects. Sweeps default to a dry run; executed runs are
 * audited DATA_CHANGE/BULK_UPDATE with their counts.
 */

export const CSV_IMPORT_MAX_BYTES = 2 * 1024 * 1024;
/* The most rows a sweep answer lists (the count covers all). */
export const LISTED_MAX = 500;
const DAY_MS = 86_400_000;

export type BulkDeps = { db: Database; cache: Cache; actor: AuditActor };

const malformed = (detail: string) => problem("MALFORMED_REQUEST", { detail });
const tooLarge = () =>
  problem("PAYLOAD_TOO_LARGE", {
    detail: `The CSV file exceeds the limit of ${CSV_IMPORT_MAX_BYTES} bytes.`,
    extensions: { maxBytes: CSV_IMPORT_MAX_BYTES },
  });

export type Upload = { contentType: string | null; body: () => ReadableStream<Uint8Array> | null };

async function readCapped(stream: ReadableStream<Uint8Array>, max: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done || !value) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/* The bytes of the one `file` part; 415 unless it is a .csv of text, 413 past the cap. */
async function receiveCsv(upload: Upload): Promise<Uint8Array> {
  if (!upload.contentType?.toLowerCase().startsWith("multipart/form-data")) {
    throw problem("UNSUPPORTED_MEDIA_TYPE", { detail: "Send the CSV as multipart/form-data (`file`)." });
  }
  const body = upload.body();
  if (!body) throw malformed("The request has no body.");
  let bytes: Uint8Array | null = null;
  try {
    for await (const part of readMultipart(body, upload.contentType)) {
      if (part.name !== "file") {
        await part.stream.cancel();
        continue;
      }
      if (bytes) throw malformed("Send exactly one `file` part.");
      if (!/\.csv$/i.test(part.filename ?? "")) {
        await part.stream.cancel();
        throw problem("UNSUPPORTED_FILE_TYPE", { detail: "Only .csv files are imported." });
      }
      bytes = await readCapped(part.stream, CSV_IMPORT_MAX_BYTES);
    }
  } catch (error) {
    if (error instanceof MultipartError) throw malformed(`The multipart body is malformed: ${error.message}`);
    throw error;
  }
  if (!bytes) throw malformed("The multipart body has no `file` part.");
  // A NUL byte means binary content under a .csv name (UTF-16, also full of NULs, is refused
  // with its own reason by decodeCsv).
  const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (!utf16 && bytes.includes(0)) {
    throw problem("UNSUPPORTED_FILE_TYPE", { detail: "The file is not text, so not a CSV." });
  }
  return bytes;
}

type RowReport = {
  row: number;
  email: string;
  status: "created" | "skipped" | "failed";
  userId?: string;
  code?: string;
  detail?: string;
};

export async function importUsers(deps: BulkDeps, upload: Upload, dryRun: boolean) {
  const rows = parseImport(decodeCsv(await receiveCsv(upload)));
  const valid = rows.filter((r) => !r.error);
  const known = await existingEmails(deps.db, [...new Set(valid.map((r) => r.email.toLowerCase()))]);
  const report: RowReport[] = [];
  const toCreate: typeof rows = [];
  const seen = new Set<string>();
  for (const r of rows) {
    const key = r.email.toLowerCase();
    if (r.error) report.push({ row: r.row, email: r.email, status: "failed", ...r.error });
    else if (known.has(key))
      report.push({
        row: r.row,
        email: r.email,
        status: "skipped",
        code: "EMAIL_EXISTS",
        detail: "An account has this e-mail.",
      });
    else if (seen.has(key))
      report.push({
        row: r.row,
        email: r.email,
        status: "skipped",
        code: "DUPLICATE_IN_FILE",
        detail: "An earlier row has this e-mail.",
      });
    else {
      seen.add(key);
      toCreate.push(r);
      report.push({ row: r.row, email: r.email, status: "created" });
    }
  }
  if (!dryRun && toCreate.length > 0) {
    await deps.db.transaction(async (tx) => {
      const inserted = await insertImportedUsers(tx, toCreate);
      const ids = new Map(inserted.map((u) => [u.email.toLowerCase(), u.id]));
      for (const r of report) {
        if (r.status !== "created") continue;
        const id = ids.get(r.email.toLowerCase());
        if (id) r.userId = id;
        else
          Object.assign(r, {
            status: "skipped",
            code: "EMAIL_EXISTS",
            detail: "Created meanwhile by someone else.",
          });
      }
      await writeAudit(tx, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "BULK_UPDATE",
        resourceType: "user_account",
        severity: "WARNING",
        metadata: { operation: "users.import", counts: tally(report), totalRows: rows.length },
      });
    });
  }
  return { dryRun, totalRows: rows.length, ...tally(report), rows: report };
}

function tally(report: RowReport[]) {
  const n = (s: RowReport["status"]) => report.filter((r) => r.status === s).length;
  return { created: n("created"), skipped: n("skipped"), failed: n("failed") };
}

const EXPORT_HEADER = ["id", "email", "display_name", "roles", "is_active", "last_login_at", "created_at"];

/** Audited (ACCESS/EXPORT) before the first byte, then streamed in id order. */
export async function exportUsers(
  deps: BulkDeps & { onError?: (err: unknown) => void },
  filter: ExportFilter,
) {
  const total = await countUsers(deps.db, filter);
  await writeAudit(deps.db, deps.actor, {
    eventType: "ACCESS",
    action: "EXPORT",
    resourceType: "user_account",
    metadata: { format: "csv", filter, rows: total },
  });
  const body = exportStream<ExportUserRow>({
    format: "csv",
    header: EXPORT_HEADER,
    columns: (u) => [
      u.id,
      u.email,
      u.displayName,
      u.roles.join(";"),
      u.isActive,
      iso(u.lastLoginAt),
      iso(u.createdAt),
    ],
    next: (after) => exportUserBatch(deps.db, filter, after?.id ?? null, 1000),
    maxRows: Number.MAX_SAFE_INTEGER,
    onError: deps.onError,
  });
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return { body, format: "csv" as const, truncated: false, filename: `users_${stamp}.csv` };
}

/**
 * Users idle since the cutoff (never system admins, never the caller). Executing deactivates each
 * through user-account's setActive — the one writer of activation: it ends their auth sessions
 * (DEACTIVATED), drops their cached copies and audits USER_DEACTIVATE per user.
 */
export async function deactivateIdleUsers(
  deps: BulkDeps,
  caller: Caller,
  input: { inactiveDays: number; dryRun?: boolean; reason?: string },
) {
  const dryRun = input.dryRun ?? true;
  const cutoff = new Date(Date.now() - input.inactiveDays * DAY_MS);
  const idle = await idleUsers(deps.db, cutoff, caller.user.id);
  let done = idle;
  if (!dryRun) {
    done = [];
    const accountDeps = { db: deps.db, cache: deps.cache, actor: deps.actor };
    for (const u of idle) {
      try {
        const after = await accounts.setActive(
          accountDeps,
          caller,
          u.id,
          false,
          input.reason ?? "bulk deactivation",
        );
        if (!after.isActive) done.push(u);
      } catch (err) {
        // Deleted (or made the last admin) since the listing: not this sweep's to change.
        if (!(err instanceof AppError && (err.code === "USER_NOT_FOUND" || err.code === "LAST_SYSTEM_ADMIN")))
          throw err;
      }
    }
    await writeAudit(deps.db, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "BULK_UPDATE",
      resourceType: "user_account",
      severity: "WARNING",
      metadata: {
        operation: "users.deactivate",
        inactiveDays: input.inactiveDays,
        cutoff: cutoff.toISOString(),
        counts: { deactivated: done.length },
        reason: input.reason ?? null,
      },
    });
  }
  return {
    dryRun,
    cutoff: cutoff.toISOString(),
    count: done.length,
    users: done.slice(0, LISTED_MAX),
    truncated: done.length > LISTED_MAX,
  };
}

/** Active projects whose last activity is before the cutoff become inactive (read-only). */
export async function archiveIdleProjects(deps: BulkDeps, input: { inactiveDays: number; dryRun?: boolean }) {
  const dryRun = input.dryRun ?? true;
  const cutoff = new Date(Date.now() - input.inactiveDays * DAY_MS);
  let idle = await idleProjects(deps.db, cutoff);
  if (!dryRun && idle.length > 0) {
    const archived = new Set<string>();
    await deps.db.transaction(async (tx) => {
      for (let i = 0; i < idle.length; i += 1000) {
        const ids = await archiveProjects(
          tx,
          idle.slice(i, i + 1000).map((p) => p.id),
          cutoff,
        );
        for (const id of ids) archived.add(id);
      }
      await writeAudit(tx, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "BULK_UPDATE",
        resourceType: "project",
        severity: "WARNING",
        metadata: {
          operation: "projects.archive",
          inactiveDays: input.inactiveDays,
          cutoff: cutoff.toISOString(),
          counts: { archived: archived.size },
          projectIds: [...archived],
        },
      });
    });
    idle = idle.filter((p) => archived.has(p.id));
    for (const id of archived) await invalidateProject(deps.cache, id);
  }
  return {
    dryRun,
    cutoff: cutoff.toISOString(),
    count: idle.length,
    projects: idle
      .slice(0, LISTED_MAX)
      .map((p) => ({ ...p, lastActivityAt: p.lastActivityAt.toISOString() })),
    truncated: idle.length > LISTED_MAX,
  };
}
