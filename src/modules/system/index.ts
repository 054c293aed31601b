import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { AppError } from "@/lib/errors";
import { HealthResponse, ReadyResponse, RootResponse } from "./model";
import { type Probe, readiness } from "./service";

const startedAt = Date.now();

const digest = (s: string) => createHash("sha256").update(s).digest();
const safeEqual = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

function fromPing(backend: string, ping: () => Promise<{ ok: boolean; error?: string }>): Probe {
  return {
    backend,
    check: async () => {
      const r = await ping();
      if (!r.ok) throw new Error(r.error ?? `${backend} did not answer`);
    },
  };
}

export function systemController(deps: AppDeps, overrides?: { cache: Probe | null; storage: Probe | null }) {
  const { config, database } = deps;
  const databaseProbe: Probe = { backend: database.kind, check: (ms) => database.ping(ms) };
  const probes = overrides ?? {
    cache: fromPing(deps.cache.backend, () => deps.cache.ping()),
    storage: fromPing(deps.storage.backend, () => deps.storage.ping()),
  };
  return new Elysia({ name: "system" })
    .get("/", () => ({ name: config.appName, version: config.version, docs: "/docs" }), {
      response: RootResponse,
      detail: { tags: ["system"], security: [], summary: "Service name, version and docs link" },
    })
    .get(
      "/health",
      () => ({
        status: "ok" as const,
        version: config.version,
        environment: config.environment,
        uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
        timestamp: new Date().toISOString(),
      }),
      {
        response: HealthResponse,
        detail: { tags: ["system"], security: [], summary: "Liveness: 200 while the process serves" },
      },
    )
    .get(
      "/metrics",
      async ({ request, set }) => {
        if (config.metricsToken) {
          const header = request.headers.get("authorization") ?? "";
          const given = header.startsWith("Bearer ") ? header.slice(7) : "";
          if (!safeEqual(given, config.metricsToken)) {
            throw new AppError(401, "UNAUTHENTICATED", "A valid metrics token is required.", {
              headers: { "WWW-Authenticate": 'Bearer realm="metrics"' },
            });
          }
        }
        set.headers["Content-Type"] = deps.metrics.registry.contentType;
        return deps.renderMetrics();
      },
      {
        detail: {
          tags: ["system"],
          security: [],
          summary: "Prometheus metrics (bearer METRICS_TOKEN when configured)",
        },
      },
    )
    .get(
      "/health/ready",
      async () => {
        const { ok, body } = await readiness({ database: databaseProbe, ...probes });
        if (!ok) {
          throw new AppError(503, "NOT_READY", "The database did not answer its readiness probe.", {
            extensions: { checks: body.checks },
          });
        }
        return body;
      },
      {
        response: { 200: ReadyResponse },
        detail: {
          tags: ["system"],
          security: [],
          summary: "Readiness: database, cache and storage probes (503 only when the database fails)",
        },
      },
    );
}
