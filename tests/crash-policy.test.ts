import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { CRASH_EXIT_CODE } from "@/lib/crash-policy";
import { TEST_DATABASE_URL } from "./helpers/env";
import { spawnServer } from "./helpers/spawn";

/*
 * Issue 13 item 1: a throw nobody can catch (a driver's timer, a forgotten promise) is logged with
 * the request it happened for and ends the process non-zero, so the supervisor starts a clean one.
 */

async function crashWith(path: string) {
  const { proc, port, output } = await spawnServer(
    resolve(import.meta.dir, "fixtures/slow-server.ts"),
    {
      ENVIRONMENT: "development",
      PORT: "0",
      LOG_LEVEL: "info",
      PGLITE_DIR: "memory://",
      SEED_ON_START: "false",
      ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
    },
    60_000,
  );
  const requestId = `crash-${path.split("/").pop()}-${Date.now()}`;
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { "X-Request-ID": requestId } });
  expect(res.status).toBe(200);
  const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => "still running")]);
  if (code === "still running") proc.kill("SIGKILL");
  await proc.exited;
  const stderr = await new Response(proc.stderr).text();
  return { code, log: output() + stderr, requestId };
}

describe("crash policy", () => {
  test("an exception thrown from a timer: logged with the request id, exit non-zero", async () => {
    const { code, log, requestId } = await crashWith("/crash/timer");
    expect(code).toBe(CRASH_EXIT_CODE);
    // Development pretty-prints the fields on the lines after the message.
    const entry = log.slice(log.indexOf("uncaughtException; exiting"));
    expect(entry).toContain("uncaughtException; exiting");
    expect(entry).toContain(requestId);
    expect(entry).toContain("thrown from a timer");
  }, 90_000);

  // The runtime reports unhandled rejections outside the request's async context, so no id here.
  test("a rejection nobody handles: logged, exit non-zero", async () => {
    const { code, log } = await crashWith("/crash/rejection");
    expect(code).toBe(CRASH_EXIT_CODE);
    const entry = log.slice(log.indexOf("unhandledRejection; exiting"));
    expect(entry).toContain("unhandledRejection; exiting");
    expect(entry).toContain("rejected with nobody listening");
  }, 90_000);
});
