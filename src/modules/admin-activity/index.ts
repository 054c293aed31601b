import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { exportResponse } from "@/http/export-response";
import { docSchema, Page } from "@/lib/schema";
import { authPlugin } from "@/plugins/auth";
import {
  ActivityExport,
  ActivityExportQuery,
  ActivityIdParams,
  ActivityListQuery,
  ActivityLog,
  ActivityLogDetail,
} from "./model";
import * as service from "./service";

const binary = { type: "string" as const, format: "binary" };

/* Activity-log reading (api.md §2.12.2), inside the one admin guard. */
export function adminActivityController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const range = { "x-problem-codes": ["INVALID_DATE_RANGE" as const] };

  return new Elysia({ name: "admin-activity", prefix: "/admin/activity-logs" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get("", ({ query }) => service.list(db, query), {
          query: ActivityListQuery,
          response: Page(ActivityLog),
          detail: {
            tags,
            operationId: "admin.activity.list",
            ...range,
            summary: "List API activity (admin)",
            description:
              "System admins only. One row per API request (not health, metrics or docs), newest first; rows are written in batches, so the last second may not show yet.",
          },
        })
        .get("/errors", ({ query }) => service.list(db, query, true), {
          query: ActivityListQuery,
          response: Page(ActivityLog),
          detail: {
            tags,
            operationId: "admin.activity.errors",
            ...range,
            summary: "List failed API requests (admin)",
            description: "System admins only. The activity rows with status ≥ 400, newest first.",
          },
        })
        .get(
          "/export",
          async ({ query, auth }) => {
            const out = await service.exportActivity(
              {
                db,
                actor: auth.actor,
                onError: (err) => deps.logger.error({ err }, "activity export failed mid-stream"),
              },
              query,
            );
            return exportResponse(out);
          },
          {
            query: ActivityExportQuery,
            detail: {
              tags,
              operationId: "admin.activity.export",
              ...range,
              summary: "Export API activity as CSV or JSON (admin)",
              description:
                "System admins only. Streams the matching rows, newest first, at most 100 000 (`X-Export-Truncated: true` when more matched). CSV: UTF-8 with BOM, CRLF; cells starting with = + - @ TAB CR are prefixed with '. Audited (ACCESS/EXPORT).",
              responses: {
                200: {
                  description: "The export file (attachment)",
                  headers: {
                    "Content-Disposition": { schema: { type: "string" } },
                    "X-Export-Truncated": { schema: { type: "string", enum: ["true", "false"] } },
                  },
                  content: {
                    "text/csv": { schema: binary },
                    "application/json": { schema: docSchema(ActivityExport) },
                  },
                },
              },
            },
          },
        )
        .get("/:activityId", ({ params }) => service.detail(db, params.activityId), {
          params: ActivityIdParams,
          response: ActivityLogDetail,
          detail: {
            tags,
            operationId: "admin.activity.get",
            "x-problem-codes": ["LOG_ENTRY_NOT_FOUND"],
            summary: "One activity row with its masked body (admin)",
            description:
              "System admins only. The row and its masked JSON request body (null when none or over 16 KiB).",
          },
        }),
    );
}
