import { createHash, timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { problem } from "@/lib/errors";
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
      detail: {
        tags: ["system"],
        security: [],
        operationId: "system.info",
        description: "Public. Name and version of the service and where its API documentation is.",
        summary: "Service name, version and docs link",
      },
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
        detail: {
          tags: ["system"],
          security: [],
          operationId: "system.health",
          description:
            "Public liveness probe: answers 200 as long as the process serves requests; checks no dependency.",
          summary: "Liveness: 200 while the process serves",
        },
      },
    )
    .get(
      "/metrics",
      async ({ request, set }) => {
        if (config.metricsToken) {
          const header = request.headers.get("authorization") ?? "";
          const given = header.startsWith("Bearer ") ? header.slice(7) : "";
          if (!safeEqual(given, config.metricsToken)) {
            throw problem("UNAUTHENTICATED", {
              detail: "A valid metrics token is required.",
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
          operationId: "system.metrics",
          "x-problem-codes": ["UNAUTHENTICATED"],
          description:
            "Prometheus text exposition of the service's metrics. Requires the METRICS_TOKEN as a bearer token when one is configured.",
          summary: "Prometheus metrics (bearer METRICS_TOKEN when configured)",
        },
      },
    )
    .get(
      "/health/ready",
      async () => {
        // Draining (SHUTDOWN_DRAIN_S after SIGTERM): the load balancer takes this instance out
        // while it still serves, so no new request meets a closed port.
        if (deps.draining?.signal.aborted) {
          throw problem("NOT_READY", { detail: "The instance is shutting down (draining)." });
        }
        const { ok, body } = await readiness({ database: databaseProbe, ...probes });
        if (!ok) {
          throw problem("NOT_READY", { extensions: { checks: body.checks } });
        }
        return body;
      },
      {
        response: { 200: ReadyResponse },
        detail: {
          tags: ["system"],
          security: [],
          operationId: "system.ready",
          description:
            "Public readiness probe: probes the database, the cache and the storage. 503 only when the database is down; a failing cache or storage reports `degraded`.",
          summary: "Readiness: database, cache and storage probes (503 only when the database fails)",
          "x-problem-codes": ["NOT_READY"],
        },
      },
    );
}
