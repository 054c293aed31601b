import { maxHeaderSize } from "node:http";
import { cacheFor, enginePoolFor, rateLimiterFor, storageFor } from "@/adapters";
import { type BuildOptions, buildApp } from "@/app";
import type { Config } from "@/config";
import { openDatabase } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import type { AppDeps } from "@/deps";
import { createTokenVerifier } from "@/lib/auth";
import { createChartRenderer } from "@/lib/chart-render";
import { installCrashPolicy } from "@/lib/crash-policy";
import { createLlmProvider, type LlmProvider, tracedLlm, traceToLog } from "@/lib/llm";
import { createAppLogger } from "@/lib/logger";
import { attachWorkerMetricsIpc, metrics } from "@/lib/metrics";
import { createTracing, type Tracing } from "@/lib/tracing";
import { ActivityRecorder } from "@/modules/admin-activity/recorder";
import { SettingsStore } from "@/modules/admin-settings/store";
import { invalidateCatalogue } from "@/modules/analysis-catalogue/cache";
import { SeedSetInvalidError } from "@/modules/analysis-catalogue/seed";
import { clearAnalysisCaches, createAnalysisCaches } from "@/modules/analysis-session/caches";
import { standardJobs } from "@/modules/jobs/catalogue";
import { JobRunner, lockKeyFor } from "@/modules/jobs/runner";
import { seedDatabase } from "@/modules/seed/service";
import { currentRequestId } from "@/plugins/request-context";

/*
 * Process lifecycle: open dependencies, optionally migrate, listen, and on SIGTERM/SIGINT stop
 * accepting, let in-flight requests finish within SHUTDOWN_TIMEOUT_S, close pools, exit 0.
 */

export type ProcessRole = { workerIndex: number | null };

/* Far above any route's body limit: Bun's own refusal must never be the one a client sees. */
export const BUN_BODY_BACKSTOP_BYTES = 2 ** 40;

/** Bun's header limit to run with (BUN_OPTIONS=--max-http-header-size=…): above the app's own. */
export const bunHeaderLimit = (config: Config) => Math.max(64 * 1024, config.maxHeaderBytes * 4);

/* Builds every adapter from the configuration; the app never constructs one itself. */
export async function createDeps(
  config: Config,
  role: ProcessRole = { workerIndex: null },
): Promise<AppDeps> {
  const tracing = await createTracing(config);
  const logger = createAppLogger(
    config,
    role.workerIndex === null ? {} : { worker: role.workerIndex },
    tracing,
  );
  const database = await openDatabase(config, { logger, tracing });
  const cache = cacheFor(config, logger, config.appName, tracing);
  const storage = storageFor(config, logger, config.localStoragePath, tracing);
  await storage.init();
  const rateLimiter = rateLimiterFor(config, cache, logger);
  let lastConnections = 0;
  metrics.setDbConnectionsProvider(() => {
    void database.connectionsActive().then(
      (n) => {
        lastConnections = n;
      },
      () => {},
    );
    return lastConnections;
  });
  const ipc = role.workerIndex === null ? null : attachWorkerMetricsIpc(process as never);
  const jobs = new JobRunner({
    database,
    logger,
    metrics,
    jobs: standardJobs({ database, cache, storage, logger, config }),
    lockKey: lockKeyFor(`${config.appName}:${config.environment}`),
  });
  return {
    config,
    database,
    logger,
    cache,
    storage,
    settings: new SettingsStore(database.db, cache, config, logger),
    activity: new ActivityRecorder({
      db: database.db,
      copyIn: database.copyIn,
      logger,
      onDrop: (n) => metrics.activityDropped(n),
    }),
    jobs,
    verifier: createTokenVerifier(config),
    rateLimiter,
    metrics,
    tracing,
    analysisCaches: createAnalysisCaches(),
    enginePool: enginePoolFor(config),
    llm: withTracing(
      createLlmProvider(config, { metrics, logger, onTrace: traceToLog(config, logger) }),
      tracing,
    ),
    chartRenderer: createChartRenderer(config, logger),
    shutdown: new AbortController(),
    draining: new AbortController(),
    renderMetrics: ipc ? () => ipc.collectClusterMetrics() : () => metrics.render(),
  };
}

/** Closes what `createDeps` opened, once the server has drained; each step runs even if one fails. */
export async function closeDeps(deps: AppDeps, databaseGraceS = 5): Promise<void> {
  const { logger } = deps;
  await deps.jobs?.stop().catch((err) => logger.error({ err }, "job runner stop failed"));
  await deps.notifications?.close().catch((err) => logger.error({ err }, "notification hub close failed"));
  await deps.activity?.close().catch((err) => logger.error({ err }, "activity log drain failed"));
  await deps.enginePool.close().catch((err) => logger.error({ err }, "analysis worker pool close failed"));
  clearAnalysisCaches(deps.analysisCaches);
  await deps.database.close(databaseGraceS).catch((err) => logger.error({ err }, "database close failed"));
  await deps.cache.close().catch(() => {});
  await deps.storage.close?.().catch(() => {});
  // Last, so the spans of the shutdown itself are exported too.
  await deps.tracing?.shutdown().catch(() => {});
}

function withTracing(llm: LlmProvider | null, tracing: Tracing): LlmProvider | null {
  return llm ? tracedLlm(llm, tracing) : null;
}

export async function startServer(
  config: Config,
  options: BuildOptions = {},
  process_: { workerIndex: number | null } = { workerIndex: null },
) {
  const deps = await createDeps(config, process_);
  const { logger, database } = deps;
  installCrashPolicy({ logger, requestId: currentRequestId });
  if (config.migrateOnStart) {
    const applied = await migrateUp(database, migrationsDir(config));
    if (applied.length > 0) logger.info({ applied }, "migrations applied");
  }
  if (config.seedOnStart) {
    try {
      const report = await seedDatabase(database.db, config, { logger });
      if ("missing" in report.analysis) {
        logger.warn({ dir: report.analysis.missing }, "seed folder missing; analysis catalogue not loaded");
      }
      logger.debug({ report }, "seed checked");
      const a = report.analysis;
      if (!("missing" in a) && a.created + a.updated + a.archived > 0) await invalidateCatalogue(deps.cache);
    } catch (error) {
      // A broken seed set writes nothing; the previous catalogue keeps serving.
      if (!(error instanceof SeedSetInvalidError)) throw error;
      logger.error({ set: error.set, problems: error.problems }, "seed set invalid; nothing loaded");
    }
  }
  const app = buildApp(deps, options);
  // Start-up (migrations, the seed check, compiling every route) leaves megabytes of garbage that
  // an idle process would otherwise keep resident until load makes the collector run.
  Bun.gc(true);
  deps.jobs?.start();
  // listen() lets Elysia hand static routes to Bun's native router, which is markedly faster
  // than funnelling every request through app.handle.
  app.listen({
    hostname: config.host,
    port: config.port,
    reusePort: config.workers > 1 || process_.workerIndex !== null,
    idleTimeout: config.httpIdleTimeoutS,
    // Bun refuses a declared body over this limit itself, with a bare 413 (no problem+json, request
    // id or CORS headers). The app checks Content-Length first and counts streamed bodies against
    // the route's limit (plugins/body-limit.ts), so Bun's limit only has to stay out of the way.
    maxRequestBodySize: BUN_BODY_BACKSTOP_BYTES,
  });
  if (maxHeaderSize <= config.maxHeaderBytes) {
    logger.warn(
      { bunLimit: maxHeaderSize, appLimit: config.maxHeaderBytes },
      `Bun refuses large headers itself with a bare 431; start with BUN_OPTIONS=--max-http-header-size=${bunHeaderLimit(config)}`,
    );
  }
  const server = app.server!;
  logger.info({ url: server.url.toString(), database: database.kind }, "listening");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, pending: server.pendingRequests }, "shutting down");
    // Behind a load balancer: fail the readiness probe first and keep serving until the balancer
    // has noticed (probe interval × unhealthy threshold), then close the port and drain.
    deps.draining?.abort();
    if (config.shutdownDrainS > 0) await Bun.sleep(config.shutdownDrainS * 1000);
    // Chat turns end `timed_out` (writing nothing) before the drain deadline rather than being cut.
    const abortTurns = setTimeout(
      () => deps.shutdown?.abort(new Error("shutdown")),
      Math.max(0, config.shutdownTimeoutS * 1000 - 2000),
    );
    const drained = server.stop(false).then(() => true);
    const timedOut = Bun.sleep(config.shutdownTimeoutS * 1000).then(() => false);
    const clean = await Promise.race([drained, timedOut]);
    if (!clean) {
      logger.warn(
        { pending: server.pendingRequests },
        "shutdown timeout reached; closing remaining connections",
      );
      await server.stop(true);
    }
    clearTimeout(abortTurns);
    await closeDeps(deps);
    logger.info("stopped");
    logger.flush?.();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // A worker whose primary died (even by SIGKILL) loses its IPC channel; it must not linger.
  if (process_.workerIndex !== null) process.on("disconnect", () => void shutdown("primary gone"));
  return { server, app, deps };
}
