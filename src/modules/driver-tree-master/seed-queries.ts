import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { driverTreeCategory, driverTreeFormula } from "@/db/schema";
import type { CategoryState, FormulaState } from "./seed-read";

export type CategoryRow = typeof driverTreeCategory.$inferSelect;
export type FormulaRow = typeof driverTreeFormula.$inferSelect;

/** pg_advisory_xact_lock key of the driver-tree master set (distinct from the analysis set's). */
const LOCK_KEY = "7161971031151010101";

export async function lockDriverTreeSeed(tx: DbOrTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_KEY}::bigint)`);
}

export const categoryStateOf = (r: CategoryRow): CategoryState => ({
  categoryId: r.categoryId,
  categoryName: r.categoryName,
  industryId: r.industryId,
  industryName: r.industryName,
  driverTypeId: r.driverTypeId,
  driverType: r.driverType,
  description: r.description,
});

export const formulaStateOf = (r: FormulaRow): FormulaState => ({
  driverTypeId: r.driverTypeId,
  driverType: r.driverType,
  kpi: r.kpi,
  formulas: r.formulas,
  categoryId: r.categoryId,
});

export function categoriesByIds(tx: DbOrTx, ids: string[]): Promise<CategoryRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx.select().from(driverTreeCategory).where(inArray(driverTreeCategory.id, ids));
}

export function formulasByIds(tx: DbOrTx, ids: string[]): Promise<FormulaRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return tx.select().from(driverTreeFormula).where(inArray(driverTreeFormula.id, ids));
}

/** Another row (an admin's) already holding the seed row's unique triple. */
export async function categoryTripleOtherThan(tx: DbOrTx, s: CategoryState, id: string) {
  const [r] = await tx
    .select({ id: driverTreeCategory.id })
    .from(driverTreeCategory)
    .where(
      and(
        eq(driverTreeCategory.categoryId, s.categoryId),
        eq(driverTreeCategory.industryId, s.industryId),
        eq(driverTreeCategory.driverTypeId, s.driverTypeId),
        ne(driverTreeCategory.id, id),
      ),
    );
  return r?.id;
}

/** Another row already holding the seed row's (driver type, KPI). */
export async function formulaPairOtherThan(tx: DbOrTx, s: FormulaState, id: string) {
  const [r] = await tx
    .select({ id: driverTreeFormula.id })
    .from(driverTreeFormula)
    .where(
      and(
        eq(driverTreeFormula.driverTypeId, s.driverTypeId),
        eq(driverTreeFormula.kpi, s.kpi),
        ne(driverTreeFormula.id, id),
      ),
    );
  return r?.id;
}

export async function writeCategory(tx: DbOrTx, id: string, s: CategoryState, exists: boolean) {
  if (exists)
    await tx
      .update(driverTreeCategory)
      .set({ ...s, updatedAt: new Date() })
      .where(eq(driverTreeCategory.id, id));
  else await tx.insert(driverTreeCategory).values({ id, ...s });
}

export async function writeFormula(tx: DbOrTx, id: string, s: FormulaState, exists: boolean) {
  if (exists)
    await tx
      .update(driverTreeFormula)
      .set({ ...s, updatedAt: new Date() })
      .where(eq(driverTreeFormula.id, id));
  else await tx.insert(driverTreeFormula).values({ id, ...s });
}

export async function deleteCategoryRow(tx: DbOrTx, id: string) {
  await tx.delete(driverTreeCategory).where(eq(driverTreeCategory.id, id));
}

export async function deleteFormulaRow(tx: DbOrTx, id: string) {
  await tx.delete(driverTreeFormula).where(eq(driverTreeFormula.id, id));
}
