import { and, asc, count, desc, eq, or, type SQL, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import { userRef } from "@/db/queries/user-ref";
import {
  analysisDummyChartMaster,
  analysisDummyFormulaMaster,
  analysisGraphAxisMaster,
  analysisIssueMaster,
  analysisTemplate,
  analysisValidationMaster,
  userAccount,
} from "@/db/schema";
import { likePattern } from "@/lib/schema";
import type { CatalogueIssue, SavedTemplateQuery } from "./model";

export type IssueRow = typeof analysisIssueMaster.$inferSelect;
export type TemplateRow = typeof analysisTemplate.$inferSelect;
export type NewTemplateRow = typeof analysisTemplate.$inferInsert;

/* ---------- catalogue ---------- */

/** Active issues of active themes in catalogue order, and how many there are. */
export async function listActiveIssues(
  db: DbOrTx,
  validationId: string | undefined,
  skip: number,
  limit: number,
): Promise<{ rows: CatalogueIssue[]; total: number }> {
  const where = and(
    eq(analysisIssueMaster.isActive, true),
    eq(analysisValidationMaster.isActive, true),
    validationId ? eq(analysisValidationMaster.id, validationId) : undefined,
  );
  const rows = await db
    .select({
      validationId: analysisValidationMaster.id,
      validationName: analysisValidationMaster.name,
      validationOrder: analysisValidationMaster.validationOrder,
      issueId: analysisIssueMaster.id,
      issueName: analysisIssueMaster.name,
      issueOrder: analysisIssueMaster.issueOrder,
      description: analysisIssueMaster.description,
    })
    .from(analysisIssueMaster)
    .innerJoin(analysisValidationMaster, eq(analysisValidationMaster.id, analysisIssueMaster.validationId))
    .where(where)
    .orderBy(
      asc(analysisValidationMaster.validationOrder),
      asc(analysisIssueMaster.issueOrder),
      asc(analysisIssueMaster.id),
    )
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db
    .select({ n: count() })
    .from(analysisIssueMaster)
    .innerJoin(analysisValidationMaster, eq(analysisValidationMaster.id, analysisIssueMaster.validationId))
    .where(where);
  return { rows, total: n };
}

export async function findIssueWithTheme(
  db: DbOrTx,
  issueId: string,
): Promise<{ issue: IssueRow; validationName: string; validationActive: boolean } | undefined> {
  const [row] = await db
    .select({
      issue: analysisIssueMaster,
      validationName: analysisValidationMaster.name,
      validationActive: analysisValidationMaster.isActive,
    })
    .from(analysisIssueMaster)
    .innerJoin(analysisValidationMaster, eq(analysisValidationMaster.id, analysisIssueMaster.validationId))
    .where(eq(analysisIssueMaster.id, issueId));
  return row;
}

/** The issue's pickers and previews, each in its display order. */
export async function issueChildren(db: DbOrTx, issueId: string) {
  const [axes, formulas, charts] = await Promise.all([
    db
      .select()
      .from(analysisGraphAxisMaster)
      .where(eq(analysisGraphAxisMaster.issueId, issueId))
      .orderBy(asc(analysisGraphAxisMaster.axisOrder)),
    db
      .select()
      .from(analysisDummyFormulaMaster)
      .where(eq(analysisDummyFormulaMaster.issueId, issueId))
      .orderBy(asc(analysisDummyFormulaMaster.formulaOrder)),
    db
      .select()
      .from(analysisDummyChartMaster)
      .where(eq(analysisDummyChartMaster.issueId, issueId))
      .orderBy(asc(analysisDummyChartMaster.chartOrder)),
  ]);
  return { axes, formulas, charts };
}

/* ---------- saved templates ---------- */

function templateSelect(db: DbOrTx) {
  return db
    .select({
      t: analysisTemplate,
      issueName: analysisIssueMaster.name,
      createdBy: userRef,
    })
    .from(analysisTemplate)
    .innerJoin(analysisIssueMaster, eq(analysisIssueMaster.id, analysisTemplate.issueId))
    .leftJoin(userAccount, eq(userAccount.id, analysisTemplate.createdBy));
}

/** A template with its issue's name and its creator. */
export type TemplateView = Awaited<ReturnType<ReturnType<typeof templateSelect>["execute"]>>[number];

/* Templates a project sees: its own and every public one. */
const visibleFrom = (projectId: string) =>
  or(eq(analysisTemplate.projectId, projectId), eq(analysisTemplate.isPublic, true));

export async function findVisibleTemplateView(
  db: DbOrTx,
  projectId: string,
  id: string,
): Promise<TemplateView | undefined> {
  const [row] = await templateSelect(db).where(and(eq(analysisTemplate.id, id), visibleFrom(projectId)));
  return row;
}

export async function findVisibleTemplate(
  db: DbOrTx,
  projectId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<TemplateRow | undefined> {
  const query = db
    .select()
    .from(analysisTemplate)
    .where(and(eq(analysisTemplate.id, id), visibleFrom(projectId)));
  const [row] = options.lock ? await query.for("update") : await query;
  return row;
}

export async function listVisibleTemplates(
  db: DbOrTx,
  projectId: string,
  q: SavedTemplateQuery,
  skip: number,
  limit: number,
): Promise<{ rows: TemplateView[]; total: number }> {
  const pattern = q.q ? likePattern(q.q) : null;
  const where = and(
    (q.includePublic ?? true) ? visibleFrom(projectId) : eq(analysisTemplate.projectId, projectId),
    q.templateType ? eq(analysisTemplate.templateType, q.templateType) : undefined,
    pattern
      ? sql`(lower(${analysisTemplate.name}) like lower(${pattern}) or lower(coalesce(${analysisTemplate.description}, '')) like lower(${pattern}))`
      : undefined,
  );
  const order: SQL[] =
    q.sort === "name"
      ? [asc(sql`lower(${analysisTemplate.name})`)]
      : q.sort === "-usageCount"
        ? [desc(analysisTemplate.usageCount), desc(analysisTemplate.updatedAt)]
        : [desc(analysisTemplate.updatedAt)];
  const rows = await templateSelect(db)
    .where(where)
    .orderBy(...order, asc(analysisTemplate.id))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(analysisTemplate).where(where);
  return { rows, total: n };
}

export async function insertTemplate(tx: DbOrTx, values: NewTemplateRow): Promise<void> {
  await tx.insert(analysisTemplate).values(values);
}

export async function updateTemplateRow(
  tx: DbOrTx,
  id: string,
  values: Partial<Pick<TemplateRow, "name" | "description" | "isPublic">>,
): Promise<TemplateRow> {
  const [after] = await tx
    .update(analysisTemplate)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(analysisTemplate.id, id))
    .returning();
  return after;
}

export async function deleteTemplateRow(tx: DbOrTx, id: string): Promise<void> {
  await tx.delete(analysisTemplate).where(eq(analysisTemplate.id, id));
}

/** Counts one use; null when the template no longer exists. */
export async function countTemplateUse(tx: DbOrTx, id: string): Promise<number | null> {
  const [used] = await tx
    .update(analysisTemplate)
    .set({ usageCount: sql`${analysisTemplate.usageCount} + 1`, lastUsedAt: new Date() })
    .where(eq(analysisTemplate.id, id))
    .returning({ usageCount: analysisTemplate.usageCount });
  return used ? used.usageCount : null;
}
