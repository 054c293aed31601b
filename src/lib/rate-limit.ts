import { RedisClient } from "bun";

/*
 * Fixed-window rate limiter (decisions.md "Rate limiting", api.md §4.1 row 5). With Redis the
 * window is one atomic Lua script shared by every instance and worker; without Redis, or while
 * Redis is failing, a per-process memory store answers instead so an outage never blocks traffic.
 * The fallback is logged at most once a minute and counted through `onFallback`.
 */

/* Anything that can run a Lua script against the shared Redis (a Bun client, the cache, …). */
export type RedisEvaluator = {
  eval(script: string, keys: string[], args: string[]): Promise<unknown>;
};

/* pino-compatible: object first, message second. */
export type RateLimitLogger = {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
};

export type RateLimitStore = "redis" | "memory";

export type RateLimitResult = {
  allowed: boolean;
  limit: number;
  remaining: number;
  /* Seconds until the window resets (≥ 1). */
  resetS: number;
  /* Unix time (seconds) at which the window resets. */
  resetAt: number;
  /* 0 when allowed; otherwise seconds until a request can succeed. */
  retryAfterS: number;
  store: RateLimitStore;
};

export type RateLimiterOptions = {
  limit: number;
  windowS: number;
  redis?: RedisEvaluator | null;
  logger: RateLimitLogger;
  /* Called for every hit answered from memory because Redis failed (feed a counter metric). */
  onFallback?: () => void;
  /* Prepended to every key in Redis, e.g. `camp-backend:production:ratelimit:`. */
  keyPrefix?: string;
  /* A Redis call slower than this is treated as an outage for that hit. */
  redisTimeoutMs?: number;
  /* After a failure Redis is left alone this long, so an outage does not add latency to every request. */
  redisRetryMs?: number;
  maxMemoryKeys?: number;
  fallbackLogIntervalMs?: number;
  now?: () => number;
  /*
   * A shared counter key read in the same script (unprefixed like the limiter's own keys), handed
   * to `onGeneration` after every hit: its value, or null when Redis did not answer.
   */
  generationKey?: string;
  onGeneration?: (generation: number | null) => void;
};

export type RateLimiter = {
  readonly limit: number;
  readonly windowS: number;
  hit(key: string): Promise<RateLimitResult>;
  /* Where the last hit was counted. */
  readonly store: RateLimitStore;
};

/*
 * INCR, then start the window on the first hit. A counter that somehow lost its expiry (-1) gets
 * it back, so a key can never block forever. Returns {count, ms left in the window}.
 */
export const RATE_LIMIT_SCRIPT = `local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1]) * 1000
end
return {n, ttl}`;

/* The same, also returning a shared counter (the near cache's generation, lib/cache/near.ts) read in the same round trip. */
export const RATE_LIMIT_GENERATION_SCRIPT = `local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1]) * 1000
end
return {n, ttl, tonumber(redis.call('GET', KEYS[2]) or '0')}`;

type Window = { count: number; resetAtMs: number };

/** Per-process windows, bounded: when full, the oldest windows are evicted first. */
export class MemoryWindowStore {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  get size(): number {
    return this.windows.size;
  }

  hit(key: string, nowMs: number): { count: number; ttlMs: number } {
    let w = this.windows.get(key);
    if (!w || w.resetAtMs <= nowMs) {
      // Re-inserting keeps the Map in window-start order, which makes eviction "oldest first".
      if (w) this.windows.delete(key);
      w = { count: 0, resetAtMs: nowMs + this.windowMs };
      this.windows.set(key, w);
      while (this.windows.size > this.maxKeys) {
        const oldest = this.windows.keys().next().value as string;
        this.windows.delete(oldest);
      }
    }
    w.count++;
    return { count: w.count, ttlMs: w.resetAtMs - nowMs };
  }
}

function parseScriptReply(reply: unknown): { count: number; ttlMs: number; generation: number | null } {
  if (Array.isArray(reply) && (reply.length === 2 || reply.length === 3)) {
    const count = Number(reply[0]);
    const ttlMs = Number(reply[1]);
    const generation = reply.length === 3 ? Number(reply[2]) : null;
    if (Number.isInteger(count) && count > 0 && Number.isFinite(ttlMs)) return { count, ttlMs, generation };
  }
  throw new Error(`unexpected rate-limit script reply: ${JSON.stringify(reply)}`);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`redis did not answer within ${ms} ms`)), ms);
  });
  // A late rejection of the abandoned call must not surface as an unhandled rejection.
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { limit, windowS, logger } = options;
  if (!Number.isInteger(limit) || limit < 1) throw new Error("rate limit must be a positive integer");
  // EXPIRE takes whole seconds.
  if (!Number.isInteger(windowS) || windowS < 1)
    throw new Error("rate-limit window must be whole seconds ≥ 1");
  const redis = options.redis ?? null;
  const keyPrefix = options.keyPrefix ?? "ratelimit:";
  const timeoutMs = options.redisTimeoutMs ?? 300;
  const retryMs = options.redisRetryMs ?? 5_000;
  const logIntervalMs = options.fallbackLogIntervalMs ?? 60_000;
  const now = options.now ?? Date.now;
  const memory = new MemoryWindowStore(windowS * 1000, options.maxMemoryKeys ?? 10_000);

  let redisDownUntil = 0;
  let degraded = false;
  let lastFallbackLogAt = Number.NEGATIVE_INFINITY;
  let lastStore: RateLimitStore = redis ? "redis" : "memory";

  const result = (count: number, ttlMs: number, store: RateLimitStore, nowMs: number): RateLimitResult => {
    const allowed = count <= limit;
    const resetS = Math.max(1, Math.ceil(ttlMs / 1000));
    lastStore = store;
    return {
      allowed,
      limit,
      remaining: Math.max(0, limit - count),
      resetS,
      resetAt: Math.ceil(nowMs / 1000) + resetS,
      retryAfterS: allowed ? 0 : resetS,
      store,
    };
  };

  function fellBack(error: unknown, nowMs: number): void {
    redisDownUntil = nowMs + retryMs;
    degraded = true;
    if (nowMs - lastFallbackLogAt >= logIntervalMs) {
      lastFallbackLogAt = nowMs;
      logger.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "rate limiter: Redis unavailable, counting in per-process memory",
      );
    }
  }

  const generationKey = options.generationKey ?? null;
  const onGeneration = options.onGeneration ?? (() => {});

  async function hit(key: string): Promise<RateLimitResult> {
    const nowMs = now();
    if (redis && nowMs >= redisDownUntil) {
      try {
        const reply = await withTimeout(
          generationKey
            ? redis.eval(RATE_LIMIT_GENERATION_SCRIPT, [keyPrefix + key, generationKey], [String(windowS)])
            : redis.eval(RATE_LIMIT_SCRIPT, [keyPrefix + key], [String(windowS)]),
          timeoutMs,
        );
        const { count, ttlMs, generation } = parseScriptReply(reply);
        if (generationKey) onGeneration(generation);
        if (degraded) {
          degraded = false;
          logger.info({}, "rate limiter: Redis is back, shared counting resumed");
        }
        return result(count, ttlMs, "redis", nowMs);
      } catch (error) {
        fellBack(error, nowMs);
      }
    }
    if (redis) options.onFallback?.();
    if (generationKey) onGeneration(null);
    const { count, ttlMs } = memory.hit(key, nowMs);
    return result(count, ttlMs, "memory", nowMs);
  }

  return {
    limit,
    windowS,
    hit,
    get store() {
      return lastStore;
    },
  };
}

/** `RateLimit-*` (IETF draft: reset as delta seconds) and `X-RateLimit-*` (reset as Unix time, like the seed). */
export function rateLimitHeaders(result: RateLimitResult): Record<string, string> {
  const headers: Record<string, string> = {
    "RateLimit-Limit": String(result.limit),
    "RateLimit-Remaining": String(result.remaining),
    "RateLimit-Reset": String(result.resetS),
    "X-RateLimit-Limit": String(result.limit),
    "X-RateLimit-Remaining": String(result.remaining),
    "X-RateLimit-Reset": String(result.resetAt),
  };
  if (!result.allowed) headers["Retry-After"] = String(result.retryAfterS);
  return headers;
}

export type ClosableRedisEvaluator = RedisEvaluator & { close(): void };

/*
 * Adapts a Bun RedisClient. The offline queue is off so commands fail fast during an outage
 * instead of piling up, which means reconnecting is ours to do: at most one attempt at a time,
 * and not more than once a second.
 */
export function redisEvaluatorFromClient(
  client: RedisClient,
  reconnectIntervalMs = 1_000,
): ClosableRedisEvaluator {
  let connecting: Promise<void> | null = null;
  let lastFailureAt = Number.NEGATIVE_INFINITY;
  let closed = false;

  function ensureConnected(): Promise<void> {
    if (client.connected) return Promise.resolve();
    if (closed) return Promise.reject(new Error("redis evaluator is closed"));
    if (connecting) return connecting;
    if (Date.now() - lastFailureAt < reconnectIntervalMs) {
      return Promise.reject(new Error("redis is disconnected; reconnect throttled"));
    }
    connecting = client
      .connect()
      .catch((error: unknown) => {
        lastFailureAt = Date.now();
        throw error;
      })
      .finally(() => {
        connecting = null;
      });
    return connecting;
  }

  return {
    async eval(script, keys, args) {
      await ensureConnected();
      return client.send("EVAL", [script, String(keys.length), ...keys, ...args]);
    },
    close() {
      closed = true;
      client.close();
    },
  };
}

export function redisEvaluatorFromUrl(
  url: string,
  options: { connectionTimeoutMs?: number } = {},
): ClosableRedisEvaluator {
  const client = new RedisClient(url, {
    connectionTimeout: options.connectionTimeoutMs ?? 2_000,
    enableOfflineQueue: false,
    autoReconnect: true,
    maxRetries: 3,
  });
  return redisEvaluatorFromClient(client);
}
