import { and, asc, count, desc, eq, or, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import { driverTreeTemplate as T, userAccount } from "@/db/schema";
import { likePattern } from "@/lib/schema";

/* Reads and writes of driver_tree_template (api.md §2.8 "Templates"). */

export type TemplateRow = typeof T.$inferSelect;
export type NewTemplateRow = typeof T.$inferInsert;

function templateSelect(db: DbOrTx) {
  return db
    .select({ t: T, createdBy: userRef })
    .from(T)
    .leftJoin(userAccount, eq(userAccount.id, T.createdBy));
}

/** A template with its creator. */
export type TemplateView = Awaited<ReturnType<ReturnType<typeof templateSelect>["execute"]>>[number];

/* Templates a project sees: its own and every public one. */
const visibleFrom = (projectId: string) => or(eq(T.projectId, projectId), eq(T.isPublic, true));

export async function findVisibleTemplateView(
  db: DbOrTx,
  projectId: string,
  id: string,
): Promise<TemplateView | undefined> {
  const [row] = await templateSelect(db).where(and(eq(T.id, id), visibleFrom(projectId)));
  return row;
}

/** The template locked for the rest of the transaction (apply counts it, delete removes it). */
export async function lockVisibleTemplate(
  tx: DbOrTx,
  projectId: string,
  id: string,
): Promise<TemplateRow | undefined> {
  const [row] = await tx
    .select()
    .from(T)
    .where(and(eq(T.id, id), visibleFrom(projectId)))
    .for("update");
  return row;
}

export async function listVisibleTemplates(
  db: DbOrTx,
  projectId: string,
  q: { includePublic?: boolean; category?: string; q?: string },
  skip: number,
  limit: number,
): Promise<{ rows: TemplateView[]; total: number }> {
  const pattern = q.q ? likePattern(q.q) : null;
  const where = and(
    (q.includePublic ?? true) ? visibleFrom(projectId) : eq(T.projectId, projectId),
    q.category ? eq(T.category, q.category) : undefined,
    pattern
      ? sql`(lower(${T.name}) like lower(${pattern}) or lower(coalesce(${T.description}, '')) like lower(${pattern}))`
      : undefined,
  );
  const rows = await templateSelect(db)
    .where(where)
    .orderBy(desc(T.updatedAt), asc(T.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(T).where(where);
  return { rows, total: n };
}

export async function insertTemplate(tx: DbOrTx, values: NewTemplateRow): Promise<void> {
  await tx.insert(T).values(values);
}

export async function deleteTemplateRow(tx: DbOrTx, id: string): Promise<void> {
  await tx.delete(T).where(eq(T.id, id));
}

/** Counts one use; null when the template no longer exists. */
export async function countTemplateUse(tx: DbOrTx, id: string): Promise<number | null> {
  const [used] = await tx
    .update(T)
    .set({ usageCount: sql`${T.usageCount} + 1`, lastUsedAt: new Date() })
    .where(eq(T.id, id))
    .returning({ usageCount: T.usageCount });
  return used ? used.usageCount : null;
}
