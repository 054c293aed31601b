import { expect, test } from "bun:test";
import { resolve } from "node:path";
import { TEST_DATABASE_URL } from "./helpers/env";
import { spawnServer } from "./helpers/spawn";

test("SIGTERM drains in-flight requests, refuses new ones, and exits 0", async () => {
  const { proc, port, output } = await spawnServer(resolve(import.meta.dir, "fixtures/slow-server.ts"), {
    ENVIRONMENT: "development",
    PORT: "0",
    LOG_LEVEL: "info",
    PGLITE_DIR: "memory://",
    SHUTDOWN_TIMEOUT_S: "10",
    ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
  });
  const base = `http://127.0.0.1:${port}`;
  const inflight = Array.from({ length: 5 }, () => fetch(`${base}/slow`).then((r) => r.status));
  await Bun.sleep(300);
  proc.kill("SIGTERM");
  await Bun.sleep(200);
  const late = await fetch(`${base}/health`).then(
    (r) => r.status,
    () => "refused",
  );
  expect(await Promise.all(inflight)).toEqual([200, 200, 200, 200, 200]);
  expect(late).toBe("refused");
  expect(await proc.exited).toBe(0);
  expect(output()).toContain("stopped");
}, 30000);
