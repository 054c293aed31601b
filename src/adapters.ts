import type { Logger } from "pino";
import type { Config } from "@/config";
import { type Cache, createCache } from "@/lib/cache";
import { GENERATION_KEY, NearCache } from "@/lib/cache/near";
import { tracedCache } from "@/lib/cache/traced";
import { metrics } from "@/lib/metrics";
import { createRateLimiter, type RateLimiter } from "@/lib/rate-limit";
import { createStorage, type Storage } from "@/lib/storage";
import { tracedStorage } from "@/lib/storage/traced";
import { NO_TRACING, type Tracing } from "@/lib/tracing";
import { EnginePool } from "@/modules/analysis/engine-pool";

/*
 * The adapters chosen by configuration, in one place so the server and the tests build them the
 * same way (tests only change the key namespace and the storage folder).
 */

/*
 * A shared (Redis/Upstash) cache gets the in-process near layer: its coherence rides on the rate
 * limiter's round trip (see lib/cache/near.ts and rateLimiterFor below).
 */
export function cacheFor(
  config: Config,
  logger: Logger,
  namespace = config.appName,
  tracing: Tracing = NO_TRACING,
): Cache {
  const untraced = createCache({
    appName: namespace,
    environment: config.environment,
    logger,
    redisUrl: config.redisUrl,
    upstashUrl: config.upstashRedisRestUrl,
    upstashToken: config.upstashRedisRestToken,
    defaultTtlS: config.cacheTtlS,
    onHit: () => metrics.recordCacheHit(),
    onMiss: () => metrics.recordCacheMiss(),
  });
  // Inside the near layer: only real round trips to Redis/Upstash become spans.
  const shared = tracedCache(untraced, tracing);
  if (shared.backend === "memory" || !shared.evalScript) return shared;
  return new NearCache(shared as ConstructorParameters<typeof NearCache>[0], {
    onHit: () => metrics.recordCacheHit(),
  });
}

export function storageFor(
  config: Config,
  logger: Logger,
  localPath = config.localStoragePath,
  tracing: Tracing = NO_TRACING,
): Storage {
  const storage = createStorage({
    backend: config.storageBackend,
    localPath,
    azureConnectionString: config.azureStorageConnectionString,
    azureAccountName: config.azureStorageAccountName,
    containerNames: { uploads: config.azureStorageContainerName },
    logger,
  });
  return tracedStorage(storage, tracing);
}

/* Shared through the cache's Redis when there is one (every worker and instance, one budget). */
export function rateLimiterFor(config: Config, cache: Cache, logger: Logger): RateLimiter {
  const evalScript = cache.evalScript?.bind(cache);
  return createRateLimiter({
    limit: config.rateLimitCalls,
    windowS: config.rateLimitPeriodS,
    // The cache adapter prefixes keys itself, so the limiter only adds its own namespace.
    redis: evalScript ? { eval: (script, keys, args) => evalScript(script, keys, args) } : null,
    keyPrefix: "ratelimit:",
    logger,
    onFallback: () => metrics.rateLimitFallbacks(),
    ...(cache instanceof NearCache
      ? { generationKey: GENERATION_KEY, onGeneration: (g: number | null) => cache.syncGeneration(g) }
      : {}),
  });
}

/* The analysis parse workers: started on first use, so an app that never parses costs nothing. */
export function enginePoolFor(config: Config): EnginePool {
  return new EnginePool({ size: config.analysisWorkers });
}
