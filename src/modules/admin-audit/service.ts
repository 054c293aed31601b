import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import { EXPORT_MAX_ROWS, type ExportFormat, exportStream } from "@/lib/export-stream";
import { type AuditFilter, type AuditRow, auditBatch, hasMoreThan, listAudit, SEVERITIES } from "./queries";

/* Audit-log reading (api.md §2.12.3): pages, one resource's history, and the audited export. */

type Query = AuditFilter & { skip?: number; limit?: number; minSeverity?: string };

function toEntry(r: AuditRow) {
  return {
    id: r.id,
    eventType: r.eventType as "DATA_CHANGE" | "ACCESS" | "SECURITY" | "SYSTEM",
    action: r.action,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    projectId: r.projectId,
    actor: r.actor?.id ? r.actor : null,
    actorEmail: r.actorEmail,
    outcome: r.outcome as "success" | "denied" | "failed",
    statusCode: r.statusCode,
    severity: r.severity as (typeof SEVERITIES)[number],
    oldValue: r.oldValue ?? null,
    newValue: r.newValue ?? null,
    changedFields: r.changedFields,
    ipAddress: r.ipAddress,
    userAgent: r.userAgent,
    requestId: r.requestId,
    metadata: r.metadata,
    createdAt: r.createdAt.toISOString(),
  };
}

function checkRange(q: { from?: string; to?: string }): void {
  if (q.from && q.to && new Date(q.to).getTime() < new Date(q.from).getTime()) {
    throw problem("INVALID_DATE_RANGE", { detail: "`to` must not be before `from`." });
  }
}

function filterOf(q: Query, eventType?: string): AuditFilter {
  const { skip: _s, limit: _l, minSeverity, ...rest } = q;
  const f: AuditFilter = { ...rest, ...(eventType ? { eventType } : {}) };
  if (minSeverity) f.severities = SEVERITIES.slice(SEVERITIES.indexOf(minSeverity as never));
  return f;
}

export async function list(db: Database, q: Query, eventType?: string) {
  checkRange(q);
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listAudit(db, filterOf(q, eventType), skip, limit);
  return { items: rows.map(toEntry), total, skip, limit };
}

export async function resourceHistory(
  db: Database,
  resourceType: string,
  resourceId: string,
  q: { skip?: number; limit?: number },
) {
  return list(db, { resourceType, resourceId, skip: q.skip, limit: q.limit });
}

const HEADER = [
  "id",
  "createdAt",
  "eventType",
  "action",
  "resourceType",
  "resourceId",
  "projectId",
  "actorId",
  "actorEmail",
  "outcome",
  "statusCode",
  "severity",
  "oldValue",
  "newValue",
  "changedFields",
  "ipAddress",
  "userAgent",
  "requestId",
  "metadata",
];

type Entry = ReturnType<typeof toEntry>;

const cells = (e: Entry) => [
  e.id,
  e.createdAt,
  e.eventType,
  e.action,
  e.resourceType,
  e.resourceId,
  e.projectId,
  e.actor?.id ?? null,
  e.actorEmail,
  e.outcome,
  e.statusCode,
  e.severity,
  e.oldValue,
  e.newValue,
  e.changedFields.join(";"),
  e.ipAddress,
  e.userAgent,
  e.requestId,
  e.metadata,
];

/**
 * The export: audited (ACCESS/EXPORT, awaited) before the first byte, then streamed newest first
 * in batches, at most EXPORT_MAX_ROWS rows; `truncated` says whether more matched.
 */
export async function exportAudit(
  deps: { db: Database; actor: AuditActor; onError?: (err: unknown) => void },
  q: Query & { format?: ExportFormat },
) {
  checkRange(q);
  const format = q.format ?? "csv";
  const { format: _f, ...rest } = q;
  const filter = filterOf(rest);
  const truncated = await hasMoreThan(deps.db, filter, EXPORT_MAX_ROWS);
  await writeAudit(deps.db, deps.actor, {
    eventType: "ACCESS",
    action: "EXPORT",
    resourceType: "audit_log",
    metadata: { format, filter, truncated },
  });
  const cursors = new WeakMap<Entry, { cursorAt: string; id: string }>();
  const body = exportStream<Entry>({
    format,
    header: HEADER,
    columns: cells,
    maxRows: EXPORT_MAX_ROWS,
    onError: deps.onError,
    next: async (after) => {
      const rows = await auditBatch(deps.db, filter, after ? (cursors.get(after) ?? null) : null, 1000);
      return rows.map((r) => {
        const e = toEntry(r);
        cursors.set(e, { cursorAt: r.cursorAt, id: r.id });
        return e;
      });
    },
  });
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return { body, format, truncated, filename: `audit_log_${stamp}.${format}` };
}
