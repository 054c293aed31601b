import type { AppDeps } from "@/deps";
import { NearCache } from "@/lib/cache/near";
import { problem } from "@/lib/errors";
import { rateLimitHeaders } from "@/lib/rate-limit";
import { authStateOf, knownSessionOwner } from "@/plugins/auth";
import { pathOf } from "@/plugins/request-context";

/*
 * Stage 5 of api.md §4.1: RATE_LIMIT_CALLS per RATE_LIMIT_PERIOD, keyed by the user when the
 * token resolves, else by the trusted client IP. Health and metrics are exempt; DEBUG changes
 * nothing. The limiter itself is shared through Redis when configured.
 */

export const rateLimitExempt = (path: string) =>
  path === "/health" || path.startsWith("/health/") || path === "/metrics";

type HookContext = { request: Request; set: { headers: Record<string, unknown> } };

export function rateLimitHook(deps: AppDeps) {
  const limit = async (request: Request, set: HookContext["set"]) => {
    // The limiter's round trip also brings the near cache's generation, which must be known before
    // the auth state is read through it. A warm session names its user up front, so the hit comes
    // first and is the request's only Redis round trip; otherwise the generation is read on its own.
    const owner = knownSessionOwner(deps, request);
    let result: Awaited<ReturnType<typeof deps.rateLimiter.hit>>;
    if (owner !== null) {
      result = await deps.rateLimiter.hit(`user:${owner}`);
      await authStateOf(deps, request);
    } else {
      if (deps.cache instanceof NearCache) await deps.cache.refreshGeneration();
      const auth = await authStateOf(deps, request);
      const key = auth.caller ? `user:${auth.caller.user.id}` : `ip:${auth.clientIp ?? "unknown"}`;
      result = await deps.rateLimiter.hit(key);
    }
    const headers = rateLimitHeaders(result);
    Object.assign(set.headers, headers);
    if (!result.allowed) {
      throw problem("RATE_LIMITED", {
        detail: `Too many requests; retry in ${result.retryAfterS} s.`,
        headers,
        extensions: { retryAfterSeconds: result.retryAfterS },
      });
    }
  };
  // Not an async function itself: an exempt request (health probes, metrics scrapes) returns
  // without allocating a promise. The framework awaits a hook that returns a call. The fields
  // are named one by one: the framework reads the hook's source to decide what context to build.
  return ({ request, set }: HookContext): Promise<void> | undefined => {
    if (rateLimitExempt(pathOf(request))) return;
    return limit(request, set);
  };
}
