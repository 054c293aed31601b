import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import {
  type ClosableRedisEvaluator,
  createRateLimiter,
  MemoryWindowStore,
  type RateLimitLogger,
  rateLimitHeaders,
  redisEvaluatorFromUrl,
} from "@/lib/rate-limit";
import { TEST_REDIS_URL } from "./helpers/env";

type Logged = { level: "warn" | "info"; msg: string };

function recordingLogger(): RateLimitLogger & { lines: Logged[] } {
  const lines: Logged[] = [];
  return {
    lines,
    warn: (_obj, msg) => lines.push({ level: "warn", msg }),
    info: (_obj, msg) => lines.push({ level: "info", msg }),
  };
}

const silent: RateLimitLogger = { warn() {}, info() {} };
const uniquePrefix = () => `test:rl:${crypto.randomUUID()}:`;

describe("memory store", () => {
  test("100 allowed, the 101st refused with Retry-After", async () => {
    const limiter = createRateLimiter({ limit: 100, windowS: 60, logger: silent });
    for (let i = 1; i <= 100; i++) {
      const r = await limiter.hit("ip:198.51.100.1");
      expect(r.allowed).toBe(true);
      expect(r.remaining).toBe(100 - i);
      expect(r.retryAfterS).toBe(0);
    }
    const refused = await limiter.hit("ip:198.51.100.1");
    expect(refused).toMatchObject({ allowed: false, limit: 100, remaining: 0, store: "memory" });
    expect(refused.retryAfterS).toBeGreaterThanOrEqual(59);
    expect(refused.retryAfterS).toBeLessThanOrEqual(60);
    expect(refused.resetS).toBe(refused.retryAfterS);
    // Another key has its own budget.
    expect((await limiter.hit("ip:198.51.100.2")).allowed).toBe(true);
  });

  test("the window resets after windowS", async () => {
    let now = 1_000_000;
    const limiter = createRateLimiter({ limit: 2, windowS: 10, logger: silent, now: () => now });
    await limiter.hit("k");
    now += 4_000;
    await limiter.hit("k");
    const refused = await limiter.hit("k");
    expect(refused.allowed).toBe(false);
    expect(refused.retryAfterS).toBe(6);
    now += 5_999;
    expect((await limiter.hit("k")).allowed).toBe(false);
    now += 1;
    const fresh = await limiter.hit("k");
    expect(fresh).toMatchObject({ allowed: true, remaining: 1, resetS: 10 });
  });

  test("the store is bounded and evicts the oldest windows first", () => {
    const store = new MemoryWindowStore(60_000, 3);
    store.hit("a", 0);
    store.hit("b", 1);
    store.hit("c", 2);
    store.hit("a", 3);
    store.hit("d", 4);
    expect(store.size).toBe(3);
    // "a" was the oldest window: it starts over, while "c" kept its count.
    expect(store.hit("a", 5).count).toBe(1);
    expect(store.hit("c", 6).count).toBe(2);
  });

  test("headers: RateLimit-* with delta reset, X-RateLimit-* with Unix reset, Retry-After when refused", async () => {
    const now = 1_700_000_000_500;
    const limiter = createRateLimiter({ limit: 1, windowS: 60, logger: silent, now: () => now });
    const allowed = await limiter.hit("h");
    expect(rateLimitHeaders(allowed)).toEqual({
      "RateLimit-Limit": "1",
      "RateLimit-Remaining": "0",
      "RateLimit-Reset": "60",
      "X-RateLimit-Limit": "1",
      "X-RateLimit-Remaining": "0",
      "X-RateLimit-Reset": String(1_700_000_001 + 60),
    });
    const refused = rateLimitHeaders(await limiter.hit("h"));
    expect(refused["Retry-After"]).toBe("60");
    expect(refused["RateLimit-Remaining"]).toBe("0");
  });

  test("bad settings are refused up front", () => {
    expect(() => createRateLimiter({ limit: 0, windowS: 60, logger: silent })).toThrow();
    expect(() => createRateLimiter({ limit: 10, windowS: 0.5, logger: silent })).toThrow();
  });
});

/* Closed once at the end; a hook inside a skipped describe would be reported as a skipped test. */
const evaluators: ClosableRedisEvaluator[] = [];
afterAll(() => {
  for (const e of evaluators) e.close();
});

describe.skipIf(!TEST_REDIS_URL)("Redis store (REDIS_URL)", () => {
  const evaluator = () => {
    const e = redisEvaluatorFromUrl(TEST_REDIS_URL!);
    evaluators.push(e);
    return e;
  };

  test("two limiters sharing one Redis share one budget", async () => {
    const keyPrefix = uniquePrefix();
    const fallbacks: number[] = [];
    const options = {
      limit: 10,
      windowS: 30,
      logger: silent,
      keyPrefix,
      onFallback: () => fallbacks.push(1),
    };
    const a = createRateLimiter({ ...options, redis: evaluator() });
    const b = createRateLimiter({ ...options, redis: evaluator() });
    const results = [];
    for (let i = 0; i < 5; i++) {
      results.push(await a.hit("user:1"));
      results.push(await b.hit("user:1"));
    }
    expect(results.every((r) => r.allowed && r.store === "redis")).toBe(true);
    expect(results.map((r) => r.remaining)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    const refusedA = await a.hit("user:1");
    const refusedB = await b.hit("user:1");
    expect(refusedA.allowed).toBe(false);
    expect(refusedB.allowed).toBe(false);
    expect(refusedA.retryAfterS).toBeGreaterThan(0);
    expect(refusedA.retryAfterS).toBeLessThanOrEqual(30);
    expect(fallbacks).toHaveLength(0);
    // The other key was never touched.
    expect((await a.hit("user:2")).remaining).toBe(9);
  });

  test("concurrent hits are counted atomically", async () => {
    const keyPrefix = uniquePrefix();
    const a = createRateLimiter({ limit: 50, windowS: 30, logger: silent, keyPrefix, redis: evaluator() });
    const b = createRateLimiter({ limit: 50, windowS: 30, logger: silent, keyPrefix, redis: evaluator() });
    const results = await Promise.all(Array.from({ length: 80 }, (_, i) => (i % 2 ? a : b).hit("burst")));
    expect(results.filter((r) => r.allowed)).toHaveLength(50);
    expect(results.every((r) => r.store === "redis")).toBe(true);
  });
});

/* A throwaway redis-server of our own, so the outage can be real. */
async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function startRedis(port: number): Promise<Subprocess> {
  const proc = Bun.spawn(
    ["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdout: "ignore", stderr: "ignore" },
  );
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    try {
      const socket = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      socket.end();
      return proc;
    } catch {
      await Bun.sleep(25);
    }
  }
  proc.kill();
  throw new Error(`redis-server did not start on port ${port}`);
}

const hasRedisServer = Bun.which("redis-server") !== null;

describe.skipIf(!hasRedisServer)("Redis outage (own redis-server)", () => {
  const children: Subprocess[] = [];
  afterAll(async () => {
    for (const c of children) {
      c.kill();
      await c.exited;
    }
  });

  test("a killed Redis falls back to memory without throwing, says so, and is used again once back", async () => {
    const port = await freePort();
    let redis = await startRedis(port);
    children.push(redis);
    const evaluator = redisEvaluatorFromUrl(`redis://127.0.0.1:${port}`, { connectionTimeoutMs: 500 });
    evaluators.push(evaluator);
    const logger = recordingLogger();
    let fallbacks = 0;
    const limiter = createRateLimiter({
      limit: 1000,
      windowS: 60,
      logger,
      redis: evaluator,
      keyPrefix: uniquePrefix(),
      redisRetryMs: 50,
      onFallback: () => fallbacks++,
    });

    for (let i = 0; i < 3; i++) expect((await limiter.hit("ip:1")).store).toBe("redis");
    expect(limiter.store).toBe("redis");

    redis.kill("SIGKILL");
    await redis.exited;

    const during = [];
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const r = await limiter.hit("ip:1");
      expect(performance.now() - started).toBeLessThan(1_000);
      during.push(r);
      await Bun.sleep(10);
    }
    expect(during.every((r) => r.store === "memory" && r.allowed)).toBe(true);
    expect(fallbacks).toBe(20);
    // Logged once, not once per request.
    expect(logger.lines.filter((l) => l.level === "warn")).toHaveLength(1);

    redis = await startRedis(port);
    children.push(redis);
    let back = false;
    const deadline = Date.now() + 5_000;
    while (!back && Date.now() < deadline) {
      back = (await limiter.hit("ip:1")).store === "redis";
      if (!back) await Bun.sleep(50);
    }
    expect(back).toBe(true);
    expect(logger.lines.some((l) => l.level === "info" && l.msg.includes("back"))).toBe(true);
    // The fresh server has no memory of the old window: counting restarted in Redis.
    expect((await limiter.hit("ip:1")).remaining).toBeGreaterThan(990);
  });

  test("a Redis that accepts but never answers times out within the bound", async () => {
    const hung = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const evaluator = redisEvaluatorFromUrl(`redis://127.0.0.1:${hung.port}`, {
        connectionTimeoutMs: 2_000,
      });
      evaluators.push(evaluator);
      let fallbacks = 0;
      const limiter = createRateLimiter({
        limit: 5,
        windowS: 60,
        logger: silent,
        redis: evaluator,
        keyPrefix: uniquePrefix(),
        redisTimeoutMs: 300,
        onFallback: () => fallbacks++,
      });
      const started = performance.now();
      const r = await limiter.hit("ip:2");
      const elapsed = performance.now() - started;
      expect(r).toMatchObject({ allowed: true, store: "memory" });
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(1_000);
      // Inside the retry interval Redis is not consulted again, so no added latency.
      const second = performance.now();
      await limiter.hit("ip:2");
      expect(performance.now() - second).toBeLessThan(50);
      expect(fallbacks).toBe(2);
    } finally {
      hung.stop(true);
    }
  });
});
