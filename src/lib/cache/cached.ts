import type { Cache } from "./types";

/*
 * Read-through: return the cached value, else load, store and return it. Concurrent misses for
 * the same key in this process share one load, so a cold key under load costs one query, not N.
 * null/undefined results are not cached unless asked (a "not found" that outlives the row's
 * creation would be a bug); use a sentinel such as "none" for negative caching instead.
 */

const inFlight = new WeakMap<Cache, Map<string, Promise<unknown>>>();

export type CachedOptions = { cacheNull?: boolean };

export async function cached<T>(
  cache: Cache,
  key: string,
  ttlS: number | undefined,
  load: () => Promise<T>,
  options: CachedOptions = {},
): Promise<T> {
  const hit = cache.peek?.<T>(key) ?? (await cache.get<T>(key));
  if (hit !== undefined && (hit !== null || options.cacheNull)) return hit;

  let loads = inFlight.get(cache);
  if (!loads) {
    loads = new Map();
    inFlight.set(cache, loads);
  }
  const pending = loads.get(key);
  if (pending) return pending as Promise<T>;

  const map = loads;
  const promise = (async () => {
    try {
      const value = await load();
      if (value !== undefined && (value !== null || options.cacheNull)) await cache.set(key, value, ttlS);
      return value;
    } finally {
      map.delete(key);
    }
  })();
  map.set(key, promise);
  return promise;
}
