import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { DEV_SECRET_KEY } from "@/config";
import { signDevToken } from "@/lib/auth/dev-token";
import { spawnServer } from "../helpers/spawn";
import {
  cannotRun,
  loadAverage,
  type PrivateCluster,
  pgBinDir,
  privateCluster,
  report,
  runLoad,
  SERVER_SCRIPT,
  tally,
} from "./harness";

/*
 * Issue 13 items 1–2: PostgreSQL stopped and started under load. The process must survive (the
 * patched driver no longer throws from a timer), answer 503 problem+json fast while the database
 * is down (circuit breaker), and serve again within 5 s of the restart. Never a 500.
 */

const skip = cannotRun(pgBinDir() ? null : "initdb/pg_ctl not installed");

describe.skipIf(skip !== null)("PostgreSQL stopped and started under load", () => {
  let cluster: PrivateCluster | null = null;
  let proc: Subprocess | null = null;
  afterAll(() => {
    proc?.kill("SIGKILL");
    cluster?.destroy();
  });

  test("the process survives; 503 within 1 s while down; back within 5 s; 0 × 500", async () => {
    cluster = await privateCluster();
    const server = await spawnServer(
      SERVER_SCRIPT,
      {
        ENVIRONMENT: "development",
        PORT: "0",
        WORKERS: "1",
        LOG_LEVEL: "warn",
        SEED_ON_START: "false",
        DATABASE_URL: cluster.url,
        DB_CONNECT_TIMEOUT_S: "2",
        RATE_LIMIT_CALLS: "1000000",
      },
      60_000,
    );
    proc = server.proc;
    const base = `http://127.0.0.1:${server.port}`;
    const token = await signDevToken({ secretKey: DEV_SECRET_KEY, email: "resilience.pg@example.com" });
    const auth = { authorization: `Bearer ${token}` };
    const created = await fetch(`${base}/api/v1/project`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "Resilience", code: `R-${Date.now()}` }),
    });
    expect(created.status).toBe(201);
    const project = (await created.json()) as { id: string };

    // Every request needs the database: a write (PATCH) or a list read.
    const one = (i: number) =>
      i % 2 === 0
        ? fetch(`${base}/api/v1/project/${project.id}`, {
            method: "PATCH",
            headers: { ...auth, "content-type": "application/json" },
            body: JSON.stringify({ description: `load ${i}` }),
          })
        : fetch(`${base}/api/v1/project?limit=5`, { headers: auth });

    let stop = false;
    const load = runLoad(one, { concurrency: 6, stop: () => stop });
    await Bun.sleep(1500);
    const stopAsked = performance.now();
    await cluster.stop();
    const down = performance.now();
    await Bun.sleep(3000);
    const startAsked = performance.now();
    await cluster.start();
    const up = performance.now();
    await Bun.sleep(3000);
    stop = true;
    const samples = await load;

    const t = tally(samples);
    const during = samples.filter((s) => s.at >= down && s.at < startAsked);
    const firstRefusal = samples.find((s) => s.at >= stopAsked && s.status === 503);
    const refusedWithin = firstRefusal ? firstRefusal.at + firstRefusal.ms - stopAsked : null;
    const backAt = samples.find((s) => s.at >= up && s.status >= 200 && s.status < 300);
    const recoveryS = backAt ? (backAt.at + backAt.ms - up) / 1000 : null;
    const sorted = during.map((s) => s.ms).sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? 0;
    const alive = proc.exitCode === null && (await fetch(`${base}/health`)).status === 200;
    report("postgres-restart", {
      ...t,
      downWindowRequests: during.length,
      downWindowP95Ms: Math.round(p95),
      firstRefusalMs: refusedWithin === null ? null : Math.round(refusedWithin),
      stopTookMs: Math.round(down - stopAsked),
      startTookMs: Math.round(up - startAsked),
      recoveryS,
      alive,
      load: loadAverage(),
    });

    expect(alive).toBe(true);
    expect(t.x500).toBe(0);
    expect(t.networkErrors).toBe(0);
    // Every 5xx is the documented 503 problem with its code.
    const odd = samples.filter(
      (s) =>
        s.status >= 500 &&
        (s.status !== 503 || s.code !== "DEPENDENCY_UNAVAILABLE" || s.type !== "application/problem+json"),
    );
    expect(odd).toEqual([]);
    expect(during.length).toBeGreaterThan(20);
    expect(during.every((s) => s.status === 503 || s.status < 300)).toBe(true);
    expect(refusedWithin).not.toBeNull();
    expect(refusedWithin!).toBeLessThan(1000 + (down - stopAsked));
    expect(p95).toBeLessThan(1000);
    expect(recoveryS).not.toBeNull();
    expect(recoveryS!).toBeLessThan(5);
  }, 60_000);
});
