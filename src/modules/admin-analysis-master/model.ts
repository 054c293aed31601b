import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, Uuid } from "@/lib/schema";

/* Admin CRUD for the analysis masters (api.md §2.12.1). Bodies and queries are closed. */

const Name = t.String({ minLength: 1, maxLength: 255 });
const Order = Int({ minimum: -2147483648, maximum: 2147483647 });
const nullable = <T extends ReturnType<typeof t.String>>(s: T) => t.Union([s, t.Null()]);

export const MAX_DUMMY_ROWS = 1000;
export const MAX_CHART_BYTES = 512 * 1024;

/** One long-format record: flat, scalar values only (api.md §1.6 `Row`). */
export const Row = t.Record(t.String(), t.Union([t.String(), t.Number(), t.Boolean(), t.Null()]));
const DummyInput = t.Array(Row, { maxItems: MAX_DUMMY_ROWS });

export const PlotlyFigure = t.Object(
  {
    data: t.Array(t.Object({}, { additionalProperties: true })),
    layout: t.Object({}, { additionalProperties: true }),
  },
  {
    title: "PlotlyFigure",
    additionalProperties: true,
    description: "Plotly figure; at most 512 KiB serialised",
  },
);

export const AxisOption = t.Union([t.Literal("subject"), t.Literal("column")]);
/* Requests may use the master-data labels; responses always carry the English literal. */
const AxisOptionIn = t.Union([
  t.Literal("subject"),
  t.Literal("column"),
  t.Literal("科目"),
  t.Literal("コラム"),
  t.Literal("軸"),
]);

const Stamps = { createdAt: Ts, updatedAt: Ts };

export const ValidationMaster = t.Object(
  {
    id: Uuid,
    name: t.String(),
    validationOrder: Int(),
    isActive: t.Boolean(),
    archivedAt: t.Union([Ts, t.Null()]),
    issueCount: Int(),
    ...Stamps,
  },
  { title: "ValidationMaster" },
);

export const IssueMaster = t.Object(
  {
    id: Uuid,
    validationId: Uuid,
    name: t.String(),
    description: t.Union([t.String(), t.Null()]),
    agentPrompt: t.String(),
    initialMessage: t.Union([t.String(), t.Null()]),
    dummyHint: t.Union([t.String(), t.Null()]),
    dummyInput: t.Union([t.Array(Row), t.Null()]),
    issueOrder: Int(),
    isActive: t.Boolean(),
    archivedAt: t.Union([Ts, t.Null()]),
    sessionCount: Int(),
    ...Stamps,
  },
  { title: "IssueMaster" },
);

export const GraphAxisMaster = t.Object(
  {
    id: Uuid,
    issueId: Uuid,
    name: t.String(),
    option: AxisOption,
    multiple: t.Boolean(),
    axisOrder: Int(),
    ...Stamps,
  },
  { title: "GraphAxisMaster" },
);

export const DummyFormulaMaster = t.Object(
  {
    id: Uuid,
    issueId: Uuid,
    name: t.String(),
    value: t.String(),
    formulaOrder: Int(),
    ...Stamps,
  },
  { title: "DummyFormulaMaster" },
);

export const DummyChartMaster = t.Object(
  {
    id: Uuid,
    issueId: Uuid,
    chart: PlotlyFigure,
    chartOrder: Int(),
    ...Stamps,
  },
  { title: "DummyChartMaster" },
);

export const ValidationCreate = Closed(
  { name: Name, validationOrder: t.Optional(Order) },
  { title: "ValidationCreate" },
);
export const ValidationPatch = Closed(
  {
    name: t.Optional(Name),
    validationOrder: t.Optional(Order),
    isActive: t.Optional(t.Boolean()),
  },
  { title: "ValidationPatch" },
);

export const IssueCreate = Closed(
  {
    validationId: Uuid,
    name: Name,
    description: t.Optional(nullable(t.String({ maxLength: 10000 }))),
    agentPrompt: t.String({ minLength: 1, maxLength: 50000 }),
    initialMessage: t.Optional(nullable(t.String({ maxLength: 5000 }))),
    dummyHint: t.Optional(nullable(t.String({ maxLength: 5000 }))),
    dummyInput: t.Optional(t.Union([DummyInput, t.Null()])),
    issueOrder: t.Optional(Order),
  },
  { title: "IssueCreate" },
);
export const IssuePatch = Closed(
  {
    validationId: t.Optional(Uuid),
    name: t.Optional(Name),
    description: t.Optional(nullable(t.String({ maxLength: 10000 }))),
    agentPrompt: t.Optional(t.String({ minLength: 1, maxLength: 50000 })),
    initialMessage: t.Optional(nullable(t.String({ maxLength: 5000 }))),
    dummyHint: t.Optional(nullable(t.String({ maxLength: 5000 }))),
    dummyInput: t.Optional(t.Union([DummyInput, t.Null()])),
    issueOrder: t.Optional(Order),
    isActive: t.Optional(t.Boolean()),
  },
  { title: "IssuePatch" },
);

export const GraphAxisCreate = Closed(
  {
    issueId: Uuid,
    name: Name,
    option: AxisOptionIn,
    multiple: t.Optional(t.Boolean()),
    axisOrder: t.Optional(Order),
  },
  { title: "GraphAxisCreate" },
);
export const GraphAxisPatch = Closed(
  {
    issueId: t.Optional(Uuid),
    name: t.Optional(Name),
    option: t.Optional(AxisOptionIn),
    multiple: t.Optional(t.Boolean()),
    axisOrder: t.Optional(Order),
  },
  { title: "GraphAxisPatch" },
);

export const DummyFormulaCreate = Closed(
  {
    issueId: Uuid,
    name: Name,
    value: Name,
    formulaOrder: t.Optional(Order),
  },
  { title: "DummyFormulaCreate" },
);
export const DummyFormulaPatch = Closed(
  {
    issueId: t.Optional(Uuid),
    name: t.Optional(Name),
    value: t.Optional(Name),
    formulaOrder: t.Optional(Order),
  },
  { title: "DummyFormulaPatch" },
);

export const DummyChartCreate = Closed(
  { issueId: Uuid, chart: PlotlyFigure, chartOrder: t.Optional(Order) },
  { title: "DummyChartCreate" },
);
export const DummyChartPatch = Closed(
  {
    issueId: t.Optional(Uuid),
    chart: t.Optional(PlotlyFigure),
    chartOrder: t.Optional(Order),
  },
  { title: "DummyChartPatch" },
);

const Q = t.Optional(
  t.String({ minLength: 1, maxLength: 100, description: "Name contains (case-insensitive)" }),
);
const IncludeArchived = t.Optional(t.Boolean({ description: "Also list archived rows (default false)" }));
const sortOf = (order: string, named = true) =>
  t.Optional(
    t.Union(
      [
        t.Literal(order),
        ...(named ? [t.Literal("name")] : []),
        t.Literal("-createdAt"),
        t.Literal("-updatedAt"),
      ],
      { description: `Sort order; a leading - sorts descending (default ${order})` },
    ),
  );

export const ValidationListQuery = Closed({
  ...PageQuery,
  includeArchived: IncludeArchived,
  q: Q,
  sort: sortOf("validationOrder"),
});
export const IssueListQuery = Closed({
  ...PageQuery,
  validationId: t.Optional(IdOf("Only issues of this validation")),
  includeArchived: IncludeArchived,
  q: Q,
  sort: sortOf("issueOrder"),
});
export const GraphAxisListQuery = Closed({
  ...PageQuery,
  issueId: t.Optional(IdOf("Only rows of this issue")),
  sort: sortOf("axisOrder"),
});
export const DummyFormulaListQuery = Closed({
  ...PageQuery,
  issueId: t.Optional(IdOf("Only rows of this issue")),
  sort: sortOf("formulaOrder"),
});
export const DummyChartListQuery = Closed({
  ...PageQuery,
  issueId: t.Optional(IdOf("Only rows of this issue")),
  sort: sortOf("chartOrder", false),
});

export const PurgeQuery = Closed({
  purge: t.Optional(t.Boolean({ description: "Hard-delete instead of archiving (refused while in use)" })),
});
export const NoQuery = Closed({});
export const MasterIdParams = Closed({ id: IdOf("Master row") });

export type ValidationMaster = typeof ValidationMaster.static;
export type IssueMaster = typeof IssueMaster.static;
export type GraphAxisMaster = typeof GraphAxisMaster.static;
export type DummyFormulaMaster = typeof DummyFormulaMaster.static;
export type DummyChartMaster = typeof DummyChartMaster.static;
export type ValidationCreate = typeof ValidationCreate.static;
export type ValidationPatch = typeof ValidationPatch.static;
export type IssueCreate = typeof IssueCreate.static;
export type IssuePatch = typeof IssuePatch.static;
export type GraphAxisCreate = typeof GraphAxisCreate.static;
export type GraphAxisPatch = typeof GraphAxisPatch.static;
export type DummyFormulaCreate = typeof DummyFormulaCreate.static;
export type DummyFormulaPatch = typeof DummyFormulaPatch.static;
export type DummyChartCreate = typeof DummyChartCreate.static;
export type DummyChartPatch = typeof DummyChartPatch.static;
export type ValidationListQuery = typeof ValidationListQuery.static;
export type IssueListQuery = typeof IssueListQuery.static;
export type GraphAxisListQuery = typeof GraphAxisListQuery.static;
export type DummyFormulaListQuery = typeof DummyFormulaListQuery.static;
export type DummyChartListQuery = typeof DummyChartListQuery.static;
