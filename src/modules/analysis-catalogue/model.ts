import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

export const CatalogueIssue = t.Object(
  {
    validationId: Uuid,
    validationName: t.String(),
    validationOrder: Int(),
    issueId: Uuid,
    issueName: t.String(),
    issueOrder: Int(),
    description: t.Union([t.String(), t.Null()]),
  },
  { title: "CatalogueIssue" },
);

export const GraphAxis = t.Object(
  {
    id: Uuid,
    issueId: Uuid,
    name: t.String(),
    option: t.Union([t.Literal("subject"), t.Literal("column")]),
    multiple: t.Boolean(),
    axisOrder: Int(),
  },
  { title: "GraphAxis" },
);

export const IssueDetail = t.Object(
  {
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
      t.Object({ id: Uuid, issueId: Uuid, name: t.String(), value: t.String(), formulaOrder: Int() }),
    ),
    dummyChart: t.Array(
      t.Object({
        id: Uuid,
        issueId: Uuid,
        chart: t.Object({ data: t.Array(t.Any()), layout: t.Any() }, { additionalProperties: true }),
        chartOrder: Int(),
      }),
    ),
  },
  { title: "CatalogueIssueDetail" },
);

export const CatalogueQuery = Closed({
  ...PageQuery,
  validationId: t.Optional(IdOf("Only issues of this validation")),
});
export const IssueParams = Closed({ projectId: IdOf("Project"), issueId: IdOf("Catalogue issue") });

export type CatalogueIssue = typeof CatalogueIssue.static;
export type IssueDetail = typeof IssueDetail.static;

/* Saved analysis templates (api.md §2.6 `/saved…`). Literal unions, not UnionEnum: optional
 * UnionEnums in queries and bodies were filled with their first member when absent. */
export const TemplateType = t.Union([t.Literal("session"), t.Literal("step")]);

export const TemplateStep = t.Object(
  {
    stepKey: Uuid,
    name: t.String(),
    type: t.Union([
      t.Literal("filter"),
      t.Literal("aggregate"),
      t.Literal("transform"),
      t.Literal("summary"),
    ]),
    input: t.String(),
    config: t.Any(),
  },
  { title: "TemplateStep" },
);

export const SavedTemplate = t.Object(
  {
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
    usageCount: Int(),
    lastUsedAt: t.Union([Ts, t.Null()]),
    createdBy: t.Union([UserRef, t.Null()]),
    editable: t.Boolean(),
    createdAt: Ts,
    updatedAt: Ts,
  },
  { title: "SavedTemplate" },
);

export const SavedTemplateQuery = Closed({
  ...PageQuery,
  includePublic: t.Optional(
    t.Boolean({ description: "Also list public templates of other projects (default true)" }),
  ),
  templateType: t.Optional(
    t.Union(TemplateType.anyOf, { description: "Only session or only step templates" }),
  ),
  q: t.Optional(
    t.String({ minLength: 1, maxLength: 100, description: "Name contains this text (case-insensitive)" }),
  ),
  sort: t.Optional(
    t.Union([t.Literal("-updatedAt"), t.Literal("name"), t.Literal("-usageCount")], {
      description: "Sort order; a leading - sorts descending (default -updatedAt)",
    }),
  ),
});

export const SavedTemplateCreate = Closed(
  {
    name: t.String({ minLength: 1, maxLength: 255 }),
    description: t.Optional(t.String({ maxLength: 2000 })),
    sourceSessionId: Uuid,
    templateType: t.Optional(TemplateType),
    isPublic: t.Optional(t.Boolean()),
  },
  { title: "SavedTemplateCreate" },
);

export const SavedTemplatePatch = Closed(
  {
    name: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
    description: t.Optional(t.Union([t.String({ maxLength: 2000 }), t.Null()])),
    isPublic: t.Optional(t.Boolean()),
  },
  { title: "SavedTemplatePatch" },
);

/* One closed body for both template types; the service checks which members fit the type. */
export const SavedTemplateApply = Closed(
  {
    name: t.Optional(t.String({ maxLength: 255 })),
    targetSessionId: t.Optional(Uuid),
  },
  { title: "SavedTemplateApply" },
);

export const SavedTemplateParams = Closed({ projectId: IdOf("Project"), templateId: IdOf("Saved template") });

export type TemplateStep = typeof TemplateStep.static;
export type SavedTemplate = typeof SavedTemplate.static;
export type SavedTemplateQuery = typeof SavedTemplateQuery.static;
export type SavedTemplateCreate = typeof SavedTemplateCreate.static;
export type SavedTemplatePatch = typeof SavedTemplatePatch.static;
export type SavedTemplateApply = typeof SavedTemplateApply.static;
