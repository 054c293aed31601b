import type { Database, DbOrTx } from "@/db/client";

/*
 * Work that must only happen once a transaction's writes are visible to everyone: announcing a
 * notification to live listeners (api.md §2.10) must never reveal a change that rolls back, and a
 * listener woken before COMMIT would read nothing. `afterCommit(tx, fn)` queues `fn` on the
 * transaction; `withCommitHooks(db)` makes `db.transaction` run the queue once COMMIT succeeded
 * (and drop it on rollback). Called with the plain database (no transaction), `fn` runs at once.
 */

const hooks = new WeakMap<object, (() => void)[]>();
const WRAPPED = Symbol.for("camp.commitHooks");

export function afterCommit(db: DbOrTx, fn: () => void): void {
  const queue = hooks.get(db);
  if (queue) queue.push(fn);
  else queueMicrotask(fn);
}

export function withCommitHooks<D extends Database>(db: D): D {
  const target = db as D & { [WRAPPED]?: true };
  if (target[WRAPPED]) return db;
  const original = db.transaction.bind(db);
  const wrapped = (async (fn: (tx: object) => Promise<unknown>, config?: unknown) => {
    const queue: (() => void)[] = [];
    const result = await original(async (tx) => {
      hooks.set(tx, queue);
      return fn(tx);
    }, config as never);
    for (const run of queue) {
      try {
        run();
      } catch {
        // A hook is a best-effort announcement; the committed write stands regardless.
      }
    }
    return result;
  }) as unknown as D["transaction"];
  Object.defineProperty(target, "transaction", { value: wrapped, configurable: true, writable: true });
  Object.defineProperty(target, WRAPPED, { value: true });
  return db;
}
