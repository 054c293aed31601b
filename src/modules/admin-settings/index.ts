import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { type AuthState, authPlugin } from "@/plugins/auth";
import {
  AllSettings,
  CategoryParams,
  CategorySettings,
  MaintenanceEnable,
  MaintenanceState,
  Setting,
  SettingParams,
  SettingPatch,
} from "./model";
import * as service from "./service";

/* Settings and maintenance (api.md §2.12.4), inside the one admin guard. */
export function adminSettingsController(deps: AppDeps) {
  const db = deps.database.db;
  const { config } = deps;
  const tags = ["admin"];
  const settingsDeps = (auth: AuthState): service.SettingsDeps => ({
    db,
    config,
    store: deps.settings,
    actor: auth.actor,
  });

  return new Elysia({ name: "admin-settings", prefix: "/admin/settings" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get("", () => service.listAll(db, config), {
          response: AllSettings,
          detail: {
            tags,
            operationId: "admin.settings.list",
            summary: "All settings by category (admin)",
            description:
              "System admins only. Every setting with its effective value (the default while never set), type, range and who changed it last; secret values read `***`.",
          },
        })
        .get("/:category", ({ params }) => service.listCategory(db, config, params.category), {
          params: CategoryParams,
          response: CategorySettings,
          detail: {
            tags,
            operationId: "admin.settings.category",
            summary: "Settings of one category (admin)",
            description: "System admins only. An unknown category is a 422 VALIDATION_FAILED.",
          },
        })
        .patch(
          "/:category/:key",
          ({ params, body, auth }) =>
            service.patch(settingsDeps(auth), params.category, params.key, body.value),
          {
            params: SettingParams,
            body: SettingPatch,
            response: Setting,
            detail: {
              tags,
              operationId: "admin.settings.update",
              "x-problem-codes": ["SETTING_NOT_FOUND", "SETTING_READ_ONLY", "SETTING_VALUE_INVALID"],
              summary: "Change one setting (admin)",
              description:
                "System admins only. The value is coerced by the setting's type and checked against its range; cached copies are dropped on every instance, so the change applies on their next request. Audited (SYSTEM/SETTING_CHANGE).",
            },
          },
        )
        .post(
          "/maintenance/enable",
          ({ body, auth }) => service.setMaintenance(settingsDeps(auth), true, body ?? {}),
          {
            body: MaintenanceEnable,
            response: MaintenanceState,
            detail: {
              tags,
              operationId: "admin.maintenance.enable",
              summary: "Switch maintenance mode on (admin)",
              description:
                "System admins only. From the next request on every instance, everything except /health*, /metrics and /docs* answers 503 MAINTENANCE_MODE with Retry-After — system admins excepted when allowAdminAccess (the maintenance routes themselves always stay open to admins). Audited (SYSTEM/MAINTENANCE_ON).",
            },
          },
        )
        .post("/maintenance/disable", ({ auth }) => service.setMaintenance(settingsDeps(auth), false), {
          response: MaintenanceState,
          detail: {
            tags,
            operationId: "admin.maintenance.disable",
            summary: "Switch maintenance mode off (admin)",
            description:
              "System admins only. Effective on the next request everywhere. Audited (SYSTEM/MAINTENANCE_OFF).",
          },
        }),
    );
}
