import { t } from "elysia";
import { Closed, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

/* Literal unions, not t.UnionEnum: an optional UnionEnum in a body or query was filled with its
 * first member when absent. */
export const SessionStatus = t.Union([
  t.Literal("draft"),
  t.Literal("active"),
  t.Literal("completed"),
  t.Literal("archived"),
]);

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);

export const SessionSummary = t.Object({
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
  currentSnapshot: t.Integer(),
  snapshotCount: t.Integer(),
  completedAt: Nullable(Ts),
  createdAt: Ts,
  updatedAt: Ts,
});

export const Chat = t.Object({
  id: Uuid,
  order: t.Integer(),
  role: t.Union([t.Literal("system"), t.Literal("user"), t.Literal("assistant")]),
  message: t.String(),
  author: Nullable(UserRef),
  toolTrace: Nullable(t.Array(t.Any())),
  createdAt: Ts,
});

export const Step = t.Object({
  id: Uuid,
  stepKey: Uuid,
  name: t.String(),
  type: t.Union([t.Literal("filter"), t.Literal("aggregate"), t.Literal("transform"), t.Literal("summary")]),
  input: t.String(),
  order: t.Integer(),
  config: t.Any(),
  configured: t.Boolean(),
  error: Nullable(t.String()),
});

export const Snapshot = t.Object({
  id: Uuid,
  order: t.Integer(),
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
});

export const AnalysisFile = t.Object({
  id: Uuid,
  projectFileId: Nullable(Uuid),
  fileName: t.String(),
  sheetName: Nullable(t.String()),
  axisConfig: t.Record(t.String(), t.String()),
  configList: t.Array(t.Any()),
  rowCount: t.Integer(),
  addedBy: Nullable(UserRef),
  createdAt: Ts,
});

export const SessionDetail = t.Composite([
  SessionSummary,
  t.Object({
    customSystemPrompt: Nullable(t.String()),
    initialMessage: Nullable(t.String()),
    snapshotList: t.Array(Snapshot),
    fileList: t.Array(AnalysisFile),
  }),
]);

export const SessionCreate = Closed({
  issueId: Uuid,
  name: t.Optional(t.String({ maxLength: 255 })),
  customSystemPrompt: t.Optional(t.String({ maxLength: 10000 })),
  initialMessage: t.Optional(t.String({ maxLength: 2000 })),
});

export const SessionPatch = Closed({
  name: t.Optional(t.String({ maxLength: 255 })),
  status: t.Optional(SessionStatus),
  customSystemPrompt: t.Optional(Nullable(t.String({ maxLength: 10000 }))),
  initialMessage: t.Optional(Nullable(t.String({ maxLength: 2000 }))),
});

export const SessionListQuery = Closed({
  ...PageQuery,
  status: t.Optional(SessionStatus),
  issueId: t.Optional(Uuid),
  creatorId: t.Optional(Uuid),
  q: t.Optional(t.String({ minLength: 1, maxLength: 100 })),
  sort: t.Optional(t.Union([t.Literal("-updatedAt"), t.Literal("-createdAt"), t.Literal("name")])),
});

export const SessionParams = Closed({ projectId: Uuid, sessionId: Uuid });

export type SessionSummary = typeof SessionSummary.static;
export type SessionDetail = typeof SessionDetail.static;
export type SessionCreate = typeof SessionCreate.static;
export type SessionPatch = typeof SessionPatch.static;
export type SessionListQuery = typeof SessionListQuery.static;
export type Snapshot = typeof Snapshot.static;

export const FileRegister = Closed({ projectFileId: Uuid });
export const FileConfigure = Closed({
  sheetName: t.String({ minLength: 1, maxLength: 255 }),
  axisConfig: t.Record(t.String(), t.String({ minLength: 1, maxLength: 255 }), {
    minProperties: 1,
    maxProperties: 50,
  }),
});
export const FileListQuery = Closed({
  ...PageQuery,
  includeData: t.Optional(t.Boolean()),
  rowLimit: t.Optional(t.Integer({ minimum: 0, maximum: 5000 })),
});
export const SessionPut = Closed({
  inputFileId: t.Optional(Uuid),
  currentSnapshot: t.Optional(t.Integer({ minimum: 0 })),
});
export const AnalysisFileParams = Closed({ projectId: Uuid, sessionId: Uuid, analysisFileId: Uuid });
export const AnalysisFileWithData = t.Composite([
  AnalysisFile,
  t.Object({ data: t.Optional(t.Array(t.Record(t.String(), t.Any()))) }),
]);

export const StepBody = Closed({
  name: t.String({ minLength: 1, maxLength: 255 }),
  type: t.Union([t.Literal("filter"), t.Literal("aggregate"), t.Literal("transform"), t.Literal("summary")]),
  input: t.String({ minLength: 1, maxLength: 64 }),
  config: t.Optional(t.Union([t.Record(t.String(), t.Any()), t.Null()])),
});
export const StepPatch = Closed({
  name: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
  type: t.Optional(
    t.Union([t.Literal("filter"), t.Literal("aggregate"), t.Literal("transform"), t.Literal("summary")]),
  ),
  input: t.Optional(t.String({ minLength: 1, maxLength: 64 })),
  config: t.Optional(t.Union([t.Record(t.String(), t.Any()), t.Null()])),
});
export const StepParams = Closed({ projectId: Uuid, sessionId: Uuid, stepId: Uuid });
export const StepWithResult = t.Object(
  {
    id: Uuid,
    stepKey: Uuid,
    name: t.String(),
    type: t.String(),
    input: t.String(),
    order: t.Integer(),
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
  { additionalProperties: true },
);

export const SnapshotSave = Closed({
  name: t.Optional(t.String({ maxLength: 255 })),
  description: t.Optional(t.String({ maxLength: 2000 })),
});
export const SnapshotParams = Closed({ projectId: Uuid, sessionId: Uuid, snapshotId: Uuid });
export const ChatParams = Closed({ projectId: Uuid, sessionId: Uuid, chatId: Uuid });
export const PageOnly = Closed({ ...PageQuery });
export const SessionResults = t.Object({
  sessionId: Uuid,
  snapshot: t.Integer(),
  results: t.Array(
    t.Object({
      stepId: Uuid,
      stepName: t.String(),
      formulas: t.Array(t.Any()),
      chart: t.Any(),
      table: t.Union([t.Array(t.Any()), t.Null()]),
    }),
  ),
});

export const DuplicateBody = Closed({
  name: t.Optional(t.String({ maxLength: 255 })),
  includeSnapshots: t.Optional(t.Boolean()),
});

export const ExportQuery = Closed({
  format: t.Union([t.Literal("xlsx"), t.Literal("csv"), t.Literal("json")], {
    description: "xlsx: whole session; csv: one step's rows; json: SessionDetail with results",
  }),
  stepId: t.Optional(Uuid),
});

export const ChartQuery = Closed({
  format: t.Optional(
    t.Union([t.Literal("png"), t.Literal("svg"), t.Literal("plotly"), t.Literal("vegalite")], {
      description: "png (default), svg, plotly (figure JSON) or vegalite (spec JSON)",
    }),
  ),
  width: t.Optional(t.Integer({ minimum: 200, maximum: 3000, description: "default 960" })),
  height: t.Optional(t.Integer({ minimum: 150, maximum: 2000, description: "default 540" })),
  scale: t.Optional(t.Number({ minimum: 1, maximum: 3, description: "default 2" })),
});
