import pino from "pino";
import { type BuildOptions, buildApp } from "@/app";
import { type Config, configFrom } from "@/config";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import type { AppDeps } from "@/deps";
import { TEST_DATABASE_URL } from "./env";

export const silentLogger = pino({ level: "silent" });

export function testConfig(vars: Record<string, string | undefined> = {}): Config {
  return configFrom({
    ENVIRONMENT: "development",
    DATABASE_URL: TEST_DATABASE_URL ?? undefined,
    PGLITE_DIR: "memory://",
    LOG_LEVEL: "silent",
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

export async function testDeps(vars: Record<string, string | undefined> = {}): Promise<AppDeps> {
  const config = testConfig(vars);
  return { config, database: await sharedDatabase(), logger: silentLogger };
}

export async function testApp(vars: Record<string, string | undefined> = {}, options: BuildOptions = {}) {
  const deps = await testDeps(vars);
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
