import { existsSync } from "node:fs";
import { join } from "node:path";
import { type TSchema, Type } from "@sinclair/typebox";
import type { KPIS } from "@/db/schema";
import { formulaListIssue } from "@/engine";
import {
  checkShape,
  Problems,
  parseYaml,
  SeedSetInvalidError,
  SLUG,
  uuidv5,
} from "@/modules/analysis-catalogue/seed-read";

/*
 * Reading and validating the driver-tree master seed (analysis.md §7.10) without touching the
 * database: the files' shape (TypeBox), their cross-references, and every formula list through
 * the import planner the tree routes use, so a shipped formula always builds a single-root,
 * acyclic tree.
 */

export const KPI_LIST: readonly (typeof KPIS)[number][] = [
  "売上",
  "原価",
  "販管費",
  "粗利",
  "営業利益",
  "EBITDA",
];
export const CATEGORY_PREFIX = "driver-tree-category:";
export const FORMULA_PREFIX = "driver-tree-formula:";
export const MAX_FORMULAS = 100;
export const MAX_FORMULA_LENGTH = 500;

/* Ids of the grouping keys (not rows): the same key gives the same id in every row. */
export const categoryGroupId = (key: string) => uuidv5(`driver-tree-category-group:${key}`);
export const industryId = (key: string) => uuidv5(`driver-tree-industry:${key}`);
export const driverTypeId = (key: string) => uuidv5(`driver-tree-driver-type:${key}`);
export const categoryRowKey = (category: string, industry: string, driverType: string) =>
  `${CATEGORY_PREFIX}${category}/${industry}/${driverType}`;
export const formulaRowKey = (driverType: string, kpi: string) => `${FORMULA_PREFIX}${driverType}/${kpi}`;

export type CategoryState = {
  categoryId: string;
  categoryName: string;
  industryId: string;
  industryName: string;
  driverTypeId: string;
  driverType: string;
  description: string | null;
};
export type FormulaState = {
  driverTypeId: string;
  driverType: string;
  kpi: string;
  formulas: string[];
  categoryId: string | null;
};
export type CategoryItem = { seedKey: string; id: string; file: string; state: CategoryState };
export type FormulaItem = { seedKey: string; id: string; file: string; state: FormulaState };
export type DriverTreeSet = { categories: CategoryItem[]; formulas: FormulaItem[] };

const Slug = Type.String({ pattern: SLUG.source, errorMessage: "must be a slug (a-z, 0-9, -)" });
const Text = (max: number) =>
  Type.String({ pattern: "\\S", maxLength: max, errorMessage: `must be 1–${max} characters` });
const Closed = (properties: Record<string, TSchema>, errorMessage: string) =>
  Type.Object(properties, { additionalProperties: false, errorMessage });
const List = <T extends TSchema>(item: T, errorMessage: string, maxItems?: number) =>
  Type.Array(item, { minItems: 1, ...(maxItems ? { maxItems } : {}), errorMessage });

const CategoriesFile = Closed(
  {
    driverTypes: List(
      Closed({ key: Slug, name: Text(255) }, "must be {key, name}"),
      "must be a non-empty list of {key, name}",
    ),
    categories: List(
      Closed(
        {
          key: Slug,
          name: Text(255),
          industries: List(
            Closed(
              {
                key: Slug,
                name: Text(255),
                driverTypes: List(Slug, "must be a non-empty list of driver type keys"),
                description: Type.Optional(Text(2000)),
              },
              "must be {key, name, driverTypes, description?}",
            ),
            "must be a non-empty list of industries",
          ),
        },
        "must be {key, name, industries}",
      ),
      "must be a non-empty list of categories",
    ),
  },
  "must be an object {driverTypes, categories}",
);

const FormulaList = List(
  Type.String({
    pattern: "\\S",
    maxLength: MAX_FORMULA_LENGTH,
    errorMessage: `must be 1–${MAX_FORMULA_LENGTH} characters`,
  }),
  `must be a list of 1–${MAX_FORMULAS} formulas`,
  MAX_FORMULAS,
);
const FormulasFile = List(
  Closed(
    {
      driverType: Slug,
      category: Type.Optional(
        Type.String({
          pattern: `^${SLUG.source.slice(1, -1)}/${SLUG.source.slice(1, -1)}$`,
          errorMessage: "must be <category key>/<industry key>",
        }),
      ),
      kpis: Type.Record(Type.String(), FormulaList, { errorMessage: "must map each KPI to its formulas" }),
    },
    "must be {driverType, category?, kpis}",
  ),
  "must be a non-empty list of {driverType, category?, kpis}",
);

type CategoriesDoc = {
  driverTypes: { key: string; name: string }[];
  categories: {
    key: string;
    name: string;
    industries: { key: string; name: string; driverTypes: string[]; description?: string }[];
  }[];
};
type FormulasDoc = { driverType: string; category?: string; kpis: Record<string, string[]> }[];

function duplicates(p: Problems, values: [field: string, value: string][], what: string) {
  const seen = new Set<string>();
  for (const [field, v] of values) {
    if (seen.has(v)) p.add(field, `duplicate ${what} ${v}`);
    seen.add(v);
  }
}

function readCategories(dir: string, p: Problems) {
  const file = "categories.yaml";
  p.at(file);
  const driverTypes = new Map<string, string>();
  const rows: CategoryItem[] = [];
  if (!existsSync(join(dir, file))) {
    p.add("", "is missing");
    return { driverTypes, rows };
  }
  const doc = parseYaml(p, join(dir, file));
  if (doc === undefined) return { driverTypes, rows };
  const before = p.list.length;
  checkShape(p, CategoriesFile, doc);
  // The cross-checks below walk the whole document, so any shape problem stops here.
  if (p.list.length > before) return { driverTypes, rows };
  const d = doc as CategoriesDoc;
  duplicates(
    p,
    d.driverTypes.map((t, i) => [`driverTypes[${i}].key`, t.key]),
    "driver type key",
  );
  duplicates(
    p,
    d.driverTypes.map((t, i) => [`driverTypes[${i}].name`, t.name.trim()]),
    "driver type name",
  );
  for (const t of d.driverTypes) driverTypes.set(t.key, t.name.trim());
  duplicates(
    p,
    d.categories.map((c, i) => [`categories[${i}].key`, c.key]),
    "category key",
  );
  duplicates(
    p,
    d.categories.map((c, i) => [`categories[${i}].name`, c.name.trim()]),
    "category name",
  );
  const industries = d.categories.flatMap((c, i) =>
    c.industries.map((ind, j) => ({ field: `categories[${i}].industries[${j}]`, ind })),
  );
  duplicates(
    p,
    industries.map(({ field, ind }) => [`${field}.key`, ind.key]),
    "industry key",
  );
  duplicates(
    p,
    industries.map(({ field, ind }) => [`${field}.name`, ind.name.trim()]),
    "industry name",
  );
  d.categories.forEach((c, i) => {
    c.industries.forEach((ind, j) => {
      const field = `categories[${i}].industries[${j}].driverTypes`;
      duplicates(
        p,
        ind.driverTypes.map((k, n) => [`${field}[${n}]`, k]),
        "driver type",
      );
      ind.driverTypes.forEach((k, n) => {
        const name = driverTypes.get(k);
        if (name === undefined) {
          p.add(`${field}[${n}]`, `unknown driver type ${k}; known: ${[...driverTypes.keys()].join(", ")}`);
          return;
        }
        const seedKey = categoryRowKey(c.key, ind.key, k);
        rows.push({
          seedKey,
          id: uuidv5(seedKey),
          file,
          state: {
            categoryId: categoryGroupId(c.key),
            categoryName: c.name.trim(),
            industryId: industryId(ind.key),
            industryName: ind.name.trim(),
            driverTypeId: driverTypeId(k),
            driverType: name,
            description: ind.description?.trim() ?? null,
          },
        });
      });
    });
  });
  return { driverTypes, rows };
}

function readFormulas(dir: string, p: Problems, driverTypes: Map<string, string>, rows: CategoryItem[]) {
  const file = "formulas.yaml";
  p.at(file);
  const out: FormulaItem[] = [];
  if (!existsSync(join(dir, file))) {
    p.add("", "is missing");
    return out;
  }
  const doc = parseYaml(p, join(dir, file));
  if (doc === undefined) return out;
  const ok = checkShape(p, FormulasFile, doc);
  if (!ok("")) return out;
  const d = doc as FormulasDoc;
  const shapeProblems = p.list.filter((x) => x.file === file).map((x) => x.field);
  duplicates(
    p,
    d.map((f, i) => [`[${i}].driverType`, f.driverType]),
    "driver type",
  );
  const rowIdOf = new Map(rows.map((r) => [r.seedKey.slice(CATEGORY_PREFIX.length), r.id]));
  d.forEach((entry, i) => {
    const at = `[${i}]`;
    if (shapeProblems.some((f) => f === at || f.startsWith(`${at}.`))) return;
    const name = driverTypes.get(entry.driverType);
    if (name === undefined) {
      p.add(`${at}.driverType`, `unknown driver type ${entry.driverType} (not in categories.yaml)`);
      return;
    }
    let categoryId: string | null = null;
    if (entry.category !== undefined) {
      categoryId = rowIdOf.get(`${entry.category}/${entry.driverType}`) ?? null;
      if (!categoryId)
        p.add(
          `${at}.category`,
          `${entry.category} is not a category/industry of categories.yaml that uses ${entry.driverType}`,
        );
    }
    for (const kpi of Object.keys(entry.kpis))
      if (!(KPI_LIST as readonly string[]).includes(kpi))
        p.add(`${at}.kpis.${kpi}`, `unknown KPI; allowed: ${KPI_LIST.join(", ")}`);
    for (const kpi of KPI_LIST) {
      const list = entry.kpis[kpi];
      if (!list) {
        p.add(`${at}.kpis`, `has no formulas for ${kpi}; every driver type needs ${KPI_LIST.join(", ")}`);
        continue;
      }
      const issue = formulaListIssue(list, kpi);
      if (issue) {
        const where = issue.code === "TREE_CYCLE" ? [] : issue.errors;
        if (issue.code === "TREE_CYCLE")
          p.add(`${at}.kpis.${kpi}`, `the formulas form a cycle: ${issue.cycle.join(" → ")}`);
        for (const e of where) p.add(`${at}.kpis.${kpi}[${e.line}]`, `at character ${e.index}: ${e.message}`);
        continue;
      }
      const seedKey = formulaRowKey(entry.driverType, kpi);
      out.push({
        seedKey,
        id: uuidv5(seedKey),
        file,
        state: {
          driverTypeId: driverTypeId(entry.driverType),
          driverType: name,
          kpi,
          formulas: list.map((f) => f.trim()),
          categoryId,
        },
      });
    }
  });
  for (const key of driverTypes.keys())
    if (shapeProblems.length === 0 && !d.some((f) => f.driverType === key))
      p.add("", `has no formulas for driver type ${key}`);
  return out;
}

/** Reads and validates the set in `dir`; throws SeedSetInvalidError listing every problem. */
export function readDriverTreeSeed(dir: string): DriverTreeSet {
  if (!existsSync(dir))
    throw new SeedSetInvalidError(dir, [{ file: dir, field: "", message: "does not exist" }]);
  const p = new Problems();
  const { driverTypes, rows } = readCategories(dir, p);
  const formulas = p.list.length === 0 ? readFormulas(dir, p, driverTypes, rows) : [];
  if (p.list.length > 0) throw new SeedSetInvalidError(dir, p.list);
  return { categories: rows, formulas };
}
