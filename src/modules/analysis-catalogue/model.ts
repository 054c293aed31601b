import { t } from "elysia";
import { Closed, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

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

/* Saved analysis templates (api.md §2.6 `/saved…`). Literal unions, not UnionEnum: optional
 * UnionEnums in queries and bodies were filled with their first member when absent. */
export const TemplateType = t.Union([t.Literal("session"), t.Literal("step")]);

export const TemplateStep = t.Object({
  stepKey: Uuid,
  name: t.String(),
  type: t.Union([t.Literal("filter"), t.Literal("aggregate"), t.Literal("transform"), t.Literal("summary")]),
  input: t.String(),
  config: t.Any(),
});

export const SavedTemplate = t.Object({
  id: Uuid,
  projectId: Uuid,
  name: t.String(),
  description: t.Union([t.String(), t.Null()]),
  templateType: TemplateType,
  isPublic: t.Boolean(),
  issueId: Uuid,
  issueName: t.String(),
  sourceSessionId: t.Union([Uuid, t.Null()]),
  config: t.Object({
    customSystemPrompt: t.Union([t.String(), t.Null()]),
    initialMessage: t.Union([t.String(), t.Null()]),
    steps: t.Union([t.Array(TemplateStep), t.Null()]),
  }),
  usageCount: t.Integer(),
  lastUsedAt: t.Union([Ts, t.Null()]),
  createdBy: t.Union([UserRef, t.Null()]),
  editable: t.Boolean(),
  createdAt: Ts,
  updatedAt: Ts,
});

export const SavedTemplateQuery = Closed({
  ...PageQuery,
  includePublic: t.Optional(t.Boolean()),
  templateType: t.Optional(TemplateType),
  q: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  sort: t.Optional(t.Union([t.Literal("-updatedAt"), t.Literal("name"), t.Literal("-usageCount")])),
});

export const SavedTemplateCreate = Closed({
  name: t.String({ minLength: 1, maxLength: 255 }),
  description: t.Optional(t.String({ maxLength: 2000 })),
  sourceSessionId: Uuid,
  templateType: t.Optional(TemplateType),
  isPublic: t.Optional(t.Boolean()),
});

export const SavedTemplatePatch = Closed({
  name: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
  description: t.Optional(t.Union([t.String({ maxLength: 2000 }), t.Null()])),
  isPublic: t.Optional(t.Boolean()),
});

/* One closed body for both template types; the service checks which members fit the type. */
export const SavedTemplateApply = Closed({
  name: t.Optional(t.String({ maxLength: 255 })),
  targetSessionId: t.Optional(Uuid),
});

export const SavedTemplateParams = Closed({ projectId: Uuid, templateId: Uuid });

export type TemplateStep = typeof TemplateStep.static;
export type SavedTemplate = typeof SavedTemplate.static;
export type SavedTemplateQuery = typeof SavedTemplateQuery.static;
export type SavedTemplateCreate = typeof SavedTemplateCreate.static;
export type SavedTemplatePatch = typeof SavedTemplatePatch.static;
export type SavedTemplateApply = typeof SavedTemplateApply.static;
