import { t } from "elysia";
import { Closed, DateStr, IdOf, Int, PageQuery, QueryInt, Ts, UserRef, Uuid } from "@/lib/schema";

export const ACTIVITY_TYPES = ["project", "member", "file", "session", "tree"] as const;
export type ActivityType = (typeof ACTIVITY_TYPES)[number];
const TYPE = `(${ACTIVITY_TYPES.join("|")})`;

const DashboardScope = t.Union([t.Literal("mine"), t.Literal("all")]);
const scope = t.Optional(
  t.Union(DashboardScope.anyOf, {
    description:
      "mine = projects where the caller is a member; all = every project (system admins only, their default)",
  }),
);

export const StatsQuery = Closed({ scope });
export const ActivitiesQuery = Closed({
  ...PageQuery,
  scope,
  projectId: t.Optional(IdOf("Only this project's")),
  types: t.Optional(
    t.String({
      pattern: `^${TYPE}(,${TYPE})*$`,
      maxLength: 100,
      description: "Comma list of project, member, file, session, tree (default: all)",
    }),
  ),
});
export const ChartsQuery = Closed({
  days: t.Optional(QueryInt({ minimum: 1, maximum: 365, default: 30, description: "Days to chart, 1–365" })),
  scope,
});

const Count = Int({ minimum: 0 });
const ByStatus = (title: string) =>
  t.Object({ total: Count, draft: Count, active: Count, completed: Count, archived: Count }, { title });

export const DashboardStats = t.Object(
  {
    scope: DashboardScope,
    projects: t.Object({ total: Count, active: Count, inactive: Count }),
    sessions: ByStatus("SessionStatusCounts"),
    trees: ByStatus("TreeStatusCounts"),
    files: t.Object({
      total: Int({ minimum: 0, description: "Files (latest version of each chain)" }),
      totalSizeBytes: t.Number({ minimum: 0, description: "Bytes stored, every version" }),
    }),
    members: t.Object({ distinctUsers: Count }),
    users: t.Optional(
      t.Object(
        { total: Count, active: Count },
        { description: "Every account (system admins with scope=all only)" },
      ),
    ),
    generatedAt: Ts,
  },
  { title: "DashboardStats" },
);

export const DashboardActivity = t.Object(
  {
    id: Uuid,
    action: t.Union([
      t.Literal("created"),
      t.Literal("updated"),
      t.Literal("deleted"),
      t.Literal("uploaded"),
      t.Literal("completed"),
      t.Literal("joined"),
      t.Literal("left"),
    ]),
    resourceType: t.Union([
      t.Literal("project"),
      t.Literal("member"),
      t.Literal("file"),
      t.Literal("session"),
      t.Literal("tree"),
    ]),
    resourceId: t.Union([Uuid, t.Null()]),
    resourceName: t.Union([t.String(), t.Null()]),
    projectId: t.Union([Uuid, t.Null()]),
    projectName: t.Union([t.String(), t.Null()]),
    actor: t.Union([UserRef, t.Null()]),
    occurredAt: Ts,
  },
  { title: "DashboardActivity" },
);

const TrendPoint = t.Object({ date: DateStr, count: Count }, { title: "TrendPoint" });

export const DashboardCharts = t.Object(
  {
    days: Int({ minimum: 1 }),
    sessionTrend: t.Array(TrendPoint, { description: "Analysis sessions created per day" }),
    treeTrend: t.Array(TrendPoint, { description: "Driver trees created per day" }),
    snapshotTrend: t.Array(TrendPoint, { description: "Analysis snapshots created per day" }),
    fileUploadTrend: t.Array(TrendPoint, { description: "File uploads (every version) per day" }),
    projectDistribution: t.Object({ active: Count, inactive: Count }),
    projectProgress: t.Array(
      t.Object(
        {
          projectId: Uuid,
          name: t.String(),
          completedSessions: Count,
          totalSessions: Count,
          percent: Int({ minimum: 0, maximum: 100 }),
        },
        { title: "ProjectProgress" },
      ),
      { description: "Active projects, most recently active first, at most 20" },
    ),
    userActivity: t.Optional(
      t.Object(
        {
          active: Int({ minimum: 0, description: "Active accounts that signed in within the charted days" }),
          inactive: Int({ minimum: 0, description: "Every other account" }),
        },
        { description: "System admins with scope=all only" },
      ),
    ),
  },
  { title: "DashboardCharts" },
);
