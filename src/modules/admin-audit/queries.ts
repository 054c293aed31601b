import { and, count, desc, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import { auditLog, userAccount } from "@/db/schema";

/* The wire enumerations, for models and services (schema values are read through queries files). */
export { AUDIT_EVENT_TYPES, SEVERITIES } from "@/db/schema/audit";

/* Reads of the append-only audit_log (api.md §2.12.3); newest first, ties broken by id. */

export type AuditFilter = {
  eventType?: string;
  action?: string;
  userId?: string;
  resourceType?: string;
  resourceId?: string;
  projectId?: string;
  severity?: string;
  /** Severities at or above this one. */
  severities?: string[];
  outcome?: string;
  from?: string;
  to?: string;
};

export type AuditRow = {
  id: string;
  eventType: string;
  action: string;
  resourceType: string;
  resourceId: string | null;
  projectId: string | null;
  actor: { id: string; email: string; displayName: string | null } | null;
  actorEmail: string | null;
  outcome: string;
  statusCode: number | null;
  severity: string;
  oldValue: unknown;
  newValue: unknown;
  changedFields: string[];
  ipAddress: string | null;
  userAgent: string | null;
  requestId: string | null;
  metadata: Record<string, unknown> | null;
  createdAt: Date;
};

const columns = {
  id: auditLog.id,
  eventType: auditLog.eventType,
  action: auditLog.action,
  resourceType: auditLog.resourceType,
  resourceId: auditLog.resourceId,
  projectId: auditLog.projectId,
  actor: userRef,
  actorEmail: auditLog.actorEmail,
  outcome: auditLog.outcome,
  statusCode: auditLog.statusCode,
  severity: auditLog.severity,
  oldValue: auditLog.oldValue,
  newValue: auditLog.newValue,
  changedFields: auditLog.changedFields,
  ipAddress: sql<string | null>`host(${auditLog.ipAddress})`,
  userAgent: auditLog.userAgent,
  requestId: auditLog.requestId,
  metadata: auditLog.metadata,
  createdAt: auditLog.createdAt,
};

function whereOf(f: AuditFilter): SQL | undefined {
  return and(
    f.eventType ? eq(auditLog.eventType, f.eventType) : undefined,
    f.action ? eq(auditLog.action, f.action) : undefined,
    f.userId ? eq(auditLog.userId, f.userId) : undefined,
    f.resourceType ? eq(auditLog.resourceType, f.resourceType) : undefined,
    f.resourceId ? eq(auditLog.resourceId, f.resourceId) : undefined,
    f.projectId ? eq(auditLog.projectId, f.projectId) : undefined,
    f.severity ? eq(auditLog.severity, f.severity) : undefined,
    f.severities ? inArray(auditLog.severity, f.severities) : undefined,
    f.outcome ? eq(auditLog.outcome, f.outcome) : undefined,
    f.from ? gte(auditLog.createdAt, new Date(f.from)) : undefined,
    f.to ? lt(auditLog.createdAt, new Date(f.to)) : undefined,
  );
}

export async function listAudit(
  db: DbOrTx,
  f: AuditFilter,
  skip: number,
  limit: number,
): Promise<{ rows: AuditRow[]; total: number }> {
  const where = whereOf(f);
  const rows = await db
    .select(columns)
    .from(auditLog)
    .leftJoin(userAccount, eq(userAccount.id, auditLog.userId))
    .where(where)
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(auditLog).where(where);
  return { rows: rows as AuditRow[], total: n };
}

/** The next export batch after `after` (keyset on created_at, id: stable while rows are appended). */
export async function auditBatch(
  db: DbOrTx,
  f: AuditFilter,
  after: { cursorAt: string; id: string } | null,
  limit: number,
): Promise<(AuditRow & { cursorAt: string })[]> {
  const rows = await db
    // Full-precision text of the timestamp: a Date keeps milliseconds only, the column microseconds.
    .select({ ...columns, cursorAt: sql<string>`${auditLog.createdAt}::text` })
    .from(auditLog)
    .leftJoin(userAccount, eq(userAccount.id, auditLog.userId))
    .where(
      and(
        whereOf(f),
        after
          ? sql`(${auditLog.createdAt}, ${auditLog.id}) < (${after.cursorAt}::timestamptz, ${after.id}::uuid)`
          : undefined,
      ),
    )
    .orderBy(desc(auditLog.createdAt), desc(auditLog.id))
    .limit(limit);
  return rows as (AuditRow & { cursorAt: string })[];
}

/** Whether more than `n` rows match (the export says it was cut without counting everything). */
export async function hasMoreThan(db: DbOrTx, f: AuditFilter, n: number): Promise<boolean> {
  const rows = await db.select({ id: auditLog.id }).from(auditLog).where(whereOf(f)).offset(n).limit(1);
  return rows.length > 0;
}
