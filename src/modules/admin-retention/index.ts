import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { type AuthState, authPlugin } from "@/plugins/auth";
import {
  CleanupExecute,
  CleanupPreview,
  CleanupResult,
  type CleanupTargetType,
  PreviewQuery,
  RetentionPolicy,
  RetentionPolicyPatch,
} from "./model";
import * as service from "./service";

/* Data retention and cleanup (api.md §2.12.10), inside the one admin guard. */
export function adminRetentionController(deps: AppDeps) {
  const db = deps.database.db;
  const { config, storage } = deps;
  const tags = ["admin"];
  const tooShort = { "x-problem-codes": ["RETENTION_TOO_SHORT" as const] };
  const policyDeps = (auth: AuthState): service.PolicyDeps => ({
    db,
    config,
    store: deps.settings,
    actor: auth.actor,
  });

  return new Elysia({ name: "admin-retention", prefix: "/admin/data" })
    .use(authPlugin(deps))
    .guard({ admin: true }, (admin) =>
      admin
        .get(
          "/cleanup/preview",
          ({ query }) =>
            service.preview(
              { db, config, storage },
              query.targetTypes.split(",") as CleanupTargetType[],
              query.retentionDays,
            ),
          {
            query: PreviewQuery,
            response: CleanupPreview,
            detail: {
              tags,
              operationId: "admin.data.cleanupPreview",
              ...tooShort,
              summary: "What a cleanup would delete (admin)",
              description:
                "System admins only. Per target: the cutoff (now − retention days; ORPHAN_OBJECTS: now − 24 h), how many rows or objects are past it, the oldest and newest of them and their size. Rows are sized by the sum of pg_column_size(row) (tuple data, without indexes).",
            },
          },
        )
        .post(
          "/cleanup/execute",
          ({ body, auth }) =>
            service.execute({ db, config, storage, actor: auth.actor }, body.targetTypes, body.retentionDays),
          {
            body: CleanupExecute,
            response: CleanupResult,
            detail: {
              tags,
              operationId: "admin.data.cleanupExecute",
              ...tooShort,
              summary: "Delete data past its retention (admin)",
              description:
                "System admins only; `confirm: true` is required. Rows go in batches of 5000 (one short transaction each). ORPHAN_OBJECTS deletes stored objects under projects/ and analysis/ that no file or session row references and that are older than 24 h. Audited (DATA_CHANGE/PURGE, CRITICAL).",
            },
          },
        )
        .get("/retention-policy", () => service.getPolicy(db, config), {
          response: RetentionPolicy,
          detail: {
            tags,
            operationId: "admin.data.retentionPolicy",
            summary: "The retention policy (admin)",
            description:
              "System admins only. The RETENTION.* settings as days per target; the daily job (03:00 UTC) applies them.",
          },
        })
        .patch("/retention-policy", ({ body, auth }) => service.patchPolicy(policyDeps(auth), body), {
          body: RetentionPolicyPatch,
          response: RetentionPolicy,
          detail: {
            tags,
            operationId: "admin.data.retentionPolicyUpdate",
            ...tooShort,
            summary: "Change the retention policy (admin)",
            description:
              "System admins only. Any subset of the four days, each within [its minimum, 3650] (activity 7, audit 90, auth sessions 1, read notifications 7). Written as RETENTION.* settings in one transaction, cached copies dropped on every instance. Audited (SYSTEM/SETTING_CHANGE).",
          },
        }),
    );
}
