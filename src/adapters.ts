import type { Logger } from "pino";
import type { Config } from "@/config";
import { type Cache, createCache } from "@/lib/cache";
import { metrics } from "@/lib/metrics";
import { createRateLimiter, type RateLimiter } from "@/lib/rate-limit";
import { createStorage, type Storage } from "@/lib/storage";
import { EnginePool } from "@/modules/analysis/engine-pool";

/*
 * The adapters chosen by configuration, in one place so the server and the tests build them the
 * same way (tests only change the key namespace and the storage folder).
 */

export function cacheFor(config: Config, logger: Logger, namespace = config.appName): Cache {
  return createCache({
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
}

export function storageFor(config: Config, logger: Logger, localPath = config.localStoragePath): Storage {
  return createStorage({
    backend: config.storageBackend,
    localPath,
    azureConnectionString: config.azureStorageConnectionString,
    azureAccountName: config.azureStorageAccountName,
    containerNames: { uploads: config.azureStorageContainerName },
    logger,
  });
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
  });
}

/* The analysis parse workers: started on first use, so an app that never parses costs nothing. */
export function enginePoolFor(config: Config): EnginePool {
  return new EnginePool({ size: config.analysisWorkers });
}
