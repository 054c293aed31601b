import type { Config } from "@/config";
import type { SETTING_CATEGORIES } from "@/db/schema/audit";

/*
 * The typed settings of api.md §2.12.4: type, range, default and meaning of every key the code
 * reads. A key without a stored row has its default (the environment's value for the keys that
 * used to be environment-only, so an unchanged deployment behaves as configured). Rows for keys
 * not listed here (added by a migration) are shown and edited by their stored `value_type`.
 */

export type SettingCategory = (typeof SETTING_CATEGORIES)[number];
export type SettingValueType = "STRING" | "NUMBER" | "BOOLEAN" | "JSON";

export type SettingDefinition = {
  category: SettingCategory;
  key: string;
  valueType: SettingValueType;
  default: (config: Config) => unknown;
  description: string;
  /** NUMBER: integer bounds, inclusive. */
  min?: number;
  max?: number;
  /** STRING: longest accepted value. */
  maxLength?: number;
  isSecret?: boolean;
  isEditable?: boolean;
};

const def = (d: SettingDefinition) => d;

export const SETTING_DEFINITIONS: readonly SettingDefinition[] = [
  def({
    category: "MAINTENANCE",
    key: "maintenance_mode",
    valueType: "BOOLEAN",
    default: () => false,
    description: "While true every request but health, metrics, docs (and admins, when allowed) answers 503.",
  }),
  def({
    category: "MAINTENANCE",
    key: "maintenance_message",
    valueType: "STRING",
    default: () => "",
    maxLength: 500,
    description: "Shown as the `detail` of the 503 MAINTENANCE_MODE answer.",
  }),
  def({
    category: "MAINTENANCE",
    key: "allow_admin_access",
    valueType: "BOOLEAN",
    default: () => true,
    description: "System admins keep full access during maintenance.",
  }),
  def({
    category: "MAINTENANCE",
    key: "retry_after_seconds",
    valueType: "NUMBER",
    default: () => 3600,
    min: 60,
    max: 86400,
    description: "`Retry-After` of the maintenance answer, in seconds.",
  }),
  def({
    category: "RETENTION",
    key: "activity_log_days",
    valueType: "NUMBER",
    default: () => 90,
    min: 7,
    max: 3650,
    description: "Days activity-log rows are kept.",
  }),
  def({
    category: "RETENTION",
    key: "audit_log_days",
    valueType: "NUMBER",
    default: () => 365,
    min: 90,
    max: 3650,
    description: "Days audit-log rows are kept.",
  }),
  def({
    category: "RETENTION",
    key: "auth_session_days",
    valueType: "NUMBER",
    default: () => 30,
    min: 1,
    max: 3650,
    description: "Days ended auth sessions are kept.",
  }),
  def({
    category: "RETENTION",
    key: "read_notification_days",
    valueType: "NUMBER",
    default: () => 90,
    min: 7,
    max: 3650,
    description: "Days read notifications are kept.",
  }),
  def({
    category: "LLM",
    key: "max_turns_per_user_per_hour",
    valueType: "NUMBER",
    default: (c) => c.llmMaxTurnsPerUserPerHour,
    min: 1,
    max: 10000,
    description:
      "Chat turns one user may start per hour (429 LLM_QUOTA_EXCEEDED beyond). Default: LLM_MAX_TURNS_PER_USER_PER_HOUR.",
  }),
  def({
    category: "LLM",
    key: "turn_timeout_seconds",
    valueType: "NUMBER",
    default: (c) => c.llmTurnTimeoutS,
    min: 30,
    max: 600,
    description: "Wall clock of one chat turn (504 LLM_TIMEOUT beyond). Default: LLM_TURN_TIMEOUT_S.",
  }),
  def({
    category: "NOTIFICATION",
    key: "enabled",
    valueType: "BOOLEAN",
    default: () => true,
    description: "Master switch for notification producers.",
  }),
  def({
    category: "GENERAL",
    key: "app_display_name",
    valueType: "STRING",
    default: (c) => c.appName,
    maxLength: 100,
    description: "Name shown in the context and announcements. Default: APP_NAME.",
  }),
];

export const settingId = (category: string, key: string) => `${category}.${key}`;

const BY_ID = new Map(SETTING_DEFINITIONS.map((d) => [settingId(d.category, d.key), d]));

export function definitionOf(category: string, key: string): SettingDefinition | undefined {
  return BY_ID.get(settingId(category, key));
}

export type Coerced = { ok: true; value: unknown } | { ok: false; reason: string };

/** Coerces an input to the setting's type and checks its range (api.md: PATCH `{ value }`). */
export function coerce(
  valueType: string,
  input: unknown,
  bounds: Pick<SettingDefinition, "min" | "max" | "maxLength"> = {},
): Coerced {
  switch (valueType) {
    case "BOOLEAN": {
      if (typeof input === "boolean") return { ok: true, value: input };
      if (input === "true" || input === "false") return { ok: true, value: input === "true" };
      return { ok: false, reason: "expected a boolean" };
    }
    case "NUMBER": {
      const n =
        typeof input === "number"
          ? input
          : typeof input === "string" && input.trim() !== ""
            ? Number(input)
            : NaN;
      if (!Number.isFinite(n)) return { ok: false, reason: "expected a number" };
      if (bounds.min !== undefined || bounds.max !== undefined) {
        if (!Number.isInteger(n)) return { ok: false, reason: "expected an integer" };
        if (bounds.min !== undefined && n < bounds.min)
          return { ok: false, reason: `must be at least ${bounds.min}` };
        if (bounds.max !== undefined && n > bounds.max)
          return { ok: false, reason: `must be at most ${bounds.max}` };
      }
      return { ok: true, value: n };
    }
    case "STRING": {
      if (typeof input !== "string") return { ok: false, reason: "expected a string" };
      const s = input.trim();
      if (bounds.maxLength !== undefined && s.length > bounds.maxLength) {
        return { ok: false, reason: `must be at most ${bounds.maxLength} characters` };
      }
      return { ok: true, value: s };
    }
    case "JSON":
      return input === undefined ? { ok: false, reason: "a value is required" } : { ok: true, value: input };
    default:
      return { ok: false, reason: `unknown value type ${valueType}` };
  }
}
