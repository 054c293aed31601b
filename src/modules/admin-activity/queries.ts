import { and, count, desc, eq, gte, lt, type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import { userAccount, userActivity } from "@/db/schema";

export { ACTIVITY_ACTION_TYPES } from "@/db/schema/activity";

export type ActivityInsert = typeof userActivity.$inferInsert;

/**
 * One insert per batch (the recorder's only database call). The batch travels as one JSON
 * parameter expanded by the server: building a 200-row VALUES list with ~3 600 placeholders cost
 * more CPU per row than the request it describes.
 */
export async function insertActivities(db: DbOrTx, rows: ActivityInsert[]): Promise<void> {
  if (rows.length === 0) return;
  const json = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      user_id: r.userId ?? null,
      action_type: r.actionType,
      resource_type: r.resourceType ?? null,
      resource_id: r.resourceId ?? null,
      project_id: r.projectId ?? null,
      method: r.method,
      route: r.route,
      path: r.path,
      status_code: r.statusCode,
      duration_ms: r.durationMs ?? 0,
      error_code: r.errorCode ?? null,
      error_message: r.errorMessage ?? null,
      request_body: r.requestBody ?? null,
      ip_address: r.ipAddress ?? null,
      user_agent: r.userAgent ?? null,
      request_id: r.requestId,
      created_at: r.createdAt ?? new Date(),
    })),
  );
  await db.execute(
    sql`insert into user_activity select * from jsonb_populate_recordset(null::user_activity, ${json}::jsonb)`,
  );
}

/* The columns in COPY order; `copyActivities` writes each row's cells in this order. */
const COPY_COLUMNS = [
  "id",
  "user_id",
  "action_type",
  "resource_type",
  "resource_id",
  "project_id",
  "method",
  "route",
  "path",
  "status_code",
  "duration_ms",
  "error_code",
  "error_message",
  "request_body",
  "ip_address",
  "user_agent",
  "request_id",
  "created_at",
] as const;
const COPY_STATEMENT = `copy user_activity (${COPY_COLUMNS.join(", ")}) from stdin`;

/* COPY text format: \N is null; backslash, tab, newline and CR are escaped; NUL cannot be stored. */
function copyCell(value: unknown): string {
  if (value === null || value === undefined) return "\\N";
  const text =
    typeof value === "string" ? value : value instanceof Date ? value.toISOString() : String(value);
  return /[\\\t\n\r\0]/.test(text)
    ? text.replace(/[\\\t\n\r\0]/g, (c) =>
        c === "\0" ? "" : c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
      )
    : text;
}

/**
 * The batch through `COPY … FROM STDIN` (PostgreSQL): measured on this machine at about half the
 * client CPU and a third of the server time per row of `insertActivities`' JSON expansion, which
 * stays the path for PGlite (no COPY from a client stream there).
 */
export async function copyActivities(
  copyIn: (statement: string, text: string) => Promise<void>,
  rows: ActivityInsert[],
): Promise<void> {
  if (rows.length === 0) return;
  let text = "";
  for (const r of rows) {
    text += `${[
      r.id,
      r.userId,
      r.actionType,
      r.resourceType,
      r.resourceId,
      r.projectId,
      r.method,
      r.route,
      r.path,
      r.statusCode,
      r.durationMs ?? 0,
      r.errorCode,
      r.errorMessage,
      r.requestBody === null || r.requestBody === undefined ? null : JSON.stringify(r.requestBody),
      r.ipAddress,
      r.userAgent,
      r.requestId,
      r.createdAt ?? new Date(),
    ]
      .map(copyCell)
      .join("\t")}\n`;
  }
  await copyIn(COPY_STATEMENT, text);
}

export type ActivityFilter = {
  userId?: string;
  actionType?: string;
  resourceType?: string;
  resourceId?: string;
  projectId?: string;
  statusCode?: number;
  hasError?: boolean;
  from?: string;
  to?: string;
};

export type ActivityRow = {
  id: string;
  user: { id: string; email: string; displayName: string | null } | null;
  actionType: string;
  resourceType: string | null;
  resourceId: string | null;
  projectId: string | null;
  method: string;
  route: string;
  path: string;
  statusCode: number;
  durationMs: number;
  errorCode: string | null;
  errorMessage: string | null;
  ipAddress: string | null;
  userAgent: string | null;
  requestId: string;
  createdAt: Date;
};

const columns = {
  id: userActivity.id,
  user: userRef,
  actionType: userActivity.actionType,
  resourceType: userActivity.resourceType,
  resourceId: userActivity.resourceId,
  projectId: userActivity.projectId,
  method: userActivity.method,
  route: userActivity.route,
  path: userActivity.path,
  statusCode: userActivity.statusCode,
  durationMs: userActivity.durationMs,
  errorCode: userActivity.errorCode,
  errorMessage: userActivity.errorMessage,
  ipAddress: sql<string | null>`host(${userActivity.ipAddress})`,
  userAgent: userActivity.userAgent,
  requestId: userActivity.requestId,
  createdAt: userActivity.createdAt,
};

function whereOf(f: ActivityFilter): SQL | undefined {
  return and(
    f.userId ? eq(userActivity.userId, f.userId) : undefined,
    f.actionType ? eq(userActivity.actionType, f.actionType) : undefined,
    f.resourceType ? eq(userActivity.resourceType, f.resourceType) : undefined,
    f.resourceId ? eq(userActivity.resourceId, f.resourceId) : undefined,
    f.projectId ? eq(userActivity.projectId, f.projectId) : undefined,
    f.statusCode !== undefined ? eq(userActivity.statusCode, f.statusCode) : undefined,
    f.hasError === true ? gte(userActivity.statusCode, 400) : undefined,
    f.hasError === false ? lt(userActivity.statusCode, 400) : undefined,
    f.from ? gte(userActivity.createdAt, new Date(f.from)) : undefined,
    f.to ? lt(userActivity.createdAt, new Date(f.to)) : undefined,
  );
}

export async function listActivity(
  db: DbOrTx,
  f: ActivityFilter,
  skip: number,
  limit: number,
): Promise<{ rows: ActivityRow[]; total: number }> {
  const where = whereOf(f);
  const rows = await db
    .select(columns)
    .from(userActivity)
    .leftJoin(userAccount, eq(userAccount.id, userActivity.userId))
    .where(where)
    .orderBy(desc(userActivity.createdAt), desc(userActivity.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(userActivity).where(where);
  return { rows: rows as ActivityRow[], total: n };
}

export async function getActivity(
  db: DbOrTx,
  id: string,
): Promise<(ActivityRow & { requestBody: unknown }) | null> {
  const [row] = await db
    .select({ ...columns, requestBody: userActivity.requestBody })
    .from(userActivity)
    .leftJoin(userAccount, eq(userAccount.id, userActivity.userId))
    .where(eq(userActivity.id, id));
  return (row as (ActivityRow & { requestBody: unknown }) | undefined) ?? null;
}

export async function activityBatch(
  db: DbOrTx,
  f: ActivityFilter,
  after: { cursorAt: string; id: string } | null,
  limit: number,
): Promise<(ActivityRow & { cursorAt: string })[]> {
  const rows = await db
    .select({ ...columns, cursorAt: sql<string>`${userActivity.createdAt}::text` })
    .from(userActivity)
    .leftJoin(userAccount, eq(userAccount.id, userActivity.userId))
    .where(
      and(
        whereOf(f),
        after
          ? sql`(${userActivity.createdAt}, ${userActivity.id}) < (${after.cursorAt}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(userActivity.createdAt), desc(userActivity.id))
    .limit(limit);
  return rows as (ActivityRow & { cursorAt: string })[];
}

export async function activityHasMoreThan(db: DbOrTx, f: ActivityFilter, n: number): Promise<boolean> {
  const rows = await db
    .select({ id: userActivity.id })
    .from(userActivity)
    .where(whereOf(f))
    .offset(n)
    .limit(1);
  return rows.length > 0;
}
