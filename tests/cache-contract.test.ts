import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Cache, CacheUnavailableError, type CreateCacheOptions, cached, createCache } from "@/lib/cache";
import { TEST_REDIS_URL } from "./helpers/env";
import { hasRedisServer, throwawayRedis } from "./helpers/redis-server";
import { startUpstashBridge, type UpstashBridge } from "./helpers/upstash-bridge";

/*
 * One behavioural contract for every cache backend. Redis and Upstash (through a local REST
 * bridge onto the same Redis) run only when REDIS_URL is set; each run uses its own appName so
 * it never touches anyone else's keys, and removes its keys at the end.
 */

const runId = crypto.randomUUID().slice(0, 8);

type Captured = { level: "warn" | "info" | "error"; obj: object; msg: string };
function captureLogger() {
  const lines: Captured[] = [];
  return {
    lines,
    logger: {
      warn: (obj: object, msg: string) => lines.push({ level: "warn", obj, msg }),
      info: (obj: object, msg: string) => lines.push({ level: "info", obj, msg }),
      error: (obj: object, msg: string) => lines.push({ level: "error", obj, msg }),
    },
  };
}
const quiet = captureLogger().logger;

let bridge: UpstashBridge | null = null;

type Backend = {
  name: "memory" | "redis" | "upstash";
  skip: boolean;
  make: (appName: string, extra?: Partial<CreateCacheOptions>) => Cache;
};

const backends: Backend[] = [
  {
    name: "memory",
    skip: false,
    make: (appName, extra) => createCache({ appName, environment: "test", logger: quiet, ...extra }),
  },
  {
    name: "redis",
    skip: !TEST_REDIS_URL,
    make: (appName, extra) =>
      createCache({ appName, environment: "test", logger: quiet, redisUrl: TEST_REDIS_URL, ...extra }),
  },
  {
    name: "upstash",
    skip: !TEST_REDIS_URL,
    make: (appName, extra) =>
      createCache({
        appName,
        environment: "test",
        logger: quiet,
        upstashUrl: bridge!.url,
        upstashToken: bridge!.token,
        ...extra,
      }),
  },
];

beforeAll(async () => {
  if (TEST_REDIS_URL) bridge = await startUpstashBridge(TEST_REDIS_URL);
});
afterAll(async () => {
  await bridge?.close();
});

for (const b of backends) {
  describe.skipIf(b.skip)(`cache contract: ${b.name}`, () => {
    const made: Cache[] = [];
    const make = (suffix = "", extra?: Partial<CreateCacheOptions>) => {
      const c = b.make(`cachetest-${runId}${suffix}`, extra);
      made.push(c);
      return c;
    };
    let cache: Cache;

    beforeAll(() => {
      cache = make();
    });
    afterAll(async () => {
      for (const c of made) {
        await c.deleteByPrefix("");
        await c.close();
      }
    });

    test("reports its backend and answers ping", async () => {
      expect(cache.backend).toBe(b.name);
      const p = await cache.ping();
      expect(p.ok).toBe(true);
      expect(p.latencyMs).toBeGreaterThanOrEqual(0);
    });

    test("get of a missing key is undefined", async () => {
      expect(await cache.get("missing:key")).toBeUndefined();
    });

    test("JSON values round-trip", async () => {
      const values: [string, unknown][] = [
        ["v:object", { a: 1, b: [1, 2, { c: "x" }], d: null, e: true }],
        ["v:array", [1, "two", 3.5]],
        ["v:string", "hello"],
        ["v:unicode", "日本語 ✓ 🎉"],
        ["v:number", 42],
        ["v:zero", 0],
        ["v:false", false],
        ["v:null", null],
        ["v:empty", ""],
      ];
      for (const [k, v] of values) await cache.set(k, v, 30);
      for (const [k, v] of values) expect(await cache.get(k)).toEqual(v);
    });

    test("a returned object is a copy", async () => {
      await cache.set("copy", { n: 1 }, 30);
      const first = await cache.get<{ n: number }>("copy");
      first!.n = 99;
      expect(await cache.get("copy")).toEqual({ n: 1 });
    });

    test("set with an undefined value is ignored", async () => {
      await cache.set("undef", 1, 30);
      await cache.set("undef", undefined, 30);
      expect(await cache.get("undef")).toBe(1);
    });

    test("entries expire after their TTL; set overwrites value and TTL", async () => {
      await cache.set("ttl:short", "x", 0.15);
      await cache.set("ttl:long", "y", 30);
      await cache.set("ttl:renewed", "old", 0.15);
      await cache.set("ttl:renewed", "new", 30);
      expect(await cache.get("ttl:short")).toBe("x");
      await Bun.sleep(350);
      expect(await cache.get("ttl:short")).toBeUndefined();
      expect(await cache.get("ttl:long")).toBe("y");
      expect(await cache.get("ttl:renewed")).toBe("new");
    });

    test("set without a TTL uses the default TTL", async () => {
      const c = make("-dflt", { defaultTtlS: 0.15 });
      await c.set("k", 1);
      expect(await c.get("k")).toBe(1);
      await Bun.sleep(350);
      expect(await c.get("k")).toBeUndefined();
    });

    test("delete removes a key and is idempotent", async () => {
      await cache.set("del:a", 1, 30);
      await cache.delete("del:a");
      await cache.delete("del:a");
      await cache.delete("del:never-existed");
      expect(await cache.get("del:a")).toBeUndefined();
    });

    test("deleteByPrefix removes exactly the prefixed keys", async () => {
      for (let i = 0; i < 25; i++) await cache.set(`member_role:p1:u${i}`, "member", 30);
      await cache.set("member_role:p10:u1", "member", 30);
      await cache.set("member_role:p2:u1", "viewer", 30);
      await cache.set("project:p1", { id: "p1" }, 30);
      expect(await cache.deleteByPrefix("member_role:p1:")).toBe(25);
      expect(await cache.get("member_role:p1:u3")).toBeUndefined();
      expect(await cache.get("member_role:p10:u1")).toBe("member");
      expect(await cache.get("member_role:p2:u1")).toBe("viewer");
      expect(await cache.get("project:p1")).toEqual({ id: "p1" });
      expect(await cache.deleteByPrefix("member_role:p1:")).toBe(0);
    });

    test("deleteByPrefix treats glob characters literally", async () => {
      await cache.set("g*[x]?:1", 1, 30);
      await cache.set("g-other:1", 2, 30);
      await cache.set("gz[x]?:1", 3, 30);
      expect(await cache.deleteByPrefix("g*[x]?")).toBe(1);
      expect(await cache.get("g-other:1")).toBe(2);
      expect(await cache.get("gz[x]?:1")).toBe(3);
    });

    test("deleteByPrefix copes with many keys (several SCAN rounds)", async () => {
      await Promise.all(Array.from({ length: 1200 }, (_, i) => cache.set(`bulk:${i}`, i, 30)));
      expect(await cache.deleteByPrefix("bulk:")).toBe(1200);
      expect(await cache.get("bulk:7")).toBeUndefined();
    });

    test("incr is atomic under concurrency and sets the window once", async () => {
      const results = await Promise.all(Array.from({ length: 200 }, () => cache.incr("ratelimit:conc", 30)));
      const counts = results.map((r) => r.count).sort((x, y) => x - y);
      expect(counts).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      for (const r of results) {
        expect(r.ttlMs).toBeGreaterThan(25_000);
        expect(r.ttlMs).toBeLessThanOrEqual(30_000);
      }
      expect(await cache.get("ratelimit:conc")).toBe(200);
    });

    test("incr window expires and the counter restarts; later increments keep the first expiry", async () => {
      const first = await cache.incr("ratelimit:win", 0.3);
      expect(first.count).toBe(1);
      await Bun.sleep(120);
      const second = await cache.incr("ratelimit:win", 0.3);
      expect(second.count).toBe(2);
      expect(second.ttlMs).toBeLessThan(first.ttlMs);
      await Bun.sleep(300);
      const third = await cache.incr("ratelimit:win", 0.3);
      expect(third.count).toBe(1);
    });

    test("keys are isolated by appName and environment", async () => {
      const other = make("-other");
      const otherEnv = b.make(`cachetest-${runId}`, { environment: "staging" });
      made.push(otherEnv);
      await cache.set("iso:k", "mine", 30);
      await other.set("iso:k", "theirs", 30);
      expect(await cache.get("iso:k")).toBe("mine");
      expect(await other.get("iso:k")).toBe("theirs");
      expect(await otherEnv.get("iso:k")).toBeUndefined();
      expect(await other.deleteByPrefix("")).toBeGreaterThanOrEqual(1);
      expect(await cache.get("iso:k")).toBe("mine");
    });

    test("hit and miss hooks fire", async () => {
      let hits = 0;
      let misses = 0;
      const c = make("-hooks", { onHit: () => hits++, onMiss: () => misses++ });
      await c.get("h");
      await c.set("h", 1, 30);
      await c.get("h");
      await c.get("h");
      expect({ hits, misses }).toEqual({ hits: 2, misses: 1 });
    });

    test("cached() loads once for concurrent misses and then serves the cache", async () => {
      let loads = 0;
      const load = async () => {
        loads++;
        await Bun.sleep(30);
        return { v: "loaded" };
      };
      const all = await Promise.all(Array.from({ length: 10 }, () => cached(cache, "rt:1", 30, load)));
      expect(all.every((x) => x.v === "loaded")).toBe(true);
      expect(loads).toBe(1);
      expect(await cached(cache, "rt:1", 30, load)).toEqual({ v: "loaded" });
      expect(loads).toBe(1);
    });

    test("cached() does not store null unless asked", async () => {
      let loads = 0;
      const load = async () => {
        loads++;
        return null;
      };
      await cached(cache, "rt:null", 30, load);
      await cached(cache, "rt:null", 30, load);
      expect(loads).toBe(2);
      await cached(cache, "rt:null2", 30, load, { cacheNull: true });
      await cached(cache, "rt:null2", 30, load, { cacheNull: true });
      expect(loads).toBe(3);
    });

    test.skipIf(b.name === "memory")("evalScript prefixes keys and reuses the script", async () => {
      const script = "redis.call('SET', KEYS[1], ARGV[1]); return {KEYS[1], redis.call('GET', KEYS[1])}";
      const r1 = (await cache.evalScript!(script, ["lua:k"], ['"v"'])) as string[];
      const r2 = (await cache.evalScript!(script, ["lua:k"], ['"w"'])) as string[];
      expect(r1[0]).toBe(`cachetest-${runId}:test:lua:k`);
      expect(r1[1]).toBe('"v"');
      expect(r2[1]).toBe('"w"');
      expect(await cache.get("lua:k")).toBe("w");
    });

    test.skipIf(b.name === "memory")("a server error reply is not treated as an outage", async () => {
      await cache.set("wrongtype", "text", 30);
      await expect(
        cache.evalScript!("return redis.call('LPUSH', KEYS[1], 'x')", ["wrongtype"], []),
      ).rejects.toThrow(/WRONGTYPE/);
      expect(await cache.get("wrongtype")).toBe("text");
      expect((await cache.ping()).ok).toBe(true);
    });
  });
}

/* Outages need a Redis we may kill: a throwaway redis-server on a free port. */
describe.skipIf(!hasRedisServer)("cache outage", () => {
  const outageOptions = {
    opTimeoutMs: 300,
    connectTimeoutMs: 500,
    reconnectBaseDelayMs: 50,
    reconnectMaxDelayMs: 200,
  } satisfies Partial<CreateCacheOptions>;

  async function until(cond: () => Promise<boolean>, timeoutMs = 8000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error("condition not met in time");
      await Bun.sleep(50);
    }
  }

  async function exerciseOutage(cache: Cache, lines: Captured[]) {
    let t0 = performance.now();
    expect(await cache.get("k")).toBeUndefined();
    // The first failure may need the op timeout to notice; after that the breaker answers at once.
    expect(performance.now() - t0).toBeLessThan(outageOptions.opTimeoutMs + 250);
    t0 = performance.now();
    for (let i = 0; i < 50; i++) expect(await cache.get("k")).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(250);
    await cache.set("k", "dropped", 30);
    await cache.delete("other");
    expect(await cache.deleteByPrefix("x")).toBe(0);
    await expect(cache.incr("ratelimit:x", 10)).rejects.toBeInstanceOf(CacheUnavailableError);
    const p = await cache.ping();
    expect(p.ok).toBe(false);
    expect(p.error).toBeString();
    expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
  }

  test("redis: killed server → misses, dropped writes, one warning; restart → reconnects", async () => {
    const server = await throwawayRedis();
    const { lines, logger } = captureLogger();
    let errors = 0;
    const cache = createCache({
      appName: `outage-${runId}`,
      environment: "test",
      logger,
      redisUrl: server.url,
      onError: () => errors++,
      ...outageOptions,
    });
    try {
      await cache.set("k", "v", 30);
      expect(await cache.get("k")).toBe("v");

      await server.stop();
      await exerciseOutage(cache, lines);
      expect(errors).toBeGreaterThan(0);

      await server.start();
      await until(async () => (await cache.ping()).ok);
      await cache.set("k", "back", 30);
      expect(await cache.get("k")).toBe("back");
      expect((await cache.incr("ratelimit:x", 10)).count).toBe(1);
      expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
      expect(lines.filter((l) => l.level === "info" && /reconnected/.test(l.msg))).toHaveLength(1);
    } finally {
      await cache.close();
      await server.stop();
    }
  });

  test("redis: a hung server is cut by the op timeout; invalidations made meanwhile are replayed", async () => {
    const server = await throwawayRedis();
    const { lines, logger } = captureLogger();
    const cache = createCache({
      appName: `hang-${runId}`,
      environment: "test",
      logger,
      redisUrl: server.url,
      ...outageOptions,
    });
    try {
      await cache.set("role", "manager", 60);
      await cache.set("member_role:p:1", "member", 60);
      await cache.set("member_role:p:2", "member", 60);
      server.pause();
      await exerciseOutage(cache, lines);
      await cache.delete("role");
      await cache.deleteByPrefix("member_role:p:");
      server.resume();
      await until(async () => (await cache.ping()).ok);
      expect(await cache.get("role")).toBeUndefined();
      expect(await cache.get("member_role:p:1")).toBeUndefined();
      expect(await cache.get("member_role:p:2")).toBeUndefined();
    } finally {
      await cache.close();
      await server.stop();
    }
  });

  test("redis: unreachable at start → misses and one warning, no throw", async () => {
    const server = await throwawayRedis();
    await server.stop();
    const { lines, logger } = captureLogger();
    const cache = createCache({
      appName: `down-${runId}`,
      environment: "test",
      logger,
      redisUrl: server.url,
      ...outageOptions,
    });
    try {
      await exerciseOutage(cache, lines);
      await server.start();
      await until(async () => (await cache.ping()).ok);
      await cache.set("k", 1, 30);
      expect(await cache.get("k")).toBe(1);
    } finally {
      await cache.close();
      await server.stop();
    }
  });

  test("upstash: REST endpoint down → misses and one warning; back → recovers", async () => {
    const server = await throwawayRedis();
    const rest = await startUpstashBridge(server.url);
    const { lines, logger } = captureLogger();
    const cache = createCache({
      appName: `up-outage-${runId}`,
      environment: "test",
      logger,
      upstashUrl: rest.url,
      upstashToken: rest.token,
      ...outageOptions,
    });
    try {
      await cache.set("k", "v", 30);
      expect(await cache.get("k")).toBe("v");
      await rest.stop();
      await exerciseOutage(cache, lines);
      rest.start();
      await until(async () => (await cache.ping()).ok);
      expect(await cache.get("k")).toBe("v");
    } finally {
      await cache.close();
      await rest.close();
      await server.stop();
    }
  });

  test("upstash: a wrong token is an outage (misses), not an exception", async () => {
    const server = await throwawayRedis();
    const rest = await startUpstashBridge(server.url);
    const { lines, logger } = captureLogger();
    const cache = createCache({
      appName: `up-token-${runId}`,
      environment: "test",
      logger,
      upstashUrl: rest.url,
      upstashToken: "wrong",
      ...outageOptions,
    });
    try {
      expect(await cache.get("k")).toBeUndefined();
      await cache.set("k", 1, 30);
      expect((await cache.ping()).ok).toBe(false);
      expect(lines.filter((l) => l.level === "warn")).toHaveLength(1);
    } finally {
      await cache.close();
      await rest.close();
      await server.stop();
    }
  });
});

/* rediss:// keeps certificate verification on: a self-signed server is refused unless trusted. */
describe.skipIf(!hasRedisServer || !Bun.which("openssl"))("cache over TLS", () => {
  test("ssl_cert_reqs=required verifies; a trusted CA or ssl_cert_reqs=none connects", async () => {
    const dir = mkdtempSync(join(tmpdir(), "redis-tls-"));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    const gen = Bun.spawnSync([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]);
    expect(gen.exitCode).toBe(0);
    const server = await throwawayRedis((port) => [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      cert,
      "--tls-key-file",
      key,
      "--tls-auth-clients",
      "no",
    ]);
    const base = { environment: "test", logger: quiet, opTimeoutMs: 2000, connectTimeoutMs: 2000 };
    const url = `rediss://127.0.0.1:${server.port}?ssl_cert_reqs=required`;
    const strict = createCache({ ...base, appName: `tls1-${runId}`, redisUrl: url });
    const trusted = createCache({
      ...base,
      appName: `tls2-${runId}`,
      redisUrl: url,
      redisTls: { ca: await Bun.file(cert).text() },
    });
    const lax = createCache({
      ...base,
      appName: `tls3-${runId}`,
      redisUrl: `rediss://127.0.0.1:${server.port}?ssl_cert_reqs=none`,
    });
    try {
      expect((await strict.ping()).ok).toBe(false);
      expect((await trusted.ping()).ok).toBe(true);
      await trusted.set("k", { tls: true }, 30);
      expect(await trusted.get("k")).toEqual({ tls: true });
      expect((await lax.ping()).ok).toBe(true);
    } finally {
      await Promise.all([strict.close(), trusted.close(), lax.close()]);
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
