import type { DbOrTx, Tx } from "@/db/client";
import { type AuditEntry, writeAudit } from "@/db/queries/audit";
import { formulaListIssue, type ImportRefusal } from "@/engine";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { page } from "@/lib/schema";
import { type MasterDeps, masterNotFound, write } from "@/modules/admin-analysis-master/crud";
import type {
  CategoryCatalogue,
  CategoryCreate,
  CategoryListQuery,
  CategoryMaster,
  CategoryPatch,
  FormulaAnswer,
  FormulaCreate,
  FormulaListQuery,
  FormulaMasterRow,
  FormulaPatch,
  KpiValue,
} from "./model";
import {
  allCategoryRows,
  type CategoryRow,
  type CategoryView,
  categoryIdNamed,
  deleteCategory,
  deleteFormula,
  driverTypeIdNamed,
  type FormulaRow,
  type FormulaView,
  findCategoryView,
  findFormulaView,
  formulaOf,
  industryIdNamed,
  insertCategory,
  insertFormula,
  listCategoryRows,
  listFormulaRows,
  lockCategory,
  lockCategoryNames,
  lockFormula,
  shareLockCategory,
  treesFromFormula,
  updateCategory,
  updateFormula,
} from "./queries";

export type { MasterDeps } from "@/modules/admin-analysis-master/crud";

/*
 * The driver-tree masters: the project-facing reads of api.md §2.8 and the admin CRUD of
 * §2.12.1. The admin writes share the analysis masters' transaction wrapper (`write`: audit in
 * the transaction, unique/foreign-key violations a race can still produce become domain errors);
 * their list filters and the id reuse by name do not fit that CRUD's single-parent spec, so the
 * five operations are spelled out here.
 */

/* ---------- project reads ---------- */

/** Categories → industries → driver types, each level in name order. */
export async function categoryCatalogue(db: DbOrTx): Promise<CategoryCatalogue> {
  const rows = await allCategoryRows(db);
  const out: CategoryCatalogue["categories"] = [];
  for (const r of rows) {
    let cat = out.find((c) => c.categoryId === r.categoryId);
    if (!cat) {
      cat = { categoryId: r.categoryId, categoryName: r.categoryName, industries: [] };
      out.push(cat);
    }
    let ind = cat.industries.find((i) => i.industryId === r.industryId);
    if (!ind) {
      ind = { industryId: r.industryId, industryName: r.industryName, driverTypes: [] };
      cat.industries.push(ind);
    }
    if (!ind.driverTypes.some((d) => d.driverTypeId === r.driverTypeId))
      ind.driverTypes.push({ driverTypeId: r.driverTypeId, driverType: r.driverType });
  }
  const byName =
    <T>(name: (x: T) => string) =>
    (a: T, b: T) =>
      name(a).localeCompare(name(b), "ja");
  out.sort(byName((c) => c.categoryName));
  for (const c of out) {
    c.industries.sort(byName((i) => i.industryName));
    for (const i of c.industries) i.driverTypes.sort(byName((d) => d.driverType));
  }
  return { categories: out };
}

export async function formulaFor(db: DbOrTx, driverTypeId: string, kpi: KpiValue): Promise<FormulaAnswer> {
  const f = await formulaOf(db, driverTypeId, kpi);
  if (!f) throw problem("FORMULA_NOT_FOUND");
  return {
    formula: {
      formulaId: f.id,
      driverTypeId: f.driverTypeId,
      driverType: f.driverType,
      kpi: f.kpi as KpiValue,
      formulas: f.formulas,
      categoryId: f.categoryId,
    },
  };
}

/* ---------- shared ---------- */

const audit = (tx: Tx, deps: MasterDeps, entry: Omit<AuditEntry, "eventType">) =>
  writeAudit(tx, deps.actor, { eventType: "DATA_CHANGE", ...entry });

function nonBlank(value: string, path: string): string {
  const v = value.trim();
  if (!v)
    throw problem("VALIDATION_FAILED", {
      detail: `${path.split("/").pop()} must not be empty.`,
      errors: [{ path, message: "must not be empty after trimming" }],
    });
  return v;
}
const optNonBlank = (value: string | undefined, path: string) =>
  value === undefined ? undefined : nonBlank(value, path);

const stamps = (r: { createdAt: Date; updatedAt: Date }) => ({
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

/* ---------- categories ---------- */

const CATEGORY = "driver_tree_category";
const categoryTaken = () =>
  problem("NAME_TAKEN", {
    detail: "A category row with this category, industry and driver type already exists.",
  });

const categoryAudit = (r: CategoryRow) => ({
  categoryId: r.categoryId,
  categoryName: r.categoryName,
  industryId: r.industryId,
  industryName: r.industryName,
  driverTypeId: r.driverTypeId,
  driverType: r.driverType,
  description: r.description,
});

const categoryView = ({ row, formulaCount }: CategoryView): CategoryMaster => ({
  id: row.id,
  ...categoryAudit(row),
  formulaCount: Number(formulaCount),
  ...stamps(row),
});

async function categoryAnswer(db: DbOrTx, id: string): Promise<CategoryMaster> {
  const v = await findCategoryView(db, id);
  if (!v) throw masterNotFound("category");
  return categoryView(v);
}

export async function listCategories(db: DbOrTx, q: CategoryListQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listCategoryRows(db, q, skip, limit);
  return page(rows.map(categoryView), total, skip, limit);
}

export const getCategory = (db: DbOrTx, id: string) => categoryAnswer(db, id);

/** A missing id reuses the id of an existing row with the same name, else a new one (api.md §2.12.1). */
export async function createCategory(deps: MasterDeps, body: CategoryCreate): Promise<CategoryMaster> {
  const categoryName = nonBlank(body.categoryName, "/body/categoryName");
  const industryName = nonBlank(body.industryName, "/body/industryName");
  const driverType = nonBlank(body.driverType, "/body/driverType");
  return write(deps, categoryTaken, categoryTaken, async (tx) => {
    await lockCategoryNames(tx, [
      ...(body.categoryId ? [] : [`c:${categoryName}`]),
      ...(body.industryId ? [] : [`i:${industryName}`]),
      ...(body.driverTypeId ? [] : [`d:${driverType}`]),
    ]);
    const row = await insertCategory(tx, {
      categoryId: body.categoryId ?? (await categoryIdNamed(tx, categoryName)) ?? newId(),
      categoryName,
      industryId: body.industryId ?? (await industryIdNamed(tx, industryName)) ?? newId(),
      industryName,
      driverTypeId: body.driverTypeId ?? (await driverTypeIdNamed(tx, driverType)) ?? newId(),
      driverType,
      description: body.description?.trim() || null,
      createdBy: deps.actor.userId ?? null,
    });
    await audit(tx, deps, {
      action: "CREATE",
      resourceType: CATEGORY,
      resourceId: row.id,
      newValue: categoryAudit(row),
    });
    return categoryAnswer(tx, row.id);
  });
}

export async function updateCategoryMaster(
  deps: MasterDeps,
  id: string,
  body: CategoryPatch,
): Promise<CategoryMaster> {
  const set = {
    categoryId: body.categoryId,
    categoryName: optNonBlank(body.categoryName, "/body/categoryName"),
    industryId: body.industryId,
    industryName: optNonBlank(body.industryName, "/body/industryName"),
    driverTypeId: body.driverTypeId,
    driverType: optNonBlank(body.driverType, "/body/driverType"),
    description: body.description === undefined ? undefined : body.description?.trim() || null,
  };
  return write(deps, categoryTaken, categoryTaken, async (tx) => {
    const before = await lockCategory(tx, id);
    if (!before) throw masterNotFound("category");
    const after = await updateCategory(tx, id, set);
    await audit(tx, deps, {
      action: "UPDATE",
      resourceType: CATEGORY,
      resourceId: id,
      oldValue: categoryAudit(before),
      newValue: categoryAudit(after),
    });
    return categoryAnswer(tx, id);
  });
}

export async function removeCategory(deps: MasterDeps, id: string): Promise<void> {
  await write(deps, categoryTaken, categoryTaken, async (tx) => {
    const before = await lockCategory(tx, id);
    if (!before) throw masterNotFound("category");
    const view = await findCategoryView(tx, id);
    await deleteCategory(tx, id);
    await audit(tx, deps, {
      action: "DELETE",
      resourceType: CATEGORY,
      resourceId: id,
      oldValue: categoryAudit(before),
      metadata: { formulasDetached: Number(view?.formulaCount ?? 0) },
    });
  });
}

/* ---------- formulas ---------- */

const FORMULA = "driver_tree_formula";
const formulaTaken = () =>
  problem("NAME_TAKEN", { detail: "A formula master for this driver type and KPI already exists." });
const categoryMissing = () => masterNotFound("category");

/** The engine's refusal as 422 FORMULA_INVALID with the first problem's `line` and `index`. */
function formulaInvalid(refusal: ImportRefusal) {
  if (refusal.code === "TREE_CYCLE") {
    return problem("FORMULA_INVALID", {
      detail: `The formulas form a cycle: ${refusal.cycle.join(" → ")}.`,
      errors: [{ path: "/body/formulas", message: `cycle ${refusal.cycle.join(" → ")}` }],
      extensions: { line: 0, index: 0, cycle: refusal.cycle },
    });
  }
  const [first] = refusal.errors;
  return problem("FORMULA_INVALID", {
    detail: `Formula ${first.line}, character ${first.index}: ${first.message}`,
    errors: refusal.errors.map((e) => ({
      path: `/body/formulas/${e.line}`,
      message: `at character ${e.index}: ${e.message}`,
    })),
    extensions: { line: first.line, index: first.index },
  });
}

function checkFormulas(formulas: string[], kpi: string): string[] {
  const list = formulas.map((f) => f.trim());
  const refusal = formulaListIssue(list, kpi);
  if (refusal) throw formulaInvalid(refusal);
  return list;
}

const formulaAudit = (r: FormulaRow) => ({
  driverTypeId: r.driverTypeId,
  driverType: r.driverType,
  kpi: r.kpi,
  formulas: r.formulas,
  categoryId: r.categoryId,
});

const formulaView = ({ row, treeCount }: FormulaView): FormulaMasterRow => ({
  id: row.id,
  ...formulaAudit(row),
  kpi: row.kpi as KpiValue,
  treeCount: Number(treeCount),
  ...stamps(row),
});

async function formulaAnswer(db: DbOrTx, id: string): Promise<FormulaMasterRow> {
  const v = await findFormulaView(db, id);
  if (!v) throw masterNotFound("formula");
  return formulaView(v);
}

async function existingCategory(tx: Tx, id: string | null | undefined) {
  if (id && !(await shareLockCategory(tx, id))) throw categoryMissing();
}

export async function listFormulas(db: DbOrTx, q: FormulaListQuery) {
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const { rows, total } = await listFormulaRows(db, q, skip, limit);
  return page(rows.map(formulaView), total, skip, limit);
}

export const getFormula = (db: DbOrTx, id: string) => formulaAnswer(db, id);

export async function createFormula(deps: MasterDeps, body: FormulaCreate): Promise<FormulaMasterRow> {
  const driverType = nonBlank(body.driverType, "/body/driverType");
  const formulas = checkFormulas(body.formulas, body.kpi);
  return write(deps, formulaTaken, categoryMissing, async (tx) => {
    await existingCategory(tx, body.categoryId);
    const row = await insertFormula(tx, {
      driverTypeId: body.driverTypeId,
      driverType,
      kpi: body.kpi,
      formulas,
      categoryId: body.categoryId ?? null,
    });
    await audit(tx, deps, {
      action: "CREATE",
      resourceType: FORMULA,
      resourceId: row.id,
      newValue: formulaAudit(row),
    });
    return formulaAnswer(tx, row.id);
  });
}

export async function updateFormulaMaster(
  deps: MasterDeps,
  id: string,
  body: FormulaPatch,
): Promise<FormulaMasterRow> {
  const driverType = optNonBlank(body.driverType, "/body/driverType");
  return write(deps, formulaTaken, categoryMissing, async (tx) => {
    const before = await lockFormula(tx, id);
    if (!before) throw masterNotFound("formula");
    // A new KPI must still be the root of the (possibly unchanged) list.
    const formulas =
      body.formulas !== undefined || body.kpi !== undefined
        ? checkFormulas(body.formulas ?? before.formulas, body.kpi ?? before.kpi)
        : undefined;
    if (body.categoryId !== undefined) await existingCategory(tx, body.categoryId);
    const after = await updateFormula(tx, id, {
      driverTypeId: body.driverTypeId,
      driverType,
      kpi: body.kpi,
      formulas,
      categoryId: body.categoryId,
    });
    await audit(tx, deps, {
      action: "UPDATE",
      resourceType: FORMULA,
      resourceId: id,
      oldValue: formulaAudit(before),
      newValue: formulaAudit(after),
    });
    return formulaAnswer(tx, id);
  });
}

export async function removeFormula(deps: MasterDeps, id: string): Promise<void> {
  await write(deps, formulaTaken, categoryMissing, async (tx) => {
    const before = await lockFormula(tx, id);
    if (!before) throw masterNotFound("formula");
    const trees = await treesFromFormula(tx, id);
    await deleteFormula(tx, id);
    await audit(tx, deps, {
      action: "DELETE",
      resourceType: FORMULA,
      resourceId: id,
      oldValue: formulaAudit(before),
      metadata: { treesDetached: trees },
    });
  });
}
