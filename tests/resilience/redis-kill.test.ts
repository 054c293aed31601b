import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { DEV_SECRET_KEY } from "@/config";
import { signDevToken } from "@/lib/auth/dev-token";
import { TEST_DATABASE_URL } from "../helpers/env";
import { hasRedisServer, type ThrowawayRedis, throwawayRedis } from "../helpers/redis-server";
import { spawnServer } from "../helpers/spawn";
import { cannotRun, loadAverage, report, runLoad, SERVER_SCRIPT, tally } from "./harness";

/*
 * Redis (cache, rate limit, session revocation) killed with SIGKILL under load and started again:
 * the cache is an optimisation, so not one request may answer 5xx.
 */

const skip = cannotRun(hasRedisServer ? null : "redis-server not installed");

describe.skipIf(skip !== null)("Redis killed under load", () => {
  let redis: ThrowawayRedis | null = null;
  let proc: Subprocess | null = null;
  afterAll(async () => {
    proc?.kill("SIGKILL");
    await redis?.stop();
  });

  test("0 × 5xx while Redis is gone and after it returns", async () => {
    redis = await throwawayRedis();
    await redis.start();
    const server = await spawnServer(
      SERVER_SCRIPT,
      {
        ENVIRONMENT: "development",
        PORT: "0",
        WORKERS: "1",
        LOG_LEVEL: "error",
        SEED_ON_START: "false",
        DATABASE_URL: TEST_DATABASE_URL!,
        REDIS_URL: `${redis.url}/0`,
        RATE_LIMIT_CALLS: "1000000",
      },
      60_000,
    );
    proc = server.proc;
    const base = `http://127.0.0.1:${server.port}`;
    const token = await signDevToken({
      secretKey: DEV_SECRET_KEY,
      email: `resilience.redis.${Date.now()}@example.com`,
    });
    const auth = { authorization: `Bearer ${token}` };
    const created = await fetch(`${base}/api/v1/project`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "Resilience", code: `RR-${Date.now()}` }),
    });
    expect(created.status).toBe(201);
    const project = (await created.json()) as { id: string };

    // Cached reads (user, project, list) and writes that invalidate the cache.
    const one = (i: number) => {
      switch (i % 4) {
        case 0:
          return fetch(`${base}/api/v1/project/${project.id}`, {
            method: "PATCH",
            headers: { ...auth, "content-type": "application/json" },
            body: JSON.stringify({ description: `load ${i}` }),
          });
        case 1:
          return fetch(`${base}/api/v1/project/${project.id}`, { headers: auth });
        case 2:
          return fetch(`${base}/api/v1/user_account/me`, { headers: auth });
        default:
          return fetch(`${base}/api/v1/project?limit=5`, { headers: auth });
      }
    };

    let stop = false;
    const load = runLoad(one, { concurrency: 6, stop: () => stop });
    await Bun.sleep(1000);
    const killedAt = performance.now();
    await redis.stop(); // SIGKILL
    await Bun.sleep(2000);
    await redis.start();
    const backAt = performance.now();
    await Bun.sleep(1500);
    stop = true;
    const samples = await load;
    const t = tally(samples);
    const during = samples.filter((s) => s.at >= killedAt && s.at < backAt);
    report("redis-kill", {
      ...t,
      whileDown: during.length,
      whileDownP95Ms: Math.round(
        during.map((s) => s.ms).sort((a, b) => a - b)[Math.floor(during.length * 0.95)] ?? 0,
      ),
      alive: proc.exitCode === null,
      load: loadAverage(),
    });
    expect(during.length).toBeGreaterThan(20);
    expect(t.x5xx).toBe(0);
    expect(t.networkErrors).toBe(0);
    expect(Object.keys(t.byStatus)).toEqual(["200"]);
    expect(proc.exitCode).toBeNull();
  }, 60_000);
});
