import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { TEST_DATABASE_URL } from "./helpers/env";
import { freePort } from "./helpers/free-port";
import { spawnServer } from "./helpers/spawn";

test("WORKERS=2: both serve one port, /metrics reports the whole host, SIGTERM drains all", async () => {
  const port = await freePort();
  const { proc } = await spawnServer(resolve(import.meta.dir, "fixtures/slow-server.ts"), {
    ENVIRONMENT: "development",
    PORT: String(port),
    WORKERS: "2",
    LOG_LEVEL: "warn",
    PGLITE_DIR: "memory://",
    RATE_LIMIT_CALLS: "100000",
    SHUTDOWN_TIMEOUT_S: "10",
    ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL, MIGRATE_ON_START: "false" } : {}),
  });
  const base = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 120 && !up; i++) {
    up = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (!up) await Bun.sleep(250);
  }
  expect(up).toBe(true);
  // Connections are spread over both workers by the kernel (SO_REUSEPORT).
  const pids = new Set<number>();
  const deadline = Date.now() + 40_000;
  while (pids.size < 2 && Date.now() < deadline) {
    const body = (await fetch(`${base}/pid`, { headers: { connection: "close" } }).then((r) =>
      r.json(),
    )) as any;
    pids.add(body.pid);
    await Bun.sleep(25);
  }
  expect(pids.size).toBe(2);
  const n = 200;
  const statuses = await Promise.all(
    Array.from({ length: n }, () =>
      fetch(`${base}/`, { headers: { connection: "close" } }).then((r) => r.status),
    ),
  );
  expect(statuses.every((s) => s === 200)).toBe(true);
  const served = await Promise.all(
    Array.from({ length: 40 }, () =>
      fetch(`${base}/pid`, { headers: { connection: "close" } }).then(
        (r) => r.json() as Promise<{ pid: number }>,
      ),
    ),
  );
  expect(new Set(served.map((s) => s.pid)).size).toBe(2);
  await Bun.sleep(100);
  // Whichever worker answers the scrape, it reports the sum over both workers.
  for (let i = 0; i < 6; i++) {
    const text = await fetch(`${base}/metrics`, { headers: { connection: "close" } }).then((r) => r.text());
    const line = text
      .split("\n")
      .find((l) => l.startsWith('http_requests_total{method="GET",endpoint="/",status="200"}'));
    expect(Number(line?.split(" ").pop())).toBe(n);
  }
  const inflight = Array.from({ length: 6 }, () =>
    fetch(`${base}/slow`, { headers: { connection: "close" } }).then((r) => r.status),
  );
  await Bun.sleep(300);
  proc.kill("SIGTERM");
  expect(await Promise.all(inflight)).toEqual([200, 200, 200, 200, 200, 200]);
  expect(await proc.exited).toBe(0);
  const late = await fetch(`${base}/health`).then(
    (r) => r.status,
    () => "refused",
  );
  expect(late).toBe("refused");
}, 60_000);
