import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { SECURITY_HEADERS } from "./helpers/context";
import { TEST_DATABASE_URL } from "./helpers/env";
import { spawnServer } from "./helpers/spawn";

/*
 * Issue 13 item 8: refusals the HTTP server used to make itself (bare 431 for a large header,
 * bare 413 above Bun's body limit) and the whole-request deadline for slow-body clients are
 * answered by the app as problem+json, with request id, security and CORS headers.
 */

const ORIGIN = "https://app.example.com";
let proc: Subprocess;
let port = 0;

beforeAll(async () => {
  const started = await spawnServer(
    resolve(import.meta.dir, "fixtures/slow-server.ts"),
    {
      ENVIRONMENT: "development",
      PORT: "0",
      LOG_LEVEL: "warn",
      PGLITE_DIR: "memory://",
      SEED_ON_START: "false",
      ALLOWED_ORIGINS: ORIGIN,
      MAX_FILE_SIZE_MB: "1",
      REQUEST_TIMEOUT_S: "2",
      // What the shipped deployment files set: Bun's own header limit above MAX_HEADER_BYTES.
      BUN_OPTIONS: "--max-http-header-size=65536",
      ...(TEST_DATABASE_URL ? { DATABASE_URL: TEST_DATABASE_URL } : {}),
    },
    60_000,
  );
  proc = started.proc;
  port = started.port;
}, 90_000);

afterAll(() => {
  proc?.kill("SIGKILL");
});

/* One HTTP/1.1 exchange over a raw socket: the head, then body pieces with pauses between them. */
async function raw(head: string, pieces: { data: string; afterMs?: number }[] = [], waitMs = 8000) {
  let text = "";
  const started = performance.now();
  let closed!: () => void;
  const done = new Promise<void>((r) => {
    closed = r;
  });
  const socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_s, chunk) {
        text += new TextDecoder().decode(chunk);
      },
      close() {
        closed();
      },
      error() {
        closed();
      },
    },
  });
  socket.write(head);
  for (const p of pieces) {
    if (p.afterMs) await Bun.sleep(p.afterMs);
    if (text) break;
    socket.write(p.data);
  }
  const complete = () => {
    const at = text.indexOf("\r\n\r\n");
    if (at < 0) return false;
    const length = /content-length: (\d+)/i.exec(text.slice(0, at));
    return length ? text.length - at - 4 >= Number(length[1]) : text.endsWith("0\r\n\r\n");
  };
  const deadline = performance.now() + waitMs;
  let isClosed = false;
  void done.then(() => {
    isClosed = true;
  });
  while (!isClosed && !complete() && performance.now() < deadline) await Bun.sleep(20);
  socket.end();
  const elapsedMs = performance.now() - started;
  const [headText, ...rest] = text.split("\r\n\r\n");
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(headText)?.[1] ?? 0);
  const headers = new Map<string, string>();
  for (const line of headText.split("\r\n").slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  return { status, headers, body: rest.join("\r\n\r\n"), elapsedMs };
}

function expectProblem(
  res: { status: number; headers: Map<string, string> | Headers },
  body: any,
  code: string,
) {
  const get = (h: string) =>
    (res.headers instanceof Headers ? res.headers.get(h) : res.headers.get(h)) ?? null;
  expect({ status: res.status, code: body.code, type: get("content-type") }).toEqual({
    status: body.status,
    code,
    type: "application/problem+json",
  });
  expect(body.requestId).toBe(get("x-request-id"));
  for (const h of SECURITY_HEADERS.filter((x) => x !== "server-timing"))
    expect({ h, v: get(h) !== null }).toEqual({ h, v: true });
  expect(get("access-control-allow-origin")).toBe(ORIGIN);
}

/* The body of a (possibly chunked) response. */
const unchunk = (body: string) =>
  /^[0-9a-f]+\r\n/i.test(body)
    ? body
        .replace(/^[0-9a-f]+\r\n/i, "")
        .replace(/\r\n0\r\n\r\n$/, "")
        .replace(/\r\n$/, "")
    : body;

describe("refusals of the HTTP server are problem+json", () => {
  test("a 17 KB Authorization header → 431 HEADERS_TOO_LARGE", async () => {
    const res = await fetch(`http://127.0.0.1:${port}/api/v1/project`, {
      headers: { authorization: `Bearer ${"a".repeat(17 * 1024)}`, origin: ORIGIN },
    });
    expectProblem(res, await res.json(), "HEADERS_TOO_LARGE");
    expect(res.status).toBe(431);
    // Headers under the limit still pass to authentication.
    const ok = await fetch(`http://127.0.0.1:${port}/api/v1/project`, {
      headers: { authorization: `Bearer ${"a".repeat(8 * 1024)}` },
    });
    expect(ok.status).toBe(401);
  });

  test("a declared body far above every limit → 413 problem+json, not Bun's bare 413", async () => {
    for (const [type, length, code] of [
      ["application/json", 3 * 1024 * 1024, "PAYLOAD_TOO_LARGE"],
      ["multipart/form-data; boundary=x", 5 * 1024 * 1024 * 1024, "FILE_TOO_LARGE"],
    ] as const) {
      const res = await raw(
        `POST /api/v1/project HTTP/1.1\r\nHost: localhost\r\nOrigin: ${ORIGIN}\r\nContent-Type: ${type}\r\nContent-Length: ${length}\r\n\r\n`,
        [{ data: "{" }],
      );
      const body = JSON.parse(unchunk(res.body));
      expectProblem(res, body, code);
      expect(res.status).toBe(413);
    }
  });

  test("a body that trickles past REQUEST_TIMEOUT_S → 408 REQUEST_TIMEOUT, before authentication", async () => {
    const pieces = Array.from({ length: 12 }, () => ({ data: " ", afterMs: 400 }));
    const res = await raw(
      `POST /api/v1/project HTTP/1.1\r\nHost: localhost\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{`,
      pieces,
    );
    const body = JSON.parse(unchunk(res.body));
    expectProblem(res, body, "REQUEST_TIMEOUT");
    expect(res.status).toBe(408);
    expect(res.elapsedMs).toBeGreaterThan(1800);
    expect(res.elapsedMs).toBeLessThan(4500);
    // The server is fine afterwards.
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
  });
});
