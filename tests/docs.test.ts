import { describe, expect, test } from "bun:test";
import { acceptsMultipart } from "@/plugins/body-limit";
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

  const docPath = (path: string) => path.replace(/:(\w+)/g, "{$1}");
  const operation = (doc: any, method: string, path: string) =>
    doc.paths[docPath(path)]?.[method.toLowerCase()];
  const document = async () => (await (await request("/docs/json")).json()) as any;
  /** A `$ref` to a named component resolved to that component. */
  const resolve = (doc: any, schema: any) =>
    schema?.$ref ? doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")] : schema;

  test("the document parses and names path parameters in {param} form", async () => {
    const res = await request("/docs/json");
    expect(res.headers.get("content-type")).toContain("application/json");
    const doc = JSON.parse(await res.text());
    expect(doc.info.title).toBe("camp-backend API");
    const operationIds = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      expect(path.startsWith("/")).toBe(true);
      expect(path).not.toContain(":");
      const placeholders = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      for (const [method, op] of Object.entries<any>(ops)) {
        expect(operationIds.has(op.operationId)).toBe(false);
        operationIds.add(op.operationId);
        const pathParams = (op.parameters ?? [])
          .filter((p: any) => p.in === "path")
          .map((p: any) => p.name)
          .sort();
        expect(`${method} ${path} ${pathParams}`).toBe(`${method} ${path} ${placeholders}`);
      }
    }
  });

  test("every route with a body schema documents it as JSON", async () => {
    const doc = await document();
    const bodied = app.routes.filter((r) => (r.hooks as any).body && r.method !== "GET");
    expect(bodied.length).toBeGreaterThan(20);
    for (const r of bodied) {
      const content = operation(doc, r.method, r.path)?.requestBody?.content ?? {};
      const schema = resolve(doc, content["application/json"]?.schema);
      expect({ route: `${r.method} ${r.path}`, documented: !!schema }).toEqual({
        route: `${r.method} ${r.path}`,
        documented: true,
      });
      expect(Object.keys(schema).length).toBeGreaterThan(0);
      // The global parser refuses urlencoded bodies, and multipart outside upload routes.
      expect(content["application/x-www-form-urlencoded"]).toBeUndefined();
      if (!acceptsMultipart(r.path)) expect(content["multipart/form-data"]).toBeUndefined();
    }

    const project = operation(doc, "POST", "/api/v1/project").requestBody;
    expect(project.required).toBe(true);
    const projectSchema = resolve(doc, project.content["application/json"].schema);
    expect(Object.keys(projectSchema.properties)).toEqual(expect.arrayContaining(["name", "code"]));
    expect(projectSchema.required).toEqual(expect.arrayContaining(["name", "code"]));

    const chat = operation(doc, "POST", "/api/v1/project/:projectId/analysis/session/:sessionId/chat");
    expect(resolve(doc, chat.requestBody.content["application/json"].schema).properties).toHaveProperty(
      "message",
    );
  });

  test("upload routes document a multipart body with a binary file part", async () => {
    const doc = await document();
    const uploads = app.routes.filter((r) => r.method === "POST" && acceptsMultipart(r.path));
    expect(uploads.length).toBeGreaterThanOrEqual(2);
    for (const r of uploads) {
      const content = operation(doc, r.method, r.path).requestBody.content;
      expect(Object.keys(content)).toEqual(["multipart/form-data"]);
      expect(resolve(doc, content["multipart/form-data"].schema).properties.file).toEqual({
        type: "string",
        format: "binary",
      });
    }
  });

  /*
   * Routes that answer with a bare `Response` or an empty 204 and declare neither a response schema
   * nor `detail.responses`. The list may only shrink: a new undocumented route fails, and so does a
   * listed one once it is documented (remove it here).
   */
  const KNOWN_UNDOCUMENTED: string[] = [];

  test("every /api/v1 operation documents a 2xx response", async () => {
    const doc = await document();
    const missing: string[] = [];
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      if (!path.startsWith("/api/v1/")) continue;
      for (const [method, op] of Object.entries<any>(ops)) {
        if (!Object.keys(op.responses ?? {}).some((status) => /^2\d\d$/.test(status)))
          missing.push(`${method.toUpperCase()} ${path}`);
      }
    }
    expect(missing.sort()).toEqual([...KNOWN_UNDOCUMENTED].sort());
  });

  test("docs are off where ENABLE_DOCS is false", async () => {
    const { request: r } = await testApp(PROD);
    expect((await r("/docs")).status).toBe(404);
    expect((await r("/docs/json")).status).toBe(404);
  });
});
