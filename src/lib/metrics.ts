import {
  AggregatorRegistry,
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValue,
  Registry,
} from "prom-client";
import type { PrimaryMessage, WorkerMessage } from "@/cluster";

/*
 * The seed's seven metrics (infrastructure design §7.2) with their exact names and labels, plus
 * the process defaults, in a registry of our own so nothing a dependency registers globally
 * leaks into `/metrics`. With WORKERS > 1 each worker keeps its own registry; the worker that is
 * scraped asks the primary to gather every worker's `getMetricsJson()` and renders the sum with
 * `aggregateMetricsJson`, so one scrape describes the whole host.
 */

/** The `endpoint` label for requests that matched no route, so scanners cannot explode cardinality. */
export const UNMATCHED_ENDPOINT = "__unmatched__";

export const HTTP_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BUCKET_KEYS = HTTP_DURATION_BUCKETS.map(String);
export const JOB_DURATION_BUCKETS = [0.005, 0.025, 0.1, 0.5, 1, 5, 30, 120, 600];
export const LLM_DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120];

/** Bounded reasons for `llm_api_errors_total`; anything else is reported as `other`. */
export type LlmErrorKind =
  | "timeout"
  | "rate_limited"
  | "upstream"
  | "auth"
  | "bad_request"
  | "aborted"
  | "other";

/** Token counts of one LLM call; `input` includes `cacheRead`, which is counted apart. */
export type LlmTokenObservation = {
  provider: string;
  model: string;
  input: number;
  output: number;
  cacheRead?: number;
};

export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export type RequestObservation = {
  method: string;
  /** Route template (`/api/v1/project/:projectId`); empty or undefined means unmatched. */
  endpoint: string | null | undefined;
  status: number | string;
  durationS: number;
};

export type LlmCallObservation = {
  provider: string;
  model: string;
  durationS: number;
  /** Set when the call failed; the call is still counted in `llm_api_calls_total`. */
  error?: LlmErrorKind;
};

/*
 * prom-client 15's storage (pinned in package.json): a counter keeps `{ value, labels }` and a
 * histogram `{ labels, bucketValues (per bucket, not cumulative), sum, count }` under a key made
 * of the sorted label names and values (`name:value,`). src/lib/metrics-fast.test.ts compares the
 * in-place updates with prom-client's own API, so an upgrade that changes this fails there.
 */
type PromInternals = {
  hashMap: Record<string, any>;
  bucketValues: Record<string, number>;
};

export function createMetrics(options: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  let dbConnections: (() => number) | null = null;

  const httpRequestsTotal = new Counter({
    name: "http_requests_total",
    help: "Total HTTP requests",
    labelNames: ["method", "endpoint", "status"] as const,
    registers: [registry],
  });
  const httpRequestDurationSeconds = new Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration in seconds",
    labelNames: ["method", "endpoint"] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [registry],
  });
  const dbConnectionsActive = new Gauge({
    name: "db_connections_active",
    help: "Active database connections",
    registers: [registry],
    // Read at scrape time from whichever pool is bound, so the value is never stale.
    collect() {
      if (!dbConnections) return;
      try {
        this.set(dbConnections());
      } catch {
        // A pool that cannot report keeps the last value rather than failing the scrape.
      }
    },
  });
  const cacheHitsTotal = new Counter({
    name: "cache_hits_total",
    help: "Cache hits",
    registers: [registry],
  });
  const cacheMissesTotal = new Counter({
    name: "cache_misses_total",
    help: "Cache misses",
    registers: [registry],
  });
  const llmApiCallsTotal = new Counter({
    name: "llm_api_calls_total",
    help: "LLM API calls",
    labelNames: ["provider", "model"] as const,
    registers: [registry],
  });
  const llmApiDurationSeconds = new Histogram({
    name: "llm_api_duration_seconds",
    help: "LLM API response time in seconds",
    labelNames: ["provider", "model"] as const,
    buckets: LLM_DURATION_BUCKETS,
    registers: [registry],
  });
  // Not one of the seed's seven: the LLM alert needs failures, which the seed's counter cannot tell.
  const llmApiErrorsTotal = new Counter({
    name: "llm_api_errors_total",
    help: "Failed LLM API calls by reason",
    labelNames: ["provider", "model", "kind"] as const,
    registers: [registry],
  });

  // Not among the seed's seven: token spend and agent outcomes (analysis.md §5.8).
  const llmTokensTotal = new Counter({
    name: "llm_tokens_total",
    help: "LLM tokens by direction (input excludes cache reads)",
    labelNames: ["provider", "model", "direction"] as const,
    registers: [registry],
  });
  const analysisAgentTurnsTotal = new Counter({
    name: "analysis_agent_turns_total",
    help: "Analysis agent turns by outcome",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const analysisAgentToolCallsTotal = new Counter({
    name: "analysis_agent_tool_calls_total",
    help: "Analysis agent tool calls by tool and outcome",
    labelNames: ["tool", "outcome"] as const,
    registers: [registry],
  });

  // Not one of the seed's seven: counts requests limited per process because Redis was unreachable.
  const rateLimitFallbackTotal = new Counter({
    name: "rate_limit_fallback_total",
    help: "Rate-limit decisions taken in per-process memory because the shared store failed",
    registers: [registry],
  });

  // Not among the seed's seven: the background job runner (api.md §4.4).
  const backgroundJobRunsTotal = new Counter({
    name: "background_job_runs_total",
    help: "Background job runs by job and outcome (ok, failed)",
    labelNames: ["job", "outcome"] as const,
    registers: [registry],
  });
  const backgroundJobDurationSeconds = new Histogram({
    name: "background_job_duration_seconds",
    help: "Background job run duration in seconds",
    labelNames: ["job"] as const,
    buckets: JOB_DURATION_BUCKETS,
    registers: [registry],
  });
  // What the runs did (the counts a run reports: rows deleted per retention target, objects drained…).
  const backgroundJobItemsTotal = new Counter({
    name: "background_job_items_total",
    help: "Items a background job run reported, by job and item (e.g. retention: activity_logs deleted)",
    labelNames: ["job", "item"] as const,
    registers: [registry],
  });
  const activityLogDroppedTotal = new Counter({
    name: "activity_log_dropped_total",
    help: "Activity-log rows dropped (queue full, or the batch insert failed)",
    registers: [registry],
  });
  const backgroundJobLeader = new Gauge({
    name: "background_job_leader",
    help: "1 while this process holds the job runner's leadership, else 0",
    registers: [registry],
  });

  type RequestSeries = {
    totalHash: string;
    totalLabels: Record<string, string>;
    durationHash: string;
    durationLabels: Record<string, string>;
  };
  // Endpoint, then method, then status: no key string is built per request.
  const requestSeries = new Map<string, Map<string, Map<number | string, RequestSeries>>>();

  return {
    registry,
    rateLimitFallbackTotal,
    httpRequestsTotal,
    httpRequestDurationSeconds,
    dbConnectionsActive,
    cacheHitsTotal,
    cacheMissesTotal,
    llmApiCallsTotal,
    llmApiDurationSeconds,
    llmApiErrorsTotal,
    llmTokensTotal,
    analysisAgentTurnsTotal,
    analysisAgentToolCallsTotal,

    /** Binds the pool whose open-connection count `db_connections_active` reports (null unbinds). */
    setDbConnectionsProvider(provider: (() => number) | null): void {
      dbConnections = provider;
      if (!provider) dbConnectionsActive.set(0);
    },

    observeRequest({ method, endpoint, status, durationS }: RequestObservation): void {
      const e = endpoint || UNMATCHED_ENDPOINT;
      let byMethod = requestSeries.get(e);
      if (!byMethod) {
        byMethod = new Map();
        requestSeries.set(e, byMethod);
      }
      let byStatus = byMethod.get(method);
      if (!byStatus) {
        byStatus = new Map();
        byMethod.set(method, byStatus);
      }
      // Every request lands here: prom-client's own inc/observe hash and validate the label object
      // each time, so the series are kept under precomputed keys and updated in place.
      let series = byStatus.get(status);
      if (!series) {
        const m = method.toUpperCase();
        const st = String(status);
        series = {
          totalHash: `endpoint:${e},method:${m},status:${st},`,
          totalLabels: { method: m, endpoint: e, status: st },
          durationHash: `endpoint:${e},method:${m},`,
          durationLabels: { method: m, endpoint: e },
        };
        byStatus.set(status, series);
      }
      const totals = (httpRequestsTotal as unknown as PromInternals).hashMap;
      let total = totals[series.totalHash];
      if (!total) {
        total = { value: 0, labels: series.totalLabels };
        totals[series.totalHash] = total;
      }
      total.value += 1;
      const histogram = httpRequestDurationSeconds as unknown as PromInternals;
      let d = histogram.hashMap[series.durationHash];
      if (!d) {
        d = { labels: series.durationLabels, bucketValues: { ...histogram.bucketValues }, sum: 0, count: 0 };
        histogram.hashMap[series.durationHash] = d;
      }
      d.sum += durationS;
      d.count += 1;
      // By the bound's precomputed text: indexing with the number converts it to a string each time.
      for (let i = 0; i < HTTP_DURATION_BUCKETS.length; i++) {
        if (durationS <= HTTP_DURATION_BUCKETS[i]) {
          d.bucketValues[BUCKET_KEYS[i]] += 1;
          break;
        }
      }
    },

    observeLlmCall({ provider, model, durationS, error }: LlmCallObservation): void {
      llmApiCallsTotal.inc({ provider, model });
      llmApiDurationSeconds.observe({ provider, model }, durationS);
      if (error) llmApiErrorsTotal.inc({ provider, model, kind: error });
    },

    observeLlmTokens({ provider, model, input, output, cacheRead = 0 }: LlmTokenObservation): void {
      const uncached = Math.max(0, input - cacheRead);
      if (uncached > 0) llmTokensTotal.inc({ provider, model, direction: "input" }, uncached);
      if (output > 0) llmTokensTotal.inc({ provider, model, direction: "output" }, output);
      if (cacheRead > 0) llmTokensTotal.inc({ provider, model, direction: "cache_read" }, cacheRead);
    },

    recordAgentTurn(outcome: string): void {
      analysisAgentTurnsTotal.inc({ outcome });
    },

    recordAgentToolCall(tool: string, outcome: string): void {
      analysisAgentToolCallsTotal.inc({ tool, outcome });
    },

    observeJobRun(job: string, outcome: "ok" | "failed", durationS: number): void {
      backgroundJobRunsTotal.inc({ job, outcome });
      backgroundJobDurationSeconds.observe({ job }, durationS);
    },

    observeJobItems(job: string, items: Record<string, number>): void {
      for (const item in items) {
        const n = items[item];
        if (Number.isFinite(n) && n > 0) backgroundJobItemsTotal.inc({ job, item }, n);
      }
    },

    activityDropped(n: number): void {
      activityLogDroppedTotal.inc(n);
    },

    setJobLeader(leader: boolean): void {
      backgroundJobLeader.set(leader ? 1 : 0);
    },

    rateLimitFallbacks(): void {
      rateLimitFallbackTotal.inc();
    },

    recordCacheHit(): void {
      cacheHitsTotal.inc();
    },
    recordCacheMiss(): void {
      cacheMissesTotal.inc();
    },

    /** Exposition text of this process only. */
    render(): Promise<string> {
      return registry.metrics();
    },

    /** This process's metrics in the form a primary collects over IPC. */
    getMetricsJson(): Promise<MetricsJson> {
      return registry.getMetricsAsJSON();
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The process-wide metrics every module records into and `/metrics` renders. */
export const metrics: Metrics = createMetrics();

export const metricsRegistry = metrics.registry;
export const metricsContentType = metrics.registry.contentType;
export const observeRequest = metrics.observeRequest;
export const observeLlmCall = metrics.observeLlmCall;
export const recordCacheHit = metrics.recordCacheHit;
export const recordCacheMiss = metrics.recordCacheMiss;
export const setDbConnectionsProvider = metrics.setDbConnectionsProvider;

/**
 * Sums the per-worker snapshots (`getMetricsJson()` of each worker) into one exposition text:
 * counters and histograms add up, and prom-client's per-metric aggregators handle the process
 * gauges. Entries that are not arrays (a worker that answered garbage) are ignored.
 */
export async function aggregateMetricsJson(list: readonly unknown[]): Promise<string> {
  const snapshots = list.filter((item): item is MetricsJson => Array.isArray(item));
  return AggregatorRegistry.aggregate(snapshots).metrics();
}

/* The slice of `process` the worker side of the metrics exchange needs; tests pass a fake. */
export type MetricsIpcPort = {
  send?: (message: WorkerMessage) => unknown;
  on(event: "message", listener: (message: unknown) => void): unknown;
};

/**
 * Worker side of the exchange run by the primary in `@/cluster`: answers the primary's
 * `metrics:collect` with this worker's snapshot, and `collectClusterMetrics()` asks the primary
 * for every worker's snapshot and renders their sum. Without an IPC channel (a single process),
 * or when the primary does not answer in time, it renders this process alone, so a scrape never
 * fails because a sibling is restarting.
 */
export function attachWorkerMetricsIpc(
  port: MetricsIpcPort,
  source: Pick<Metrics, "getMetricsJson" | "render"> = metrics,
  timeoutMs = 3000,
): { collectClusterMetrics(): Promise<string> } {
  const send = port.send?.bind(port);
  if (!send) return { collectClusterMetrics: () => source.render() };

  const waiting = new Map<string, (data: unknown[] | null) => void>();
  port.on("message", (raw) => {
    const message = raw as PrimaryMessage;
    if (message?.type === "metrics:collect") {
      void source.getMetricsJson().then((data) => send({ type: "metrics:data", id: message.id, data }));
    } else if (message?.type === "metrics:response") {
      waiting.get(message.id)?.(Array.isArray(message.data) ? message.data : null);
    }
  });

  return {
    async collectClusterMetrics() {
      const id = crypto.randomUUID();
      const data = await new Promise<unknown[] | null>((resolve) => {
        const timer = setTimeout(() => resolve(null), timeoutMs);
        waiting.set(id, (d) => {
          clearTimeout(timer);
          resolve(d);
        });
        send({ type: "metrics:request", id });
      });
      waiting.delete(id);
      return data && data.length > 0 ? aggregateMetricsJson(data) : source.render();
    },
  };
}
