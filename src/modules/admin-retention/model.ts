import { t } from "elysia";
import { Closed, Int, QueryInt, Ts, UserRef } from "@/lib/schema";

const TARGETS = [
  "ACTIVITY_LOGS",
  "AUDIT_LOGS",
  "AUTH_SESSIONS",
  "READ_NOTIFICATIONS",
  "ORPHAN_OBJECTS",
] as const;

export const CleanupTarget = t.Union(
  [
    t.Literal("ACTIVITY_LOGS"),
    t.Literal("AUDIT_LOGS"),
    t.Literal("AUTH_SESSIONS"),
    t.Literal("READ_NOTIFICATIONS"),
    t.Literal("ORPHAN_OBJECTS"),
  ],
  { description: "What a cleanup removes (api.md §1.5 CleanupTarget)" },
);

const Days = (description: string) => Int({ minimum: 1, maximum: 3650, description });

export const PreviewQuery = Closed({
  targetTypes: t.String({
    pattern: `^(${TARGETS.join("|")})(,(${TARGETS.join("|")}))*$`,
    maxLength: 200,
    description: "Comma-separated CleanupTarget list",
  }),
  retentionDays: t.Optional(
    QueryInt({
      minimum: 1,
      maximum: 3650,
      description: "Days to keep, for every listed target (default: the policy); not below its minimum",
    }),
  ),
});

export const CleanupPreview = t.Object(
  {
    targets: t.Array(
      t.Object(
        {
          targetType: CleanupTarget,
          retentionDays: t.Union([Int(), t.Null()], { description: "null for ORPHAN_OBJECTS" }),
          cutoff: t.Union([Ts, t.Null()], {
            description: "Rows/objects older than this go; ORPHAN_OBJECTS: now − 24 h",
          }),
          count: Int({ minimum: 0 }),
          oldest: t.Union([Ts, t.Null()]),
          newest: t.Union([Ts, t.Null()]),
          estimatedBytes: Int({
            minimum: 0,
            description:
              "Rows: sum of pg_column_size(row) over the matching rows (tuple data, no indexes or tuple headers); objects: their sizes",
          }),
        },
        { title: "CleanupPreviewTarget" },
      ),
    ),
  },
  { title: "CleanupPreview" },
);

export const CleanupExecute = Closed(
  {
    targetTypes: t.Array(CleanupTarget, { minItems: 1, maxItems: 5, uniqueItems: true }),
    retentionDays: t.Optional(Days("Days to keep, for every listed target (default: the policy)")),
    confirm: t.Literal(true, { description: "Must be true: the deletion cannot be undone" }),
  },
  { title: "CleanupExecute" },
);

export const CleanupResult = t.Object(
  {
    targets: t.Array(
      t.Object(
        { targetType: CleanupTarget, deleted: Int({ minimum: 0 }), cutoff: t.Union([Ts, t.Null()]) },
        { title: "CleanupResultTarget" },
      ),
    ),
    executedAt: Ts,
  },
  { title: "CleanupResult" },
);

export const RetentionPolicy = t.Object(
  {
    activityLogDays: Int({ description: "RETENTION.activity_log_days (minimum 7)" }),
    auditLogDays: Int({ description: "RETENTION.audit_log_days (minimum 90)" }),
    authSessionDays: Int({ description: "RETENTION.auth_session_days (minimum 1)" }),
    readNotificationDays: Int({ description: "RETENTION.read_notification_days (minimum 7)" }),
    updatedAt: t.Union([Ts, t.Null()], {
      description: "Last change of any of these settings; null while defaults",
    }),
    updatedBy: t.Union([UserRef, t.Null()]),
  },
  { title: "RetentionPolicy" },
);

export const RetentionPolicyPatch = Closed(
  {
    activityLogDays: t.Optional(Days("minimum 7")),
    auditLogDays: t.Optional(Days("minimum 90")),
    authSessionDays: t.Optional(Days("minimum 1")),
    readNotificationDays: t.Optional(Days("minimum 7")),
  },
  { title: "RetentionPolicyPatch" },
);

export type CleanupTargetType = (typeof TARGETS)[number];
export const CLEANUP_TARGETS = TARGETS;
