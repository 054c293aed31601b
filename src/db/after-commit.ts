import type { Database, DbOrTx } from "@/db/client";

/*
 * Work that must only happen once a transaction's writes are visible to everyone: announcing a
 * notification to live listeners (api.md §2.10) must never reveal a change that rolls back, and a
 * listener woken before COMMIT would read nothing. `afterCommit(tx, fn)` queues `fn` on the
 * transaction; `withCommitHooks(db)` makes `db.transaction` run the queue once COMMIT succeeded
 * (and drop it on rollback). Called with the plain database (no transaction), `fn` runs at once.
 *
 * The queue lives on the transaction object and the listeners on the database object (both reach
 * the code through the `db`/`tx` it already holds), so nothing here is process-global: two apps
 * with two databases never hear each other's commits.
 */

const QUEUE = Symbol.for("camp.commitQueue");
const SIGNALS = Symbol.for("camp.commitSignals");

/*
 * `claim(key)` is true for the first listener of one emit that asks for `key`: several apps of one
 * process (tests) share a database, and one of them forwarding a commit to Redis is enough.
 */
type Listener = (userIds: string[], claim: (key: string) => boolean) => void;

/* "These users have new or refreshed notifications", raised after the producing commit. */
export class CommitSignals {
  private readonly listeners = new Set<Listener>();

  listen(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(userIds: string[]): void {
    const claimed = new Set<string>();
    const claim = (key: string) => !claimed.has(key) && claimed.add(key) !== undefined;
    for (const listener of this.listeners) {
      try {
        listener(userIds, claim);
      } catch {
        // A listener is a best-effort wake-up; the committed write stands regardless.
      }
    }
  }
}

type Hooked = { [QUEUE]?: (() => void)[]; [SIGNALS]?: CommitSignals };

export function afterCommit(db: DbOrTx, fn: () => void): void {
  const queue = (db as Hooked)[QUEUE];
  if (queue) queue.push(fn);
  else queueMicrotask(fn);
}

/** The commit signals of the database `db` (or the transaction `db`) belongs to. */
export function commitSignalsOf(db: DbOrTx): CommitSignals {
  const signals = (db as Hooked)[SIGNALS];
  if (!signals) throw new Error("database handle was not built with withCommitHooks");
  return signals;
}

export function withCommitHooks<D extends Database>(db: D): D {
  const target = db as D & Hooked;
  if (target[SIGNALS]) return db;
  const signals = new CommitSignals();
  const original = db.transaction.bind(db);
  const wrapped = (async (fn: (tx: object) => Promise<unknown>, config?: unknown) => {
    const queue: (() => void)[] = [];
    const result = await original(async (tx) => {
      Object.defineProperty(tx, QUEUE, { value: queue });
      Object.defineProperty(tx, SIGNALS, { value: signals });
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
  Object.defineProperty(target, SIGNALS, { value: signals });
  return db;
}
