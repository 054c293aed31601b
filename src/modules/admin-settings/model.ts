import { t } from "elysia";
import { Closed, Int, Ts, UserRef } from "@/lib/schema";
import { SETTING_CATEGORIES } from "./queries";

/*
 * An untitled literal union (the document inlines it as an enum), not t.UnionEnum: an optional
 * UnionEnum in a query is filled with its first member.
 */
export const SettingCategory = t.Union([
  t.Literal("GENERAL"),
  t.Literal("SECURITY"),
  t.Literal("NOTIFICATION"),
  t.Literal("MAINTENANCE"),
  t.Literal("STORAGE"),
  t.Literal("API"),
  t.Literal("RETENTION"),
  t.Literal("LLM"),
]);
/* Kept in step with the table's CHECK list. */
export const CATEGORIES_MATCH = SettingCategory.anyOf.every((l, i) => l.const === SETTING_CATEGORIES[i]);

export const Setting = t.Object(
  {
    category: SettingCategory,
    key: t.String(),
    value: t.Unknown({
      description: 'The effective value ("***" when isSecret); the default while never set',
    }),
    valueType: t.Union([t.Literal("STRING"), t.Literal("NUMBER"), t.Literal("BOOLEAN"), t.Literal("JSON")]),
    description: t.Union([t.String(), t.Null()]),
    isSecret: t.Boolean(),
    isEditable: t.Boolean(),
    minimum: t.Union([t.Number(), t.Null()], { description: "NUMBER settings: smallest accepted value" }),
    maximum: t.Union([t.Number(), t.Null()], { description: "NUMBER settings: largest accepted value" }),
    updatedBy: t.Union([UserRef, t.Null()]),
    updatedAt: t.Union([Ts, t.Null()], { description: "null while the default applies (never set)" }),
  },
  { title: "Setting" },
);

export const AllSettings = t.Object(
  {
    categories: t.Record(t.String(), t.Array(Setting), {
      description: "Every category (SettingCategory) with its settings",
    }),
  },
  { title: "SettingsByCategory" },
);

export const CategorySettings = t.Object(
  { category: SettingCategory, items: t.Array(Setting) },
  { title: "SettingsOfCategory" },
);

const categoryParam = t.Union(SettingCategory.anyOf, { description: "Setting category" });
export const CategoryParams = Closed({ category: categoryParam });
export const SettingParams = Closed({
  category: categoryParam,
  key: t.String({ minLength: 1, maxLength: 100, pattern: "^[a-z0-9_]+$", description: "Setting key" }),
});

export const SettingPatch = Closed(
  { value: t.Unknown({ description: "Coerced by the setting's valueType and checked against its range" }) },
  { title: "SettingPatch" },
);

export const MaintenanceEnable = Closed(
  {
    message: t.Optional(t.String({ maxLength: 500 })),
    allowAdminAccess: t.Optional(t.Boolean({ default: true })),
    retryAfterSeconds: t.Optional(Int({ minimum: 60, maximum: 86400, default: 3600 })),
  },
  { title: "MaintenanceEnable" },
);

export const MaintenanceState = t.Object(
  {
    enabled: t.Boolean(),
    message: t.Union([t.String(), t.Null()]),
    allowAdminAccess: t.Boolean(),
    retryAfterSeconds: Int({ minimum: 1 }),
    changedAt: t.Union([Ts, t.Null()]),
    changedBy: t.Union([UserRef, t.Null()]),
  },
  { title: "MaintenanceState" },
);
