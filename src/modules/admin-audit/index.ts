import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { exportResponse } from "@/http/export-response";
import { docSchema, Page } from "@/lib/schema";
import { authPlugin } from "@/plugins/auth";
import {
  AuditEntry,
  AuditExport,
  AuditExportQuery,
  AuditListQuery,
  AuditSecurityQuery,
  AuditTypedQuery,
  PageOnlyQuery,
  ResourceParams,
} from "./model";
import * as service from "./service";

const binary = { type: "string" as const, format: "binary" };

/* Audit-log reading (api.md §2.12.3), inside the one admin guard. */
export function adminAuditController(deps: AppDeps) {
  const db = deps.database.db;
  const tags = ["admin"];
  const range = { "x-problem-codes": ["INVALID_DATE_RANGE" as const] };
  const typed = (eventType: string, what: string, operationId: string) => ({
    query: AuditTypedQuery,
    response: Page(AuditEntry),
    detail: {
      tags,
      operationId,
      ...range,
      summary: `List ${what} audit entries (admin)`,
      description: `System admins only. Audit entries of event type ${eventType}, newest first.`,
    },
  });

  return new Elysia({ name: "admin-audit", prefix: "/admin/audit-logs" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get("", ({ query }) => service.list(db, query), {
          query: AuditListQuery,
          response: Page(AuditEntry),
          detail: {
            tags,
            operationId: "admin.audit.list",
            ...range,
            summary: "List audit entries (admin)",
            description: "System admins only. The audit log, newest first, with filters; `to` is exclusive.",
          },
        })
        .get(
          "/changes",
          ({ query }) => service.list(db, query, "DATA_CHANGE"),
          typed("DATA_CHANGE", "data-change", "admin.audit.changes"),
        )
        .get(
          "/access",
          ({ query }) => service.list(db, query, "ACCESS"),
          typed("ACCESS", "access", "admin.audit.access"),
        )
        .get("/security", ({ query }) => service.list(db, query, "SECURITY"), {
          ...typed("SECURITY", "security", "admin.audit.security"),
          query: AuditSecurityQuery,
        })
        .get(
          "/resource/:resourceType/:resourceId",
          ({ params, query }) => service.resourceHistory(db, params.resourceType, params.resourceId, query),
          {
            params: ResourceParams,
            query: PageOnlyQuery,
            response: Page(AuditEntry),
            detail: {
              tags,
              operationId: "admin.audit.resource",
              summary: "History of one resource (admin)",
              description: "System admins only. Every audit entry of one resource, newest first.",
            },
          },
        )
        .get(
          "/export",
          async ({ query, auth }) => {
            const out = await service.exportAudit(
              {
                db,
                actor: auth.actor,
                onError: (err) => deps.logger.error({ err }, "audit export failed mid-stream"),
              },
              query,
            );
            return exportResponse(out);
          },
          {
            query: AuditExportQuery,
            detail: {
              tags,
              operationId: "admin.audit.export",
              ...range,
              summary: "Export audit entries as CSV or JSON (admin)",
              description:
                "System admins only. Streams the matching entries, newest first, at most 100 000 rows (`X-Export-Truncated: true` when more matched). CSV: UTF-8 with BOM, CRLF; cells starting with = + - @ TAB CR are prefixed with '. The export itself is audited (ACCESS/EXPORT).",
              responses: {
                200: {
                  description: "The export file (attachment)",
                  headers: {
                    "Content-Disposition": { schema: { type: "string" } },
                    "X-Export-Truncated": { schema: { type: "string", enum: ["true", "false"] } },
                  },
                  content: {
                    "text/csv": { schema: binary },
                    "application/json": { schema: docSchema(AuditExport) },
                  },
                },
              },
            },
          },
        ),
    );
}
