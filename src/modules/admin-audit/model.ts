import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";
import { AUDIT_EVENT_TYPES, SEVERITIES } from "./queries";

/*
 * Untitled literal unions (the document inlines them as enums), not t.UnionEnum: an optional
 * UnionEnum in a query is filled with its first member.
 */
export const AuditEventType = t.Union([
  t.Literal("DATA_CHANGE"),
  t.Literal("ACCESS"),
  t.Literal("SECURITY"),
  t.Literal("SYSTEM"),
]);
export const Severity = t.Union([
  t.Literal("INFO"),
  t.Literal("WARNING"),
  t.Literal("ERROR"),
  t.Literal("CRITICAL"),
]);
/* Kept in step with the table's CHECK lists. */
export const ENUMS_MATCH =
  AuditEventType.anyOf.every((l, i) => l.const === AUDIT_EVENT_TYPES[i]) &&
  Severity.anyOf.every((l, i) => l.const === SEVERITIES[i]);
const Outcome = t.Union([t.Literal("success"), t.Literal("denied"), t.Literal("failed")]);

export const AuditEntry = t.Object(
  {
    id: Uuid,
    eventType: AuditEventType,
    action: t.String(),
    resourceType: t.String(),
    resourceId: t.Union([Uuid, t.Null()]),
    projectId: t.Union([Uuid, t.Null()]),
    actor: t.Union([UserRef, t.Null()]),
    actorEmail: t.Union([t.String(), t.Null()]),
    outcome: Outcome,
    statusCode: t.Union([Int(), t.Null()]),
    severity: Severity,
    oldValue: t.Unknown(),
    newValue: t.Unknown(),
    changedFields: t.Array(t.String()),
    ipAddress: t.Union([t.String(), t.Null()]),
    userAgent: t.Union([t.String(), t.Null()]),
    requestId: t.Union([t.String(), t.Null()]),
    metadata: t.Union([t.Record(t.String(), t.Unknown()), t.Null()]),
    createdAt: Ts,
  },
  { title: "AuditEntry" },
);

const filters = {
  action: t.Optional(
    t.String({ minLength: 1, maxLength: 50, description: "Exact action (CREATE, LOGIN_FAILED, …)" }),
  ),
  userId: t.Optional(IdOf("Acting user")),
  resourceType: t.Optional(t.String({ minLength: 1, maxLength: 50, description: "Exact resource type" })),
  resourceId: t.Optional(IdOf("Resource")),
  projectId: t.Optional(IdOf("Project")),
  severity: t.Optional(t.Union(Severity.anyOf, { description: "Exact severity" })),
  outcome: t.Optional(t.Union(Outcome.anyOf, { description: "success, denied or failed" })),
  from: t.Optional(t.String({ format: "date-time", description: "Inclusive lower bound of createdAt" })),
  to: t.Optional(t.String({ format: "date-time", description: "Exclusive upper bound of createdAt" })),
};

const eventType = t.Optional(t.Union(AuditEventType.anyOf, { description: "Only this event type" }));
export const AuditListQuery = Closed({ ...PageQuery, eventType, ...filters });
export const AuditTypedQuery = Closed({ ...PageQuery, ...filters });
export const AuditSecurityQuery = Closed({
  ...PageQuery,
  ...filters,
  minSeverity: t.Optional(t.Union(Severity.anyOf, { description: "This severity and above" })),
});
export const ResourceParams = Closed({
  resourceType: t.String({
    minLength: 1,
    maxLength: 50,
    description: "Resource type (project, user_account, …)",
  }),
  resourceId: IdOf("Resource"),
});
export const PageOnlyQuery = Closed({ ...PageQuery });
export const AuditExportQuery = Closed({
  eventType,
  ...filters,
  format: t.Optional(
    t.Union([t.Literal("csv"), t.Literal("json")], { default: "csv", description: "csv (default) or json" }),
  ),
});

export const AuditExport = t.Array(AuditEntry, {
  title: "AuditExport",
  description: "format=json: the entries",
});
