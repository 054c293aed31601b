import { describe, expect, test } from "bun:test";
import { buildApp } from "@/app";
import { memberRoleKey, projectKey, userKey } from "@/lib/cache";
import { testDeps } from "./helpers/context";
import { TEST_REDIS_URL } from "./helpers/env";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };

/* Two app instances with one cache namespace: with Redis they are two workers of a deployment. */
async function pair() {
  const namespace = `inv-${crypto.randomUUID().slice(0, 8)}`;
  const depsA = await testDeps({}, undefined, namespace);
  const depsB = await testDeps({}, undefined, namespace);
  const mk = (deps: typeof depsA) => {
    const app = buildApp(deps);
    return (path: string, init: RequestInit = {}) => app.handle(new Request(`http://localhost${path}`, init));
  };
  return { depsA, a: mk(depsA), b: mk(depsB) };
}

describe("read-through caching and write-through invalidation", () => {
  test("the member role, project and user are served from the cache after the first read", async () => {
    const { depsA, a } = await pair();
    const m = await signIn(a, depsA.config.secretKey);
    const p = await json(
      await a("/api/v1/project", jsonInit("POST", { name: "C", code: `C-${m.id.slice(-10)}` }, m.auth)),
    );
    await a(`/api/v1/project/${p.id}`, { headers: m.auth });
    expect(await depsA.cache.get(memberRoleKey(p.id, m.id))).toBe("project_manager");
    expect(await depsA.cache.get<any>(projectKey(p.id))).toMatchObject({ id: p.id, isActive: true });
    expect(await depsA.cache.get<any>(userKey(m.id))).toMatchObject({ id: m.id, isActive: true });
  });

  test("same instance: removal, re-role and deactivation take effect on the very next request", async () => {
    const { depsA, a } = await pair();
    const m = await signIn(a, depsA.config.secretKey);
    const v = await signIn(a, depsA.config.secretKey);
    const p = await json(
      await a("/api/v1/project", jsonInit("POST", { name: "C", code: `D-${m.id.slice(-10)}` }, m.auth)),
    );
    const member = await json(
      await a(`/api/v1/project/${p.id}/member`, jsonInit("POST", { userId: v.id, role: "viewer" }, m.auth)),
    );
    expect((await a(`/api/v1/project/${p.id}`, { headers: v.auth })).status).toBe(200);
    // viewer cannot write; promotion to member must be visible at once
    expect(
      (await a(`/api/v1/project/${p.id}/file`, { method: "POST", body: new FormData(), headers: v.auth }))
        .status,
    ).toBe(403);
    await a(`/api/v1/project/${p.id}/member/${member.id}`, jsonInit("PATCH", { role: "member" }, m.auth));
    expect((await json(await a(`/api/v1/project/${p.id}/member/me`, { headers: v.auth }))).role).toBe(
      "member",
    );
    await a(`/api/v1/project/${p.id}/member/${member.id}`, { method: "DELETE", headers: m.auth });
    expect((await a(`/api/v1/project/${p.id}`, { headers: v.auth })).status).toBe(404);
    await a(`/api/v1/project/${p.id}`, jsonInit("PATCH", { isActive: false }, m.auth));
    expect(
      (
        (await a(`/api/v1/project/${p.id}/member`, jsonInit("POST", { userId: v.id }, m.auth)).then((r) =>
          r.json(),
        )) as any
      ).code,
    ).toBe("PROJECT_INACTIVE");
    await a(`/api/v1/user_account/${v.id}/deactivate`, { method: "PATCH", headers: DEV });
    expect((await a("/api/v1/user_account/me", { headers: v.auth })).status).toBe(403);
  });

  test.skipIf(!TEST_REDIS_URL)(
    "across instances (Redis): a change on A is seen by B's next request",
    async () => {
      const { depsA, a, b } = await pair();
      expect(depsA.cache.backend).toBe("redis");
      const m = await signIn(a, depsA.config.secretKey);
      const v = await signIn(a, depsA.config.secretKey);
      const p = await json(
        await a("/api/v1/project", jsonInit("POST", { name: "X", code: `X-${m.id.slice(-10)}` }, m.auth)),
      );
      const member = await json(
        await a(`/api/v1/project/${p.id}/member`, jsonInit("POST", { userId: v.id, role: "member" }, m.auth)),
      );
      expect((await b(`/api/v1/project/${p.id}`, { headers: v.auth })).status).toBe(200);
      await a(`/api/v1/project/${p.id}/member/${member.id}`, { method: "DELETE", headers: m.auth });
      expect((await b(`/api/v1/project/${p.id}`, { headers: v.auth })).status).toBe(404);
      expect((await b("/api/v1/user_account/me", { headers: v.auth })).status).toBe(200);
      await a(`/api/v1/user_account/${v.id}/deactivate`, { method: "PATCH", headers: DEV });
      expect((await b("/api/v1/user_account/me", { headers: v.auth })).status).toBe(403);
      await a("/api/v1/user_account/logout", { method: "POST", headers: m.auth });
      expect((await b("/api/v1/user_account/me", { headers: m.auth })).status).toBe(401);
    },
  );
});
