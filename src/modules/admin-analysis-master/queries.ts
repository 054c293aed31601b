import { and, asc, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { DbOrTx } from "@/db/client";
import {
  analysisGraphAxisMaster as A,
  analysisSession,
  analysisTemplate,
  analysisDummyChartMaster as C,
  analysisDummyFormulaMaster as F,
  analysisIssueMaster as I,
  analysisValidationMaster as V,
} from "@/db/schema";
import { newId } from "@/lib/ids";
import { likePattern } from "@/lib/schema";

export type MasterTable = typeof V | typeof I | typeof A | typeof F | typeof C;
export type ArchivableTable = typeof V | typeof I;

/** Where one master is stored: its table, derived columns of its answer, and its sort keys. */
export type MasterStore<T extends MasterTable = MasterTable> = {
  table: T;
  /** Derived columns of the answer (usage counts), selected beside the row. */
  extra?: Record<string, SQL>;
  order: AnyPgColumn;
  /** Sort key of `sort=name`, or null when the master has no name. */
  name: SQL | null;
  /** Column searched by `q`; no search without it. */
  search?: AnyPgColumn;
};

/* Spelled out: drizzle leaves columns unqualified in a single-table select, and a bare "id" here
   would bind to the subquery's own table. */
const issueCount = sql<number>`(select count(*)::int from analysis_issue_master i where i.validation_id = analysis_validation_master.id)`;
const sessionCount = sql<number>`(select count(*)::int from analysis_session s where s.issue_id = analysis_issue_master.id)`;

export const STORES = {
  validation: {
    table: V,
    extra: { issueCount },
    order: V.validationOrder,
    name: sql`lower(${V.name})`,
    search: V.name,
  } satisfies MasterStore<typeof V>,
  issue: {
    table: I,
    extra: { sessionCount },
    order: I.issueOrder,
    name: sql`lower(${I.name})`,
    search: I.name,
  } satisfies MasterStore<typeof I>,
  axis: { table: A, order: A.axisOrder, name: sql`lower(${A.name})` } satisfies MasterStore<typeof A>,
  formula: { table: F, order: F.formulaOrder, name: sql`lower(${F.name})` } satisfies MasterStore<typeof F>,
  chart: { table: C, order: C.chartOrder, name: null } satisfies MasterStore<typeof C>,
};

// The five tables share id, created/updated and (archivable ones) isActive/archivedAt; typing the
// query on one table keeps drizzle's inference for those columns.
type Common = typeof V;
type CommonRow = Common["$inferSelect"];
const common = (store: MasterStore) => store.table as Common;

function orderBy(sort: string | undefined, store: MasterStore): SQL[] {
  const t = common(store);
  const name = store.name;
  if (sort === "name" && name) return [asc(name), asc(t.id)];
  if (sort === "-createdAt") return [desc(t.createdAt), asc(t.id)];
  if (sort === "-updatedAt") return [desc(t.updatedAt), asc(t.id)];
  return [asc(store.order), ...(name ? [asc(name)] : []), asc(t.id)];
}

const selectOf = (db: DbOrTx, store: MasterStore) =>
  db
    .select({ row: common(store), ...store.extra })
    .from(common(store))
    .$dynamic();

/** A master row with its derived columns. */
export type MasterView = { row: CommonRow } & Record<string, unknown>;

export type MasterFilter = {
  /** Only rows under this parent (`validationId` or `issueId` column). */
  parent?: { key: "validationId" | "issueId"; id: string };
  activeOnly: boolean;
  q?: string;
  sort?: string;
};

export async function listMasterRows(
  db: DbOrTx,
  store: MasterStore,
  filter: MasterFilter,
  skip: number,
  limit: number,
): Promise<{ rows: MasterView[]; total: number }> {
  const t = common(store);
  const parentColumn = filter.parent
    ? (store.table as unknown as Record<string, AnyPgColumn>)[filter.parent.key]
    : undefined;
  const where = and(
    parentColumn && filter.parent ? eq(parentColumn, filter.parent.id) : undefined,
    filter.activeOnly ? eq(t.isActive, true) : undefined,
    store.search && filter.q ? sql`lower(${store.search}) like lower(${likePattern(filter.q)})` : undefined,
  );
  const rows = await selectOf(db, store)
    .where(where)
    .orderBy(...orderBy(filter.sort, store))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(t).where(where);
  return { rows, total: n };
}

export async function findMasterView(
  db: DbOrTx,
  store: MasterStore,
  id: string,
): Promise<MasterView | undefined> {
  const [row] = await selectOf(db, store).where(eq(common(store).id, id));
  return row;
}

export async function insertMasterRow(tx: DbOrTx, store: MasterStore, values: Record<string, unknown>) {
  const [row] = await tx
    .insert(common(store))
    .values({ id: newId(), ...values } as Common["$inferInsert"])
    .returning();
  return row;
}

export async function lockMasterRow(
  tx: DbOrTx,
  store: MasterStore,
  id: string,
): Promise<CommonRow | undefined> {
  const t = common(store);
  const [row] = await tx.select().from(t).where(eq(t.id, id)).for("update");
  return row;
}

export async function updateMasterRow(
  tx: DbOrTx,
  store: MasterStore,
  id: string,
  values: Record<string, unknown>,
): Promise<CommonRow> {
  const t = common(store);
  const [after] = await tx
    .update(t)
    .set({ ...values, updatedAt: new Date() })
    .where(eq(t.id, id))
    .returning();
  return after;
}

export async function deleteMasterRow(
  tx: DbOrTx,
  store: MasterStore,
  id: string,
): Promise<CommonRow | undefined> {
  const t = common(store);
  const [before] = await tx.delete(t).where(eq(t.id, id)).returning();
  return before;
}

/* ---------- parents and references ---------- */

/** The validation locked against a concurrent purge for the rest of the transaction. */
export async function shareLockValidation(
  tx: DbOrTx,
  id: string,
): Promise<{ isActive: boolean } | undefined> {
  const [v] = await tx.select({ isActive: V.isActive }).from(V).where(eq(V.id, id)).for("share");
  return v;
}

/** Locks the issue against a concurrent purge; false when it does not exist. */
export async function shareLockIssue(tx: DbOrTx, id: string): Promise<boolean> {
  const [i] = await tx.select({ id: I.id }).from(I).where(eq(I.id, id)).for("share");
  return i !== undefined;
}

export async function countIssuesOf(tx: DbOrTx, validationId: string): Promise<number> {
  const [{ n }] = await tx.select({ n: count() }).from(I).where(eq(I.validationId, validationId));
  return n;
}

/** Sessions and templates that reference the issue. */
export async function issueReferences(
  tx: DbOrTx,
  id: string,
): Promise<{ sessions: number; templates: number }> {
  const [{ sessions }] = await tx
    .select({ sessions: count() })
    .from(analysisSession)
    .where(eq(analysisSession.issueId, id));
  const [{ templates }] = await tx
    .select({ templates: count() })
    .from(analysisTemplate)
    .where(eq(analysisTemplate.issueId, id));
  return { sessions, templates };
}

/** The issue's axes, formulas and charts (deleted with it by ON DELETE CASCADE). */
export async function issueChildCounts(tx: DbOrTx, id: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [key, tbl] of [
    ["axes", A],
    ["formulas", F],
    ["charts", C],
  ] as const) {
    const [{ n }] = await tx.select({ n: count() }).from(tbl).where(eq(tbl.issueId, id));
    out[key] = n;
  }
  return out;
}
