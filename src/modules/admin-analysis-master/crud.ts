import type { Database, DbOrTx, Tx } from "@/db/client";
import { pgErrorCode } from "@/db/pg-errors";
import { type AuditActor, type AuditEntry, writeAudit } from "@/db/queries/audit";
import type { Cache } from "@/lib/cache";
import { AppError, problem } from "@/lib/errors";
import { page } from "@/lib/schema";
import {
  type ArchivableTable,
  deleteMasterRow,
  findMasterView,
  insertMasterRow,
  listMasterRows,
  lockMasterRow,
  type MasterStore,
  type MasterTable,
  updateMasterRow,
} from "./queries";

/*
 * One CRUD for the five analysis masters (api.md §2.12.1), driven by a per-resource spec. Every
 * write runs in a transaction with its audit row, turns the constraint violations a race can
 * still produce into domain errors (name uniqueness is left to the unique indexes so concurrent
 * writers cannot both win), and drops the cached project-facing catalogue.
 */

export type MasterDeps = { db: Database; cache: Cache; actor: AuditActor };

export type MasterSpec<T extends MasterTable, R, Create, Patch> = {
  /** Table, derived columns and sort keys (queries.ts `STORES`). */
  store: MasterStore<T>;
  /** Names the resource in "No such … master." */
  label: string;
  resourceType: string;
  view: (r: { row: T["$inferSelect"] } & Record<string, unknown>) => R;
  auditView: (row: T["$inferSelect"]) => unknown;
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
  const skip = q.skip ?? 0;
  const limit = q.limit ?? 50;
  const parentId = spec.parent ? q[spec.parent.key] : undefined;
  const { rows, total } = await listMasterRows(
    db,
    spec.store,
    {
      parent: spec.parent && parentId ? { key: spec.parent.key, id: parentId } : undefined,
      activeOnly: !!spec.archivable && !q.includeArchived,
      q: q.q,
      sort: q.sort,
    },
    skip,
    limit,
  );
  return page(rows.map(spec.view), total, skip, limit);
}

export async function getMaster<R>(db: DbOrTx, spec: SpecOf<R>, id: string) {
  const row = await findMasterView(db, spec.store, id);
  if (!row) throw masterNotFound(spec.label);
  return spec.view(row);
}

/* The answer to a write: the written row, re-read only when the view needs derived columns. */
const answer = <R>(tx: Tx, spec: SpecOf<R>, row: object): R | Promise<R> =>
  spec.store.extra ? getMaster(tx, spec, (row as { id: string }).id) : spec.view({ row });

export async function createMaster<R, C>(deps: MasterDeps, spec: SpecOf<R, C>, body: C): Promise<R> {
  const s = spec;
  const values = s.insert(body);
  return write(deps, s.taken, s.parentMissing, async (tx) => {
    if (s.parent) await s.parent.check(tx, (body as Record<string, string>)[s.parent.key]);
    const row = await insertMasterRow(tx, s.store, values);
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
  const set = s.patch(body);
  return write(deps, s.taken, s.parentMissing, async (tx) => {
    const before = await lockMasterRow(tx, s.store, id);
    if (!before) throw masterNotFound(s.label);
    if (s.parent) {
      const next = (body as Record<string, string | undefined>)[s.parent.key];
      const current = (before as Record<string, unknown>)[s.parent.key];
      if (next !== undefined && next !== current) await s.parent.check(tx, next);
    }
    const active = s.archivable ? activeChange(before, (body as { isActive?: boolean }).isActive) : {};
    const after = await updateMasterRow(tx, s.store, id, { ...set, ...active });
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
  await write(
    deps,
    spec.taken,
    () => masterNotFound(spec.label),
    async (tx) => {
      const before = await deleteMasterRow(tx, spec.store, id);
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
  spec: AnySpec & { store: MasterStore<ArchivableTable> },
  id: string,
  purge: boolean,
  inUse: () => AppError,
  purgeCheck: (tx: Tx) => Promise<Record<string, unknown>>,
): Promise<void> {
  await write(deps, spec.taken, inUse, async (tx) => {
    const before = await lockMasterRow(tx, spec.store, id);
    if (!before) throw masterNotFound(spec.label);
    const entry = { severity: "WARNING", resourceType: spec.resourceType, resourceId: id } as const;
    if (purge) {
      const metadata = await purgeCheck(tx);
      await deleteMasterRow(tx, spec.store, id);
      await audit(tx, deps, {
        ...entry,
        action: "DELETE",
        oldValue: spec.auditView(before),
        metadata: { purge: true, ...metadata },
      });
      return;
    }
    if (!before.isActive) return;
    const after = await updateMasterRow(tx, spec.store, id, { isActive: false, archivedAt: new Date() });
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
