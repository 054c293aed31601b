import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { treaty } from "@elysiajs/eden";
import openapiTS, { astToString, type OpenAPI3 } from "openapi-typescript";
import type { App } from "@/app";
import { API_TAGS } from "@/plugins/openapi-document";
import { testApp } from "./helpers/context";
import { signIn, uniqueEmail } from "./helpers/users";

/*
 * The document as input for client generators: named schemas behind `$ref`, integers typed as
 * integers, short unique operationIds, described parameters. The last test generates types with
 * openapi-typescript, type-checks a small client against them with tsc and runs it on the app.
 */

const ROOT = resolve(import.meta.dir, "..");
const OPERATION_ID = /^[a-z][a-zA-Z]*(\.[a-z][a-zA-Z]*)+$/;
const COMPONENT_NAME = /^[A-Z][A-Za-z0-9]*(_[A-Z][A-Za-z0-9]*)*$/;
const REF = "#/components/schemas/";

type Json = Record<string, any>;
const operations = (doc: Json) =>
  Object.entries<Json>(doc.paths).flatMap(([path, ops]) =>
    Object.entries<Json>(ops).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, path, op })),
  );
const isRef = (schema: Json | undefined) =>
  !!schema &&
  (typeof schema.$ref === "string" || (schema.type === "array" && typeof schema.items?.$ref === "string"));

function* walk(node: unknown, at = "#"): Generator<{ at: string; node: Json }> {
  if (Array.isArray(node)) for (const [i, n] of node.entries()) yield* walk(n, `${at}/${i}`);
  else if (node && typeof node === "object") {
    yield { at, node: node as Json };
    for (const [k, v] of Object.entries(node)) yield* walk(v, `${at}/${k}`);
  }
}

describe("OpenAPI document for client generators", async () => {
  const { app, deps, request } = await testApp();
  const doc = (await (await request("/docs/json")).json()) as Json;
  const schemas: Json = doc.components?.schemas ?? {};

  test("request bodies and 2xx JSON answers are named component schemas", () => {
    expect(Object.keys(schemas).length).toBeGreaterThanOrEqual(80);
    for (const name of Object.keys(schemas)) expect(name).toMatch(COMPONENT_NAME);
    for (const name of [
      "Project",
      "Page_Project",
      "ProjectCreate",
      "Member",
      "FileVersion",
      "AnalysisSession",
    ])
      expect(schemas).toHaveProperty(name);

    const inline: string[] = [];
    for (const { key, path, op } of operations(doc)) {
      if (!path.startsWith("/api/v1/")) continue;
      for (const [type, media] of Object.entries<Json>(op.requestBody?.content ?? {}))
        if (!isRef(media.schema)) inline.push(`${key} body ${type}`);
      for (const [status, response] of Object.entries<Json>(op.responses ?? {})) {
        if (!/^2/.test(status)) continue;
        for (const [type, media] of Object.entries<Json>(response.content ?? {}))
          if (type.includes("json") && !isRef(media.schema)) inline.push(`${key} ${status} ${type}`);
      }
    }
    expect(inline).toEqual([]);

    // Every reference resolves, and a 204 declares no content.
    for (const { at, node } of walk(doc))
      if (typeof node.$ref === "string") {
        expect({ at, ref: node.$ref.startsWith(REF) }).toEqual({ at, ref: true });
        expect(schemas).toHaveProperty([node.$ref.slice(REF.length)]);
      }
    for (const { key, op } of operations(doc))
      if (op.responses?.["204"])
        expect({ key, c: op.responses["204"].content }).toEqual({ key, c: undefined });
  });

  test("the document is the same on every request and for every app in one process", async () => {
    // Route definitions at module level are shared between apps; refining must not consume them.
    const again = await (await request("/docs/json")).json();
    const other = await testApp();
    const second = (await (await other.request("/docs/json")).json()) as Json;
    expect(again).toEqual(doc);
    expect(second.components).toEqual(doc.components);
    expect(second.paths).toEqual(doc.paths);
  });

  test("integers are integer, never a string-or-integer union", () => {
    const coerced = [...walk(doc)].filter(
      ({ node }) =>
        Array.isArray(node.anyOf) &&
        node.anyOf.some((s: Json) => s?.type === "string") &&
        node.anyOf.some((s: Json) => s?.type === "integer" || s?.type === "number") &&
        node.anyOf.length === 2,
    );
    expect(coerced.map((c) => c.at)).toEqual([]);
    expect(schemas.FileVersion.properties.sizeBytes).toEqual({ type: "integer" });
    expect(schemas.Page_Project.properties.total.type).toBe("integer");
    const list = doc.paths["/api/v1/project"].get;
    const limit = list.parameters.find((p: Json) => p.name === "limit");
    expect(limit.schema).toMatchObject({ type: "integer", minimum: 1, maximum: 500, default: 50 });
  });

  test("query integers are still coerced at runtime", async () => {
    const user = await signIn(request, deps.config.secretKey, uniqueEmail("oa"));
    const ok = await request("/api/v1/project?limit=20&skip=0", { headers: user.auth });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as Json).limit).toBe(20);
    for (const bad of ["abc", "1.5", "0", "501"]) {
      const res = await request(`/api/v1/project?limit=${bad}`, { headers: user.auth });
      expect({ bad, status: res.status }).toEqual({ bad, status: 422 });
    }
  });

  test("operationIds are short, unique and readable; parameters and tags are described", () => {
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(ids.length).toBeGreaterThan(90);
    for (const id of ids) expect(id).toMatch(OPERATION_ID);
    expect(new Set(ids).size).toBe(ids.length);
    const byId = Object.fromEntries(operations(doc).map(({ key, op }) => [op.operationId, key]));
    expect(byId["project.get"]).toBe("GET /api/v1/project/{projectId}");
    expect(byId["session.step.create"]).toBe(
      "POST /api/v1/project/{projectId}/analysis/session/{sessionId}/step",
    );
    expect(byId["file.version.download"]).toBe("GET /api/v1/project/{projectId}/file/{fileId}/download");

    const undescribed = operations(doc).flatMap(({ key, op }) =>
      (op.parameters ?? []).filter((p: Json) => !p.description).map((p: Json) => `${key} ${p.name}`),
    );
    expect(undescribed).toEqual([]);
    const projectId = doc.paths["/api/v1/project/{projectId}"].get.parameters[0];
    expect(projectId.description).toBe("Project id (UUID)");

    for (const { key, op } of operations(doc)) {
      expect({ key, summary: typeof op.summary }).toEqual({ key, summary: "string" });
      expect({ key, description: typeof op.description }).toEqual({ key, description: "string" });
    }
    const tags = new Map<string, string>(doc.tags.map((t: Json) => [t.name, t.description]));
    expect([...tags.keys()]).toEqual(API_TAGS.map((t) => t.name));
    for (const { op } of operations(doc)) for (const tag of op.tags ?? []) expect(tags.get(tag)).toBeTruthy();
    expect(schemas.ProjectCreate.examples?.length).toBeGreaterThan(0);
  });

  test("openapi-typescript output type-checks a client with integer types, and the client runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "camp-openapi-client-"));
    try {
      // The generated client resolves openapi-fetch from the project's node_modules.
      symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
      writeFileSync(join(dir, "schema.d.ts"), astToString(await openapiTS(doc as OpenAPI3)));
      writeFileSync(join(dir, "client.ts"), CLIENT);
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "ESNext",
            moduleResolution: "bundler",
            lib: ["ES2022", "DOM"],
            types: [],
            strict: true,
            noEmit: true,
            skipLibCheck: true,
          },
          files: ["client.ts"],
        }),
      );
      const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "-p", join(dir, "tsconfig.json")], {
        cwd: dir,
      });
      expect(tsc.stdout.toString() + tsc.stderr.toString()).toBe("");
      expect(tsc.exitCode).toBe(0);

      // The same client, run against the app.
      const user = await signIn(request, deps.config.secretKey, uniqueEmail("oa-client"));
      const { run } = (await import(join(dir, "client.ts"))) as {
        run: (fetch: (r: Request) => Promise<Response>, token: string, code: string) => Promise<Json>;
      };
      const code = `OA${crypto.randomUUID().slice(0, 8)}`;
      const out = await run((r) => app.handle(r), user.token, code);
      expect(out).toMatchObject({ createdCode: code, listedLimit: 5, fetchedCode: code });
      expect(typeof out.total).toBe("number");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("Eden treaty calls the app with the exported App type", async () => {
    const user = await signIn(request, deps.config.secretKey, uniqueEmail("oa-eden"));
    const api = treaty<App>(app as App);
    const { data, error } = await api.api.v1.project.get({ query: { limit: 5 }, headers: user.auth });
    expect(error).toBeNull();
    const total: number | undefined = data?.total;
    expect(typeof total).toBe("number");
    expect(data?.limit).toBe(5);
  });
});

/* Written next to the generated `schema.d.ts`; tsc must accept it as is. */
const CLIENT = `import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(): T | undefined => undefined;

// Integer fields are plain numbers, not string | number.
assertType<Equals<components["schemas"]["FileVersion"]["sizeBytes"], number>>();
assertType<Equals<components["schemas"]["Page_Project"]["total"], number>>();
assertType<Equals<components["schemas"]["Project"]["stats"]["storageBytes"], number>>();
type ListQuery = NonNullable<paths["/api/v1/project"]["get"]["parameters"]["query"]>;
assertType<Equals<ListQuery["limit"], number | undefined>>();

export async function run(fetch: (request: Request) => Promise<Response>, token: string, code: string) {
  const client = createClient<paths>({ baseUrl: "http://localhost", fetch });
  const headers = { authorization: \`Bearer \${token}\` };

  const created = await client.POST("/api/v1/project", {
    headers,
    body: { name: "Generated client", code, budget: 1000 },
  });
  if (!created.data) throw new Error(\`create failed: \${JSON.stringify(created.error)}\`);
  const project: components["schemas"]["Project"] = created.data;

  const list = await client.GET("/api/v1/project", { headers, params: { query: { limit: 5, q: code } } });
  if (!list.data) throw new Error("list failed");
  const total: number = list.data.total;

  const one = await client.GET("/api/v1/project/{projectId}", { headers, params: { path: { projectId: project.id } } });
  if (!one.data) throw new Error("get failed");
  const members: number = one.data.stats.memberCount;

  // @ts-expect-error a page size is a number, not a string
  await client.GET("/api/v1/project", { headers, params: { query: { limit: "5" } } });

  return { createdCode: project.code, listedLimit: list.data.limit, total, fetchedCode: one.data.code, members };
}
`;
