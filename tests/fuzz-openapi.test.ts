import { expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { userAccount } from "@/db/schema";
import { userKey } from "@/lib/cache";
import { seedIssue, sessionOnF1 } from "./helpers/analysis";
import { testApp } from "./helpers/context";
import { uploadForm } from "./helpers/files";
import { signIn } from "./helpers/users";

/*
 * OpenAPI-driven fuzzing (issue 13): every operation of /docs/json gets malformed values for each
 * of its path, query and JSON-body parameters — NUL, lone surrogates, huge, negative and
 * non-finite numbers, numbers past 2^63, deep nesting, wrong types, huge strings, bad UUIDs,
 * reserved keys — as a system admin with a real project, file and session, so the requests reach
 * the handlers and the database. Any 5xx, or any error that is not application/problem+json,
 * fails the test. Bounded by count and by wall clock.
 */

const DEADLINE_MS = 50_000;
const MAX_REQUESTS = 12_000;
/* 503s that are documented states of this test setup, not failures (no LLM is configured). */
const ALLOWED_5XX = new Set(["LLM_NOT_CONFIGURED"]);

type Schema = Record<string, any>;
type Op = { method: string; path: string; op: Schema };

const RAW = "@@raw@@"; // marks a string to be replaced by raw JSON text
const raw = (text: string) => `${RAW}${text}${RAW}`;
const nest = (depth: number, leaf = "1") => `${'{"a":'.repeat(depth)}${leaf}${"}".repeat(depth)}`;

const BODY_VALUES: unknown[] = [
  "\u0000",
  "a\u0000b",
  "a\ud800b",
  "\udc00",
  "x".repeat(100_000),
  "",
  "not-a-uuid",
  "2024-13-45",
  raw("1e21"),
  raw("-1e21"),
  raw("9223372036854775808"),
  raw("-9223372036854775809"),
  raw("1e308"),
  raw("1.5"),
  -1,
  0,
  2147483648,
  true,
  null,
  {},
  [],
  [null],
  { __proto__: null, constructor: { prototype: 1 } },
  raw('{"__proto__":{"polluted":true}}'),
  raw(nest(40)),
  raw(nest(70)),
  raw(`[${"[".repeat(30)}"\\u0000"${"]".repeat(30)}]`),
];

const WHOLE_BODIES = [
  "",
  "null",
  "[]",
  '"x"',
  "1e21",
  "{",
  '{"a":',
  "\u0000",
  '{"a":"\\ud800"}',
  nest(60),
  nest(100_000),
  `${"[".repeat(200_000)}${"]".repeat(200_000)}`,
  '{"__proto__":{"isAdmin":true}}',
];

const PATH_VALUES = [
  "%00",
  "a%00b",
  "not-a-uuid",
  "%ED%A0%80",
  "%F0%90%80",
  "x".repeat(4000),
  "-1",
  "1e21",
  "9223372036854775808",
  "..%2F..%2Fetc",
  "00000000-0000-0000-0000-000000000000",
  "%20",
];

const QUERY_VALUES = [
  "%00",
  "a%00b",
  "%ED%A0%80",
  "%F0%90",
  "9223372036854775808",
  "1e21",
  "-1e21",
  "-1",
  "NaN",
  "Infinity",
  "1.5",
  "",
  "abc",
  "true",
  "x".repeat(5000),
  "00000000-0000-0000-0000-000000000000",
  "[]",
  "%7B%22a%22%3A1%7D",
];

function resolve(doc: Schema, s: Schema | undefined): Schema {
  let out = s ?? {};
  for (let i = 0; out.$ref && i < 10; i++) {
    out = doc.components.schemas[out.$ref.replace("#/components/schemas/", "")] ?? {};
  }
  return out;
}

/* A plausible value for a schema, so that one malformed property is the only thing wrong. */
function sample(doc: Schema, schema: Schema | undefined, depth = 0): unknown {
  const s = resolve(doc, schema);
  if (depth > 6) return null;
  const alt = s.anyOf ?? s.oneOf;
  if (alt) return sample(doc, alt.find((x: Schema) => resolve(doc, x).type !== "null") ?? alt[0], depth + 1);
  if (s.enum) return s.enum[0];
  if (s.const !== undefined) return s.const;
  const type = Array.isArray(s.type) ? s.type.find((t: string) => t !== "null") : s.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sample(doc, v as Schema, depth + 1);
      return out;
    }
    case "array":
      return s.minItems ? [sample(doc, s.items, depth + 1)] : [];
    case "integer":
    case "number":
      return s.minimum ?? 1;
    case "boolean":
      return true;
    case "string":
      if (s.format === "uuid") return crypto.randomUUID();
      if (s.format === "date") return "2024-01-01";
      if (s.format === "date-time") return new Date().toISOString();
      return "x".repeat(Math.max(1, s.minLength ?? 1));
    default:
      return null;
  }
}

function bodyText(value: unknown): string {
  return JSON.stringify(value).replace(/"@@raw@@(.*?)@@raw@@"/g, (_, text) => JSON.parse(`"${text}"`));
}

test("OpenAPI-driven fuzz: no 5xx and only problem+json errors on malformed input", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const issue = await seedIssue(db);
  const { user, project, sessionId } = await sessionOnF1(request, deps.config.secretKey, issue.id);
  // A system admin reaches the admin routes and every project route past the role checks.
  await db
    .update(userAccount)
    .set({ roles: ["system_admin", "user"] })
    .where(eq(userAccount.id, user.id));
  await deps.cache.delete(userKey(user.id));
  const other = await signIn(request, deps.config.secretKey);
  const files = (await (
    await request(`/api/v1/project/${project.id}/file`, { headers: user.auth })
  ).json()) as any;
  const fileId = files.items[0].id as string;

  const docRes = await request("/docs/json");
  const doc = (await docRes.json()) as Schema;
  if (!doc.paths) throw new Error(`no document: ${docRes.status} ${JSON.stringify(doc).slice(0, 300)}`);
  const ops: Op[] = [];
  for (const [path, methods] of Object.entries(doc.paths as Schema)) {
    for (const [method, op] of Object.entries(methods as Schema)) ops.push({ method, path, op });
  }
  // Destructive operations last, so earlier ones still find the project, file and session.
  // Logout ends the session the fuzzer signs in with: it goes last of all.
  const rank = (o: Op) => (o.path.endsWith("/logout") ? 2 : o.method === "delete" ? 1 : 0);
  ops.sort((a, b) => rank(a) - rank(b));

  const ids: Record<string, string> = {
    projectId: project.id,
    fileId,
    sessionId,
    userId: other.id,
    issueId: issue.id,
    code: project.code,
  };
  const realPath = (path: string, override: Record<string, string> = {}) =>
    path.replace(/\{(\w+)\}/g, (_, name) => override[name] ?? ids[name] ?? crypto.randomUUID());

  const failures: string[] = [];
  const statusCounts = new Map<number, number>();
  let sent = 0;
  const started = performance.now();
  const outOfBudget = () => sent >= MAX_REQUESTS || performance.now() - started > DEADLINE_MS;

  async function send(label: string, method: string, url: string, init: RequestInit = {}) {
    sent++;
    const res = await request(url, { ...init, method: method.toUpperCase() });
    const type = res.headers.get("content-type") ?? "";
    const text = await res.text();
    statusCounts.set(res.status, (statusCounts.get(res.status) ?? 0) + 1);
    if (res.status >= 500) {
      let code = "";
      try {
        code = JSON.parse(text).code;
      } catch {}
      if (!ALLOWED_5XX.has(code)) failures.push(`${res.status} ${label}: ${text.slice(0, 300)}`);
    } else if (res.status >= 400 && !type.includes("application/problem+json")) {
      failures.push(`${res.status} non-problem ${label}: ${type} ${text.slice(0, 200)}`);
    }
  }

  const jsonInit = (text: string): RequestInit => ({
    body: text,
    headers: { ...user.auth, "content-type": "application/json" },
  });

  for (const { method, path, op } of ops) {
    if (outOfBudget()) break;
    if (path.startsWith("/docs")) continue;
    const params: Schema[] = op.parameters ?? [];
    const pathParams = params.filter((p) => p.in === "path");
    const queryParams = params.filter((p) => p.in === "query");
    const validQuery = new URLSearchParams();
    for (const q of queryParams) {
      if (q.required) validQuery.set(q.name, String(sample(doc, q.schema)));
    }
    const bodySchema = op.requestBody?.content?.["application/json"]?.schema;
    const multipart = op.requestBody?.content?.["multipart/form-data"];
    const baseBody = bodySchema ? sample(doc, bodySchema) : undefined;
    const baseInit = (): RequestInit => (bodySchema ? jsonInit(bodyText(baseBody)) : { headers: user.auth });
    const qs = (q: URLSearchParams | string) => {
      const s = typeof q === "string" ? q : q.toString();
      return s ? `?${s}` : "";
    };

    for (const p of pathParams) {
      for (const v of PATH_VALUES) {
        await send(
          `${method} ${path} path ${p.name}=${v.slice(0, 20)}`,
          method,
          `${realPath(path, { [p.name]: v })}${qs(validQuery)}`,
          baseInit(),
        );
      }
    }
    for (const q of [...queryParams, { name: "unknownParam" }]) {
      for (const v of QUERY_VALUES) {
        const rest = new URLSearchParams(validQuery);
        rest.delete(q.name);
        const prefix = rest.toString();
        const query = `${prefix ? `${prefix}&` : ""}${q.name}=${v}`;
        await send(
          `${method} ${path} query ${q.name}=${v.slice(0, 20)}`,
          method,
          `${realPath(path)}?${query}`,
          baseInit(),
        );
      }
      // The same parameter twice (arrays where a scalar is expected).
      await send(
        `${method} ${path} query ${q.name} twice`,
        method,
        `${realPath(path)}?${q.name}=1&${q.name}=2`,
        baseInit(),
      );
    }
    if (bodySchema) {
      const schema = resolve(doc, bodySchema);
      const props = Object.keys(schema.properties ?? {});
      for (const prop of [...props, "unknownProp", "__proto__"]) {
        for (const v of BODY_VALUES) {
          if (outOfBudget()) break;
          const body = { ...(baseBody as Record<string, unknown>) };
          Object.defineProperty(body, prop, {
            value: v,
            enumerable: true,
            configurable: true,
            writable: true,
          });
          await send(
            `${method} ${path} body .${prop}=${JSON.stringify(v)?.slice(0, 30)}`,
            method,
            `${realPath(path)}${qs(validQuery)}`,
            jsonInit(bodyText(body)),
          );
        }
        // One level down: each nested object property gets the hostile strings too.
        const nested = resolve(doc, schema.properties?.[prop]);
        if (nested.type === "object" && nested.properties) {
          for (const inner of Object.keys(nested.properties)) {
            for (const v of ["\u0000", "a\ud800", raw("1e21"), raw(nest(50)), []]) {
              const body = {
                ...(baseBody as Record<string, unknown>),
                [prop]: { ...(sample(doc, nested) as object), [inner]: v },
              };
              await send(
                `${method} ${path} body .${prop}.${inner}`,
                method,
                `${realPath(path)}${qs(validQuery)}`,
                jsonInit(bodyText(body)),
              );
            }
          }
        }
      }
    }
    if (["post", "put", "patch", "delete"].includes(method)) {
      for (const text of WHOLE_BODIES) {
        await send(
          `${method} ${path} whole body ${text.slice(0, 20)}`,
          method,
          `${realPath(path)}${qs(validQuery)}`,
          jsonInit(text),
        );
      }
      await send(`${method} ${path} wrong content type`, method, `${realPath(path)}${qs(validQuery)}`, {
        body: "a=1",
        headers: { ...user.auth, "content-type": "application/x-www-form-urlencoded" },
      });
    }
    if (multipart) {
      for (const name of [
        "a\u0000.csv",
        "\ud800.csv",
        `${"x".repeat(5000)}.csv`,
        "",
        "../../etc/passwd.csv",
        "x.exe",
      ]) {
        await send(`${method} ${path} multipart filename ${name.slice(0, 20)}`, method, realPath(path), {
          body: uploadForm(name, "a\n1\n", "c\u0000"),
          headers: user.auth,
        });
      }
    }
  }

  // The admin maintenance route may have switched maintenance on for the whole database: off again
  // (as the dev admin: the fuzzer's own session may have logged out), so later tests are unaffected.
  const off = await request("/api/v1/admin/settings/maintenance/disable", {
    method: "POST",
    headers: { authorization: `Bearer ${deps.config.devMockToken}` },
  });
  expect(off.status).toBe(200);

  const seconds = (performance.now() - started) / 1000;
  console.log(
    `fuzz: ${sent} requests over ${ops.length} operations in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(
      Object.fromEntries([...statusCounts].sort(([a], [b]) => a - b)),
    )}; ${failures.length} failures`,
  );
  for (const f of failures.slice(0, 40)) console.log(f);
  expect(sent).toBeGreaterThan(2000);
  expect(failures).toEqual([]);
}, 90_000);
