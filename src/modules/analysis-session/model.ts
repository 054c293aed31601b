import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, QueryInt, Ts, UserRef, Uuid } from "@/lib/schema";

/* Literal unions, not t.UnionEnum: an optional UnionEnum in a body or query was filled with its
 * first member when absent. */
export const SessionStatus = t.Union([
  t.Literal("draft"),
  t.Literal("active"),
  t.Literal("completed"),
  t.Literal("archived"),
]);

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);

export const SessionSummary = t.Object(
  {
    id: Uuid,
    projectId: Uuid,
    name: t.String(),
    status: SessionStatus,
    issueId: Uuid,
    issueName: t.String(),
    validationName: t.String(),
    creator: Nullable(UserRef),
    inputFileId: Nullable(Uuid),
    inputFileName: Nullable(t.String()),
    currentSnapshot: Int(),
    snapshotCount: Int(),
    completedAt: Nullable(Ts),
    createdAt: Ts,
    updatedAt: Ts,
  },
  { title: "AnalysisSessionSummary" },
);

export const Chat = t.Object(
  {
    id: Uuid,
    order: Int(),
    role: t.Union([t.Literal("system"), t.Literal("user"), t.Literal("assistant")]),
    message: t.String(),
    author: Nullable(UserRef),
    toolTrace: Nullable(t.Array(t.Any())),
    createdAt: Ts,
  },
  { title: "ChatMessage" },
);

export const Step = t.Object(
  {
    id: Uuid,
    stepKey: Uuid,
    name: t.String(),
    type: t.Union([
      t.Literal("filter"),
      t.Literal("aggregate"),
      t.Literal("transform"),
      t.Literal("summary"),
    ]),
    input: t.String(),
    order: Int(),
    config: t.Any(),
    configured: t.Boolean(),
    error: Nullable(t.String()),
  },
  { title: "Step" },
);

export const Snapshot = t.Object(
  {
    id: Uuid,
    order: Int(),
    parentSnapshotId: Nullable(Uuid),
    name: Nullable(t.String()),
    description: Nullable(t.String()),
    trigger: t.Union([
      t.Literal("create"),
      t.Literal("chat"),
      t.Literal("manual"),
      t.Literal("template"),
      t.Literal("duplicate"),
    ]),
    createdBy: Nullable(UserRef),
    createdAt: Ts,
    chat: t.Array(Chat),
    step: t.Array(Step),
  },
  { title: "Snapshot" },
);

export const AnalysisFile = t.Object(
  {
    id: Uuid,
    projectFileId: Nullable(Uuid),
    fileName: t.String(),
    sheetName: Nullable(t.String()),
    axisConfig: t.Record(t.String(), t.String()),
    configList: t.Array(t.Any()),
    rowCount: Int(),
    addedBy: Nullable(UserRef),
    createdAt: Ts,
  },
  { title: "AnalysisFile" },
);

export const SessionDetail = t.Composite(
  [
    SessionSummary,
    t.Object({
      customSystemPrompt: Nullable(t.String()),
      initialMessage: Nullable(t.String()),
      snapshotList: t.Array(Snapshot),
      fileList: t.Array(AnalysisFile),
    }),
  ],
  { title: "AnalysisSession" },
);

export const SessionCreate = Closed(
  {
    issueId: Uuid,
    name: t.Optional(t.String({ maxLength: 255 })),
    customSystemPrompt: t.Optional(t.String({ maxLength: 10000 })),
    initialMessage: t.Optional(t.String({ maxLength: 2000 })),
  },
  { title: "AnalysisSessionCreate" },
);

export const SessionPatch = Closed(
  {
    name: t.Optional(t.String({ maxLength: 255 })),
    status: t.Optional(SessionStatus),
    customSystemPrompt: t.Optional(Nullable(t.String({ maxLength: 10000 }))),
    initialMessage: t.Optional(Nullable(t.String({ maxLength: 2000 }))),
  },
  { title: "AnalysisSessionPatch" },
);

export const SessionListQuery = Closed({
  ...PageQuery,
  status: t.Optional(t.Union(SessionStatus.anyOf, { description: "Only sessions in this status" })),
  issueId: t.Optional(IdOf("Only sessions on this catalogue issue")),
  creatorId: t.Optional(IdOf("Only sessions created by this user")),
  q: t.Optional(
    t.String({ minLength: 1, maxLength: 100, description: "Name contains this text (case-insensitive)" }),
  ),
  sort: t.Optional(
    t.Union([t.Literal("-updatedAt"), t.Literal("-createdAt"), t.Literal("name")], {
      description: "Sort order; a leading - sorts descending (default -updatedAt)",
    }),
  ),
});

export const SessionParams = Closed({ projectId: IdOf("Project"), sessionId: IdOf("Analysis session") });

export type SessionSummary = typeof SessionSummary.static;
export type SessionDetail = typeof SessionDetail.static;
export type SessionCreate = typeof SessionCreate.static;
export type SessionPatch = typeof SessionPatch.static;
export type SessionListQuery = typeof SessionListQuery.static;
export type Snapshot = typeof Snapshot.static;

export const FileRegister = Closed({ projectFileId: Uuid }, { title: "AnalysisFileRegister" });
export const FileConfigure = Closed(
  {
    sheetName: t.String({ minLength: 1, maxLength: 255 }),
    axisConfig: t.Record(t.String(), t.String({ minLength: 1, maxLength: 255 }), {
      minProperties: 1,
      maxProperties: 50,
    }),
  },
  { title: "AnalysisFileConfigure" },
);
export const FileListQuery = Closed({
  ...PageQuery,
  includeData: t.Optional(t.Boolean({ description: "Include each file's parsed rows in data" })),
  rowLimit: t.Optional(
    QueryInt({ minimum: 0, maximum: 5000, description: "Rows per file when includeData (default 1000)" }),
  ),
});
export const SessionPut = Closed(
  {
    inputFileId: t.Optional(Uuid),
    currentSnapshot: t.Optional(Int({ minimum: 0 })),
  },
  { title: "AnalysisSessionPut" },
);
export const AnalysisFileParams = Closed({
  projectId: IdOf("Project"),
  sessionId: IdOf("Analysis session"),
  analysisFileId: IdOf("Analysis file"),
});
export const AnalysisFileWithData = t.Composite(
  [AnalysisFile, t.Object({ data: t.Optional(t.Array(t.Record(t.String(), t.Any()))) })],
  { title: "AnalysisFileWithData" },
);

export const StepBody = Closed(
  {
    name: t.String({ minLength: 1, maxLength: 255 }),
    type: t.Union([
      t.Literal("filter"),
      t.Literal("aggregate"),
      t.Literal("transform"),
      t.Literal("summary"),
    ]),
    input: t.String({ minLength: 1, maxLength: 64 }),
    config: t.Optional(t.Union([t.Record(t.String(), t.Any()), t.Null()])),
  },
  {
    title: "StepCreate",
    examples: [
      {
        name: "Total gross margin",
        type: "summary",
        input: "original",
        config: { formulas: [{ name: "Gross margin", method: "sum", subject: "Gross margin", unit: "JPY" }] },
      },
    ],
  },
);
export const StepPatch = Closed(
  {
    name: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
    type: t.Optional(
      t.Union([t.Literal("filter"), t.Literal("aggregate"), t.Literal("transform"), t.Literal("summary")]),
    ),
    input: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
    config: t.Optional(t.Union([t.Record(t.String(), t.Any()), t.Null()])),
  },
  { title: "StepPatch" },
);
export const StepParams = Closed({
  projectId: IdOf("Project"),
  sessionId: IdOf("Analysis session"),
  stepId: IdOf("Step"),
});
export const StepWithResult = t.Object(
  {
    id: Uuid,
    stepKey: Uuid,
    name: t.String(),
    type: t.String(),
    input: t.String(),
    order: Int(),
    config: t.Any(),
    configured: t.Boolean(),
    status: t.String(),
    error: t.Union([t.String(), t.Null()]),
    warnings: t.Array(t.Any()),
    resultData: t.Optional(t.Union([t.Array(t.Record(t.String(), t.Any())), t.Null()])),
    resultFormula: t.Optional(t.Union([t.Array(t.Any()), t.Null()])),
    resultChart: t.Optional(t.Any()),
    chartId: t.Optional(t.Union([t.String(), t.Null()])),
    resultTable: t.Optional(t.Union([t.Array(t.Record(t.String(), t.Any())), t.Null()])),
    truncated: t.Optional(t.Boolean()),
  },
  { title: "StepResult", additionalProperties: true },
);

export const SnapshotSave = Closed(
  {
    name: t.Optional(t.String({ maxLength: 255 })),
    description: t.Optional(t.String({ maxLength: 2000 })),
  },
  { title: "SnapshotCreate" },
);
export const SnapshotParams = Closed({
  projectId: IdOf("Project"),
  sessionId: IdOf("Analysis session"),
  snapshotId: IdOf("Snapshot"),
});
export const ChatParams = Closed({
  projectId: IdOf("Project"),
  sessionId: IdOf("Analysis session"),
  chatId: IdOf("Chat message"),
});
export const PageOnly = Closed({ ...PageQuery });
export const SessionResults = t.Object(
  {
    sessionId: Uuid,
    snapshot: Int(),
    results: t.Array(
      t.Object({
        stepId: Uuid,
        stepName: t.String(),
        formulas: t.Array(t.Any()),
        chart: t.Any(),
        table: t.Union([t.Array(t.Any()), t.Null()]),
      }),
    ),
  },
  { title: "SessionResults" },
);

export const DuplicateBody = Closed(
  {
    name: t.Optional(t.String({ maxLength: 255 })),
    includeSnapshots: t.Optional(t.Boolean()),
  },
  { title: "AnalysisSessionDuplicate" },
);

export const ExportQuery = Closed({
  format: t.Union([t.Literal("xlsx"), t.Literal("csv"), t.Literal("json")], {
    description: "xlsx: whole session; csv: one step's rows; json: SessionDetail with results",
  }),
  stepId: t.Optional(IdOf("Summary step whose rows a csv export holds")),
});

export const ChartQuery = Closed({
  format: t.Optional(
    t.Union([t.Literal("png"), t.Literal("svg"), t.Literal("plotly"), t.Literal("vegalite")], {
      description: "png (default), svg, plotly (figure JSON) or vegalite (spec JSON)",
    }),
  ),
  width: t.Optional(QueryInt({ minimum: 200, maximum: 3000, description: "default 960" })),
  height: t.Optional(QueryInt({ minimum: 150, maximum: 2000, description: "default 540" })),
  scale: t.Optional(t.Number({ minimum: 1, maximum: 3, description: "default 2" })),
});

export const AnalysisFileRegistered = t.Composite(
  [
    AnalysisFile,
    t.Object({ skippedSheets: t.Array(t.Any(), { description: "Sheets that cannot be parsed" }) }),
  ],
  { title: "AnalysisFileRegistered" },
);

/* Documentation only: the configure route answers without a response validator. */
export const AnalysisFileConfigured = t.Composite(
  [
    AnalysisFile,
    t.Object({
      data: t.Array(t.Record(t.String(), t.Any()), { description: "The first 100 records" }),
      dataHash: t.String(),
      duplicateCombinations: Int({ minimum: 0, description: "Axis combinations that occur more than once" }),
      warnings: t.Array(t.Any()),
    }),
  ],
  { title: "AnalysisFileConfigured" },
);

/* Documentation only: a chart answered as JSON is a Plotly figure or a Vega-Lite spec. */
export const ChartSpec = t.Object(
  {},
  {
    title: "ChartSpec",
    additionalProperties: true,
    description: "Plotly figure (format=plotly) or Vega-Lite spec (format=vegalite)",
  },
);
