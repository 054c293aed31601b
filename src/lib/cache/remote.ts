import {
  type Cache,
  type CacheBackend,
  type CacheHooks,
  type CacheLogger,
  CacheUnavailableError,
  errorMessage,
  type IncrResult,
  keyPrefix,
  type PingResult,
  ttlToMs,
} from "./types";

/*
 * What the Redis and Upstash backends have in common: prefixing, JSON, per-operation time
 * bounds, the outage state machine and the reconnect loop. A backend only supplies a driver
 * that speaks the handful of commands below.
 */

export interface RemoteDriver {
  /* (Re)establishes the connection; called once at start and by every reconnect attempt. */
  connect(): Promise<void>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
  del(key: string): Promise<void>;
  scan(cursor: string, match: string, count: number): Promise<[string, string[]]>;
  /* Returns how many of the keys existed (SCAN may repeat a key; counting replies avoids double counting). */
  unlink(keys: string[]): Promise<number>;
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
  ping(): Promise<void>;
  close(): Promise<void>;
  /* True when the server answered with an error reply: the store is up, the command was wrong. */
  isCommandError(err: unknown): boolean;
  /* Set by RemoteCache; the driver calls it when the connection drops on its own. */
  onDisconnect?: (err: unknown) => void;
}

export type RemoteCacheOptions = CacheHooks & {
  appName: string;
  environment: string;
  logger: CacheLogger;
  defaultTtlS?: number;
  /* Upper bound for every single command, so a hung server cannot hang a request. */
  opTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnectBaseDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /* At most one outage warning per interval, however many operations fail. */
  logIntervalMs?: number;
  scanBatch?: number;
  /* Deletes that could not be applied during an outage are replayed on recovery, up to this many. */
  maxPendingInvalidations?: number;
};

/* INCR and set the window's expiry in one step; PTTL < 0 also repairs a counter that lost its TTL. */
export const INCR_SCRIPT = `local n = redis.call('INCR', KEYS[1])
local t = redis.call('PTTL', KEYS[1])
if t < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  t = tonumber(ARGV[1])
end
return {n, t}`;

export class CacheTimeoutError extends Error {
  constructor(ms: number) {
    super(`cache operation timed out after ${ms} ms`);
    this.name = "CacheTimeoutError";
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheTimeoutError(ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, "\\$&");
}

type State = "connecting" | "up" | "down" | "closed";

export class RemoteCache implements Cache {
  readonly backend: CacheBackend;
  private readonly driver: RemoteDriver;
  private readonly prefix: string;
  private readonly log: CacheLogger;
  private readonly hooks: CacheHooks;
  private readonly defaultTtlS: number;
  private readonly opTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly logIntervalMs: number;
  private readonly scanBatch: number;
  private readonly maxPending: number;

  private state: State = "connecting";
  private connecting: Promise<void> | null;
  /* Bumped on every recovery so a late failure from the previous connection cannot re-trip the breaker. */
  private generation = 0;
  private recovering = false;
  private sleepTimer: ReturnType<typeof setTimeout> | null = null;
  private wake: (() => void) | null = null;
  private lastError: unknown = null;
  private lastOutageLogAt = Number.NEGATIVE_INFINITY;
  private lastCommandErrorLogAt = Number.NEGATIVE_INFINITY;
  private outageLogged = false;
  private droppedOps = 0;
  private readonly pendingKeys = new Set<string>();
  private readonly pendingPrefixes = new Set<string>();
  private pendingOverflow = false;

  constructor(backend: CacheBackend, driver: RemoteDriver, options: RemoteCacheOptions) {
    this.backend = backend;
    this.driver = driver;
    this.prefix = keyPrefix(options.appName, options.environment);
    this.log = options.logger;
    this.hooks = { onHit: options.onHit, onMiss: options.onMiss, onError: options.onError };
    this.defaultTtlS = options.defaultTtlS ?? 300;
    this.opTimeoutMs = options.opTimeoutMs ?? 500;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.baseDelayMs = options.reconnectBaseDelayMs ?? 200;
    this.maxDelayMs = options.reconnectMaxDelayMs ?? 10_000;
    this.logIntervalMs = options.logIntervalMs ?? 60_000;
    this.scanBatch = options.scanBatch ?? 500;
    this.maxPending = options.maxPendingInvalidations ?? 10_000;

    driver.onDisconnect = (err) => {
      if (this.state === "up") this.markDown(err, this.generation);
    };
    this.connecting = withTimeout(driver.connect(), this.connectTimeoutMs).then(
      () => {
        if (this.state === "connecting") this.state = "up";
      },
      (err) => this.markDown(err, this.generation),
    );
    void this.connecting.finally(() => {
      this.connecting = null;
    });
  }

  /* "up" | "down" | … — for health output and tests. */
  get status(): State {
    return this.state;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    let raw: string | null;
    try {
      raw = await this.run(() => this.driver.get(this.prefix + key));
    } catch {
      this.hooks.onMiss?.();
      return undefined;
    }
    if (raw === null || raw === undefined) {
      this.hooks.onMiss?.();
      return undefined;
    }
    try {
      const value = JSON.parse(raw) as T;
      this.hooks.onHit?.();
      return value;
    } catch {
      // Not written by us (or truncated): behave as a miss so the caller reloads and overwrites it.
      this.hooks.onMiss?.();
      return undefined;
    }
  }

  async set(key: string, value: unknown, ttlS?: number): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) return;
    try {
      await this.run(() => this.driver.set(this.prefix + key, json, ttlToMs(ttlS, this.defaultTtlS)));
    } catch {
      // A dropped write is only a future miss.
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.run(() => this.driver.del(this.prefix + key));
    } catch {
      // A dropped invalidation would leave stale data behind once the store is back.
      this.remember(this.pendingKeys, key);
    }
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    try {
      return await this.scanDelete(prefix);
    } catch {
      this.remember(this.pendingPrefixes, prefix);
      return 0;
    }
  }

  async incr(key: string, ttlS: number): Promise<IncrResult> {
    const ttlMs = ttlToMs(ttlS, this.defaultTtlS);
    let reply: unknown;
    try {
      reply = await this.run(() => this.driver.eval(INCR_SCRIPT, [this.prefix + key], [String(ttlMs)]));
    } catch (err) {
      if (err instanceof CacheUnavailableError) throw err;
      throw new CacheUnavailableError(this.backend, err);
    }
    const [count, ttl] = Array.isArray(reply) ? reply : [];
    return { count: Number(count), ttlMs: Math.max(0, Number(ttl)) };
  }

  async evalScript(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.run(() =>
      this.driver.eval(
        script,
        keys.map((k) => this.prefix + k),
        args.map(String),
      ),
    );
  }

  async ping(): Promise<PingResult> {
    if (this.state === "closed") return { ok: false, latencyMs: 0, error: "closed" };
    if (this.state === "down") return { ok: false, latencyMs: 0, error: errorMessage(this.lastError) };
    const t0 = performance.now();
    try {
      await this.run(() => this.driver.ping());
      return { ok: true, latencyMs: performance.now() - t0 };
    } catch (err) {
      const cause = err instanceof CacheUnavailableError ? (err.cause ?? err) : err;
      return { ok: false, latencyMs: performance.now() - t0, error: errorMessage(cause) };
    }
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    if (this.sleepTimer) clearTimeout(this.sleepTimer);
    this.wake?.();
    await this.driver.close().catch(() => undefined);
  }

  /*
   * Every command goes through here: fast-fail while down, time-bounded while up. Server error
   * replies are passed through (the store is fine); anything else trips the breaker.
   */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    if (this.state === "closed" || this.state === "down") {
      this.hooks.onError?.();
      this.droppedOps++;
      throw new CacheUnavailableError(this.backend, this.lastError);
    }
    const generation = this.generation;
    const startedConnecting = this.state === "connecting";
    try {
      return await withTimeout(
        (async () => {
          if (this.connecting) await this.connecting;
          if (this.state !== "up") throw new CacheUnavailableError(this.backend, this.lastError);
          return op();
        })(),
        this.opTimeoutMs,
      );
    } catch (err) {
      this.hooks.onError?.();
      if (err instanceof CacheUnavailableError) {
        this.droppedOps++;
        throw err;
      }
      if (this.driver.isCommandError(err)) {
        this.logCommandError(err);
        throw err;
      }
      // A slow first connection is not an outage yet; the connect attempt decides that.
      if (!(startedConnecting && err instanceof CacheTimeoutError)) this.markDown(err, generation);
      this.droppedOps++;
      throw new CacheUnavailableError(this.backend, err);
    }
  }

  private markDown(err: unknown, generation: number): void {
    if (this.state === "closed" || generation !== this.generation) return;
    this.lastError = err;
    if (this.state !== "down") this.state = "down";
    this.logOutage(err);
    if (!this.recovering) void this.recover();
  }

  private logOutage(err: unknown): void {
    const now = Date.now();
    if (now - this.lastOutageLogAt < this.logIntervalMs) return;
    this.lastOutageLogAt = now;
    this.outageLogged = true;
    this.log.warn(
      { backend: this.backend, err: errorMessage(err), droppedOps: this.droppedOps },
      "cache unavailable; reads fall through to the database, writes are skipped",
    );
    this.droppedOps = 0;
  }

  private logCommandError(err: unknown): void {
    const now = Date.now();
    if (now - this.lastCommandErrorLogAt < this.logIntervalMs) return;
    this.lastCommandErrorLogAt = now;
    this.log.error({ backend: this.backend, err: errorMessage(err) }, "cache command failed");
  }

  private async recover(): Promise<void> {
    this.recovering = true;
    let attempt = 0;
    try {
      while (this.state === "down") {
        const delay = Math.min(this.baseDelayMs * 2 ** attempt, this.maxDelayMs);
        attempt++;
        // Jitter keeps a fleet of instances from reconnecting in lock-step.
        await this.sleep(delay * (0.5 + Math.random() * 0.5));
        if (this.state !== "down") break;
        try {
          await withTimeout(this.driver.connect(), this.connectTimeoutMs);
          await withTimeout(this.driver.ping(), this.opTimeoutMs);
          await this.replayInvalidations();
        } catch (err) {
          this.lastError = err;
          this.logOutage(err);
          continue;
        }
        if (this.state !== "down") break;
        this.generation++;
        this.state = "up";
        if (this.outageLogged) {
          this.log.info({ backend: this.backend, attempts: attempt }, "cache reconnected");
          this.outageLogged = false;
        }
      }
    } finally {
      this.recovering = false;
    }
  }

  private remember(set: Set<string>, key: string): void {
    if (this.pendingOverflow) return;
    if (set.size + 1 > this.maxPending) {
      this.pendingOverflow = true;
      this.pendingKeys.clear();
      this.pendingPrefixes.clear();
      return;
    }
    set.add(key);
  }

  /* Runs before the breaker closes, so nobody reads an entry that should have been invalidated. */
  private async replayInvalidations(): Promise<void> {
    const direct = <T>(op: () => Promise<T>) => withTimeout(op(), this.opTimeoutMs);
    if (this.pendingOverflow) {
      await this.scanDeleteWith("", direct);
      this.pendingOverflow = false;
    }
    for (const prefix of [...this.pendingPrefixes]) {
      await this.scanDeleteWith(prefix, direct);
      this.pendingPrefixes.delete(prefix);
    }
    for (const key of [...this.pendingKeys]) {
      await direct(() => this.driver.del(this.prefix + key));
      this.pendingKeys.delete(key);
    }
  }

  private scanDelete(prefix: string): Promise<number> {
    return this.scanDeleteWith(prefix, (op) => this.run(op));
  }

  private async scanDeleteWith(
    prefix: string,
    exec: <T>(op: () => Promise<T>) => Promise<T>,
  ): Promise<number> {
    const match = escapeGlob(this.prefix + prefix) + "*";
    let cursor = "0";
    let deleted = 0;
    do {
      const [next, keys] = await exec(() => this.driver.scan(cursor, match, this.scanBatch));
      cursor = String(next);
      if (keys.length > 0) {
        deleted += await exec(() => this.driver.unlink(keys));
      }
    } while (cursor !== "0");
    return deleted;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.sleepTimer = setTimeout(resolve, ms);
      // Reconnecting must not keep an otherwise finished process alive.
      this.sleepTimer.unref?.();
    });
  }
}
