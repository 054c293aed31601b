import { t } from "elysia";
import { Closed, PageQuery, Uuid } from "@/lib/schema";

export const CatalogueIssue = t.Object({
  validationId: Uuid,
  validationName: t.String(),
  validationOrder: t.Integer(),
  issueId: Uuid,
  issueName: t.String(),
  issueOrder: t.Integer(),
  description: t.Union([t.String(), t.Null()]),
});

export const GraphAxis = t.Object({
  id: Uuid,
  issueId: Uuid,
  name: t.String(),
  option: t.Union([t.Literal("subject"), t.Literal("column")]),
  multiple: t.Boolean(),
  axisOrder: t.Integer(),
});

export const IssueDetail = t.Object({
  id: Uuid,
  validationId: Uuid,
  validationName: t.String(),
  name: t.String(),
  description: t.Union([t.String(), t.Null()]),
  agentPrompt: t.String(),
  initialMessage: t.Union([t.String(), t.Null()]),
  dummyHint: t.Union([t.String(), t.Null()]),
  dummyInput: t.Union([t.Array(t.Record(t.String(), t.Any())), t.Null()]),
  initialAxis: t.Array(GraphAxis),
  dummyFormula: t.Array(
    t.Object({ id: Uuid, issueId: Uuid, name: t.String(), value: t.String(), formulaOrder: t.Integer() }),
  ),
  dummyChart: t.Array(
    t.Object({
      id: Uuid,
      issueId: Uuid,
      chart: t.Object({ data: t.Array(t.Any()), layout: t.Any() }, { additionalProperties: true }),
      chartOrder: t.Integer(),
    }),
  ),
});

export const CatalogueQuery = Closed({ ...PageQuery, validationId: t.Optional(Uuid) });
export const IssueParams = Closed({ projectId: Uuid, issueId: Uuid });

export type CatalogueIssue = typeof CatalogueIssue.static;
export type IssueDetail = typeof IssueDetail.static;
