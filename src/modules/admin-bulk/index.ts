import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { exportResponse } from "@/http/export-response";
import { authPlugin } from "@/plugins/auth";
import { bodyBeforeDeadline } from "@/plugins/body-limit";
import {
  ArchiveBody,
  ArchiveResult,
  DeactivateBody,
  DeactivateResult,
  ExportQuery,
  ImportQuery,
  ImportReport,
} from "./model";
import * as service from "./service";

const IMPORT_BODY: any = {
  content: {
    "multipart/form-data": {
      schema: {
        title: "UserImportUpload",
        description: "`file`: a .csv of at most 2 MiB",
        type: "object",
        required: ["file"],
        properties: { file: { type: "string", format: "binary" } },
      },
    },
  },
};

/* Bulk operations (api.md §2.12.9), inside the one admin guard. */
export function adminBulkController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const bulkDeps = (auth: { actor: service.BulkDeps["actor"] }): service.BulkDeps => ({
    db,
    cache: deps.cache,
    actor: auth.actor,
  });

  return new Elysia({ name: "admin-bulk", prefix: "/admin/bulk" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .post(
          "/users/import",
          // A declared length over the cap was refused before routing (plugins/body-limit.ts);
          // the service counts the file part itself for chunked bodies.
          ({ auth, query, request }) =>
            service.importUsers(
              bulkDeps(auth),
              { contentType: request.headers.get("content-type"), body: () => bodyBeforeDeadline(request) },
              query.dryRun ?? false,
            ),
          {
            query: ImportQuery,
            response: ImportReport,
            detail: {
              tags,
              operationId: "admin.bulk.usersImport",
              summary: "Import users from CSV (admin)",
              description:
                "System admins only. multipart `file`: a .csv of at most 2 MiB in UTF-8 (BOM optional) or Shift_JIS, header `email,display_name[,roles]` (roles `;`-separated), at most 1000 rows. Existing e-mails (case-insensitive) and repeats within the file are skipped; bad rows fail alone with a code. New accounts have no Entra oid (source `import`) and are linked by e-mail at their first sign-in. `dryRun=true` writes nothing. Audited (DATA_CHANGE/BULK_UPDATE).",
              requestBody: IMPORT_BODY,
              "x-problem-codes": [
                "MALFORMED_REQUEST",
                "PAYLOAD_TOO_LARGE",
                "UNSUPPORTED_FILE_TYPE",
                "CSV_INVALID",
                "BULK_LIMIT_EXCEEDED",
              ],
            },
          },
        )
        .get(
          "/users/export",
          async ({ auth, query }) =>
            exportResponse(
              await service.exportUsers(
                {
                  ...bulkDeps(auth),
                  onError: (err) => deps.logger.error({ err }, "user export failed mid-stream"),
                },
                query,
              ),
            ),
          {
            query: ExportQuery,
            detail: {
              tags,
              operationId: "admin.bulk.usersExport",
              summary: "Export users as CSV (admin)",
              description:
                "System admins only. Streams `id,email,display_name,roles,is_active,last_login_at,created_at` (UTF-8 with BOM, CRLF; roles `;`-separated); cells starting with = + - @ TAB CR are prefixed with '. Audited (ACCESS/EXPORT).",
              responses: {
                200: {
                  description: "The CSV file (attachment)",
                  headers: { "Content-Disposition": { schema: { type: "string" } } },
                  content: { "text/csv": { schema: { type: "string", format: "binary" } } },
                },
              },
            },
          },
        )
        .post(
          "/users/deactivate",
          ({ auth, body }) => service.deactivateIdleUsers(bulkDeps(auth), auth.caller!, body),
          {
            body: DeactivateBody,
            response: DeactivateResult,
            detail: {
              tags,
              operationId: "admin.bulk.usersDeactivate",
              summary: "Deactivate idle users (admin)",
              description:
                "System admins only. Users with no sign-in and no session activity for `inactiveDays` (system admins and the caller never) — listed (≤ 500, `truncated`) and, with `dryRun: false`, deactivated: their auth sessions end (DEACTIVATED) and every later request answers 403 ACCOUNT_DISABLED. Audited per user (SECURITY/USER_DEACTIVATE) and as DATA_CHANGE/BULK_UPDATE.",
            },
          },
        )
        .post("/projects/archive", ({ auth, body }) => service.archiveIdleProjects(bulkDeps(auth), body), {
          body: ArchiveBody,
          response: ArchiveResult,
          detail: {
            tags,
            operationId: "admin.bulk.projectsArchive",
            summary: "Archive idle projects (admin)",
            description:
              "System admins only. Active projects whose last activity is older than `inactiveDays` — listed (≤ 500, `truncated`) and, with `dryRun: false`, deactivated (read-only; a manager can reactivate). Audited (DATA_CHANGE/BULK_UPDATE).",
          },
        }),
    );
}
