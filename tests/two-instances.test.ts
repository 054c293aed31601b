import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { DEV_SECRET_KEY } from "@/config";
import { TEST_DATABASE_URL, TEST_REDIS_URL } from "./helpers/env";
import { uploadForm } from "./helpers/files";
import { freePort } from "./helpers/free-port";
import { jsonInit, signIn } from "./helpers/users";

/*
 * Issue #19 item 5: two instances behind a load balancer share PostgreSQL, Redis and the object
 * store. Two real server processes on loopback: both serve, a write through one is read fresh
 * through the other (cache invalidation crosses instances), and a SIGTERM drains one instance by
 * failing its readiness probe while it still answers. Needs PostgreSQL and Redis: an embedded
 * database and an in-process cache are single-instance by design.
 */

const MAIN = resolve(import.meta.dir, "../src/cli/main.ts");
const live: Subprocess[] = [];
afterAll(() => {
  for (const p of live) p.kill("SIGKILL");
});

async function instance(port: number, env: Record<string, string>) {
  const proc = Bun.spawn(["bun", MAIN, "serve"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env, PORT: String(port) },
    stdout: "ignore",
    stderr: "pipe",
  });
  live.push(proc);
  const base = `http://127.0.0.1:${port}`;
  const until = Date.now() + 20_000;
  for (;;) {
    const ok = await fetch(`${base}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > until || proc.exitCode !== null) {
      throw new Error(`instance on ${port} did not start: ${await new Response(proc.stderr).text()}`);
    }
    await Bun.sleep(100);
  }
  const request = (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);
  return { proc, request };
}

describe.skipIf(!TEST_DATABASE_URL || !TEST_REDIS_URL)(
  "two instances on one database, cache and store",
  () => {
    test("both serve; a write on one is read fresh on the other; SIGTERM drains through readiness", async () => {
      const env = {
        ENVIRONMENT: "development",
        HOST: "127.0.0.1",
        DATABASE_URL: TEST_DATABASE_URL!,
        REDIS_URL: TEST_REDIS_URL!,
        LOCAL_STORAGE_PATH: mkdtempSync(join(tmpdir(), "camp-two-")),
        APP_NAME: `camp-two-${Date.now()}`,
        LOG_LEVEL: "silent",
        SEED_ON_START: "false",
        RATE_LIMIT_CALLS: "100000",
        SHUTDOWN_DRAIN_S: "2",
      };
      const a = await instance(await freePort(), env);
      const b = await instance(await freePort(), { ...env, MIGRATE_ON_START: "false" });

      const manager = await signIn(a.request, DEV_SECRET_KEY);
      const created = await a.request(
        "/api/v1/project",
        jsonInit("POST", { name: "Before", code: `TWO-${manager.id.slice(-8)}` }, manager.auth),
      );
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };

      // B reads (and caches) the project, A renames it, B must answer the new name at once.
      const first = await b.request(`/api/v1/project/${id}`, { headers: manager.auth });
      expect(((await first.json()) as { name: string }).name).toBe("Before");
      const renamed = await a.request(
        `/api/v1/project/${id}`,
        jsonInit("PATCH", { name: "After" }, manager.auth),
      );
      expect(renamed.status).toBe(200);
      const fresh = await b.request(`/api/v1/project/${id}`, { headers: manager.auth });
      expect(((await fresh.json()) as { name: string }).name).toBe("After");

      // An upload through A downloads through B (one object store).
      const up = await a.request(`/api/v1/project/${id}/file`, {
        method: "POST",
        body: uploadForm("shared.csv", "k,v\nx,1\n"),
        headers: manager.auth,
      });
      expect(up.status).toBe(201);
      const file = (await up.json()) as { id: string };
      const down = await b.request(`/api/v1/project/${id}/file/${file.id}/download`, {
        headers: manager.auth,
      });
      expect(down.status).toBe(200);
      expect(await down.text()).toBe("k,v\nx,1\n");

      // Drain: readiness fails at once while requests are still served, then the process exits 0.
      b.proc.kill("SIGTERM");
      await Bun.sleep(300);
      expect((await b.request("/health/ready")).status).toBe(503);
      expect((await b.request("/health")).status).toBe(200);
      expect(await b.proc.exited).toBe(0);
      expect((await a.request("/health/ready")).status).toBe(200);
    }, 60_000);
  },
);
