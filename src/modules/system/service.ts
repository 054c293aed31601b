import type { DependencyCheck, ReadyResponse } from "./model";

/* A probe answers within its timeout or counts as down; it never throws. */
export type Probe = { backend: string; check(timeoutMs: number): Promise<unknown> };

const PROBE_TIMEOUT_MS = 2000;

async function runProbe(probe: Probe | null): Promise<DependencyCheck> {
  if (!probe) return { status: "not_configured", backend: "none", latencyMs: null };
  const start = performance.now();
  try {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      probe.check(PROBE_TIMEOUT_MS),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`probe timed out after ${PROBE_TIMEOUT_MS} ms`)),
          PROBE_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    return { status: "up", backend: probe.backend, latencyMs: round(performance.now() - start) };
  } catch (error) {
    return {
      status: "down",
      backend: probe.backend,
      latencyMs: round(performance.now() - start),
      error: error instanceof Error ? error.message : String(error),
    };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Readiness per decisions.md: only the database decides 503; a failing cache or storage backend
 * marks the instance degraded so one Redis outage does not drain the load balancer.
 */
export async function readiness(probes: {
  database: Probe;
  cache: Probe | null;
  storage: Probe | null;
}): Promise<{ ok: boolean; body: ReadyResponse }> {
  const [database, cache, storage] = await Promise.all([
    runProbe(probes.database),
    runProbe(probes.cache),
    runProbe(probes.storage),
  ]);
  const degraded = cache.status === "down" || storage.status === "down";
  return {
    ok: database.status === "up",
    body: { status: degraded ? "degraded" : "ready", checks: { database, cache, storage } },
  };
}
