import { afterAll, describe, expect, test } from "bun:test";
import { buildApp } from "@/app";
import { testDeps } from "./helpers/context";
import { TEST_REDIS_URL } from "./helpers/env";
import { json } from "./helpers/http";
import { hasRedisServer, throwawayRedis } from "./helpers/redis-server";
import { signIn } from "./helpers/users";

type PeerRequest = Request & { peerIp?: string };

async function limitedApp(vars: Record<string, string | undefined> = {}) {
  const deps = await testDeps({ RATE_LIMIT_CALLS: "5", RATE_LIMIT_PERIOD: "60", ...vars });
  const app = buildApp(deps);
  const request = (path: string, init: RequestInit & { peer?: string } = {}) => {
    const req = new Request(`http://localhost${path}`, init) as PeerRequest;
    req.peerIp = init.peer ?? "203.0.113.7";
    return app.handle(req);
  };
  return { deps, request };
}

describe("rate limiting through HTTP", () => {
  test("the sixth request in a window → 429 problem with Retry-After and both header families", async () => {
    const { request } = await limitedApp();
    for (let i = 1; i <= 5; i++) {
      const res = await request("/");
      expect(res.status).toBe(200);
      expect(res.headers.get("ratelimit-limit")).toBe("5");
      expect(res.headers.get("ratelimit-remaining")).toBe(String(5 - i));
      expect(res.headers.get("x-ratelimit-limit")).toBe("5");
    }
    const res = await request("/");
    expect(res.status).toBe(429);
    const body = await json(res);
    expect(body.code).toBe("RATE_LIMITED");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(body.retryAfterSeconds).toBeGreaterThan(0);
    expect(res.headers.get("x-request-id")).not.toBeNull();
  });

  test("health and metrics are exempt", async () => {
    const { request } = await limitedApp({ RATE_LIMIT_CALLS: "1" });
    for (let i = 0; i < 5; i++) {
      expect((await request("/health")).status).toBe(200);
      expect((await request("/health/ready")).status).toBe(200);
      expect((await request("/metrics")).status).toBe(200);
    }
  });

  test("a spoofed X-Forwarded-For from an untrusted peer does not open a new bucket", async () => {
    const { request } = await limitedApp();
    for (let i = 0; i < 5; i++) await request("/", { headers: { "x-forwarded-for": `10.0.0.${i}` } });
    const res = await request("/", {
      headers: { "x-forwarded-for": "10.9.9.9", "cf-connecting-ip": "10.8.8.8" },
    });
    expect(res.status).toBe(429);
  });

  test("behind a trusted proxy, clients are told apart by CF-Connecting-IP", async () => {
    const { request } = await limitedApp({ TRUSTED_PROXIES: "127.0.0.0/8" });
    for (let i = 0; i < 5; i++)
      await request("/", { peer: "127.0.0.1", headers: { "cf-connecting-ip": "198.51.100.1" } });
    const blocked = await request("/", {
      peer: "127.0.0.1",
      headers: { "cf-connecting-ip": "198.51.100.1" },
    });
    expect(blocked.status).toBe(429);
    const other = await request("/", { peer: "127.0.0.1", headers: { "cf-connecting-ip": "198.51.100.2" } });
    expect(other.status).toBe(200);
  });

  test("authenticated callers are limited per user, not per address", async () => {
    const { request } = await limitedApp({ RATE_LIMIT_CALLS: "1000" });
    const { deps: tight, request: r2 } = await limitedApp();
    const u = await signIn(r2, tight.config.secretKey);
    for (let i = 0; i < 4; i++)
      await r2("/api/v1/user_account/me", { headers: u.auth, peer: `192.0.2.${i}` });
    const res = await r2("/api/v1/user_account/me", { headers: u.auth, peer: "192.0.2.99" });
    expect(res.status).toBe(429);
    expect((await request("/")).status).toBe(200);
  });

  test("DEBUG does not switch it off", async () => {
    const { request } = await limitedApp({ DEBUG: "true", RATE_LIMIT_CALLS: "1" });
    await request("/");
    expect((await request("/")).status).toBe(429);
  });
});

describe.skipIf(!TEST_REDIS_URL)("rate limiting shared through Redis", () => {
  test("two app instances (workers) share one budget", async () => {
    const vars = { RATE_LIMIT_CALLS: "5", RATE_LIMIT_PERIOD: "60" };
    const namespace = `shared-${crypto.randomUUID().slice(0, 8)}`;
    const [depsA, depsB] = [
      await testDeps(vars, undefined, namespace),
      await testDeps(vars, undefined, namespace),
    ];
    expect(depsA.rateLimiter).not.toBe(depsB.rateLimiter);
    const [a, b] = [buildApp(depsA), buildApp(depsB)];
    const hit = (app: typeof a) => {
      const req = new Request("http://localhost/") as PeerRequest;
      req.peerIp = "198.18.0.1";
      return app.handle(req);
    };
    for (let i = 0; i < 3; i++) expect((await hit(a)).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await hit(b)).status).toBe(200);
    expect((await hit(a)).status).toBe(429);
    expect((await hit(b)).status).toBe(429);
    expect(depsA.rateLimiter.store).toBe("redis");
  });
});

describe.skipIf(!hasRedisServer)("Redis outage during requests", () => {
  const redisP = throwawayRedis();
  afterAll(async () => (await redisP).stop());

  test("limiting falls back to memory and nothing answers 5xx; shared counting resumes", async () => {
    const redis = await redisP;
    const { request, deps } = await limitedApp({ REDIS_URL: redis.url, RATE_LIMIT_CALLS: "1000" });
    expect((await request("/")).status).toBe(200);
    expect(deps.rateLimiter.store).toBe("redis");
    const u = await signIn(request, deps.config.secretKey);
    await redis.stop();
    for (let i = 0; i < 10; i++) {
      const res = await request("/");
      expect(res.status).toBe(200);
    }
    // Cached reads fall through to the database: an authenticated request still answers.
    const me = await request("/api/v1/user_account/me", { headers: u.auth });
    expect(me.status).toBe(200);
    expect((await json(me)).id).toBe(u.id);
    expect(deps.rateLimiter.store).toBe("memory");
    const ready = await json(await request("/health/ready"));
    expect(ready.status).toBe("degraded");
    expect(ready.checks.cache.status).toBe("down");
    await redis.start();
    let store = "memory";
    for (let i = 0; i < 40 && store !== "redis"; i++) {
      await Bun.sleep(250);
      await request("/");
      store = deps.rateLimiter.store;
    }
    expect(store).toBe("redis");
  }, 30_000);
});
