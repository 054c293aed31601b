import { t } from "elysia";
import { Closed, IdOf, Int, PageQuery, Ts, Uuid } from "@/lib/schema";

/* Driver-tree masters (api.md §2.8 "Masters (read)", §2.12.1 `category` / `formula`). */

export const Kpi = t.Union(
  [
    t.Literal("売上"),
    t.Literal("原価"),
    t.Literal("販管費"),
    t.Literal("粗利"),
    t.Literal("営業利益"),
    t.Literal("EBITDA"),
  ],
  { title: "Kpi", description: "KPI master-data label (kept in Japanese)" },
);

const Name = t.String({ minLength: 1, maxLength: 255 });
const Description = t.String({ maxLength: 2000 });
const Formula = t.String({ minLength: 1, maxLength: 500 });
const Formulas = t.Array(Formula, {
  minItems: 1,
  maxItems: 100,
  description:
    "Formula lines (analysis.md §7.2); together they must build one acyclic tree rooted at the KPI",
});
const Stamps = { createdAt: Ts, updatedAt: Ts };

/* ---------- project reads ---------- */

export const CategoryCatalogue = t.Object(
  {
    categories: t.Array(
      t.Object({
        categoryId: Uuid,
        categoryName: t.String(),
        industries: t.Array(
          t.Object({
            industryId: Uuid,
            industryName: t.String(),
            driverTypes: t.Array(t.Object({ driverTypeId: Uuid, driverType: t.String() })),
          }),
        ),
      }),
    ),
  },
  { title: "DriverTreeCategoryCatalogue" },
);

export const FormulaQuery = Closed({
  driverTypeId: IdOf("Driver type"),
  kpi: Kpi,
});

export const FormulaAnswer = t.Object(
  {
    formula: t.Object({
      formulaId: Uuid,
      driverTypeId: Uuid,
      driverType: t.String(),
      kpi: Kpi,
      formulas: t.Array(t.String()),
      categoryId: t.Union([Uuid, t.Null()]),
    }),
  },
  { title: "DriverTreeFormula" },
);

/* ---------- admin CRUD ---------- */

export const CategoryMaster = t.Object(
  {
    id: Uuid,
    categoryId: Uuid,
    categoryName: t.String(),
    industryId: Uuid,
    industryName: t.String(),
    driverTypeId: Uuid,
    driverType: t.String(),
    description: t.Union([t.String(), t.Null()]),
    formulaCount: Int(),
    ...Stamps,
  },
  { title: "CategoryMaster" },
);

export const FormulaMasterRow = t.Object(
  {
    id: Uuid,
    driverTypeId: Uuid,
    driverType: t.String(),
    kpi: Kpi,
    formulas: t.Array(t.String()),
    categoryId: t.Union([Uuid, t.Null()]),
    treeCount: Int(),
    ...Stamps,
  },
  { title: "FormulaMasterRow" },
);

const categoryFields = {
  categoryId: t.Optional(IdOf("Category (omitted: the id of a row with the same category name, else new)")),
  categoryName: Name,
  industryId: t.Optional(IdOf("Industry (omitted: the id of a row with the same industry name, else new)")),
  industryName: Name,
  driverTypeId: t.Optional(
    IdOf("Driver type (omitted: the id of a row with the same driver type, else new)"),
  ),
  driverType: Name,
};

export const CategoryCreate = Closed(
  { ...categoryFields, description: t.Optional(Description) },
  { title: "CategoryCreate" },
);

export const CategoryPatch = Closed(
  {
    categoryId: t.Optional(IdOf("Category")),
    categoryName: t.Optional(Name),
    industryId: t.Optional(IdOf("Industry")),
    industryName: t.Optional(Name),
    driverTypeId: t.Optional(IdOf("Driver type")),
    driverType: t.Optional(Name),
    description: t.Optional(t.Union([Description, t.Null()])),
  },
  { title: "CategoryPatch" },
);

export const FormulaCreate = Closed(
  {
    driverTypeId: IdOf("Driver type"),
    driverType: Name,
    kpi: Kpi,
    formulas: Formulas,
    categoryId: t.Optional(IdOf("Category master row")),
  },
  { title: "FormulaCreate" },
);

export const FormulaPatch = Closed(
  {
    driverTypeId: t.Optional(IdOf("Driver type")),
    driverType: t.Optional(Name),
    kpi: t.Optional(Kpi),
    formulas: t.Optional(Formulas),
    categoryId: t.Optional(t.Union([IdOf("Category master row"), t.Null()])),
  },
  { title: "FormulaPatch" },
);

const sortOf = t.Optional(
  t.Union([t.Literal("name"), t.Literal("-createdAt"), t.Literal("-updatedAt")], {
    description: "Sort order; a leading - sorts descending (default: by name)",
  }),
);

export const CategoryListQuery = Closed({
  ...PageQuery,
  q: t.Optional(
    t.String({
      minLength: 1,
      maxLength: 100,
      description: "Category, industry or driver type name contains (case-insensitive)",
    }),
  ),
  industryId: t.Optional(IdOf("Only rows of this industry")),
  driverTypeId: t.Optional(IdOf("Only rows of this driver type")),
  sort: sortOf,
});

export const FormulaListQuery = Closed({
  ...PageQuery,
  driverTypeId: t.Optional(IdOf("Only formulas of this driver type")),
  kpi: t.Optional(Kpi),
  sort: sortOf,
});

export type KpiValue = typeof Kpi.static;
export type CategoryCatalogue = typeof CategoryCatalogue.static;
export type FormulaAnswer = typeof FormulaAnswer.static;
export type CategoryMaster = typeof CategoryMaster.static;
export type FormulaMasterRow = typeof FormulaMasterRow.static;
export type CategoryCreate = typeof CategoryCreate.static;
export type CategoryPatch = typeof CategoryPatch.static;
export type FormulaCreate = typeof FormulaCreate.static;
export type FormulaPatch = typeof FormulaPatch.static;
export type CategoryListQuery = typeof CategoryListQuery.static;
export type FormulaListQuery = typeof FormulaListQuery.static;
