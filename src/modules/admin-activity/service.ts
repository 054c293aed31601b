import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import { EXPORT_MAX_ROWS, type ExportFormat, exportStream } from "@/lib/export-stream";
import {
  type ActivityFilter,
  type ActivityRow,
  activityBatch,
  activityHasMoreThan,
  getActivity,
  listActivity,
} from "./queries";

/* Activity-log reading (api.md §2.12.2): pages, the error view, one entry, the audited export. */

type Query = ActivityFilter & { skip?: number; limit?: number };

function toLog(r: ActivityRow) {
  return {
    id: r.id,
    user: r.user?.id ? r.user : null,
    actionType: r.actionType as "CREATE",
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    projectId: r.projectId,
    method: r.method,
    route: r.route,
    path: r.path,
    statusCode: r.statusCode,
    durationMs: r.durationMs,
    errorCode: r.errorCode,
    errorMessage: r.errorMessage,
    ipAddress: r.ipAddress,
    userAgent: r.userAgent,
    requestId: r.requestId,
    createdAt: r.createdAt.toISOString(),
  };
}

function checkRange(q: { from?: string; to?: string }): void {
  if (q.from && q.to && new Date(q.to).getTime() < new Date(q.from).getTime()) {
    throw problem("INVALID_DATE_RANGE", { detail: "`to` must not be before `from`." });
  }
}

const filterOf = ({ skip: _s, limit: _l, ...rest }: Query): ActivityFilter => rest;

export async function list(db: Database, q: Query, errorsOnly = false) {
  checkRange(q);
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const f = filterOf(q);
  if (errorsOnly) f.hasError = true;
  const { rows, total } = await listActivity(db, f, skip, limit);
  return { items: rows.map(toLog), total, skip, limit };
}

export async function detail(db: Database, id: string) {
  const row = await getActivity(db, id);
  if (!row) throw problem("LOG_ENTRY_NOT_FOUND");
  return { ...toLog(row), requestBody: row.requestBody ?? null };
}

const HEADER = [
  "id",
  "createdAt",
  "userId",
  "userEmail",
  "actionType",
  "method",
  "route",
  "path",
  "statusCode",
  "durationMs",
  "errorCode",
  "errorMessage",
  "resourceType",
  "resourceId",
  "projectId",
  "ipAddress",
  "userAgent",
  "requestId",
];

type Log = ReturnType<typeof toLog>;

const cells = (l: Log) => [
  l.id,
  l.createdAt,
  l.user?.id ?? null,
  l.user?.email ?? null,
  l.actionType,
  l.method,
  l.route,
  l.path,
  l.statusCode,
  l.durationMs,
  l.errorCode,
  l.errorMessage,
  l.resourceType,
  l.resourceId,
  l.projectId,
  l.ipAddress,
  l.userAgent,
  l.requestId,
];

/** Audited (ACCESS/EXPORT) before the first byte, then streamed newest first, ≤ EXPORT_MAX_ROWS. */
export async function exportActivity(
  deps: { db: Database; actor: AuditActor; onError?: (err: unknown) => void },
  q: Query & { format?: ExportFormat },
) {
  checkRange(q);
  const { format = "csv", ...rest } = q;
  const filter = filterOf(rest);
  const truncated = await activityHasMoreThan(deps.db, filter, EXPORT_MAX_ROWS);
  await writeAudit(deps.db, deps.actor, {
    eventType: "ACCESS",
    action: "EXPORT",
    resourceType: "user_activity",
    metadata: { format, filter, truncated },
  });
  const cursors = new WeakMap<Log, { cursorAt: string; id: string }>();
  const body = exportStream<Log>({
    format,
    header: HEADER,
    columns: cells,
    onError: deps.onError,
    next: async (after) => {
      const rows = await activityBatch(deps.db, filter, after ? (cursors.get(after) ?? null) : null, 1000);
      return rows.map((r) => {
        const l = toLog(r);
        cursors.set(l, { cursorAt: r.cursorAt, id: r.id });
        return l;
      });
    },
  });
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return { body, format, truncated, filename: `activity_log_${stamp}.${format}` };
}
