import { CACHE_TTL, type Cache, cached } from "@/lib/cache";

/*
 * The project-facing catalogue is read on every session start and changes only through the admin
 * masters or the seed loader, so it is cached for CACHE_TTL.catalogue (api.md §4.3). Every writer
 * drops the whole `catalogue:` namespace, which also covers the version key of §4.3.
 */

export const CATALOGUE_PREFIX = "catalogue:";

export function catalogueCached<T>(cache: Cache, suffix: string, load: () => Promise<T>): Promise<T> {
  return cached(cache, `${CATALOGUE_PREFIX}${suffix}`, CACHE_TTL.catalogue, load);
}

/** After any master write; a cache outage only delays freshness by the TTL. */
export async function invalidateCatalogue(cache: Cache): Promise<void> {
  await cache.deleteByPrefix(CATALOGUE_PREFIX).catch(() => 0);
}
