import { describe, expect, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { createMetrics, HTTP_DURATION_BUCKETS } from "@/lib/metrics";

/* The request series are updated in prom-client's storage directly; the output must not differ. */
describe("observeRequest", () => {
  test("renders exactly what prom-client's own inc/observe would", async () => {
    const fast = createMetrics({ defaultMetrics: false });
    const registry = new Registry();
    const total = new Counter({
      name: "http_requests_total",
      help: "Total HTTP requests",
      labelNames: ["method", "endpoint", "status"],
      registers: [registry],
    });
    const duration = new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP request duration in seconds",
      labelNames: ["method", "endpoint"],
      buckets: HTTP_DURATION_BUCKETS,
      registers: [registry],
    });
    const samples: [string, string | null, number, number][] = [
      ["get", "/api/v1/project/:projectId", 200, 0.0004],
      ["GET", "/api/v1/project/:projectId", 200, 0.001],
      ["GET", "/api/v1/project/:projectId", 404, 0.02],
      ["POST", "/api/v1/project", 201, 0.3],
      ["GET", null, 404, 0.0001],
      ["GET", "/health", 200, 12],
      ["GET", "/health", 200, 0.0049],
    ];
    for (const [method, endpoint, status, durationS] of samples) {
      fast.observeRequest({ method, endpoint, status, durationS });
      const labels = { method: method.toUpperCase(), endpoint: endpoint || "__unmatched__" };
      total.inc({ ...labels, status: String(status) });
      duration.observe(labels, durationS);
    }
    const pick = (text: string) =>
      text
        .split("\n")
        .filter((l) => l.startsWith("http_request"))
        .sort();
    expect(pick(await fast.render())).toEqual(pick(await registry.metrics()));
    expect(pick(await fast.render()).length).toBeGreaterThan(20);
  });
});
