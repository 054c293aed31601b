import { mkdirSync } from "node:fs";
import { drizzle as drizzlePostgres, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import type { Logger } from "pino";
import postgres from "postgres";
import { type Config, ConfigError } from "@/config";
import { withCommitHooks } from "@/db/after-commit";
import { type Breaker, createBreaker } from "@/db/breaker";
import { isConnectionError } from "@/db/pg-errors";
import * as schema from "@/db/schema";
import { endSpan, NO_TRACING, type Tracing } from "@/lib/tracing";

/*
 * One database module. PostgreSQL through postgres.js in every configured environment; PGlite
 * (Postgres compiled to WASM) only when no DATABASE_URL is given outside production. Both expose
 * the same Drizzle API, so services never know which one they run on.
 */

export type Database = PostgresJsDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
export type DbOrTx = Database | Tx;

/* `db.execute` answers an array on postgres.js and `{ rows }` on PGlite; callers want rows. */
export function rowsOf<T>(result: unknown): T[] {
  return (Array.isArray(result) ? result : ((result as { rows?: T[] }).rows ?? [])) as T[];
}

/** Raw access for migrations and probes (multi-statement scripts, no ORM). */
export type RawExecutor = {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  script(text: string): Promise<void>;
};

export type DatabaseHandle = {
  db: Database;
  kind: "postgres" | "pglite";
  raw: RawExecutor;
  rawTransaction<T>(fn: (raw: RawExecutor) => Promise<T>): Promise<T>;
  /** Round-trip latency of `SELECT 1` in milliseconds; rejects after `timeoutMs`. */
  ping(timeoutMs?: number): Promise<number>;
  /** Connections this process holds open (PostgreSQL: from pg_stat_activity; PGlite: 1). */
  connectionsActive(): Promise<number>;
  close(timeoutS?: number): Promise<void>;
  /** PostgreSQL only: refuses queries fast while the server is unreachable (src/db/breaker.ts). */
  breaker?: Breaker;
  /** Reports a failure a caller saw; a connection failure opens the breaker. */
  noteFailure(error: unknown): void;
  /**
   * PostgreSQL only: one pool connection kept for the caller (session-level advisory locks). The
   * session ends, and its locks with it, on `release` or when the process dies.
   */
  reserve?(): Promise<ReservedSession>;
  /**
   * PostgreSQL only: `COPY … FROM STDIN` with `text` (COPY text format) as the data. The cheapest
   * bulk insert on both sides of the wire; a bad row fails the whole statement.
   */
  copyIn?(statement: string, text: string): Promise<void>;
};

export type ReservedSession = {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  release(): void;
};

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/*
 * The compiled binary leaves PGlite out (package.json `build`: --external), so without DATABASE_URL
 * it has no database to open: say so instead of failing on "Cannot find package".
 */
export const NO_EMBEDDED_DATABASE =
  "DATABASE_URL is not set, and this build has no embedded database (PGlite is development-only and not bundled in the compiled binary); set DATABASE_URL=postgresql://user@host:5432/dbname";

export type OpenDatabaseOptions = { logger?: Logger; tracing?: Tracing };

export async function openDatabase(
  config: Config,
  options: OpenDatabaseOptions = {},
): Promise<DatabaseHandle> {
  const observe = queryObserver(config, options);
  if (config.databaseUrl) return openPostgres(config, config.databaseUrl, options.logger, observe);
  if (import.meta.path.startsWith("/$bunfs")) throw new ConfigError([NO_EMBEDDED_DATABASE]);
  if (config.environment === "production") {
    throw new Error("DATABASE_URL is required in production; the embedded database is development-only");
  }
  return openPglite(config.pgliteDir, observe);
}

/* Called as a statement is issued; the returned function when it settles. */
type QueryObserver = (text: string, params: readonly unknown[] | undefined) => (error?: unknown) => void;

const DONE = () => {};

/* A parameter as the SQL log shows it: its type and size, never its value (customer data, secrets). */
export function maskParam(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return `<string:${value.length}>`;
  if (value instanceof Uint8Array) return `<bytes:${value.byteLength}>`;
  if (value instanceof Date) return "<date>";
  if (Array.isArray(value)) return `<array:${value.length}>`;
  return `<${typeof value}>`;
}

/*
 * SQL spans (tracing on) and the seed's `echo=DEBUG` statement log (DB_ECHO, never in
 * production); null when neither is wanted, so the query path is left untouched.
 */
function queryObserver(config: Config, options: OpenDatabaseOptions): QueryObserver | null {
  const tracing = options.tracing ?? NO_TRACING;
  const echo = config.dbEcho && config.environment !== "production" ? options.logger : undefined;
  if (!tracing.enabled && !echo) return null;
  const system = config.databaseUrl ? "postgresql" : "pglite";
  return (text, params) => {
    echo?.debug({ sql: text, params: Array.isArray(params) ? params.map(maskParam) : [] }, "sql");
    if (!tracing.enabled) return DONE;
    const operation = /^\s*([a-z]+)/i.exec(text)?.[1]?.toUpperCase() ?? "SQL";
    const span = tracing.child(operation, {
      "db.system.name": system,
      "db.operation.name": operation,
      "db.query.text": text.length > 2000 ? `${text.slice(0, 2000)}…` : text,
    });
    return (error) => endSpan(span, error);
  };
}

/* A postgres.js query is a lazy promise: run `done` when it settles, whoever awaits it. */
function observed<Q extends Promise<unknown>>(query: Q, done: (error?: unknown) => void): Q {
  const then = query.then;
  let settled = false;
  const finish = (error?: unknown) => {
    if (settled) return;
    settled = true;
    done(error);
  };
  // biome-ignore lint/suspicious/noThenProperty: the query is a promise; this observes its own `then`
  Object.defineProperty(query, "then", {
    configurable: true,
    value(this: Q, onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) {
      return then.call(
        this,
        (value) => {
          finish();
          return onFulfilled ? onFulfilled(value) : value;
        },
        (error) => {
          finish(error);
          if (onRejected) return onRejected(error);
          throw error;
        },
      );
    },
  });
  return query;
}

/*
 * Every query and transaction the app issues passes here. While the breaker is open they are
 * refused at once (503) instead of waiting in the driver's reconnect back-off.
 *
 * Drizzle calls `unsafe(query, params)` without options, which makes postgres.js send every query
 * as an unnamed statement that PostgreSQL parses and plans again each time (drizzle-orm#6096).
 * Named prepared statements halve the round trip of a typical primary-key read. Set
 * DB_PREPARE=false behind a transaction-mode pooler (PgBouncer), which cannot keep them.
 */
function guarded<T extends postgres.Sql | postgres.TransactionSql>(
  sql: T,
  prepare: boolean,
  breaker: Breaker,
  observe: QueryObserver | null = null,
): T {
  return new Proxy(sql, {
    get(target, prop) {
      if (prop === "unsafe") {
        return (query: string, params?: unknown[], options?: postgres.UnsafeQueryOptions) => {
          breaker.check();
          const pending = target.unsafe(query, params as postgres.ParameterOrJSON<never>[], {
            prepare,
            ...options,
          });
          return observe ? observed(pending, observe(query, params)) : pending;
        };
      }
      if (prop === "begin" || prop === "savepoint") {
        return (...args: unknown[]) => {
          breaker.check();
          const last = args.length - 1;
          const fn = args[last] as (tx: postgres.TransactionSql) => unknown;
          args[last] = (tx: postgres.TransactionSql) => fn(guarded(tx, prepare, breaker, observe));
          const run = (Reflect.get(target, prop, target) as (...a: unknown[]) => Promise<unknown>).apply(
            target,
            args,
          );
          if (prop === "savepoint") return run;
          return run.catch((error: unknown) => {
            if (isConnectionError(error)) breaker.trip(error);
            throw error;
          });
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/* Reconnect back-off in seconds (postgres.js multiplies by 1000): 0.05, 0.1, 0.2 … capped at 1 s
 * with jitter, instead of the driver's default that grows to 20 s. */
export const reconnectBackoffS = (retries: number) =>
  Math.min(1, 0.05 * 2 ** retries) * (0.75 + Math.random() / 4);

/*
 * postgres.js has no checkout hook, so DB_POOL_PRE_PING (SQLAlchemy's ping before reuse) is kept
 * by never reusing a connection that sat idle long enough to have been dropped silently (NAT,
 * Azure Load Balancer's idle timeout of 4 minutes): it is closed after DB_POOL_PRE_PING_IDLE_S,
 * and the next checkout opens a fresh one whose start-up handshake is the validation.
 */
export function effectiveIdleTimeoutS(config: Config): number | undefined {
  const idle = config.dbIdleTimeoutS > 0 ? config.dbIdleTimeoutS : undefined;
  if (!config.dbPoolPrePing) return idle;
  return idle === undefined ? config.dbPoolPrePingIdleS : Math.min(idle, config.dbPoolPrePingIdleS);
}

function openPostgres(
  config: Config,
  url: string,
  logger?: Logger,
  observe: QueryObserver | null = null,
): DatabaseHandle {
  // Unique per process so pg_stat_activity can count exactly this pool's connections.
  const applicationName = `${config.appName}:${process.pid}`.slice(0, 63);
  const sql = postgres(url, {
    max: config.dbPoolSize + config.dbMaxOverflow,
    max_lifetime: config.dbPoolRecycleS > 0 ? config.dbPoolRecycleS : null,
    idle_timeout: effectiveIdleTimeoutS(config),
    connect_timeout: config.dbConnectTimeoutS,
    // Deep pipelining degrades sharply once more queries are queued than connections exist
    // (decisions.md → Runtime parts); one query per connection at a time keeps throughput flat.
    ...({ max_pipeline: 1 } as object),
    backoff: reconnectBackoffS,
    onnotice: () => {},
    connection: {
      application_name: applicationName,
      statement_timeout: config.dbStatementTimeoutMs,
      TimeZone: "UTC",
    },
  });
  const breaker = createBreaker({
    probe: () => withTimeout(sql`select 1`.execute(), 1000, "database probe"),
    logger,
  });
  const db = withCommitHooks(
    drizzlePostgres(guarded(sql, config.dbPrepare, breaker, observe), {
      schema,
      casing: "snake_case",
    }),
  );
  const rawOf = (s: postgres.Sql | postgres.TransactionSql): RawExecutor => ({
    query: async <T>(text: string, params: unknown[] = []) =>
      (await s.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[],
    script: async (text: string) => {
      await s.unsafe(text);
    },
  });
  return {
    db,
    kind: "postgres",
    raw: rawOf(sql),
    rawTransaction: (fn) => sql.begin((tx) => fn(rawOf(tx))) as Promise<never>,
    ping: async (timeoutMs = 2000) => {
      const start = performance.now();
      await withTimeout(sql`select 1`.execute(), timeoutMs, "database ping");
      return performance.now() - start;
    },
    connectionsActive: async () => {
      const rows = await withTimeout(
        sql`select count(*)::int as n from pg_stat_activity where application_name = ${applicationName}`,
        1000,
        "connection count",
      );
      return Number(rows[0]?.n ?? 0);
    },
    close: async (timeoutS = 5) => {
      breaker.stop();
      await sql.end({ timeout: timeoutS });
    },
    breaker,
    noteFailure: (error) => {
      if (isConnectionError(error)) breaker.trip(error);
    },
    reserve: async () => {
      const conn = await sql.reserve();
      return {
        query: async <T>(text: string, params: unknown[] = []) =>
          (await conn.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[],
        release: () => conn.release(),
      };
    },
    copyIn: async (statement, text) => {
      const stream = await sql.unsafe(statement).writable();
      // 'finish' once the server confirmed the COPY; 'error' when it refused it (the patch in
      // patches/postgres@3.4.9.patch ends the stream on an ErrorResponse; unpatched it would hang).
      await new Promise<void>((resolve, reject) => {
        stream.once("error", reject);
        stream.once("finish", resolve);
        stream.end(text);
      });
    },
  };
}

/* The embedded database's query entry points, observed like postgres.js's `unsafe`. */
function observedPglite<P extends object>(pg: P, observe: QueryObserver): P {
  return new Proxy(pg, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (prop === "query" || prop === "exec") {
        return (text: string, params?: unknown[], ...rest: unknown[]) => {
          const done = observe(text, params);
          return (value as (...a: unknown[]) => Promise<unknown>).call(target, text, params, ...rest).then(
            (result) => {
              done();
              return result;
            },
            (error) => {
              done(error);
              throw error;
            },
          );
        };
      }
      if (prop === "transaction") {
        return (fn: (tx: object) => Promise<unknown>) =>
          (value as (f: (tx: object) => Promise<unknown>) => Promise<unknown>).call(target, (tx) =>
            fn(observedPglite(tx, observe)),
          );
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

async function openPglite(dir: string, observe: QueryObserver | null = null): Promise<DatabaseHandle> {
  // Loaded only here, so the production binary never needs the embedded database's WASM.
  let modules: [
    typeof import("@electric-sql/pglite"),
    typeof import("drizzle-orm/pglite"),
    typeof import("@electric-sql/pglite/contrib/pg_trgm"),
  ];
  try {
    modules = await Promise.all([
      import("@electric-sql/pglite"),
      import("drizzle-orm/pglite"),
      // The search's trigram indexes (migration 0009); PostgreSQL servers ship it as contrib.
      import("@electric-sql/pglite/contrib/pg_trgm"),
    ]);
  } catch (error) {
    // Any other build or install without the package (e.g. `bun install --production` elsewhere).
    if (/cannot find (package|module)/i.test(String(error))) throw new ConfigError([NO_EMBEDDED_DATABASE]);
    throw error;
  }
  const [{ PGlite }, { drizzle: drizzlePglite }, { pg_trgm }] = modules;
  if (!dir.startsWith("memory://")) mkdirSync(dir, { recursive: true });
  const pg = await PGlite.create(dir, { extensions: { pg_trgm } });
  await pg.exec("SET TIME ZONE 'UTC'");
  const db = withCommitHooks(
    drizzlePglite(observe ? observedPglite(pg, observe) : pg, {
      schema,
      casing: "snake_case",
    }) as unknown as Database,
  );
  type PgQueryable = Pick<typeof pg, "query" | "exec">;
  const rawOf = (p: PgQueryable): RawExecutor => ({
    query: async <T>(text: string, params: unknown[] = []) => (await p.query<T>(text, params)).rows,
    script: async (text: string) => {
      await p.exec(text);
    },
  });
  return {
    db,
    kind: "pglite",
    raw: rawOf(pg),
    rawTransaction: (fn) => pg.transaction((tx) => fn(rawOf(tx))),
    ping: async (timeoutMs = 2000) => {
      const start = performance.now();
      await withTimeout(pg.query("select 1"), timeoutMs, "database ping");
      return performance.now() - start;
    },
    connectionsActive: async () => (pg.closed ? 0 : 1),
    noteFailure: () => {},
    close: async () => {
      if (!pg.closed) await pg.close();
    },
  };
}

/*
 * Hand-written SQL for the hottest reads, with Drizzle's query building left out: the text is a
 * constant, so PostgreSQL keeps one named prepared statement per connection for it (the
 * `preparing` wrapper, unless DB_PREPARE=false) and nothing is rebuilt per call. Works inside a
 * transaction and on PGlite. Select text, integers and booleans only (cast in SQL), so both
 * drivers return the same JavaScript values.
 */
export async function readRows<T>(db: DbOrTx, text: string, params: unknown[]): Promise<T[]> {
  const client = (db as unknown as { session: { client: unknown } }).session.client as
    | { unsafe: (text: string, params: unknown[]) => Promise<unknown> }
    | { query: (text: string, params: unknown[]) => Promise<{ rows: unknown[] }> };
  if ("unsafe" in client) return (await client.unsafe(text, params)) as T[];
  return (await client.query(text, params)).rows as T[];
}
