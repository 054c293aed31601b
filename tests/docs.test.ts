import { describe, expect, test } from "bun:test";
import { testApp } from "./helpers/context";

const PROD = {
  ENVIRONMENT: "staging",
  AUTH_MODE: "development",
  SECRET_KEY: "k3J9x!Qz7Lp2Vw8Rt5Yb1Nm4Hc6Gd0Fs-Ae_Uo9Ij3Kl7Mn2Bv5Cx8Zq1Wr4Ty6Pu0Sd",
  ALLOWED_ORIGINS: "https://app.example.com",
  ENABLE_DOCS: "false",
};

describe("OpenAPI and Swagger UI", async () => {
  const { app, request } = await testApp();

  test("/docs serves Swagger UI with a CSP relaxed for it only", async () => {
    const res = await request("/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect((await res.text()).toLowerCase()).toContain("swagger");
    expect(res.headers.get("content-security-policy")).toContain("script-src");
    const api = await request("/health");
    expect(api.headers.get("content-security-policy")).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  test("/docs/json lists every registered route", async () => {
    const res = await request("/docs/json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, unknown>>(doc.paths)) {
      for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
    }
    const routes = app.routes.filter((r) => !r.path.startsWith("/docs"));
    expect(routes.length).toBeGreaterThan(0);
    for (const r of routes) {
      const openapiPath = r.path.replace(/:(\w+)/g, "{$1}");
      expect(documented).toContain(`${r.method} ${openapiPath}`);
    }
  });

  test("docs are off where ENABLE_DOCS is false", async () => {
    const { request: r } = await testApp(PROD);
    expect((await r("/docs")).status).toBe(404);
    expect((await r("/docs/json")).status).toBe(404);
  });
});
