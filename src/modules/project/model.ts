import { t } from "elysia";
import { Closed, DateStr, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";

export const ProjectRole = t.Union([
  t.Literal("project_manager"),
  t.Literal("project_moderator"),
  t.Literal("member"),
  t.Literal("viewer"),
]);

export const Project = t.Object(
  {
    id: Uuid,
    name: t.String(),
    code: t.String(),
    description: t.Union([t.String(), t.Null()]),
    isActive: t.Boolean(),
    startDate: t.Union([DateStr, t.Null()]),
    endDate: t.Union([DateStr, t.Null()]),
    budget: t.Union([t.Number(), t.Null()]),
    createdBy: t.Union([UserRef, t.Null()]),
    myRole: t.Union([ProjectRole, t.Null()]),
    viaSystemAdmin: t.Boolean(),
    lastActivityAt: Ts,
    deactivatedAt: t.Union([Ts, t.Null()]),
    stats: t.Object({
      memberCount: Int(),
      fileCount: Int(),
      sessionCount: Int(),
      treeCount: Int(),
      storageBytes: Int(),
    }),
    createdAt: Ts,
    updatedAt: Ts,
  },
  { title: "Project" },
);

const Budget = t.Number({ minimum: 0, maximum: 9999999999999.99 });

export const ProjectCreate = Closed(
  {
    name: t.String({ minLength: 1, maxLength: 255 }),
    code: t.String({ minLength: 1, maxLength: 50, pattern: "^[A-Za-z0-9][A-Za-z0-9_-]*$" }),
    description: t.Optional(t.String({ maxLength: 10000 })),
    startDate: t.Optional(DateStr),
    endDate: t.Optional(DateStr),
    budget: t.Optional(Budget),
  },
  {
    title: "ProjectCreate",
    examples: [
      {
        name: "Retail margin review",
        code: "RETAIL-2026",
        description: "Gross margin by region and category",
        startDate: "2026-01-05",
        endDate: "2026-03-31",
        budget: 1200000,
      },
    ],
  },
);

export const ProjectPatch = Closed(
  {
    name: t.Optional(t.String({ minLength: 1, maxLength: 255 })),
    description: t.Optional(t.Union([t.String({ maxLength: 10000 }), t.Null()])),
    isActive: t.Optional(t.Boolean()),
    startDate: t.Optional(t.Union([DateStr, t.Null()])),
    endDate: t.Optional(t.Union([DateStr, t.Null()])),
    budget: t.Optional(t.Union([Budget, t.Null()])),
  },
  { title: "ProjectPatch" },
);

export const ProjectListQuery = Closed({
  ...PageQuery,
  isActive: t.Optional(t.Boolean({ description: "Only active (true) or only deactivated (false) projects" })),
  q: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 100,
      description: "Name or code contains this text (case-insensitive)",
    }),
  ),
  sort: t.Optional(
    t.Union(
      [
        t.Literal("-updatedAt"),
        t.Literal("name"),
        t.Literal("code"),
        t.Literal("-createdAt"),
        t.Literal("-lastActivityAt"),
      ],
      { description: "Sort order; a leading - sorts descending (default -updatedAt)" },
    ),
  ),
});

export const ProjectParams = Closed({ projectId: IdOf("Project") });
export const ProjectCodeParams = Closed({
  code: t.String({ minLength: 1, maxLength: 50, description: "Project code (unique, case-sensitive)" }),
});

export type Project = typeof Project.static;
export type ProjectCreate = typeof ProjectCreate.static;
export type ProjectPatch = typeof ProjectPatch.static;
export type ProjectListQuery = typeof ProjectListQuery.static;
