import type { Config } from "@/config";
import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import { iso } from "@/lib/schema";
import type { Container, Storage } from "@/lib/storage";
import { definitionOf } from "@/modules/admin-settings/definitions";
import * as settings from "@/modules/admin-settings/service";
import type { SettingsStore } from "@/modules/admin-settings/store";
import type { CleanupTargetType } from "./model";
import { deleteBatch, existingSessionIds, type RowTarget, referencedFileKeys, rowStats } from "./queries";

/*
 * Data retention and cleanup (api.md §2.12.10, §4.4). The policy is the RETENTION.* settings of
 * admin-settings — read and written through its service, so the settings cache is dropped on
 * every instance like any other settings change — and the same deletes serve the admin's
 * execute and the daily job. Rows go in batches of BATCH_SIZE, each its own short transaction,
 * so a large purge never holds one long lock.
 */

export const BATCH_SIZE = 5000;
/* An object younger than this may belong to an upload whose row is not committed yet. */
export const ORPHAN_MIN_AGE_MS = 24 * 3600_000;
const DAY_MS = 86_400_000;

const POLICY_KEYS = {
  ACTIVITY_LOGS: "activity_log_days",
  AUDIT_LOGS: "audit_log_days",
  AUTH_SESSIONS: "auth_session_days",
  READ_NOTIFICATIONS: "read_notification_days",
} as const satisfies Record<RowTarget, string>;

const FIELDS = {
  activityLogDays: "ACTIVITY_LOGS",
  auditLogDays: "AUDIT_LOGS",
  authSessionDays: "AUTH_SESSIONS",
  readNotificationDays: "READ_NOTIFICATIONS",
} as const satisfies Record<string, RowTarget>;
type PolicyField = keyof typeof FIELDS;
export type PolicyPatch = Partial<Record<PolicyField, number>>;

/* Where stored objects can be orphaned (api.md: `projects/` and `analysis/`). */
const ORPHAN_AREAS: readonly { container: Container; prefix: string }[] = [
  { container: "uploads", prefix: "projects/" },
  { container: "analysis", prefix: "analysis/" },
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const isRowTarget = (t: CleanupTargetType): t is RowTarget => t !== "ORPHAN_OBJECTS";

export function minimumDays(target: RowTarget): number {
  return definitionOf("RETENTION", POLICY_KEYS[target])?.min ?? 1;
}

function tooShort(target: RowTarget, days: number) {
  const min = minimumDays(target);
  return problem("RETENTION_TOO_SHORT", {
    detail: `${target} must be kept at least ${min} days (asked: ${days}).`,
    errors: [{ path: "/retentionDays", message: `${target}: minimum ${min}` }],
  });
}

export type RetentionPolicy = Record<PolicyField, number> & {
  updatedAt: string | null;
  updatedBy: { id: string; email: string; displayName: string | null } | null;
};

export async function getPolicy(db: Database, config: Config): Promise<RetentionPolicy> {
  const { items } = await settings.listCategory(db, config, "RETENTION");
  const byKey = new Map(items.map((s) => [s.key, s]));
  const days = (t: RowTarget) => Number(byKey.get(POLICY_KEYS[t])?.value);
  // The latest change of any of the four keys stands for the policy's.
  const last = items
    .filter((s) => s.updatedAt !== null)
    .sort((a, b) => (a.updatedAt! < b.updatedAt! ? 1 : -1))[0];
  return {
    activityLogDays: days("ACTIVITY_LOGS"),
    auditLogDays: days("AUDIT_LOGS"),
    authSessionDays: days("AUTH_SESSIONS"),
    readNotificationDays: days("READ_NOTIFICATIONS"),
    updatedAt: last?.updatedAt ?? null,
    updatedBy: last?.updatedBy ?? null,
  };
}

export type PolicyDeps = { db: Database; config: Config; store: SettingsStore; actor: AuditActor };

/** Writes the given days through the settings service (one transaction, audited SETTING_CHANGE). */
export async function patchPolicy(deps: PolicyDeps, patch: PolicyPatch): Promise<RetentionPolicy> {
  const values: Record<string, number> = {};
  for (const [field, days] of Object.entries(patch) as [PolicyField, number | undefined][]) {
    if (days === undefined) continue;
    const target = FIELDS[field];
    if (days < minimumDays(target)) throw tooShort(target, days);
    values[POLICY_KEYS[target]] = days;
  }
  await settings.patchMany(deps, "RETENTION", values);
  return getPolicy(deps.db, deps.config);
}

function policyDays(policy: RetentionPolicy, target: RowTarget): number {
  const field = (Object.keys(FIELDS) as PolicyField[]).find((f) => FIELDS[f] === target)!;
  return policy[field];
}

type Plan = { target: CleanupTargetType; retentionDays: number | null; cutoff: Date };

async function plan(
  db: Database,
  config: Config,
  targets: readonly CleanupTargetType[],
  retentionDays: number | undefined,
  now: number,
): Promise<Plan[]> {
  const policy = retentionDays === undefined ? await getPolicy(db, config) : null;
  return [...new Set(targets)].map((target) => {
    if (!isRowTarget(target)) {
      return { target, retentionDays: null, cutoff: new Date(now - ORPHAN_MIN_AGE_MS) };
    }
    const days = retentionDays ?? policyDays(policy!, target);
    if (days < minimumDays(target)) throw tooShort(target, days);
    return { target, retentionDays: days, cutoff: new Date(now - days * DAY_MS) };
  });
}

/* Stored objects under the orphan areas, older than the cutoff, that no row references. */
async function* orphans(db: Database, storage: Storage, cutoff: Date) {
  if (!storage.list) return;
  for (const area of ORPHAN_AREAS) {
    let chunk: { key: string; size: number; lastModified: Date }[] = [];
    const flush = async () => {
      const batch = chunk;
      chunk = [];
      if (area.container === "uploads") {
        const known = await referencedFileKeys(
          db,
          batch.map((o) => o.key),
        );
        return batch.filter((o) => !known.has(o.key));
      }
      // analysis/{sessionId}/…: the session row is what references its artefacts.
      const sessionOf = (key: string) => key.split("/")[1] ?? "";
      const ids = [...new Set(batch.map((o) => sessionOf(o.key)).filter((id) => UUID.test(id)))];
      const known = await existingSessionIds(db, ids);
      return batch.filter((o) => !known.has(sessionOf(o.key).toLowerCase()));
    };
    for await (const o of storage.list(area.container, area.prefix)) {
      if (o.lastModified >= cutoff) continue;
      chunk.push(o);
      if (chunk.length >= 500) for (const x of await flush()) yield { ...x, container: area.container };
    }
    if (chunk.length > 0) for (const x of await flush()) yield { ...x, container: area.container };
  }
}

export type PreviewTarget = {
  targetType: CleanupTargetType;
  retentionDays: number | null;
  cutoff: string | null;
  count: number;
  oldest: string | null;
  newest: string | null;
  estimatedBytes: number;
};

export async function preview(
  deps: { db: Database; config: Config; storage: Storage },
  targets: readonly CleanupTargetType[],
  retentionDays?: number,
  now = Date.now(),
): Promise<{ targets: PreviewTarget[] }> {
  const plans = await plan(deps.db, deps.config, targets, retentionDays, now);
  const out: PreviewTarget[] = [];
  for (const p of plans) {
    const base = { targetType: p.target, retentionDays: p.retentionDays, cutoff: p.cutoff.toISOString() };
    if (isRowTarget(p.target)) {
      const s = await rowStats(deps.db, p.target, p.cutoff);
      out.push({
        ...base,
        count: s.count,
        oldest: s.oldestMs === null ? null : new Date(s.oldestMs).toISOString(),
        newest: s.newestMs === null ? null : new Date(s.newestMs).toISOString(),
        estimatedBytes: Math.round(s.bytes),
      });
      continue;
    }
    let count = 0;
    let bytes = 0;
    let oldest: Date | null = null;
    let newest: Date | null = null;
    for await (const o of orphans(deps.db, deps.storage, p.cutoff)) {
      count++;
      bytes += o.size;
      if (!oldest || o.lastModified < oldest) oldest = o.lastModified;
      if (!newest || o.lastModified > newest) newest = o.lastModified;
    }
    out.push({ ...base, count, oldest: iso(oldest), newest: iso(newest), estimatedBytes: bytes });
  }
  return { targets: out };
}

/** Deletes every row of `target` past the cutoff, BATCH_SIZE at a time; answers the count. */
export async function purgeRows(
  db: Database,
  target: RowTarget,
  cutoff: Date,
  options: { batchSize?: number; onBatch?: (deleted: number) => void; signal?: AbortSignal } = {},
): Promise<number> {
  const size = options.batchSize ?? BATCH_SIZE;
  let total = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    const n = await deleteBatch(db, target, cutoff, size);
    total += n;
    if (n > 0) options.onBatch?.(n);
    if (n < size) break;
  }
  return total;
}

/*
 * Orphans are deleted directly, not through the storage-deletion queue: that queue is the outbox
 * of deletes that also change rows, and an orphan has no row; a storage delete is idempotent, so
 * a failure here is retried by the next cleanup.
 */
async function purgeOrphans(db: Database, storage: Storage, cutoff: Date): Promise<number> {
  let deleted = 0;
  for await (const o of orphans(db, storage, cutoff)) {
    await storage.delete(o.container, o.key);
    deleted++;
  }
  return deleted;
}

export type ExecuteDeps = { db: Database; config: Config; storage: Storage; actor: AuditActor };

export async function execute(
  deps: ExecuteDeps,
  targets: readonly CleanupTargetType[],
  retentionDays?: number,
  options: { batchSize?: number; now?: number } = {},
) {
  const now = options.now ?? Date.now();
  const plans = await plan(deps.db, deps.config, targets, retentionDays, now);
  const results: { targetType: CleanupTargetType; deleted: number; cutoff: string | null }[] = [];
  for (const p of plans) {
    const deleted = isRowTarget(p.target)
      ? await purgeRows(deps.db, p.target, p.cutoff, { batchSize: options.batchSize })
      : await purgeOrphans(deps.db, deps.storage, p.cutoff);
    results.push({ targetType: p.target, deleted, cutoff: p.cutoff.toISOString() });
  }
  const executedAt = new Date().toISOString();
  // After the deletes (they span many transactions), so this row is never among them.
  await writeAudit(deps.db, deps.actor, {
    eventType: "DATA_CHANGE",
    action: "PURGE",
    resourceType: "data_cleanup",
    severity: "CRITICAL",
    metadata: {
      retentionDays: retentionDays ?? null,
      targets: results.map((r, i) => ({ ...r, retentionDays: plans[i]!.retentionDays })),
    },
  });
  return { targets: results, executedAt };
}

const SYSTEM_ACTOR: AuditActor = { userId: null, email: null, ip: null, userAgent: null, requestId: null };

/**
 * The daily job (api.md §4.4): the policy applied to activity, audit, ended sessions and read
 * notifications; counts per target for the run's log line. Audited when it deleted anything.
 */
export async function applyRetention(
  deps: { db: Database; config: Config },
  signal?: AbortSignal,
  now = Date.now(),
): Promise<Record<string, number>> {
  const policy = await getPolicy(deps.db, deps.config);
  const counts: Record<string, number> = {};
  const done: { targetType: RowTarget; deleted: number; retentionDays: number }[] = [];
  for (const target of Object.keys(POLICY_KEYS) as RowTarget[]) {
    const days = Math.max(policyDays(policy, target), minimumDays(target));
    const deleted = await purgeRows(deps.db, target, new Date(now - days * DAY_MS), { signal });
    counts[target.toLowerCase()] = deleted;
    done.push({ targetType: target, deleted, retentionDays: days });
  }
  if (done.some((d) => d.deleted > 0)) {
    await writeAudit(deps.db, SYSTEM_ACTOR, {
      eventType: "DATA_CHANGE",
      action: "PURGE",
      resourceType: "data_cleanup",
      severity: "CRITICAL",
      metadata: { job: "retention", targets: done },
    });
  }
  return counts;
}
