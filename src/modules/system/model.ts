import { t } from "elysia";

export const DependencyCheck = t.Object(
  {
    status: t.Union([t.Literal("up"), t.Literal("down"), t.Literal("not_configured")]),
    backend: t.String(),
    latencyMs: t.Union([t.Number(), t.Null()]),
    error: t.Optional(t.String()),
  },
  { title: "DependencyCheck" },
);

export const RootResponse = t.Object(
  { name: t.String(), version: t.String(), docs: t.String() },
  { title: "ServiceInfo" },
);

export const HealthResponse = t.Object(
  {
    status: t.Literal("ok"),
    version: t.String(),
    environment: t.String(),
    uptimeSeconds: t.Number(),
    timestamp: t.String({ format: "date-time" }),
  },
  { title: "Health" },
);

export const ReadyResponse = t.Object(
  {
    status: t.Union([t.Literal("ready"), t.Literal("degraded")]),
    checks: t.Object({ database: DependencyCheck, cache: DependencyCheck, storage: DependencyCheck }),
  },
  { title: "Readiness" },
);

export type DependencyCheck = typeof DependencyCheck.static;
export type ReadyResponse = typeof ReadyResponse.static;
