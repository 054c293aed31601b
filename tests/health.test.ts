import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp } from "@/app";
import { openDatabase } from "@/db/client";
import { testApp, testConfig, testDeps } from "./helpers/context";
import { TEST_DATABASE_URL, TEST_REDIS_URL, usingPostgres } from "./helpers/env";
import { json } from "./helpers/http";
import { startTcpProxy } from "./helpers/tcp-proxy";

describe("system routes", async () => {
  const { request } = await testApp();

  test("GET / names the service", async () => {
    const res = await request("/");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ name: "camp-backend", version: "0.1.0", docs: "/docs" });
  });

  test("GET /health is liveness only", async () => {
    const res = await request("/health");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.status).toBe("ok");
    expect(body.environment).toBe("development");
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp);
  });

  test("GET /health/ready reports the database with latency", async () => {
    const res = await request("/health/ready");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.status).toBe("ready");
    expect(body.checks.database.status).toBe("up");
    expect(body.checks.database.backend).toBe(usingPostgres ? "postgres" : "pglite");
    expect(body.checks.database.latencyMs).toBeGreaterThanOrEqual(0);
    expect(body.checks.cache).toMatchObject({ status: "up", backend: TEST_REDIS_URL ? "redis" : "memory" });
    expect(body.checks.storage).toMatchObject({ status: "up", backend: "local" });
  });

  test("a failing cache or storage probe degrades but stays 200", async () => {
    const { request: r } = await testApp(
      {},
      {
        probes: {
          cache: { backend: "redis", check: async () => Promise.reject(new Error("ECONNREFUSED")) },
          storage: { backend: "local", check: async () => undefined },
        },
      },
    );
    const res = await r("/health/ready");
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.status).toBe("degraded");
    expect(body.checks.cache).toMatchObject({ status: "down", backend: "redis", error: "ECONNREFUSED" });
    expect(body.checks.storage.status).toBe("up");
  });
});

describe.skipIf(!usingPostgres)("readiness follows the database (PostgreSQL)", () => {
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
  let database: Awaited<ReturnType<typeof openDatabase>>;
  let ready: () => Promise<Response>;
  beforeAll(async () => {
    const url = new URL(TEST_DATABASE_URL!);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    const vars = { DATABASE_URL: url.toString(), DB_CONNECT_TIMEOUT_S: "1" };
    database = await openDatabase(testConfig(vars));
    const app = buildApp(await testDeps(vars, database));
    ready = () => app.handle(new Request("http://localhost/health/ready"));
  });
  afterAll(async () => {
    proxy.stop();
    await database.close(1);
  });

  test("200 → 503 NOT_READY when unreachable → 200 again without a restart", async () => {
    expect((await ready()).status).toBe(200);

    proxy.stop();
    const down = await ready();
    expect(down.status).toBe(503);
    expect(down.headers.get("content-type")).toBe("application/problem+json");
    const body = await json(down);
    expect(body.code).toBe("NOT_READY");
    expect(body.checks.database.status).toBe("down");
    expect(body.checks.cache.status).toBe("up");

    proxy.restart();
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      status = (await ready()).status;
      if (status !== 200) await Bun.sleep(250);
    }
    expect(status).toBe(200);
  });
});
