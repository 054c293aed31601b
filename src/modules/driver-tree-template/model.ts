import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, UserRef, Uuid } from "@/lib/schema";
import { NodeType, Operator } from "@/modules/driver-tree/model";

/* Driver-tree templates (api.md §2.8 "Templates"). Literal unions, as in driver-tree/model.ts. */

export const TreeTemplateCategory = t.Union(
  [
    t.Literal("retail_ec"),
    t.Literal("manufacturing"),
    t.Literal("services"),
    t.Literal("saas"),
    t.Literal("other"),
  ],
  { title: "TreeTemplateCategory", description: "小売・EC, 製造業, サービス業, SaaS, その他" },
);

const Nullable = <T extends Parameters<typeof t.Union>[0][number]>(s: T) => t.Union([s, t.Null()]);

export const TemplateConfig = t.Object(
  {
    nodes: t.Array(
      t.Object({
        key: t.String(),
        label: t.String(),
        nodeType: NodeType,
        relativeX: Int(),
        relativeY: Int(),
        value: Nullable(t.Number()),
      }),
    ),
    relationships: t.Array(
      t.Object({ parentKey: t.String(), operator: Operator, childKeys: t.Array(t.String()) }),
    ),
  },
  {
    title: "TreeTemplateConfig",
    description: "Structure with positions relative to the root (the first node) and constant values",
  },
);

export const TreeTemplate = t.Object(
  {
    id: Uuid,
    projectId: Uuid,
    name: t.String(),
    description: Nullable(t.String()),
    category: Nullable(TreeTemplateCategory),
    isPublic: t.Boolean(),
    nodeCount: Int(),
    sourceTreeId: Nullable(Uuid),
    usageCount: Int(),
    lastUsedAt: Nullable(Ts),
    createdBy: Nullable(UserRef),
    editable: t.Boolean({ description: "The caller may delete it from this project" }),
    createdAt: Ts,
    updatedAt: Ts,
    config: t.Optional(TemplateConfig),
  },
  { title: "TreeTemplate" },
);

export const TreeTemplateQuery = Closed({
  ...PageQuery,
  includePublic: t.Optional(
    t.Boolean({ description: "Also list public templates of other projects (default true)" }),
  ),
  category: t.Optional(TreeTemplateCategory),
  q: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 100,
      description: "Name or description contains this text (case-insensitive)",
    }),
  ),
});

export const TreeTemplateCreate = Closed(
  {
    name: t.String({ minLength: 1, maxLength: 255 }),
    description: t.Optional(t.String({ maxLength: 2000 })),
    category: t.Optional(TreeTemplateCategory),
    sourceTreeId: IdOf("Tree of this project whose structure is saved"),
    isPublic: t.Optional(
      t.Boolean({ description: "Visible from every project (default false); needs a project manager" }),
    ),
  },
  { title: "TreeTemplateCreate" },
);

export const TreeTemplateApply = Closed(
  {
    name: t.Optional(t.String({ minLength: 1, maxLength: 255, description: "Default: the template's name" })),
    positionX: t.Optional(
      Int({ minimum: -2147483648, maximum: 2147483647, description: "Root x (default 0)" }),
    ),
    positionY: t.Optional(
      Int({ minimum: -2147483648, maximum: 2147483647, description: "Root y (default 0)" }),
    ),
  },
  { title: "TreeTemplateApply" },
);

export const TreeTemplateParams = Closed({ projectId: IdOf("Project"), templateId: IdOf("Tree template") });

export type TreeTemplateOut = typeof TreeTemplate.static;
export type TreeTemplateQuery = typeof TreeTemplateQuery.static;
export type TreeTemplateCreate = typeof TreeTemplateCreate.static;
export type TreeTemplateApply = typeof TreeTemplateApply.static;
