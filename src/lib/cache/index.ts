import { MemoryCache } from "./memory";
import { RedisCache } from "./redis";
import type { Cache, CacheHooks, CacheLogger } from "./types";
import { UpstashCache } from "./upstash";

export { type CachedOptions, cached } from "./cached";
export * from "./keys";
export { MemoryCache, type MemoryCacheOptions } from "./memory";
export { parseRedisUrl, RedisCache, type RedisCacheOptions } from "./redis";
export { CacheTimeoutError } from "./remote";
export * from "./types";
export { UpstashCache, type UpstashCacheOptions } from "./upstash";

export type CreateCacheOptions = CacheHooks & {
  appName: string;
  environment: string;
  logger: CacheLogger;
  redisUrl?: string | null;
  upstashUrl?: string | null;
  upstashToken?: string | null;
  /* CACHE_TTL: used when `set` is called without a TTL. */
  defaultTtlS?: number;
  opTimeoutMs?: number;
  connectTimeoutMs?: number;
  reconnectBaseDelayMs?: number;
  reconnectMaxDelayMs?: number;
  logIntervalMs?: number;
  memoryMaxEntries?: number;
  /* Extra TLS settings for rediss:// (e.g. a private CA). */
  redisTls?: Bun.TLSOptions;
};

/* Upstash when both REST url and token are given, else Redis when a URL is given, else memory. */
export function createCache(options: CreateCacheOptions): Cache {
  const common = {
    appName: options.appName,
    environment: options.environment,
    logger: options.logger,
    defaultTtlS: options.defaultTtlS,
    onHit: options.onHit,
    onMiss: options.onMiss,
    onError: options.onError,
    opTimeoutMs: options.opTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs,
    reconnectBaseDelayMs: options.reconnectBaseDelayMs,
    reconnectMaxDelayMs: options.reconnectMaxDelayMs,
    logIntervalMs: options.logIntervalMs,
  };
  if (options.upstashUrl && options.upstashToken) {
    return new UpstashCache({ ...common, url: options.upstashUrl, token: options.upstashToken });
  }
  if (options.redisUrl) {
    return new RedisCache({ ...common, url: options.redisUrl, tls: options.redisTls });
  }
  return new MemoryCache({
    appName: options.appName,
    environment: options.environment,
    defaultTtlS: options.defaultTtlS,
    maxEntries: options.memoryMaxEntries,
    onHit: options.onHit,
    onMiss: options.onMiss,
    onError: options.onError,
  });
}
