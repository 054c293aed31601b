import { describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { AppError } from "@/lib/errors";
import { SECURITY_HEADERS, testApp } from "./helpers/context";

const ORIGIN = "http://localhost:5173";

/* Probe routes exercise the shared error pipeline exactly as feature routes do. */
const probeRoutes = (app: Elysia<any>) =>
  app.use(
    new Elysia({ name: "probe", prefix: "/probe" })
      .post("/echo", ({ body }) => body, {
        body: t.Object({ n: t.Integer(), name: t.Optional(t.String()) }, { additionalProperties: false }),
      })
      .get("/domain", () => {
        throw new AppError("PROJECT_CODE_TAKEN", { detail: "Code already used.", extensions: { code2: 1 } });
      })
      .get("/crash", () => {
        throw new Error("secret SQL: select * from user_account");
      })
      .get("/item/:id", ({ params }) => params, { params: t.Object({ id: t.String({ format: "uuid" }) }) }),
  );

async function problem(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  const body = (await res.json()) as Record<string, unknown>;
  expect(body.status).toBe(status);
  expect(body.code).toBe(code);
  expect(body.type).toBe(`urn:camp-backend:problem:${code}`);
  expect(typeof body.title).toBe("string");
  expect(typeof body.detail).toBe("string");
  expect(body.requestId).toBe(res.headers.get("x-request-id")!);
  for (const h of SECURITY_HEADERS) expect(res.headers.get(h)).not.toBeNull();
  expect(res.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  expect(res.headers.get("access-control-expose-headers")).toContain("X-Request-ID");
  expect(res.headers.get("cache-control")).toBe("no-store");
  return body;
}

describe("problem+json error pipeline", async () => {
  const { request } = await testApp({}, { extend: probeRoutes });
  const json = (body: string, headers: Record<string, string> = {}) => ({
    method: "POST",
    body,
    headers: { "content-type": "application/json", origin: ORIGIN, ...headers },
  });

  test("malformed JSON → 400 MALFORMED_REQUEST", async () => {
    const body = await problem(await request("/probe/echo", json("{oops")), 400, "MALFORMED_REQUEST");
    expect(body.instance).toBe("/probe/echo");
  });

  test("wrong type → 422 VALIDATION_FAILED with field errors", async () => {
    const body = await problem(await request("/probe/echo", json('{"n":"x"}')), 422, "VALIDATION_FAILED");
    expect(body.errors).toEqual([expect.objectContaining({ path: "/body/n" })]);
  });

  test("unknown key → 422 (bodies are closed objects)", async () => {
    const body = await problem(
      await request("/probe/echo", json('{"n":1,"extra":2}')),
      422,
      "VALIDATION_FAILED",
    );
    expect(JSON.stringify(body.errors)).toContain("/body/extra");
  });

  test("a non-UUID path id → 422", async () => {
    await problem(
      await request("/probe/item/abc", { headers: { origin: ORIGIN } }),
      422,
      "VALIDATION_FAILED",
    );
  });

  test("non-JSON content type → 415", async () => {
    const res = await request("/probe/echo", {
      method: "POST",
      body: "n=1",
      headers: { "content-type": "text/plain", origin: ORIGIN },
    });
    await problem(res, 415, "UNSUPPORTED_MEDIA_TYPE");
  });

  test("unknown route → 404 ROUTE_NOT_FOUND", async () => {
    const body = await problem(
      await request("/nowhere?x=1", { headers: { origin: ORIGIN } }),
      404,
      "ROUTE_NOT_FOUND",
    );
    expect(body.instance).toBe("/nowhere");
  });

  test("method mismatch → 405 with Allow", async () => {
    const res = await request("/health", { method: "DELETE", headers: { origin: ORIGIN } });
    await problem(res, 405, "METHOD_NOT_ALLOWED");
    expect(res.headers.get("allow")).toBe("GET, HEAD");
  });

  test("thrown domain error keeps its status, code and extensions", async () => {
    const body = await problem(
      await request("/probe/domain", { headers: { origin: ORIGIN } }),
      409,
      "PROJECT_CODE_TAKEN",
    );
    expect(body.code2).toBe(1);
  });

  test("crash → 500 INTERNAL_ERROR without internals outside development", async () => {
    const { request: prodLike } = await testApp(
      {
        ENVIRONMENT: "staging",
        AUTH_MODE: "development",
        SECRET_KEY: "k3J9x!Qz7Lp2Vw8Rt5Yb1Nm4Hc6Gd0Fs-Ae_Uo9Ij3Kl7Mn2Bv5Cx8Zq1Wr4Ty6Pu0Sd",
        ALLOWED_ORIGINS: ORIGIN,
      },
      { extend: probeRoutes },
    );
    const res = await prodLike("/probe/crash", { headers: { origin: ORIGIN } });
    const body = await problem(res, 500, "INTERNAL_ERROR");
    expect(JSON.stringify(body)).not.toContain("select");
    expect(res.headers.get("strict-transport-security")).toContain("max-age=31536000");
  });

  test("request id: a well-formed one is echoed, a bad one replaced", async () => {
    const good = await request("/health", { headers: { "x-request-id": "abc.DEF-123_x" } });
    expect(good.headers.get("x-request-id")).toBe("abc.DEF-123_x");
    const bad = await request("/health", { headers: { "x-request-id": "bad id with spaces" } });
    expect(bad.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("CORS: allowed origin preflight → 204; other origins get no CORS headers", async () => {
    const pre = await request("/api/v1/project", {
      method: "OPTIONS",
      headers: { origin: ORIGIN, "access-control-request-method": "POST" },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-methods")).toContain("PATCH");
    expect(pre.headers.get("access-control-allow-headers")).toContain("Authorization");
    expect(pre.headers.get("access-control-max-age")).toBe("600");
    expect(pre.headers.get("access-control-allow-credentials")).toBeNull();
    const other = await request("/health", { headers: { origin: "https://evil.example" } });
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
  });

  test("HSTS only outside development; never X-XSS-Protection; no cookies", async () => {
    const res = await request("/health");
    expect(res.headers.get("strict-transport-security")).toBeNull();
    expect(res.headers.get("x-xss-protection")).toBeNull();
    expect(res.headers.get("set-cookie")).toBeNull();
  });
});
