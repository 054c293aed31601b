import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { AppError } from "@/lib/errors";
import { HealthResponse, ReadyResponse, RootResponse } from "./model";
import { type Probe, readiness } from "./service";

const startedAt = Date.now();

export function systemController(deps: AppDeps, probes: { cache: Probe | null; storage: Probe | null }) {
  const { config, database } = deps;
  const databaseProbe: Probe = { backend: database.kind, check: (ms) => database.ping(ms) };
  return new Elysia({ name: "system" })
    .get("/", () => ({ name: config.appName, version: config.version, docs: "/docs" }), {
      response: RootResponse,
      detail: { tags: ["system"], summary: "Service name, version and docs link" },
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
        detail: { tags: ["system"], summary: "Liveness: 200 while the process serves" },
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
          summary: "Readiness: database, cache and storage probes (503 only when the database fails)",
        },
      },
    );
}
