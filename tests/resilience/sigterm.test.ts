import { afterAll, describe, expect, test } from "bun:test";
import type { Subprocess } from "bun";
import { DEV_SECRET_KEY } from "@/config";
import { signDevToken } from "@/lib/auth/dev-token";
import { TEST_DATABASE_URL } from "../helpers/env";
import { spawnServer } from "../helpers/spawn";
import { cannotRun, loadAverage, report, runLoad, SERVER_SCRIPT, tally } from "./harness";

/*
 * SIGTERM while writes and slow requests are in flight: every request the server accepted is
 * answered (no 5xx, no cut connection), new connections are refused, and the process exits 0.
 */

const skip = cannotRun(null);

describe.skipIf(skip !== null)("SIGTERM under load", () => {
  let proc: Subprocess | null = null;
  afterAll(() => {
    proc?.kill("SIGKILL");
  });

  test("in-flight requests finish, then exit 0", async () => {
    const server = await spawnServer(
      SERVER_SCRIPT,
      {
        ENVIRONMENT: "development",
        PORT: "0",
        WORKERS: "1",
        LOG_LEVEL: "warn",
        SEED_ON_START: "false",
        DATABASE_URL: TEST_DATABASE_URL!,
        RATE_LIMIT_CALLS: "1000000",
        SHUTDOWN_TIMEOUT_S: "10",
      },
      60_000,
    );
    proc = server.proc;
    const base = `http://127.0.0.1:${server.port}`;
    const token = await signDevToken({
      secretKey: DEV_SECRET_KEY,
      email: `resilience.term.${Date.now()}@example.com`,
    });
    const auth = { authorization: `Bearer ${token}` };
    const created = await fetch(`${base}/api/v1/project`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "Resilience", code: `RT-${Date.now()}` }),
    });
    expect(created.status).toBe(201);
    const project = (await created.json()) as { id: string };

    let stop = false;
    let termAt = Number.POSITIVE_INFINITY;
    const load = runLoad(
      (i) =>
        fetch(`${base}/api/v1/project/${project.id}`, {
          method: "PATCH",
          headers: { ...auth, "content-type": "application/json" },
          body: JSON.stringify({ description: `load ${i}` }),
        }),
      { concurrency: 4, stop: () => stop },
    );
    await Bun.sleep(800);
    // Slow requests (1.5 s each) that are in flight when the signal arrives.
    const slow = Array.from({ length: 6 }, () => fetch(`${base}/slow`).then((r) => r.status));
    await Bun.sleep(300);
    termAt = performance.now();
    proc.kill("SIGTERM");
    // Loops finish the request they have in flight and start no more (a refused connection
    // after the signal is expected and says nothing).
    stop = true;
    await Bun.sleep(200);
    const late = await fetch(`${base}/health`).then(
      (r) => r.status,
      () => "refused",
    );
    const [samples, slowStatuses, exitCode] = await Promise.all([load, Promise.all(slow), proc.exited]);
    const exitedAfterMs = Math.round(performance.now() - termAt);
    const t = tally(samples);
    // Requests started before the signal must all be answered; later ones may be refused (status 0).
    const accepted = samples.filter((s) => s.at < termAt);
    report("sigterm", {
      ...t,
      slowInFlight: slowStatuses.length,
      slowFinished: slowStatuses.filter((s) => s === 200).length,
      acceptedBeforeSignal: accepted.length,
      lateRequest: late,
      exitCode,
      exitedAfterMs,
      load: loadAverage(),
    });
    expect(slowStatuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(t.x5xx).toBe(0);
    expect(accepted.every((s) => s.status === 200)).toBe(true);
    expect(late).toBe("refused");
    expect(exitCode).toBe(0);
  }, 60_000);
});
