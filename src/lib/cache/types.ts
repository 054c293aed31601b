/*
 * The cache contract shared by the memory, Redis and Upstash backends. Callers pass unprefixed
 * keys; every backend adds `{appName}:{environment}:` itself so deployments sharing one Redis
 * never see each other's entries.
 *
 * Failure policy (decisions.md "Runtime parts"): a cache outage never fails a request.
 *   - get → undefined (a miss), set/delete/deleteByPrefix → silently dropped (0 deleted)
 *   - incr and evalScript → reject with `CacheUnavailableError`, because a rate limiter must
 *     know the shared counter is gone so it can fall back to a per-process one and say so.
 */

export type CacheBackend = "memory" | "redis" | "upstash";

/* pino-compatible: object first, message second. */
export type CacheLogger = {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
};

export type CacheHooks = {
  onHit?: () => void;
  onMiss?: () => void;
  onError?: () => void;
};

export type PingResult = { ok: boolean; latencyMs: number; error?: string };

/* `ttlMs` is the time left on the counter's window, never negative. */
export type IncrResult = { count: number; ttlMs: number };

export interface Cache {
  readonly backend: CacheBackend;
  /* undefined on a miss, an expired entry, or an outage. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /* What `get` would answer without any I/O (an in-process layer), else undefined; optional. */
  peek?<T = unknown>(key: string): T | undefined;
  /* `ttlS` may be fractional; omitted → the backend's default TTL (CACHE_TTL). undefined values are ignored. */
  set(key: string, value: unknown, ttlS?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /* Returns how many entries were removed (0 during an outage). */
  deleteByPrefix(prefix: string): Promise<number>;
  /*
   * Atomically increments a counter; the expiry is set when the counter is created (and repaired
   * if it was ever lost), so a window never outlives `ttlS`. Throws `CacheUnavailableError` on outage.
   */
  incr(key: string, ttlS: number): Promise<IncrResult>;
  /*
   * Runs a Lua script against the shared store (remote backends only). `keys` are prefixed like
   * every other key. Throws `CacheUnavailableError` on outage.
   */
  evalScript?(script: string, keys: string[], args: (string | number)[]): Promise<unknown>;
  ping(): Promise<PingResult>;
  close(): Promise<void>;
}

export class CacheUnavailableError extends Error {
  readonly backend: CacheBackend;
  constructor(backend: CacheBackend, cause?: unknown) {
    super(`cache backend ${backend} is unavailable`, { cause });
    this.name = "CacheUnavailableError";
    this.backend = backend;
  }
}

export function keyPrefix(appName: string, environment: string): string {
  return `${appName}:${environment}:`;
}

export function ttlToMs(ttlS: number | undefined, defaultTtlS: number): number {
  const s = ttlS === undefined || !Number.isFinite(ttlS) || ttlS <= 0 ? defaultTtlS : ttlS;
  return Math.max(1, Math.round(s * 1000));
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
