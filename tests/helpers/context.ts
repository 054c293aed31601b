import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { cacheFor, enginePoolFor, rateLimiterFor, storageFor } from "@/adapters";
import { type BuildOptions, buildApp } from "@/app";
import { type Config, configFrom } from "@/config";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import type { AppDeps } from "@/deps";
import { createTokenVerifier } from "@/lib/auth";
import { createChartRenderer } from "@/lib/chart-render";
import { newId } from "@/lib/ids";
import { createLlmProvider } from "@/lib/llm";
import { metrics } from "@/lib/metrics";
import { ActivityRecorder } from "@/modules/admin-activity/recorder";
import { SettingsStore } from "@/modules/admin-settings/store";
import type { EnginePool } from "@/modules/analysis/engine-pool";
import { createAnalysisCaches } from "@/modules/analysis-session/caches";
import { TEST_DATABASE_URL, TEST_REDIS_URL } from "./env";

export const silentLogger = pino({ level: "silent" });

export function testConfig(vars: Record<string, string | undefined> = {}): Config {
  return configFrom({
    ENVIRONMENT: "development",
    DATABASE_URL: TEST_DATABASE_URL ?? undefined,
    REDIS_URL: TEST_REDIS_URL ?? undefined,
    PGLITE_DIR: "memory://",
    LOG_LEVEL: "silent",
    // Tests hammer one user far past the production budget; the limiter has its own tests.
    RATE_LIMIT_CALLS: "1000000",
    ...vars,
  });
}

let shared: Promise<DatabaseHandle> | null = null;

/* One migrated database per test process; tests keep their rows apart with unique values. */
export function sharedDatabase(): Promise<DatabaseHandle> {
  shared ??= (async () => {
    const config = testConfig();
    const handle = await openDatabase(config);
    await migrateUp(handle, migrationsDir(config));
    return handle;
  })();
  return shared;
}

// Fonts are parsed once per test process; every app built here shares the renderer.
const renderers = new Map<string, ReturnType<typeof createChartRenderer>>();
const renderer = (config: Config) => {
  const key = `${config.chartFontDir}:${config.chartRenderConcurrency}`;
  if (!renderers.has(key)) renderers.set(key, createChartRenderer(config, silentLogger));
  return renderers.get(key)!;
};

/*
 * Likewise one analysis worker pool per test process: a pool per app would leave an idle worker
 * behind every test app that parsed a file. Caches stay per app; tests that need a pool of their
 * own (shutdown) build one with `enginePoolFor`.
 */
let pool: EnginePool | null = null;
const sharedPool = (config: Config) => {
  pool ??= enginePoolFor(config);
  return pool;
};

export async function testDeps(
  vars: Record<string, string | undefined> = {},
  database?: DatabaseHandle,
  /** Cache key namespace; two deps with the same one behave like two workers of one deployment. */
  namespace = `test-${newId().slice(-12)}`,
): Promise<AppDeps> {
  const config = testConfig(vars);
  const cache = cacheFor(config, silentLogger, namespace);
  const root =
    config.localStoragePath === "./uploads"
      ? mkdtempSync(join(tmpdir(), "camp-test-"))
      : config.localStoragePath;
  const storage = storageFor(config, silentLogger, root);
  await storage.init();
  const db = database ?? (await sharedDatabase());
  return {
    config,
    database: db,
    logger: silentLogger,
    cache,
    storage,
    settings: new SettingsStore(db.db, cache, config, silentLogger),
    activity: new ActivityRecorder({
      db: db.db,
      copyIn: db.copyIn,
      logger: silentLogger,
      onDrop: (n) => metrics.activityDropped(n),
    }),
    verifier: createTokenVerifier(config),
    rateLimiter: rateLimiterFor(config, cache, silentLogger),
    metrics,
    analysisCaches: createAnalysisCaches(),
    enginePool: sharedPool(config),
    // Tests never wait for real back-off; `retry-after` headers from the fake still count.
    llm: createLlmProvider(config, {
      metrics,
      logger: silentLogger,
      backoff: { baseDelayMs: 5, maxDelayMs: 20 },
    }),
    chartRenderer: renderer(config),
    renderMetrics: () => metrics.render(),
  };
}

/* A database of its own (fresh schema), for tests whose invariants need an empty world. */
export async function isolatedDatabase(): Promise<{ handle: DatabaseHandle; drop: () => Promise<void> }> {
  if (!TEST_DATABASE_URL) {
    const handle = await openDatabase(testConfig({ PGLITE_DIR: "memory://" }));
    return { handle, drop: () => handle.close() };
  }
  const admin = await openDatabase(testConfig());
  const name = `camp_iso_${newId().replace(/-/g, "").slice(-12)}`;
  await admin.raw.script(`create database ${name}`);
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  const handle = await openDatabase(testConfig({ DATABASE_URL: url.toString() }));
  return {
    handle,
    drop: async () => {
      await handle.close(1);
      await admin.raw.script(`drop database if exists ${name} with (force)`);
      await admin.close(1);
    },
  };
}

/* A database of its own with every migration applied; `drop` removes it (afterAll). */
export async function migratedDatabase() {
  const iso = await isolatedDatabase();
  await migrateUp(iso.handle, migrationsDir(testConfig()));
  return { handle: iso.handle, db: iso.handle.db, drop: iso.drop };
}

export async function testApp(
  vars: Record<string, string | undefined> = {},
  options: BuildOptions = {},
  database?: DatabaseHandle,
) {
  const deps = await testDeps(vars, database);
  const app = buildApp(deps, options);
  const request = (path: string, init: RequestInit = {}) =>
    app.handle(new Request(`http://localhost${path}`, init));
  return { app, deps, request };
}

export const SECURITY_HEADERS = [
  "x-content-type-options",
  "x-frame-options",
  "referrer-policy",
  "permissions-policy",
  "cross-origin-resource-policy",
  "content-security-policy",
  "x-request-id",
  "server-timing",
];
