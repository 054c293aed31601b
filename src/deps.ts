import type { Logger } from "pino";
import type { Config } from "@/config";
import type { DatabaseHandle } from "@/db/client";
import type { TokenVerifier } from "@/lib/auth";
import type { Cache } from "@/lib/cache";
import type { ChartRenderer } from "@/lib/chart-render";
import type { LlmProvider } from "@/lib/llm/types";
import type { Metrics } from "@/lib/metrics";
import type { RateLimiter } from "@/lib/rate-limit";
import type { Storage } from "@/lib/storage";
import type { Tracing } from "@/lib/tracing";
import type { ActivityRecorder } from "@/modules/admin-activity/recorder";
import type { SettingsStore } from "@/modules/admin-settings/store";
import type { EnginePool } from "@/modules/analysis/engine-pool";
import type { AnalysisCaches } from "@/modules/analysis-session/caches";
import type { FrameCache } from "@/modules/driver-tree/frame-cache";
import type { JobRunner } from "@/modules/jobs/runner";
import type { NotificationHub } from "@/modules/notification/hub";

/*
 * Everything the app needs from the outside world, built once by the entry point (or a test) and
 * handed to `buildApp`. Controllers pass what a service needs as plain arguments.
 */
export type AppDeps = {
  config: Config;
  database: DatabaseHandle;
  logger: Logger;
  cache: Cache;
  storage: Storage;
  verifier: TokenVerifier;
  rateLimiter: RateLimiter;
  metrics: Metrics;
  /** OpenTelemetry spans; absent or disabled → nothing is traced and nothing is wrapped. */
  tracing?: Tracing;
  /** This app's analysis caches (inputs, step results, SVGs); cleared at shutdown. */
  analysisCaches: AnalysisCaches;
  /** This app's analysis parse workers; closed at shutdown. */
  enginePool: EnginePool;
  /** The chat's model provider; null when none is configured (chat answers 503 LLM_NOT_CONFIGURED). */
  llm?: LlmProvider | null;
  /** Server-side chart images; absent or unavailable → the chart image route answers 503. */
  chartRenderer?: ChartRenderer;
  /** Aborted when shutdown begins: /health/ready answers 503 from then on (load balancer drain). */
  draining?: AbortController;
  /** Aborted shortly before the shutdown drain deadline: long-running work (chat turns) stops cleanly. */
  shutdown?: AbortController;
  /** The effective runtime settings (maintenance, LLM limits), read without I/O on the hot path. */
  settings: SettingsStore;
  /** The activity log's batch writer (api.md §4.1 stage 8); absent → no activity rows. Drained by closeDeps. */
  activity?: ActivityRecorder;
  /** The background job runner (api.md §4.4); started by the server, stopped by closeDeps. */
  jobs?: JobRunner;
  /** Parsed driver-tree sheet columns shared by this app's evaluations; absent → the controller makes its own. */
  driverTreeFrames?: FrameCache;
  /** Live notification delivery (SSE wake-ups, Redis pub/sub); built by the notification controller when absent, closed by closeDeps. */
  notifications?: NotificationHub;
  /** Renders `/metrics`: this process alone, or every worker's sum under the cluster primary. */
  renderMetrics: () => Promise<string>;
};
