import type { Config } from "@/config";
import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { iso } from "@/lib/schema";
import { coerce, definitionOf, SETTING_DEFINITIONS, type SettingCategory, settingId } from "./definitions";
import { listSettingRows, lockSetting, SETTING_CATEGORIES, type SettingRow, upsertSetting } from "./queries";
import type { SettingsStore } from "./store";

/*
 * Settings and maintenance (api.md §2.12.4). Every write runs in one transaction with its audit
 * row, then drops the cached settings everywhere (SettingsStore.invalidate), so maintenance and
 * the LLM limits change on the next request of every instance.
 */

export type SettingsDeps = { db: Database; config: Config; store: SettingsStore; actor: AuditActor };

type UserRefValue = { id: string; email: string; displayName: string | null };

export type SettingView = {
  category: SettingCategory;
  key: string;
  value: unknown;
  valueType: "STRING" | "NUMBER" | "BOOLEAN" | "JSON";
  description: string | null;
  isSecret: boolean;
  isEditable: boolean;
  minimum: number | null;
  maximum: number | null;
  updatedBy: UserRefValue | null;
  updatedAt: string | null;
};

const MASK = "***";

function view(config: Config, category: string, key: string, row: SettingRow | undefined): SettingView {
  const d = definitionOf(category, key);
  const isSecret = row?.isSecret ?? d?.isSecret ?? false;
  const value = row ? row.value : d?.default(config);
  return {
    category: category as SettingCategory,
    key,
    value: isSecret ? MASK : (value ?? null),
    valueType: (row?.valueType ?? d?.valueType ?? "JSON") as SettingView["valueType"],
    description: d?.description ?? row?.description ?? null,
    isSecret,
    isEditable: row?.isEditable ?? d?.isEditable ?? true,
    minimum: d?.min ?? null,
    maximum: d?.max ?? null,
    updatedBy: row?.updatedBy?.id ? row.updatedBy : null,
    updatedAt: iso(row?.updatedAt),
  };
}

/* Known keys first (in their documented order), then stored keys the code does not know. */
function merge(config: Config, rows: SettingRow[], category?: string): SettingView[] {
  const stored = new Map(rows.map((r) => [settingId(r.category, r.key), r]));
  const out: SettingView[] = [];
  for (const d of SETTING_DEFINITIONS) {
    if (category && d.category !== category) continue;
    const id = settingId(d.category, d.key);
    out.push(view(config, d.category, d.key, stored.get(id)));
    stored.delete(id);
  }
  for (const r of stored.values()) out.push(view(config, r.category, r.key, r));
  return out;
}

export async function listAll(db: Database, config: Config) {
  const all = merge(config, await listSettingRows(db));
  const categories = Object.fromEntries(SETTING_CATEGORIES.map((c) => [c, [] as SettingView[]]));
  for (const s of all) categories[s.category].push(s);
  return { categories };
}

export async function listCategory(db: Database, config: Config, category: SettingCategory) {
  return { category, items: merge(config, await listSettingRows(db, category), category) };
}

async function write(
  deps: SettingsDeps,
  tx: Parameters<Parameters<Database["transaction"]>[0]>[0],
  category: string,
  key: string,
  input: unknown,
  current: SettingRow | null,
): Promise<{ before: unknown; after: unknown; valueType: string; isSecret: boolean }> {
  const d = definitionOf(category, key);
  if (!d && !current) throw problem("SETTING_NOT_FOUND");
  const isEditable = current?.isEditable ?? d?.isEditable ?? true;
  if (!isEditable) throw problem("SETTING_READ_ONLY");
  const valueType = current?.valueType ?? d!.valueType;
  const coerced = coerce(valueType, input, d ?? {});
  if (!coerced.ok) {
    throw problem("SETTING_VALUE_INVALID", {
      detail: `${category}.${key}: ${coerced.reason}.`,
      errors: [{ path: "/value", message: coerced.reason }],
    });
  }
  const isSecret = current?.isSecret ?? d?.isSecret ?? false;
  await upsertSetting(tx, {
    id: newId(),
    category,
    key,
    value: coerced.value,
    valueType,
    description: current?.description ?? d?.description ?? null,
    isSecret,
    isEditable,
    updatedBy: deps.actor.userId,
  });
  return {
    before: current ? current.value : d?.default(deps.config),
    after: coerced.value,
    valueType,
    isSecret,
  };
}

export async function patch(deps: SettingsDeps, category: SettingCategory, key: string, value: unknown) {
  await deps.db.transaction(async (tx) => {
    const current = await lockSetting(tx, category, key);
    const w = await write(deps, tx, category, key, value, current);
    await writeAudit(tx, deps.actor, {
      eventType: "SYSTEM",
      action: "SETTING_CHANGE",
      resourceType: "system_setting",
      severity: "WARNING",
      oldValue: { value: w.isSecret ? MASK : w.before },
      newValue: { value: w.isSecret ? MASK : w.after },
      metadata: { category, key },
    });
  });
  await deps.store.invalidate();
  const [row] = (await listSettingRows(deps.db, category)).filter((r) => r.key === key);
  return view(deps.config, category, key, row);
}

/**
 * Several keys of one category in one transaction with one audit row (the retention policy PATCH
 * of api.md §2.12.10 writes its keys here, so the settings cache is dropped the same way).
 */
export async function patchMany(
  deps: SettingsDeps,
  category: SettingCategory,
  values: Record<string, unknown>,
): Promise<void> {
  const keys = Object.keys(values).sort();
  if (keys.length === 0) return;
  await deps.db.transaction(async (tx) => {
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const key of keys) {
      const current = await lockSetting(tx, category, key);
      const w = await write(deps, tx, category, key, values[key], current);
      before[key] = w.isSecret ? MASK : w.before;
      after[key] = w.isSecret ? MASK : w.after;
    }
    await writeAudit(tx, deps.actor, {
      eventType: "SYSTEM",
      action: "SETTING_CHANGE",
      resourceType: "system_setting",
      severity: "WARNING",
      oldValue: before,
      newValue: after,
      metadata: { category, keys },
    });
  });
  await deps.store.invalidate();
}

export type MaintenanceInput = { message?: string; allowAdminAccess?: boolean; retryAfterSeconds?: number };

export async function maintenanceState(db: Database, config: Config) {
  const rows = await listSettingRows(db, "MAINTENANCE");
  const by = new Map(rows.map((r) => [r.key, r]));
  const value = (key: string) =>
    by.has(key) ? by.get(key)!.value : definitionOf("MAINTENANCE", key)?.default(config);
  const mode = by.get("maintenance_mode");
  const message = value("maintenance_message");
  return {
    enabled: value("maintenance_mode") === true,
    message: typeof message === "string" && message !== "" ? message : null,
    allowAdminAccess: value("allow_admin_access") !== false,
    retryAfterSeconds: Number(value("retry_after_seconds")),
    changedAt: iso(mode?.updatedAt),
    changedBy: mode?.updatedBy?.id ? mode.updatedBy : null,
  };
}

export async function setMaintenance(deps: SettingsDeps, enabled: boolean, input: MaintenanceInput = {}) {
  const changes: [string, unknown][] = [["maintenance_mode", enabled]];
  if (enabled) {
    changes.push(["maintenance_message", input.message ?? ""]);
    changes.push(["allow_admin_access", input.allowAdminAccess ?? true]);
    changes.push(["retry_after_seconds", input.retryAfterSeconds ?? 3600]);
  }
  await deps.db.transaction(async (tx) => {
    const before: Record<string, unknown> = {};
    const after: Record<string, unknown> = {};
    for (const [key, value] of changes) {
      const current = await lockSetting(tx, "MAINTENANCE", key);
      const w = await write(deps, tx, "MAINTENANCE", key, value, current);
      before[key] = w.before;
      after[key] = w.after;
    }
    await writeAudit(tx, deps.actor, {
      eventType: "SYSTEM",
      action: enabled ? "MAINTENANCE_ON" : "MAINTENANCE_OFF",
      resourceType: "system_setting",
      severity: "WARNING",
      oldValue: before,
      newValue: after,
      metadata: { category: "MAINTENANCE" },
    });
  });
  await deps.store.invalidate();
  return maintenanceState(deps.db, deps.config);
}
