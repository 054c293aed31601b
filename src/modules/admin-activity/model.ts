import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, QueryInt, Ts, UserRef, Uuid } from "@/lib/schema";
import { ACTIVITY_ACTION_TYPES } from "./queries";

/*
 * An untitled literal union (the document inlines it as an enum), not t.UnionEnum: an optional
 * UnionEnum in a query is filled with its first member.
 */
export const ActivityActionType = t.Union([
  t.Literal("CREATE"),
  t.Literal("READ"),
  t.Literal("UPDATE"),
  t.Literal("DELETE"),
  t.Literal("LOGIN"),
  t.Literal("LOGOUT"),
  t.Literal("EXPORT"),
  t.Literal("IMPORT"),
  t.Literal("BULK_UPDATE"),
  t.Literal("ERROR"),
]);
/* Kept in step with the table's CHECK list. */
export const ACTIONS_MATCH = ActivityActionType.anyOf.every((l, i) => l.const === ACTIVITY_ACTION_TYPES[i]);

const activityFields = {
  id: Uuid,
  user: t.Union([UserRef, t.Null()]),
  actionType: ActivityActionType,
  resourceType: t.Union([t.String(), t.Null()]),
  resourceId: t.Union([Uuid, t.Null()]),
  projectId: t.Union([Uuid, t.Null()]),
  method: t.String(),
  route: t.String({ description: "Route template (`/api/v1/project/:projectId`)" }),
  path: t.String({ description: "Raw path, no query string" }),
  statusCode: Int(),
  durationMs: Int({ minimum: 0 }),
  errorCode: t.Union([t.String(), t.Null()]),
  errorMessage: t.Union([t.String(), t.Null()]),
  ipAddress: t.Union([t.String(), t.Null()]),
  userAgent: t.Union([t.String(), t.Null()]),
  requestId: t.String(),
  createdAt: Ts,
};

export const ActivityLog = t.Object(activityFields, { title: "ActivityLog" });
export const ActivityLogDetail = t.Object(
  {
    ...activityFields,
    requestBody: t.Unknown({ description: "The JSON body, masked; null when none or over 16 KiB" }),
  },
  { title: "ActivityLogDetail" },
);
export const ActivityExport = t.Array(ActivityLog, {
  title: "ActivityExport",
  description: "format=json: the rows",
});

const filters = {
  userId: t.Optional(IdOf("User")),
  actionType: t.Optional(t.Union(ActivityActionType.anyOf, { description: "Only this action type" })),
  resourceType: t.Optional(t.String({ minLength: 1, maxLength: 50, description: "Exact resource type" })),
  resourceId: t.Optional(IdOf("Resource")),
  projectId: t.Optional(IdOf("Project")),
  statusCode: t.Optional(QueryInt({ minimum: 100, maximum: 599, description: "Exact HTTP status" })),
  hasError: t.Optional(t.Boolean({ description: "true: status ≥ 400 only; false: below 400 only" })),
  from: t.Optional(t.String({ format: "date-time", description: "Inclusive lower bound of createdAt" })),
  to: t.Optional(t.String({ format: "date-time", description: "Exclusive upper bound of createdAt" })),
};

export const ActivityListQuery = Closed({ ...PageQuery, ...filters });
export const ActivityExportQuery = Closed({
  ...filters,
  format: t.Optional(
    t.Union([t.Literal("csv"), t.Literal("json")], { default: "csv", description: "csv (default) or json" }),
  ),
});
export const ActivityIdParams = Closed({ activityId: IdOf("Activity-log entry") });
