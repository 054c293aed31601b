import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { DbOrTx } from "@/db/client";
import {
  analysisDummyChartMaster,
  analysisDummyFormulaMaster,
  analysisGraphAxisMaster,
  analysisIssueMaster,
  analysisValidationMaster,
  seedState,
} from "@/db/schema";
import type { IssueRow } from "./queries";
import type { IssueState, ThemeState } from "./seed-read";

export type ThemeRow = typeof analysisValidationMaster.$inferSelect;
export type SeedStateRow = typeof seedState.$inferSelect;

/** pg_advisory_xact_lock key of the analysis catalogue set ("campseed" as ASCII, fits a bigint). */
const LOCK_KEY = "7161971031151010100";

/** Serialises catalogue seeds (several instances starting at once) until the transaction ends. */
export async function lockCatalogueSeed(tx: DbOrTx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_KEY}::bigint)`);
}

/** Another theme already named `name` (case-insensitively). */
export async function themeNamedOtherThan(tx: DbOrTx, name: string, id: string): Promise<string | undefined> {
  const [c] = await tx
    .select({ id: analysisValidationMaster.id })
    .from(analysisValidationMaster)
    .where(
      and(sql`lower(${analysisValidationMaster.name}) = lower(${name})`, ne(analysisValidationMaster.id, id)),
    );
  return c?.id;
}

/** Another issue of the theme already named `name` (case-insensitively). */
export async function issueNamedOtherThan(
  tx: DbOrTx,
  validationId: string,
  name: string,
  id: string,
): Promise<string | undefined> {
  const [c] = await tx
    .select({ id: analysisIssueMaster.id })
    .from(analysisIssueMaster)
    .where(
      and(
        eq(analysisIssueMaster.validationId, validationId),
        sql`lower(${analysisIssueMaster.name}) = lower(${name})`,
        ne(analysisIssueMaster.id, id),
      ),
    );
  return c?.id;
}

export function seedStatesWithPrefixes(tx: DbOrTx, prefixes: string[]): Promise<SeedStateRow[]> {
  return tx
    .select()
    .from(seedState)
    .where(
      sql.join(
        prefixes.map((p) => sql`${seedState.seedKey} like ${`${p}%`}`),
        sql` or `,
      ),
    );
}

export async function saveSeedState(tx: DbOrTx, seedKey: string, contentHash: string, rowHash: string) {
  await tx
    .insert(seedState)
    .values({ seedKey, contentHash, rowHash })
    .onConflictDoUpdate({ target: seedState.seedKey, set: { contentHash, rowHash, updatedAt: new Date() } });
}

export function themesByIds(tx: DbOrTx, ids: string[]): Promise<ThemeRow[]> {
  return tx.select().from(analysisValidationMaster).where(inArray(analysisValidationMaster.id, ids));
}

export async function findTheme(tx: DbOrTx, id: string): Promise<ThemeRow | undefined> {
  const [row] = await tx.select().from(analysisValidationMaster).where(eq(analysisValidationMaster.id, id));
  return row;
}

export async function insertTheme(tx: DbOrTx, id: string, state: ThemeState): Promise<void> {
  await tx.insert(analysisValidationMaster).values({ id, ...state });
}

/** Writes the state and brings the theme back from the archive. */
export async function updateTheme(tx: DbOrTx, id: string, state: ThemeState): Promise<void> {
  await tx
    .update(analysisValidationMaster)
    .set({ ...state, archivedAt: null, updatedAt: new Date() })
    .where(eq(analysisValidationMaster.id, id));
}

export async function findIssueRow(tx: DbOrTx, id: string): Promise<IssueRow | undefined> {
  const [row] = await tx.select().from(analysisIssueMaster).where(eq(analysisIssueMaster.id, id));
  return row;
}

/* Writes the issue row (brought back from the archive) and replaces its pickers and previews. */
export async function writeIssue(tx: DbOrTx, id: string, state: IssueState, exists: boolean): Promise<void> {
  const { axes, formulas, charts, ...row } = state;
  const now = new Date();
  if (exists) {
    await tx
      .update(analysisIssueMaster)
      .set({ ...row, archivedAt: null, updatedAt: now })
      .where(eq(analysisIssueMaster.id, id));
    await tx.delete(analysisGraphAxisMaster).where(eq(analysisGraphAxisMaster.issueId, id));
    await tx.delete(analysisDummyFormulaMaster).where(eq(analysisDummyFormulaMaster.issueId, id));
    await tx.delete(analysisDummyChartMaster).where(eq(analysisDummyChartMaster.issueId, id));
  } else {
    await tx.insert(analysisIssueMaster).values({ id, ...row });
  }
  if (axes.length) await tx.insert(analysisGraphAxisMaster).values(axes.map((a) => ({ ...a, issueId: id })));
  if (formulas.length)
    await tx.insert(analysisDummyFormulaMaster).values(formulas.map((f) => ({ ...f, issueId: id })));
  if (charts.length)
    await tx.insert(analysisDummyChartMaster).values(charts.map((c) => ({ ...c, issueId: id })));
}

/** Archives an active theme or issue; false when it was archived or gone already. */
export async function archiveIfActive(
  tx: DbOrTx,
  kind: "theme" | "issue",
  id: string,
  now: Date,
): Promise<boolean> {
  // Both tables share id, isActive, archivedAt and updatedAt; typed as one keeps the inference.
  const t = (
    kind === "theme" ? analysisValidationMaster : analysisIssueMaster
  ) as typeof analysisValidationMaster;
  const rows = await tx
    .update(t)
    .set({ isActive: false, archivedAt: now, updatedAt: now })
    .where(and(eq(t.id, id), eq(t.isActive, true)))
    .returning({ id: t.id });
  return rows.length > 0;
}
