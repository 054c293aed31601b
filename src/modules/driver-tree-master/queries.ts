import { and, asc, count, desc, eq, or, type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { driverTreeCategory as C, driverTree, driverTreeFormula as F } from "@/db/schema";
import { newId } from "@/lib/ids";
import { likePattern } from "@/lib/schema";

/* Reads and writes of the driver-tree master tables (api.md §2.8, §2.12.1). */

export type CategoryRow = typeof C.$inferSelect;
export type FormulaRow = typeof F.$inferSelect;

/* Spelled out: a correlated subquery must name the outer table, not a bare "id". */
const formulaCount = sql<number>`(select count(*)::int from driver_tree_formula f where f.category_id = driver_tree_category.id)`;
const treeCount = sql<number>`(select count(*)::int from driver_tree t where t.formula_id = driver_tree_formula.id)`;

/* ---------- project reads ---------- */

export function allCategoryRows(db: DbOrTx): Promise<CategoryRow[]> {
  return db
    .select()
    .from(C)
    .orderBy(
      asc(C.categoryName),
      asc(C.categoryId),
      asc(C.industryName),
      asc(C.industryId),
      asc(C.driverType),
      asc(C.id),
    );
}

export async function formulaOf(
  db: DbOrTx,
  driverTypeId: string,
  kpi: string,
): Promise<FormulaRow | undefined> {
  const [row] = await db
    .select()
    .from(F)
    .where(and(eq(F.driverTypeId, driverTypeId), eq(F.kpi, kpi)));
  return row;
}

/* ---------- categories ---------- */

export type CategoryView = { row: CategoryRow; formulaCount: number };
export type CategoryFilter = { q?: string; industryId?: string; driverTypeId?: string; sort?: string };

const sortBy = (sort: string | undefined, t: typeof C | typeof F, byName: SQL[]): SQL[] => {
  if (sort === "-createdAt") return [desc(t.createdAt), asc(t.id)];
  if (sort === "-updatedAt") return [desc(t.updatedAt), asc(t.id)];
  return [...byName, asc(t.id)];
};

export async function listCategoryRows(
  db: DbOrTx,
  f: CategoryFilter,
  skip: number,
  limit: number,
): Promise<{ rows: CategoryView[]; total: number }> {
  const pattern = f.q ? likePattern(f.q) : null;
  const where = and(
    f.industryId ? eq(C.industryId, f.industryId) : undefined,
    f.driverTypeId ? eq(C.driverTypeId, f.driverTypeId) : undefined,
    pattern
      ? or(
          sql`lower(${C.categoryName}) like lower(${pattern})`,
          sql`lower(${C.industryName}) like lower(${pattern})`,
          sql`lower(${C.driverType}) like lower(${pattern})`,
        )
      : undefined,
  );
  const rows = await db
    .select({ row: C, formulaCount })
    .from(C)
    .where(where)
    .orderBy(...sortBy(f.sort, C, [asc(C.categoryName), asc(C.industryName), asc(C.driverType)]))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(C).where(where);
  return { rows, total: n };
}

export async function findCategoryView(db: DbOrTx, id: string): Promise<CategoryView | undefined> {
  const [row] = await db.select({ row: C, formulaCount }).from(C).where(eq(C.id, id));
  return row;
}

export async function lockCategory(tx: DbOrTx, id: string): Promise<CategoryRow | undefined> {
  const [row] = await tx.select().from(C).where(eq(C.id, id)).for("update");
  return row;
}

/** A category row kept from a concurrent delete for the rest of the transaction. */
export async function shareLockCategory(tx: DbOrTx, id: string): Promise<boolean> {
  const [row] = await tx.select({ id: C.id }).from(C).where(eq(C.id, id)).for("share");
  return row !== undefined;
}

/**
 * Serialises creates that resolve ids by the same names until the transaction ends, so two
 * concurrent creates of a new category name cannot mint two different category ids.
 */
export async function lockCategoryNames(tx: DbOrTx, names: string[]): Promise<void> {
  for (const name of [...new Set(names)].sort())
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`driver-tree-category-name:${name}`}))`);
}

/* The ids already used for a name, so a new row joins its category, industry or driver type. */
export async function categoryIdNamed(tx: DbOrTx, name: string): Promise<string | undefined> {
  const [r] = await tx
    .select({ id: C.categoryId })
    .from(C)
    .where(eq(C.categoryName, name))
    .orderBy(asc(C.createdAt))
    .limit(1);
  return r?.id;
}

export async function industryIdNamed(tx: DbOrTx, name: string): Promise<string | undefined> {
  const [r] = await tx
    .select({ id: C.industryId })
    .from(C)
    .where(eq(C.industryName, name))
    .orderBy(asc(C.createdAt))
    .limit(1);
  return r?.id;
}

/** Driver types also live on formula rows (a formula may exist before any category row names it). */
export async function driverTypeIdNamed(tx: DbOrTx, name: string): Promise<string | undefined> {
  const [c] = await tx
    .select({ id: C.driverTypeId })
    .from(C)
    .where(eq(C.driverType, name))
    .orderBy(asc(C.createdAt))
    .limit(1);
  if (c) return c.id;
  const [f] = await tx
    .select({ id: F.driverTypeId })
    .from(F)
    .where(eq(F.driverType, name))
    .orderBy(asc(F.createdAt))
    .limit(1);
  return f?.id;
}

export async function insertCategory(
  tx: DbOrTx,
  values: Omit<typeof C.$inferInsert, "id">,
): Promise<CategoryRow> {
  const [row] = await tx
    .insert(C)
    .values({ id: newId(), ...values })
    .returning();
  return row as CategoryRow;
}

export async function updateCategory(
  tx: DbOrTx,
  id: string,
  values: Partial<typeof C.$inferInsert>,
): Promise<CategoryRow> {
  const [row] = await tx
    .update(C)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(C.id, id))
    .returning();
  return row as CategoryRow;
}

/** Deletes the row; formulas filed under it keep existing with `categoryId` null (FK SET NULL). */
export async function deleteCategory(tx: DbOrTx, id: string): Promise<CategoryRow | undefined> {
  const [row] = await tx.delete(C).where(eq(C.id, id)).returning();
  return row;
}

/* ---------- formulas ---------- */

export type FormulaView = { row: FormulaRow; treeCount: number };

export async function listFormulaRows(
  db: DbOrTx,
  f: { driverTypeId?: string; kpi?: string; sort?: string },
  skip: number,
  limit: number,
): Promise<{ rows: FormulaView[]; total: number }> {
  const where = and(
    f.driverTypeId ? eq(F.driverTypeId, f.driverTypeId) : undefined,
    f.kpi ? eq(F.kpi, f.kpi) : undefined,
  );
  const kpiOrder = sql`array_position(array['売上','原価','販管費','粗利','営業利益','EBITDA']::varchar[], ${F.kpi})`;
  const rows = await db
    .select({ row: F, treeCount })
    .from(F)
    .where(where)
    .orderBy(...sortBy(f.sort, F, [asc(F.driverType), asc(F.driverTypeId), asc(kpiOrder)]))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(F).where(where);
  return { rows, total: n };
}

export async function findFormulaView(db: DbOrTx, id: string): Promise<FormulaView | undefined> {
  const [row] = await db.select({ row: F, treeCount }).from(F).where(eq(F.id, id));
  return row;
}

export async function lockFormula(tx: DbOrTx, id: string): Promise<FormulaRow | undefined> {
  const [row] = await tx.select().from(F).where(eq(F.id, id)).for("update");
  return row;
}

export async function insertFormula(
  tx: DbOrTx,
  values: Omit<typeof F.$inferInsert, "id">,
): Promise<FormulaRow> {
  const [row] = await tx
    .insert(F)
    .values({ id: newId(), ...values })
    .returning();
  return row as FormulaRow;
}

export async function updateFormula(
  tx: DbOrTx,
  id: string,
  values: Partial<typeof F.$inferInsert>,
): Promise<FormulaRow> {
  const [row] = await tx
    .update(F)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(F.id, id))
    .returning();
  return row as FormulaRow;
}

/** Deletes the formula; trees built from it keep their nodes with `formulaId` null (FK SET NULL). */
export async function deleteFormula(tx: DbOrTx, id: string): Promise<FormulaRow | undefined> {
  const [row] = await tx.delete(F).where(eq(F.id, id)).returning();
  return row;
}

/** Trees built from the formula (for the delete's audit row). */
export async function treesFromFormula(tx: DbOrTx, id: string): Promise<number> {
  const [{ n }] = await tx.select({ n: count() }).from(driverTree).where(eq(driverTree.formulaId, id));
  return n;
}
