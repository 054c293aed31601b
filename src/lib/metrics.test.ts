import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import type { PrimaryMessage, WorkerMessage } from "@/cluster";
import {
  aggregateMetricsJson,
  attachWorkerMetricsIpc,
  createMetrics,
  metrics,
  metricsContentType,
  UNMATCHED_ENDPOINT,
} from "@/lib/metrics";

const SEED_METRICS: [string, string, string[]][] = [
  ["http_requests_total", "counter", ["method", "endpoint", "status"]],
  ["http_request_duration_seconds", "histogram", ["method", "endpoint"]],
  ["db_connections_active", "gauge", []],
  ["cache_hits_total", "counter", []],
  ["cache_misses_total", "counter", []],
  ["llm_api_calls_total", "counter", ["provider", "model"]],
  ["llm_api_duration_seconds", "histogram", ["provider", "model"]],
];

/* Value of one sample line `name{labels} value` in exposition text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("metrics registry", () => {
  test("has the seed's seven metrics with their types and labels", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeRequest({ method: "get", endpoint: "/x", status: 200, durationS: 0.01 });
    m.observeLlmCall({ provider: "anthropic", model: "m", durationS: 1 });
    const json = await m.getMetricsJson();
    for (const [name, type, labels] of SEED_METRICS) {
      const metric = json.find((x) => x.name === name);
      expect(metric, name).toBeDefined();
      expect(String(metric!.type)).toBe(type);
      const internal = m.registry.getSingleMetric(name) as unknown as { labelNames: string[] };
      expect([...internal.labelNames].sort()).toEqual([...labels].sort());
    }
  });

  test("includes process default metrics and not the global registry", async () => {
    const text = await metrics.render();
    expect(text).toContain("# TYPE process_cpu_user_seconds_total counter");
    expect(text).toContain("# TYPE http_requests_total counter");
    expect(metricsContentType).toContain("text/plain");
  });

  test("observeRequest labels by method, route template and status; unmatched share one label", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.observeRequest({ method: "get", endpoint: "/api/v1/project/:projectId", status: 200, durationS: 0.02 });
    m.observeRequest({ method: "GET", endpoint: "/api/v1/project/:projectId", status: 200, durationS: 0.3 });
    m.observeRequest({ method: "GET", endpoint: undefined, status: 404, durationS: 0.001 });
    m.observeRequest({ method: "POST", endpoint: "", status: "404", durationS: 0.001 });
    const text = await m.render();
    expect(
      sample(text, 'http_requests_total{method="GET",endpoint="/api/v1/project/:projectId",status="200"}'),
    ).toBe(2);
    expect(
      sample(text, `http_requests_total{method="GET",endpoint="${UNMATCHED_ENDPOINT}",status="404"}`),
    ).toBe(1);
    expect(
      sample(text, `http_requests_total{method="POST",endpoint="${UNMATCHED_ENDPOINT}",status="404"}`),
    ).toBe(1);
    expect(
      sample(text, 'http_request_duration_seconds_count{method="GET",endpoint="/api/v1/project/:projectId"}'),
    ).toBe(2);
    expect(
      sample(
        text,
        'http_request_duration_seconds_bucket{le="0.025",method="GET",endpoint="/api/v1/project/:projectId"}',
      ),
    ).toBe(1);
  });

  test("db_connections_active reads the bound provider at scrape time", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let open = 3;
    m.setDbConnectionsProvider(() => open);
    expect(sample(await m.render(), "db_connections_active")).toBe(3);
    open = 7;
    expect(sample(await m.render(), "db_connections_active")).toBe(7);
    m.setDbConnectionsProvider(() => {
      throw new Error("pool closed");
    });
    expect(sample(await m.render(), "db_connections_active")).toBe(7);
    m.setDbConnectionsProvider(null);
    expect(sample(await m.render(), "db_connections_active")).toBe(0);
  });

  test("cache and LLM helpers count", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordCacheHit();
    m.recordCacheHit();
    m.recordCacheMiss();
    m.observeLlmCall({ provider: "anthropic", model: "claude", durationS: 2 });
    m.observeLlmCall({ provider: "anthropic", model: "claude", durationS: 60, error: "timeout" });
    const text = await m.render();
    expect(sample(text, "cache_hits_total")).toBe(2);
    expect(sample(text, "cache_misses_total")).toBe(1);
    expect(sample(text, 'llm_api_calls_total{provider="anthropic",model="claude"}')).toBe(2);
    expect(
      sample(text, 'llm_api_duration_seconds_bucket{le="120",provider="anthropic",model="claude"}'),
    ).toBe(2);
    expect(sample(text, 'llm_api_errors_total{provider="anthropic",model="claude",kind="timeout"}')).toBe(1);
  });
});

describe("multi-worker aggregation", () => {
  test("aggregateMetricsJson sums counters and histograms of two registries", async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.observeRequest({ method: "GET", endpoint: "/health", status: 200, durationS: 0.002 });
    a.observeRequest({ method: "GET", endpoint: "/health", status: 200, durationS: 0.002 });
    b.observeRequest({ method: "GET", endpoint: "/health", status: 200, durationS: 0.5 });
    b.observeRequest({ method: "GET", endpoint: "/", status: 200, durationS: 0.5 });
    a.recordCacheHit();
    b.recordCacheHit();
    b.recordCacheMiss();
    a.setDbConnectionsProvider(() => 2);
    b.setDbConnectionsProvider(() => 5);

    // Snapshots cross the IPC boundary as JSON.
    const snapshots = JSON.parse(JSON.stringify([await a.getMetricsJson(), await b.getMetricsJson()]));
    const text = await aggregateMetricsJson([...snapshots, "not-a-snapshot"]);
    expect(sample(text, 'http_requests_total{method="GET",endpoint="/health",status="200"}')).toBe(3);
    expect(sample(text, 'http_requests_total{method="GET",endpoint="/",status="200"}')).toBe(1);
    expect(sample(text, 'http_request_duration_seconds_count{method="GET",endpoint="/health"}')).toBe(3);
    expect(
      sample(text, 'http_request_duration_seconds_bucket{le="0.005",method="GET",endpoint="/health"}'),
    ).toBe(2);
    expect(sample(text, "cache_hits_total")).toBe(2);
    expect(sample(text, "cache_misses_total")).toBe(1);
    expect(sample(text, "db_connections_active")).toBe(7);
  });

  test("worker IPC: answers collect requests and renders the primary's gathered snapshots", async () => {
    const worker = createMetrics({ defaultMetrics: false });
    const sibling = createMetrics({ defaultMetrics: false });
    worker.recordCacheHit();
    sibling.recordCacheHit();
    const port = new EventEmitter() as EventEmitter & { send: (m: WorkerMessage) => void };
    const sent: WorkerMessage[] = [];
    // A stand-in for the primary in @/cluster: on a request, collect from "every worker" and reply.
    port.send = (message) => {
      sent.push(message);
      if (message.type === "metrics:request") {
        queueMicrotask(() =>
          port.emit("message", { type: "metrics:collect", id: message.id } as PrimaryMessage),
        );
      } else if (message.type === "metrics:data") {
        void sibling.getMetricsJson().then((other) =>
          port.emit("message", {
            type: "metrics:response",
            id: message.id,
            data: [message.data, other],
          } as PrimaryMessage),
        );
      }
    };
    const channel = attachWorkerMetricsIpc(port, worker, 1000);
    const text = await channel.collectClusterMetrics();
    expect(sample(text, "cache_hits_total")).toBe(2);
    expect(sent.map((m) => m.type)).toEqual(["metrics:request", "metrics:data"]);
  });

  test("worker IPC falls back to local metrics without a channel or an answer", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordCacheMiss();
    const noIpc = attachWorkerMetricsIpc(new EventEmitter(), m);
    expect(sample(await noIpc.collectClusterMetrics(), "cache_misses_total")).toBe(1);
    const silent = Object.assign(new EventEmitter(), { send: () => true });
    const timedOut = attachWorkerMetricsIpc(silent, m, 20);
    expect(sample(await timedOut.collectClusterMetrics(), "cache_misses_total")).toBe(1);
  });
});
