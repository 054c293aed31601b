import { and, asc, count, desc, eq, type SQL, sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Database, DbOrTx, Tx } from "@/db/client";
import { pgErrorCode } from "@/db/pg-errors";
import { type AuditActor, type AuditEntry, writeAudit } from "@/db/queries/audit";
import type {
  analysisDummyChartMaster,
  analysisDummyFormulaMaster,
  analysisGraphAxisMaster,
  analysisIssueMaster,
  analysisValidationMaster,
} from "@/db/schema";
import type { Cache } from "@/lib/cache";
import { AppError, problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { likePattern, page } from "@/lib/schema";

/*
 * One CRUD for the five analysis masters (api.md §2.12.1), driven by a per-resource spec. Every
 * write runs in a transaction with its audit row, turns the constraint violations a race can
 * still produce into domain errors (name uniqueness is left to the unique indexes so concurrent
 * writers cannot both win), and drops the cached project-facing catalogue.
 */

export type MasterDeps = { db: Database; cache: Cache; actor: AuditActor };

export type MasterTable =
  | typeof analysisValidationMaster
  | typeof analysisIssueMaster
  | typeof analysisGraphAxisMaster
  | typeof analysisDummyFormulaMaster
  | typeof analysisDummyChartMaster;
type ArchivableTable = typeof analysisValidationMaster | typeof analysisIssueMaster;

export type MasterSpec<T extends MasterTable, R, Create, Patch> = {
  table: T;
  /** Names the resource in "No such … master." */
  label: string;
  resourceType: string;
  /** Derived columns of the answer (usage counts), selected beside the row. */
  extra?: Record<string, SQL>;
  view: (r: { row: T["$inferSelect"] } & Record<string, unknown>) => R;
  auditView: (row: T["$inferSelect"]) => unknown;
  order: AnyPgColumn;
  /** Sort key of `sort=name`; also enables `q` search when `search` is set. */
  name: SQL | null;
  search?: AnyPgColumn;
  /** Rows that may be archived through `isActive` instead of deleted. */
  archivable?: boolean;
  /** The row this one hangs off: filtered by, checked (and locked) on create and re-parenting. */
  parent?: { key: "validationId" | "issueId"; check: (tx: Tx, id: string) => Promise<void> };
  taken: () => AppError;
  parentMissing: () => AppError;
  /** Checks a body and gives the columns to write; runs before the transaction. */
  insert: (body: Create) => Record<string, unknown>;
  patch: (body: Patch) => Record<string, unknown>;
};

/* Specs are typed where they are written; the CRUD below sees only the answer and body types. */
type SpecOf<R, C = any, P = any> = MasterSpec<any, R, C, P>;
type AnySpec = SpecOf<any>;

export const masterNotFound = (what: string) =>
  problem("MASTER_NOT_FOUND", { detail: `No such ${what} master.` });

// The five tables share id, created/updated and (archivable ones) isActive/archivedAt; typing the
// query on one table keeps drizzle's inference for those columns.
const common = (spec: AnySpec) => spec.table as typeof analysisValidationMaster;
const parentColumn = (spec: AnySpec) =>
  (spec.table as unknown as Record<string, AnyPgColumn>)[spec.parent?.key ?? "id"];

/* Runs a write and turns the constraint violations a race can still produce into domain errors. */
export async function write<T>(
  deps: MasterDeps,
  onUnique: () => AppError,
  onForeignKey: () => AppError,
  run: (tx: Tx) => Promise<T>,
): Promise<T> {
  let out: T;
  try {
    out = await deps.db.transaction(run);
  } catch (error) {
    const code = error instanceof AppError ? null : pgErrorCode(error);
    if (code === "23505") throw onUnique();
    if (code === "23503") throw onForeignKey();
    throw error;
  }
  // The project-facing catalogue may be cached under any `catalogue:` key (api.md §4.3).
  await deps.cache.deleteByPrefix("catalogue:").catch(() => 0);
  return out;
}

const audit = (tx: Tx, deps: MasterDeps, entry: Omit<AuditEntry, "eventType">) =>
  writeAudit(tx, deps.actor, { eventType: "DATA_CHANGE", ...entry });

function orderBy(sort: string | undefined, spec: AnySpec): SQL[] {
  const t = common(spec);
  const name = spec.name;
  if (sort === "name" && name) return [asc(name), asc(t.id)];
  if (sort === "-createdAt") return [desc(t.createdAt), asc(t.id)];
  if (sort === "-updatedAt") return [desc(t.updatedAt), asc(t.id)];
  return [asc(spec.order), ...(name ? [asc(name)] : []), asc(t.id)];
}

const selectOf = (db: DbOrTx, spec: AnySpec) =>
  db
    .select({ row: common(spec), ...spec.extra })
    .from(common(spec))
    .$dynamic();

export type MasterListQuery = {
  skip?: number;
  limit?: number;
  sort?: string;
  q?: string;
  includeArchived?: boolean;
  validationId?: string;
  issueId?: string;
};

export async function listMasters<R>(db: DbOrTx, spec: SpecOf<R>, q: MasterListQuery) {
  const t = common(spec);
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const parentId = spec.parent ? q[spec.parent.key] : undefined;
  const where = and(
    parentId ? eq(parentColumn(spec), parentId) : undefined,
    spec.archivable && !q.includeArchived ? eq(t.isActive, true) : undefined,
    spec.search && q.q ? sql`lower(${spec.search}) like lower(${likePattern(q.q)})` : undefined,
  );
  const rows = await selectOf(db, spec)
    .where(where)
    .orderBy(...orderBy(q.sort, spec))
    .offset(skip)
    .limit(limit);
  const [{ n }] = await db.select({ n: count() }).from(t).where(where);
  return page(rows.map(spec.view), n, skip, limit);
}

export async function getMaster<R>(db: DbOrTx, spec: SpecOf<R>, id: string) {
  const [row] = await selectOf(db, spec).where(eq(common(spec).id, id));
  if (!row) throw masterNotFound(spec.label);
  return spec.view(row);
}

/* The answer to a write: the written row, re-read only when the view needs derived columns. */
const answer = <R>(tx: Tx, spec: SpecOf<R>, row: object): R | Promise<R> =>
  spec.extra ? getMaster(tx, spec, (row as { id: string }).id) : spec.view({ row });

export async function createMaster<R, C>(deps: MasterDeps, spec: SpecOf<R, C>, body: C): Promise<R> {
  const s = spec;
  const values = s.insert(body);
  return write(deps, s.taken, s.parentMissing, async (tx) => {
    if (s.parent) await s.parent.check(tx, (body as Record<string, string>)[s.parent.key]);
    const [row] = await tx
      .insert(common(s))
      .values({ id: newId(), ...values } as typeof analysisValidationMaster.$inferInsert)
      .returning();
    await audit(tx, deps, {
      action: "CREATE",
      resourceType: s.resourceType,
      resourceId: row.id,
      newValue: s.auditView(row),
    });
    return answer(tx, s, row);
  });
}

/** Archiving or restoring through `isActive`; archiving keeps the first archive time. */
function activeChange(before: { isActive: boolean; archivedAt: Date | null }, isActive?: boolean) {
  if (isActive === undefined || isActive === before.isActive) return {};
  return { isActive, archivedAt: isActive ? null : new Date() };
}

export async function updateMaster<R, P>(
  deps: MasterDeps,
  spec: SpecOf<R, any, P>,
  id: string,
  body: P,
): Promise<R> {
  const s = spec;
  const t = common(s);
  const set = s.patch(body);
  return write(deps, s.taken, s.parentMissing, async (tx) => {
    const [before] = await tx.select().from(t).where(eq(t.id, id)).for("update");
    if (!before) throw masterNotFound(s.label);
    if (s.parent) {
      const next = (body as Record<string, string | undefined>)[s.parent.key];
      const current = (before as Record<string, unknown>)[s.parent.key];
      if (next !== undefined && next !== current) await s.parent.check(tx, next);
    }
    const active = s.archivable ? activeChange(before, (body as { isActive?: boolean }).isActive) : {};
    const [after] = await tx
      .update(t)
      .set({ ...set, ...active, updatedAt: new Date() })
      .where(eq(t.id, id))
      .returning();
    const archiving = s.archivable && before.isActive && !after.isActive;
    await audit(tx, deps, {
      action: archiving ? "ARCHIVE" : "UPDATE",
      severity: archiving ? "WARNING" : "INFO",
      resourceType: s.resourceType,
      resourceId: id,
      oldValue: s.auditView(before),
      newValue: s.auditView(after),
      metadata: s.archivable && !before.isActive && after.isActive ? { restored: true } : null,
    });
    return answer(tx, s, after);
  });
}

/** Hard delete, for the per-issue masters nothing else points at. */
export async function deleteMaster(deps: MasterDeps, spec: AnySpec, id: string): Promise<void> {
  const t = common(spec);
  await write(
    deps,
    spec.taken,
    () => masterNotFound(spec.label),
    async (tx) => {
      const [before] = await tx.delete(t).where(eq(t.id, id)).returning();
      if (!before) throw masterNotFound(spec.label);
      await audit(tx, deps, {
        action: "DELETE",
        resourceType: spec.resourceType,
        resourceId: id,
        oldValue: spec.auditView(before),
      });
    },
  );
}

/**
 * Archives, or with `purge` hard-deletes once `purgeCheck` (which throws while the row is still
 * referenced, and returns audit metadata) allows it. `inUse` answers a reference that appeared
 * concurrently (a foreign-key violation).
 */
export async function archiveOrPurge(
  deps: MasterDeps,
  spec: AnySpec & { table: ArchivableTable },
  id: string,
  purge: boolean,
  inUse: () => AppError,
  purgeCheck: (tx: Tx) => Promise<Record<string, unknown>>,
): Promise<void> {
  const t = common(spec);
  await write(deps, spec.taken, inUse, async (tx) => {
    const [before] = await tx.select().from(t).where(eq(t.id, id)).for("update");
    if (!before) throw masterNotFound(spec.label);
    const entry = { severity: "WARNING", resourceType: spec.resourceType, resourceId: id } as const;
    if (purge) {
      const metadata = await purgeCheck(tx);
      await tx.delete(t).where(eq(t.id, id));
      await audit(tx, deps, {
        ...entry,
        action: "DELETE",
        oldValue: spec.auditView(before),
        metadata: { purge: true, ...metadata },
      });
      return;
    }
    if (!before.isActive) return;
    const [after] = await tx
      .update(t)
      .set({ isActive: false, archivedAt: new Date(), updatedAt: new Date() })
      .where(eq(t.id, id))
      .returning();
    await audit(tx, deps, {
      ...entry,
      action: "ARCHIVE",
      oldValue: spec.auditView(before),
      newValue: spec.auditView(after),
    });
  });
}

/** The five operations of one master, bound to its spec (what the controller calls). */
export function masterCrud<R, C, P>(spec: SpecOf<R, C, P>) {
  return {
    list: (db: DbOrTx, q: MasterListQuery) => listMasters(db, spec, q),
    get: (db: DbOrTx, id: string) => getMaster(db, spec, id),
    create: (deps: MasterDeps, body: C) => createMaster(deps, spec, body),
    update: (deps: MasterDeps, id: string, body: P) => updateMaster(deps, spec, id, body),
    remove: (deps: MasterDeps, id: string) => deleteMaster(deps, spec, id),
  };
}
