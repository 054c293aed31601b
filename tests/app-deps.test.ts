import { afterAll, describe, expect, test } from "bun:test";
import { enginePoolFor } from "@/adapters";
import { buildApp } from "@/app";
import type { AppDeps } from "@/deps";
import { WorkerPoolError } from "@/lib/worker-pool";
import { peerIpOf } from "@/plugins/request-context";
import { closeDeps } from "@/server";
import { f1Bytes, seedIssue, sessionOnF1 } from "./helpers/analysis";
import { isolatedDatabase, testDeps } from "./helpers/context";
import { jsonInit } from "./helpers/users";

/*
 * Caches, pools and route tables belong to one app (issue 15 item 7): two apps built in one process
 * share none of them, and shutdown closes what the app opened.
 */

const UPLOAD_DOC = {
  requestBody: { content: { "multipart/form-data": { schema: { title: "Probe", type: "object" } } } },
};

async function appWithOwnPool(extend?: (app: any) => any) {
  const deps = await testDeps();
  deps.enginePool = enginePoolFor(deps.config);
  const app = buildApp(deps, { extend });
  const request = (path: string, init: RequestInit = {}) =>
    app.handle(new Request(`http://localhost${path}`, init));
  return { deps, request };
}

describe("two apps in one process", async () => {
  const a = await appWithOwnPool((app) =>
    app.post("/probe/upload", () => ({ ok: true }), { detail: UPLOAD_DOC }),
  );
  const b = await appWithOwnPool((app) => app.post("/probe/upload", () => ({ ok: true })));
  const issue = await seedIssue(a.deps.database.db);
  afterAll(async () => {
    await a.deps.enginePool.close();
    await b.deps.enginePool.close();
  });

  test("have their own analysis caches and worker pools", async () => {
    expect(a.deps.analysisCaches).not.toBe(b.deps.analysisCaches);
    expect(a.deps.enginePool).not.toBe(b.deps.enginePool);

    const w = await sessionOnF1(a.request, a.deps.config.secretKey, issue.id);
    const step = await a.request(
      `${w.sbase}/step`,
      jsonInit("POST", { name: "全件", type: "filter", input: "original", config: {} }, w.user.auth),
    );
    expect(step.status).toBe(201);
    expect((await a.request(w.sbase, { headers: w.user.auth })).status).toBe(200);

    // App A parsed the file in its own workers and cached the decoded input and step results.
    expect(a.deps.enginePool.workers.stats.spawned).toBeGreaterThanOrEqual(1);
    expect(a.deps.analysisCaches.inputs.size).toBeGreaterThanOrEqual(1);
    expect(a.deps.analysisCaches.results.size).toBeGreaterThanOrEqual(1);
    // App B saw none of it.
    expect(b.deps.enginePool.workers.stats.spawned).toBe(0);
    expect(b.deps.analysisCaches.inputs.size).toBe(0);
    expect(b.deps.analysisCaches.results.size).toBe(0);

    // The same session read through app B decodes the input again, into B's cache.
    const hitsBefore = a.deps.analysisCaches.inputs.hits;
    expect((await b.request(w.sbase, { headers: w.user.auth })).status).toBe(200);
    expect(b.deps.analysisCaches.inputs.misses).toBeGreaterThanOrEqual(1);
    expect(b.deps.analysisCaches.inputs.size).toBe(1);
    expect(a.deps.analysisCaches.inputs.hits).toBe(hitsBefore);
  }, 30_000);

  test("have their own multipart route tables", async () => {
    const upload = () => {
      const form = new FormData();
      form.append("file", new File(["x"], "x.txt"));
      return { method: "POST", body: form };
    };
    // A documents the route as a multipart upload, so its parser lets the body through.
    expect((await a.request("/probe/upload", upload())).status).toBe(200);
    // B has the same path without the declaration: multipart is refused there.
    const refused = await b.request("/probe/upload", upload());
    expect(refused.status).toBe(415);
    expect(((await refused.json()) as { code: string }).code).toBe("UNSUPPORTED_MEDIA_TYPE");
  });
});

describe("shutdown", () => {
  test("closes the worker pool, clears the caches and closes the database", async () => {
    const own = await isolatedDatabase();
    let deps: AppDeps | null = null;
    try {
      deps = await testDeps({}, own.handle);
      deps.enginePool = enginePoolFor(deps.config);
      const registered = await deps.enginePool.registerFile(await f1Bytes(), "xlsx");
      expect(registered).toBeTruthy();
      expect(deps.enginePool.workers.stats.workers).toBe(1);
      deps.analysisCaches.svgs.set("k", "<svg/>", 12);

      await closeDeps(deps, 1);

      expect(deps.enginePool.workers.stats.workers).toBe(0);
      const refused = await deps.enginePool.registerFile(await f1Bytes(), "xlsx").catch((e) => e);
      expect(refused).toBeInstanceOf(WorkerPoolError);
      expect((refused as WorkerPoolError).reason).toBe("closed");
      expect(deps.analysisCaches.svgs.size).toBe(0);
      expect(
        await deps.database.db.execute("select 1").then(
          () => "open",
          () => "closed",
        ),
      ).toBe("closed");
    } finally {
      if (deps) await deps.enginePool.close();
      await own.drop().catch(() => {});
    }
    // A fresh embedded database and a worker's first start take seconds on a loaded machine.
  }, 60_000);
});

describe("socket peers", () => {
  test("each listening app reads the peer from its own server; app.handle has none", async () => {
    const probe = (app: any) =>
      app.get("/probe-peer", ({ request }: { request: Request }) => peerIpOf(request) ?? "none");
    const apps = await Promise.all([0, 1].map(async () => buildApp(await testDeps(), { extend: probe })));
    const servers = apps.map((app) => app.listen({ hostname: "127.0.0.1", port: 0 }).server!);
    try {
      for (const server of servers) {
        const res = await fetch(`http://127.0.0.1:${server.port}/probe-peer`);
        expect(await res.text()).toBe("127.0.0.1");
      }
      const handled = await apps[0].handle(new Request("http://localhost/probe-peer"));
      expect(await handled.text()).toBe("none");
    } finally {
      for (const server of servers) server.stop(true);
    }
  });
});
