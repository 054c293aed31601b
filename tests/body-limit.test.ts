import { afterAll, describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";

const echo = (app: Elysia<any>) =>
  app.use(
    new Elysia({ name: "echo" }).post("/echo", ({ body }) => ({ size: JSON.stringify(body).length }), {
      body: t.Object({ data: t.String() }, { additionalProperties: false }),
    }),
  );

/* Sends only the request head plus a few bytes, then waits: a 413 must come back without the rest. */
async function rawRequest(port: number, head: string, bodyStart: string, waitMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    let response = "";
    const timer = setTimeout(() => resolve(response), waitMs);
    void Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open(s) {
          s.write(head + bodyStart);
        },
        data(s, chunk) {
          response += new TextDecoder().decode(chunk);
          if (response.includes("\r\n\r\n") && response.includes('"code"')) {
            clearTimeout(timer);
            s.end();
            resolve(response);
          }
        },
        error(_s, e) {
          reject(e);
        },
      },
    });
  });
}

describe("body limits", async () => {
  const { app, deps, request } = await testApp({ MAX_FILE_SIZE_MB: "1" }, { extend: echo });
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => app.handle(r) });
  afterAll(() => server.stop(true));

  test("a declared JSON body over 1 MiB → 413 before the body is read", async () => {
    const started = performance.now();
    const res = await rawRequest(
      server.port!,
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 52428800\r\n\r\n",
      '{"data":"',
    );
    expect(res).toStartWith("HTTP/1.1 413");
    expect(res).toContain("PAYLOAD_TOO_LARGE");
    expect(res).toContain("application/problem+json");
    expect(performance.now() - started).toBeLessThan(2500);
  });

  test("a declared upload over MAX_FILE_SIZE_MB + 64 KiB → 413 FILE_TOO_LARGE with maxBytes", async () => {
    const limit = deps.config.maxFileSizeBytes + 64 * 1024;
    const res = await rawRequest(
      server.port!,
      `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${limit + 1}\r\n\r\n`,
      "--b\r\n",
    );
    expect(res).toStartWith("HTTP/1.1 413");
    expect(res).toContain('"FILE_TOO_LARGE"');
    expect(res).toContain(`"maxBytes":${deps.config.maxFileSizeBytes}`);
  });

  test("a chunked JSON body is counted while streaming → 413", async () => {
    const chunk = new TextEncoder().encode("a".repeat(64 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{"data":"'));
        if (sent > 64) {
          controller.close();
          return;
        }
        sent++;
        controller.enqueue(chunk);
      },
    });
    const res = await request("/echo", {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(413);
    expect((await json(res)).code).toBe("PAYLOAD_TOO_LARGE");
    expect(sent).toBeLessThan(40);
  });

  test("a body under the limit passes", async () => {
    const res = await request("/echo", {
      method: "POST",
      body: JSON.stringify({ data: "x".repeat(1000) }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
  });
});
