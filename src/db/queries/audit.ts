import type { DbOrTx } from "@/db/client";
import { auditLog } from "@/db/schema";
import { newId } from "@/lib/ids";
import { maskSecrets } from "@/lib/mask";

export type AuditEventType = "DATA_CHANGE" | "ACCESS" | "SECURITY" | "SYSTEM";
export type AuditSeverity = "INFO" | "WARNING" | "ERROR" | "CRITICAL";

/* Who did it and from where; built once per request by the auth stage. */
export type AuditActor = {
  userId: string | null;
  email: string | null;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
};

export type AuditEntry = {
  eventType: AuditEventType;
  action: string;
  resourceType: string;
  resourceId?: string | null;
  projectId?: string | null;
  outcome?: "success" | "denied" | "failed";
  statusCode?: number | null;
  severity?: AuditSeverity;
  oldValue?: unknown;
  newValue?: unknown;
  metadata?: Record<string, unknown> | null;
};

function changedFields(oldValue: unknown, newValue: unknown): string[] {
  if (!oldValue || !newValue || typeof oldValue !== "object" || typeof newValue !== "object") return [];
  const a = oldValue as Record<string, unknown>;
  const b = newValue as Record<string, unknown>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]),
  );
}

const isIp = (s: string | null) => (s && /^[0-9a-fA-F:.]+$/.test(s) ? s : null);

/**
 * Writes one audit row with the caller's transaction, so the record commits or rolls back with
 * the change it describes. Values are masked before they are stored.
 */
export async function writeAudit(db: DbOrTx, actor: AuditActor, entry: AuditEntry): Promise<void> {
  const oldValue = entry.oldValue === undefined ? null : maskSecrets(entry.oldValue);
  const newValue = entry.newValue === undefined ? null : maskSecrets(entry.newValue);
  await db.insert(auditLog).values({
    id: newId(),
    userId: actor.userId,
    actorEmail: actor.email,
    eventType: entry.eventType,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId ?? null,
    projectId: entry.projectId ?? null,
    outcome: entry.outcome ?? "success",
    statusCode: entry.statusCode ?? null,
    severity: entry.severity ?? "INFO",
    oldValue,
    newValue,
    changedFields: changedFields(oldValue, newValue),
    ipAddress: isIp(actor.ip),
    userAgent: actor.userAgent?.slice(0, 500) ?? null,
    requestId: actor.requestId,
    metadata: entry.metadata ? (maskSecrets(entry.metadata) as Record<string, unknown>) : null,
  });
}
