import type { CacheBackend } from "./types";

/*
 * The cache key design (api.md §4.3) in one place. Keys here are unprefixed; the adapter adds
 * `{APP_NAME}:{ENVIRONMENT}:`. Invalidation code must use the same helpers as the readers, which
 * is the point of not writing key literals anywhere else.
 */

export const CACHE_TTL_DEFAULT_S = 300;

export const CACHE_TTL = {
  /* Short, because role/activation changes must take effect quickly on every instance. */
  user: 60,
  userMemory: 5,
  authSession: 60,
  authSessionMemory: 5,
  settings: 5,
  catalogue: 600,
  llmQuota: 3600,
} as const;

/* In memory mode other instances cannot invalidate our copy, so identity data lives only 5 s. */
export function userTtlS(backend: CacheBackend): number {
  return backend === "memory" ? CACHE_TTL.userMemory : CACHE_TTL.user;
}

export function authSessionTtlS(backend: CacheBackend): number {
  return backend === "memory" ? CACHE_TTL.authSessionMemory : CACHE_TTL.authSession;
}

export const userKey = (userId: string) => `user:${userId}`;
export const authSessionKey = (keyHash: string) => `authsess:${keyHash}`;
export const memberRoleKey = (projectId: string, userId: string) => `member_role:${projectId}:${userId}`;
/* Every member's role in one project: used when a project is deleted. */
export const memberRolePrefix = (projectId: string) => `member_role:${projectId}:`;
export const projectKey = (projectId: string) => `project:${projectId}`;
export const rateLimitKey = (key: string) => `ratelimit:${key}`;
/*
 * The seed's `analysis_template:{id}` key is deliberately not used: a saved template's read
 * carries its usage count (changed by every apply) and is filtered by the caller's project
 * (own or public), so a cached copy would need invalidation on apply, edit, delete and
 * visibility change, to save one primary-key read.
 */
export const settingsKey = (category: string) => `settings:${category}`;
export const SETTINGS_VERSION_KEY = "settings:version";
export const SETTINGS_PREFIX = "settings:";
/* Every stored setting value in one entry: the in-process settings store reloads from it. */
export const SETTINGS_SNAPSHOT_KEY = "settings:snapshot";
export const catalogueKey = (version: number | string) => `catalogue:v${version}`;
export const CATALOGUE_VERSION_KEY = "catalogue:version";

/* Hours since the epoch (UTC), the bucket of the per-user LLM quota. */
export function hourBucket(at: Date | number = Date.now()): number {
  const ms = typeof at === "number" ? at : at.getTime();
  return Math.floor(ms / 3_600_000);
}

export const llmQuotaKey = (userId: string, hour: number | Date) =>
  `llmquota:${userId}:${typeof hour === "number" ? hour : hourBucket(hour)}`;
