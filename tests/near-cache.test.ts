import { describe, expect, test } from "bun:test";
import { buildApp } from "@/app";
import type { AppDeps } from "@/deps";
import { NearCache } from "@/lib/cache/near";
import { testDeps } from "./helpers/context";
import { TEST_REDIS_URL } from "./helpers/env";
import { jsonInit, signIn } from "./helpers/users";

/*
 * The in-process near cache in front of Redis (lib/cache/near.ts): a warm authenticated request
 * makes one Redis round trip, and the guarantees of the shared cache still hold across instances.
 */

/* Two workers of one deployment: one cache namespace, one Redis. */
async function pair() {
  const namespace = `near-${crypto.randomUUID().slice(0, 8)}`;
  const depsA = await testDeps({}, undefined, namespace);
  const depsB = await testDeps({}, undefined, namespace);
  const mk = (deps: AppDeps) => {
    const app = buildApp(deps);
    return (path: string, init: RequestInit = {}) => app.handle(new Request(`http://localhost${path}`, init));
  };
  return { depsA, depsB, a: mk(depsA), b: mk(depsB) };
}

/* Counts the calls that reach the shared store (each is one network round trip). */
function countRemote(deps: AppDeps): { calls: string[] } {
  const near = deps.cache as NearCache;
  const inner = near.inner as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  const seen = { calls: [] as string[] };
  for (const op of ["get", "set", "delete", "deleteByPrefix", "incr", "evalScript", "ping"]) {
    const original = inner[op].bind(inner);
    inner[op] = (...args: unknown[]) => {
      seen.calls.push(`${op}:${String(op === "evalScript" ? (args[1] as string[])[0] : args[0])}`);
      return original(...args);
    };
  }
  return seen;
}

describe.skipIf(!TEST_REDIS_URL)("near cache (Redis)", () => {
  test("a warm authenticated project read makes exactly one Redis round trip", async () => {
    const { depsA, a } = await pair();
    expect(depsA.cache).toBeInstanceOf(NearCache);
    const m = await signIn(a, depsA.config.secretKey);
    const p = (await (
      await a("/api/v1/project", jsonInit("POST", { name: "N", code: `N-${m.id.slice(-10)}` }, m.auth))
    ).json()) as any;
    expect((await a(`/api/v1/project/${p.id}`, { headers: m.auth })).status).toBe(200);
    expect((await a(`/api/v1/project/${p.id}`, { headers: m.auth })).status).toBe(200);
    const seen = countRemote(depsA);
    const res = await a(`/api/v1/project/${p.id}`, { headers: m.auth });
    expect(res.status).toBe(200);
    expect(res.headers.get("ratelimit-remaining")).not.toBeNull();
    // The rate-limit script (which also returns the generation) and nothing else.
    expect(seen.calls).toHaveLength(1);
    expect(seen.calls[0]).toStartWith("evalScript:ratelimit:user:");
  });

  test("no stale read on B after a write on A, though B held the facts locally", async () => {
    const { depsA, depsB, a, b } = await pair();
    const m = await signIn(a, depsA.config.secretKey);
    const v = await signIn(a, depsA.config.secretKey);
    const p = (await (
      await a("/api/v1/project", jsonInit("POST", { name: "S", code: `S-${m.id.slice(-10)}` }, m.auth))
    ).json()) as any;
    const member = (await (
      await a(`/api/v1/project/${p.id}/member`, jsonInit("POST", { userId: v.id, role: "member" }, m.auth))
    ).json()) as any;
    for (let i = 0; i < 3; i++)
      expect((await b(`/api/v1/project/${p.id}`, { headers: v.auth })).status).toBe(200);
    expect((depsB.cache as NearCache).size).toBeGreaterThan(0);
    const seen = countRemote(depsB);
    expect((await b(`/api/v1/project/${p.id}`, { headers: v.auth })).status).toBe(200);
    expect(seen.calls).toHaveLength(1); // served from B's near layer

    // Role change on A: B's next write attempt sees the new role at once.
    await a(`/api/v1/project/${p.id}/member/${member.id}`, jsonInit("PATCH", { role: "viewer" }, m.auth));
    const me = (await (await b(`/api/v1/project/${p.id}/member/me`, { headers: v.auth })).json()) as any;
    expect(me.role).toBe("viewer");
    // Removal on A: B answers 404.
    await a(`/api/v1/project/${p.id}/member/${member.id}`, { method: "DELETE", headers: m.auth });
    expect((await b(`/api/v1/project/${p.id}`, { headers: v.auth })).status).toBe(404);
    // Deactivation on A: B refuses writes with PROJECT_INACTIVE.
    for (let i = 0; i < 2; i++) await b(`/api/v1/project/${p.id}`, { headers: m.auth });
    await a(`/api/v1/project/${p.id}`, jsonInit("PATCH", { isActive: false }, m.auth));
    const write = await b(`/api/v1/project/${p.id}/member`, jsonInit("POST", { userId: v.id }, m.auth));
    expect(((await write.json()) as any).code).toBe("PROJECT_INACTIVE");
  });

  test("a session revoked on A is refused on B at once", async () => {
    const { depsA, a, b } = await pair();
    const m = await signIn(a, depsA.config.secretKey);
    for (let i = 0; i < 3; i++)
      expect((await b("/api/v1/user_account/me", { headers: m.auth })).status).toBe(200);
    await a("/api/v1/user_account/logout", { method: "POST", headers: m.auth });
    expect((await b("/api/v1/user_account/me", { headers: m.auth })).status).toBe(401);
    expect((await a("/api/v1/user_account/me", { headers: m.auth })).status).toBe(401);
  });

  test("the generation counter: own invalidations keep local entries, foreign ones drop them", async () => {
    const { depsA, depsB } = await pair();
    const A = depsA.cache as NearCache;
    const B = depsB.cache as NearCache;
    await A.refreshGeneration();
    await B.refreshGeneration();
    await B.set("project:x", { v: 1 });
    await B.set("project:y", { v: 1 });
    await B.delete("project:y"); // B's own bump
    expect(B.size).toBe(1);
    await A.set("project:x", { v: 2 }); // no invalidation: B may keep serving v1 (the shared cache would too)
    await A.delete("project:x");
    await B.refreshGeneration(); // what the next request's rate-limit round trip does
    expect(B.size).toBe(0);
    expect(await B.get("project:x")).toBeUndefined();
  });
});

describe("near cache without Redis", () => {
  test("Redis unreachable: requests still succeed and nothing is served locally", async () => {
    const deps = await testDeps({ REDIS_URL: "redis://127.0.0.1:1/0" });
    expect(deps.cache).toBeInstanceOf(NearCache);
    const app = buildApp(deps);
    const req = (path: string, init: RequestInit = {}) =>
      app.handle(new Request(`http://localhost${path}`, init));
    const m = await signIn(req, deps.config.secretKey);
    const p = (await (
      await req("/api/v1/project", jsonInit("POST", { name: "O", code: `O-${m.id.slice(-10)}` }, m.auth))
    ).json()) as any;
    for (let i = 0; i < 3; i++)
      expect((await req(`/api/v1/project/${p.id}`, { headers: m.auth })).status).toBe(200);
    expect((deps.cache as NearCache).size).toBe(0);
    await deps.cache.close();
  });
});
