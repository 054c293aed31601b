import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { Glob } from "bun";
import { PROBLEM_CODES, PROBLEMS, type ProblemCode, type ProblemSpec } from "@/lib/problems";
import { PROBLEM_SCHEMA_REF } from "@/plugins/openapi-errors";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/*
 * The error catalogue (src/lib/problems.ts) against the three places codes live: the source that
 * throws them, api.md §1.7 that promises them, and the OpenAPI document that tells clients.
 */

const CATALOGUE: Record<string, ProblemSpec> = PROBLEMS;
const CODES: string[] = PROBLEM_CODES;

/* api.md §1.7 as of this change: code → status. The spec lives outside the repository. */
const API_MD: Record<string, number> = {
  MALFORMED_REQUEST: 400,
  UNAUTHENTICATED: 401,
  TOKEN_INVALID: 401,
  TOKEN_EXPIRED: 401,
  SESSION_REVOKED: 401,
  INSUFFICIENT_SCOPE: 403,
  ACCOUNT_DISABLED: 403,
  ADMIN_REQUIRED: 403,
  ROLE_INSUFFICIENT: 403,
  NOT_OWNER: 403,
  ROLE_NOT_GRANTABLE: 403,
  SELF_ACTION_FORBIDDEN: 403,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  USER_NOT_FOUND: 404,
  PROJECT_NOT_FOUND: 404,
  MEMBER_NOT_FOUND: 404,
  FILE_NOT_FOUND: 404,
  FILE_CONTENT_MISSING: 404,
  ISSUE_NOT_FOUND: 404,
  MASTER_NOT_FOUND: 404,
  TEMPLATE_NOT_FOUND: 404,
  SESSION_NOT_FOUND: 404,
  ANALYSIS_FILE_NOT_FOUND: 404,
  SNAPSHOT_NOT_FOUND: 404,
  CHAT_NOT_FOUND: 404,
  STEP_NOT_FOUND: 404,
  TREE_NOT_FOUND: 404,
  NODE_NOT_FOUND: 404,
  POLICY_NOT_FOUND: 404,
  SHEET_NOT_FOUND: 404,
  COLUMN_NOT_FOUND: 404,
  FORMULA_NOT_FOUND: 404,
  NOTIFICATION_NOT_FOUND: 404,
  ANNOUNCEMENT_NOT_FOUND: 404,
  SETTING_NOT_FOUND: 404,
  AUTH_SESSION_NOT_FOUND: 404,
  LOG_ENTRY_NOT_FOUND: 404,
  IDENTITY_CONFLICT: 409,
  PROJECT_CODE_TAKEN: 409,
  PROJECT_INACTIVE: 409,
  ALREADY_MEMBER: 409,
  USER_INACTIVE: 409,
  NAME_TAKEN: 409,
  MASTER_IN_USE: 409,
  MASTER_ARCHIVED: 409,
  FILE_IN_USE: 409,
  ANALYSIS_FILE_DUPLICATE: 409,
  ANALYSIS_FILE_IN_USE: 409,
  CHAT_IN_PROGRESS: 409,
  SHEET_ALREADY_SELECTED: 409,
  SHEET_NOT_SELECTED: 409,
  SESSION_ALREADY_ENDED: 409,
  FILE_TOO_LARGE: 413,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_FILE_TYPE: 415,
  VALIDATION_FAILED: 422,
  INVALID_DATE_RANGE: 422,
  LAST_PROJECT_MANAGER: 422,
  LAST_SYSTEM_ADMIN: 422,
  VERSION_NOT_IN_CHAIN: 422,
  FILE_NOT_ANALYSABLE: 422,
  NO_PARSEABLE_SHEET: 422,
  UNKNOWN_SHEET: 422,
  UNKNOWN_AXIS: 422,
  SHEET_PARSE_ERROR: 422,
  INPUT_FILE_REQUIRED: 422,
  ANALYSIS_FILE_NOT_CONFIGURED: 422,
  STEP_CONFIG_INVALID: 422,
  STEP_REFERENCE_INVALID: 422,
  STEP_NOT_DELETABLE: 422,
  SNAPSHOT_NOT_DELETABLE: 422,
  CHAT_NOT_DELETABLE: 422,
  TEMPLATE_NOT_APPLICABLE: 422,
  FORMULA_INVALID: 422,
  TREE_CYCLE: 422,
  NODE_NOT_IN_TREE: 422,
  OPERATOR_REQUIRED: 422,
  ROOT_NODE_PROTECTED: 422,
  BINDING_INVALID: 422,
  SETTING_READ_ONLY: 422,
  SETTING_VALUE_INVALID: 422,
  CSV_INVALID: 422,
  BULK_LIMIT_EXCEEDED: 422,
  RETENTION_TOO_SHORT: 422,
  RATE_LIMITED: 429,
  LLM_QUOTA_EXCEEDED: 429,
  INTERNAL_ERROR: 500,
  MAINTENANCE_MODE: 503,
  NOT_READY: 503,
  DEPENDENCY_UNAVAILABLE: 503,
  LLM_NOT_CONFIGURED: 503,
  LLM_UNAVAILABLE: 503,
  LLM_TIMEOUT: 504,
};

/* Catalogue codes api.md §1.7 does not list, and where they are specified instead. */
const DOCUMENTED_ELSEWHERE: Record<string, string> = {
  SESSION_ARCHIVED: "analysis.md §2.2",
  ANALYSIS_LIMIT_EXCEEDED: "analysis.md §1.8",
  CHART_NOT_AVAILABLE: "analysis.md §4.5",
  CHART_RENDERER_UNAVAILABLE: "analysis.md §4.5",
  RANGE_NOT_SATISFIABLE: "api.md §2.5 (download: 416 for an unsatisfiable Range)",
  STEP_BLOCKED: "analysis.md §3 (step result status blocked)",
  STEP_NOT_READY: "analysis.md §5 (agent tool error)",
  STEP_TYPE_MISMATCH: "analysis.md §5 (agent tool error)",
  TOOL_TIMEOUT: "analysis.md §5 (AGENT_TOOL_TIMEOUT_S)",
  UNKNOWN_TOOL: "analysis.md §5 (agent tool error)",
  BUDGET_EXHAUSTED: "analysis.md §5 (AGENT_MAX_TOOL_CALLS_PER_TURN)",
  REQUEST_TIMEOUT: "issue 13 (whole-request deadline REQUEST_TIMEOUT_S for slow-body clients)",
  HEADERS_TOO_LARGE: "issue 13 (MAX_HEADER_BYTES; the HTTP server's refusals as problem+json)",
  INSUFFICIENT_STORAGE: "issue 13 (upload while the storage volume is full)",
};

/* Answered before any route matches, so no operation lists them (they are in Problem.code). */
const ROUTELESS: ProblemCode[] = ["ROUTE_NOT_FOUND", "METHOD_NOT_ALLOWED", "HEADERS_TOO_LARGE"];

type Use = { code: string; status?: number; file: string };

/* Code literals at every place that raises a problem, read from the source text. */
function sourceUses(): Use[] {
  const patterns: { re: RegExp; status?: boolean }[] = [
    { re: /\bproblem\(\s*"([A-Z_]+)"/g },
    { re: /new AppError\(\s*"([A-Z_]+)"/g },
    { re: /\bmappedProblem\(\s*"([A-Z_]+)"/g },
    { re: /\btoolError\(\s*"([A-Z_]+)"/g },
    { re: /\btokenError\(\s*"([A-Z_]+)"/g },
    { re: /new EngineError\(\s*"([A-Z_]+)",\s*(\d{3})/g, status: true },
    { re: /new EngineError\(code, (\d{3})/g },
  ];
  const uses: Use[] = [];
  for (const file of new Glob("src/**/*.ts").scanSync(".")) {
    if (file.endsWith(".test.ts")) continue;
    const text = readFileSync(file, "utf8");
    for (const { re, status } of patterns) {
      for (const m of text.matchAll(re)) {
        if (!/^[A-Z_]+$/.test(m[1])) continue;
        uses.push({ code: m[1], status: status ? Number(m[2]) : undefined, file });
      }
    }
  }
  return uses;
}

describe("error catalogue", () => {
  const uses = sourceUses();
  const used = new Set(uses.map((u) => u.code));

  test("the source scan finds the throw sites (guards the regexes)", () => {
    expect(used.size).toBeGreaterThan(70);
    expect(used).toContain("PROJECT_NOT_FOUND"); // problem(…)
    expect(used).toContain("SHEET_PARSE_ERROR"); // new EngineError(…, 422
    expect(used).toContain("METHOD_NOT_ALLOWED"); // mappedProblem(…)
    expect(used).toContain("UNKNOWN_TOOL"); // toolError(…)
  });

  test("every code raised in src/ is a catalogue code, with the catalogue's status", () => {
    const unknown = uses.filter((u) => !(u.code in PROBLEMS)).map((u) => `${u.code} (${u.file})`);
    expect(unknown).toEqual([]);
    const wrongStatus = uses
      .filter((u) => u.status !== undefined && CATALOGUE[u.code]?.status !== u.status)
      .map((u) => `${u.code} ${u.status} (${u.file})`);
    expect(wrongStatus).toEqual([]);
  });

  test("no throw site pairs a status with a code by hand", () => {
    const inline: string[] = [];
    for (const file of new Glob("src/**/*.ts").scanSync(".")) {
      const text = readFileSync(file, "utf8");
      if (/new AppError\(\s*\d/.test(text)) inline.push(file);
    }
    expect(inline).toEqual([]);
  });

  test("api.md §1.7 ⊆ catalogue, with the same status; every other entry is specified elsewhere", () => {
    for (const [code, status] of Object.entries(API_MD)) {
      expect({ code, status: CATALOGUE[code]?.status }).toEqual({ code, status });
    }
    const extra = CODES.filter((c) => !(c in API_MD));
    expect(extra.sort()).toEqual(Object.keys(DOCUMENTED_ELSEWHERE).sort());
  });

  test("`planned` marks exactly the codes nothing raises yet", () => {
    const planned = CODES.filter((c) => "planned" in CATALOGUE[c]);
    const unused = CODES.filter((c) => !used.has(c));
    expect(planned.sort()).toEqual(unused.sort());
  });

  test("every entry has a title and a default detail", () => {
    for (const code of CODES) {
      const { title, detail } = CATALOGUE[code];
      expect({ code, title: title.length > 0, detail: detail.length > 0 }).toEqual({
        code,
        title: true,
        detail: true,
      });
    }
  });

  const spec = "/work/shared/spec/api.md";
  test.skipIf(!existsSync(spec))("the API_MD copy above matches the spec's §1.7 table", () => {
    const text = readFileSync(spec, "utf8");
    const section = text.slice(text.indexOf("### 1.7"), text.indexOf("### 1.8"));
    const table = Object.fromEntries(
      [...section.matchAll(/^\| ([A-Z_]+) \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]),
    );
    expect(table).toEqual(API_MD);
  });
});

describe("documented errors in /docs/json", async () => {
  const { request, deps } = await testApp();
  const doc = await json(await request("/docs/json"));
  const operations = Object.entries<Record<string, any>>(doc.paths).flatMap(([path, ops]) =>
    Object.entries<any>(ops).map(([method, op]) => ({ path, method, op })),
  );
  const api = operations.filter((o) => o.path.startsWith("/api/v1/"));
  const codesOf = (op: any) => (op["x-problem-codes"] ?? []) as string[];

  test("the Problem schema follows decisions.md and names every HTTP catalogue code", () => {
    const problem = doc.components.schemas.Problem;
    expect(problem.required).toEqual(["type", "title", "status", "detail", "instance", "code", "requestId"]);
    expect(problem.properties.status.type).toBe("integer");
    expect(problem.properties.errors.items).toEqual({ $ref: "#/components/schemas/ProblemFieldError" });
    expect(doc.components.schemas.ProblemFieldError.required).toEqual(["path", "message"]);
    const http = CODES.filter((c) => !("scope" in CATALOGUE[c]));
    expect(problem.properties.code.enum).toEqual(http);
    expect(Object.keys(problem["x-problem-catalogue"])).toEqual(CODES);
  });

  test("every /api/v1 operation documents a 4xx problem+json response that references Problem", () => {
    expect(api.length).toBeGreaterThan(80);
    const missing = api
      .filter(({ op }) =>
        Object.entries<any>(op.responses ?? {}).every(
          ([status, r]) =>
            !/^4\d\d$/.test(status) ||
            !r.content?.["application/problem+json"]?.schema?.allOf?.some(
              (s: any) => s.$ref === PROBLEM_SCHEMA_REF,
            ),
        ),
      )
      .map(({ method, path }) => `${method} ${path}`);
    expect(missing).toEqual([]);
  });

  test("listed codes are catalogue codes, each under its own status", () => {
    const wrong: string[] = [];
    for (const { path, method, op } of operations) {
      for (const code of codesOf(op)) {
        const spec = CATALOGUE[code];
        if (!spec || spec.scope) {
          wrong.push(`${method} ${path}: ${code}`);
          continue;
        }
        const schema = op.responses[String(spec.status)]?.content?.["application/problem+json"]?.schema;
        const listed = schema?.allOf?.[1]?.properties?.code?.enum ?? [];
        if (!listed.includes(code)) wrong.push(`${method} ${path}: ${code} not under ${spec.status}`);
      }
      for (const [status, r] of Object.entries<any>(op.responses ?? {})) {
        const listed = r.content?.["application/problem+json"]?.schema?.allOf?.[1]?.properties?.code?.enum;
        for (const code of listed ?? []) {
          if (String(CATALOGUE[code]?.status) !== status)
            wrong.push(`${method} ${path}: ${code} under ${status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test("the guards' and the edge's codes are on the routes they guard", () => {
    const op = (method: string, path: string) => doc.paths[path][method];
    const projectWrite = codesOf(op("post", "/api/v1/project/{projectId}/member"));
    expect(projectWrite).toEqual(
      expect.arrayContaining([
        "UNAUTHENTICATED",
        "TOKEN_EXPIRED",
        "PROJECT_NOT_FOUND",
        "ROLE_INSUFFICIENT",
        "PROJECT_INACTIVE",
        "VALIDATION_FAILED",
        "MALFORMED_REQUEST",
        "RATE_LIMITED",
        "INTERNAL_ERROR",
        "ALREADY_MEMBER",
      ]),
    );
    expect(codesOf(op("get", "/api/v1/project/{projectId}/member"))).not.toContain("PROJECT_INACTIVE");
    expect(codesOf(op("get", "/api/v1/admin/issue"))).toContain("ADMIN_REQUIRED");
    expect(codesOf(op("get", "/api/v1/project"))).not.toContain("ADMIN_REQUIRED");
    expect(codesOf(op("get", "/health"))).not.toContain("RATE_LIMITED");
    expect(codesOf(op("post", "/api/v1/project/{projectId}/file"))).toContain("FILE_TOO_LARGE");
  });

  test("every HTTP code the source raises is documented on some operation", () => {
    const documented = new Set(operations.flatMap(({ op }) => codesOf(op)));
    const raised = new Set(
      sourceUses()
        .map((u) => u.code)
        .filter((c) => CATALOGUE[c] && !CATALOGUE[c].scope),
    );
    const undocumented = [...raised].filter(
      (c) => !documented.has(c) && !(ROUTELESS as string[]).includes(c),
    );
    expect(undocumented.sort()).toEqual([]);
  });

  test("real error answers carry the catalogue title and a code their operation lists", async () => {
    const user = await signIn(request, deps.config.secretKey);
    const checks: { method: string; url: string; path: string; init?: RequestInit; code: ProblemCode }[] = [
      {
        method: "get",
        url: `/api/v1/project/${crypto.randomUUID()}`,
        path: "/api/v1/project/{projectId}",
        init: { headers: user.auth },
        code: "PROJECT_NOT_FOUND",
      },
      { method: "get", url: "/api/v1/project", path: "/api/v1/project", code: "UNAUTHENTICATED" },
      {
        method: "post",
        url: "/api/v1/project",
        path: "/api/v1/project",
        init: jsonInit("POST", { name: "x" }, user.auth),
        code: "VALIDATION_FAILED",
      },
      {
        method: "get",
        url: "/api/v1/admin/issue",
        path: "/api/v1/admin/issue",
        init: { headers: user.auth },
        code: "ADMIN_REQUIRED",
      },
    ];
    for (const c of checks) {
      const res = await request(c.url, c.init);
      const body = await json(res);
      expect({ code: body.code, status: res.status, title: body.title }).toEqual({
        code: c.code,
        status: CATALOGUE[c.code].status,
        title: CATALOGUE[c.code].title,
      });
      expect(codesOf(doc.paths[c.path][c.method])).toContain(c.code);
    }
  });
});
