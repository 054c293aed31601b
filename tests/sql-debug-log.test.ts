import { describe, expect, test } from "bun:test";
import { Writable } from "node:stream";
import { sql } from "drizzle-orm";
import { ConfigError, configFrom } from "@/config";
import { effectiveIdleTimeoutS, maskParam, openDatabase, rowsOf } from "@/db/client";
import { createLogger } from "@/lib/logger";
import { testConfig } from "./helpers/context";
import { usingPostgres } from "./helpers/env";

/* Issue #19 item 2: the seed's `echo=DEBUG` and `pool_pre_ping=True` (infrastructure design §3.2). */

function capture() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, logger: createLogger({ level: "debug", destination }) };
}

describe("SQL statement log (DB_ECHO)", () => {
  test("on at debug level in development: statements logged, parameters masked", async () => {
    const config = testConfig({ LOG_LEVEL: "debug", DEBUG: "true" });
    expect(config.dbEcho).toBe(true);
    const { lines, logger } = capture();
    const handle = await openDatabase(config, { logger });
    try {
      const secret = "s3cret-customer-value";
      const rows = rowsOf<{ v: string }>(await handle.db.execute(sqlParam(secret)));
      expect(rows[0]?.v).toBe(secret);
      const line = lines.find((l) => l.msg === "sql" && String(l.sql).includes("$1"));
      expect(line).toBeDefined();
      expect(line!.params).toEqual([`<string:${secret.length}>`]);
      expect(JSON.stringify(lines)).not.toContain(secret);
    } finally {
      await handle.close(1);
    }
  });

  test("off unless the log level is debug, and refused in production", () => {
    expect(testConfig({ LOG_LEVEL: "info", DEBUG: "true" }).dbEcho).toBe(false);
    expect(testConfig({ LOG_LEVEL: "debug", DEBUG: "false" }).dbEcho).toBe(false);
    expect(testConfig({ LOG_LEVEL: "debug", DEBUG: "false", DB_ECHO: "true" }).dbEcho).toBe(true);
    const production = {
      ENVIRONMENT: "production",
      AUTH_MODE: "production",
      AZURE_TENANT_ID: "t",
      AZURE_CLIENT_ID: "c",
      SECRET_KEY: "hb7Qz2Lp9Xw4Rt6Yv1Nc8Mk3Jd5Fg0Sa2Zx7Cv4Bn6Hm9Kl1Pq3We5Rt8Yu0Io2As4Df6Gh8Jk0Lz",
      ALLOWED_ORIGINS: "https://app.example.com",
      DATABASE_URL: "postgresql://u@db/x",
      LOG_LEVEL: "debug",
    };
    expect(configFrom(production).dbEcho).toBe(false);
    expect(() => configFrom({ ...production, DB_ECHO: "true" })).toThrow(ConfigError);
  });

  test("a parameter shows only its type and size", () => {
    expect(maskParam("abc")).toBe("<string:3>");
    expect(maskParam(42)).toBe("<number>");
    expect(maskParam(null)).toBeNull();
    expect(maskParam(new Uint8Array(5))).toBe("<bytes:5>");
    expect(maskParam([1, 2])).toBe("<array:2>");
  });
});

describe("DB_POOL_PRE_PING", () => {
  test("an idle connection is retired after DB_POOL_PRE_PING_IDLE_S, never reused stale", () => {
    expect(effectiveIdleTimeoutS(testConfig({ DB_IDLE_TIMEOUT_S: "300" }))).toBe(60);
    expect(effectiveIdleTimeoutS(testConfig({ DB_IDLE_TIMEOUT_S: "20" }))).toBe(20);
    expect(effectiveIdleTimeoutS(testConfig({ DB_IDLE_TIMEOUT_S: "0", DB_POOL_PRE_PING_IDLE_S: "45" }))).toBe(
      45,
    );
    expect(effectiveIdleTimeoutS(testConfig({ DB_POOL_PRE_PING: "false", DB_IDLE_TIMEOUT_S: "300" }))).toBe(
      300,
    );
    expect(
      effectiveIdleTimeoutS(testConfig({ DB_POOL_PRE_PING: "false", DB_IDLE_TIMEOUT_S: "0" })),
    ).toBeUndefined();
  });

  test.skipIf(!usingPostgres)(
    "after idling, the next query runs on a freshly opened connection",
    async () => {
      const backendPid = async (h: Awaited<ReturnType<typeof openDatabase>>) =>
        (await h.raw.query<{ pid: number }>("select pg_backend_pid() as pid"))[0]!.pid;
      const withPing = await openDatabase(
        testConfig({ DB_POOL_SIZE: "1", DB_MAX_OVERFLOW: "0", DB_POOL_PRE_PING_IDLE_S: "1" }),
      );
      const without = await openDatabase(
        testConfig({ DB_POOL_SIZE: "1", DB_MAX_OVERFLOW: "0", DB_POOL_PRE_PING: "false" }),
      );
      try {
        const [a, b] = [await backendPid(withPing), await backendPid(without)];
        await Bun.sleep(1600);
        expect(await backendPid(withPing)).not.toBe(a);
        expect(await backendPid(without)).toBe(b);
      } finally {
        await withPing.close(1);
        await without.close(1);
      }
    },
  );
});

const sqlParam = (value: string) => sql`select ${value}::text as v`;
