import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import type { ProblemCode } from "@/lib/problems";
import type { Caller } from "@/modules/auth/service";
import type { ProjectAccess } from "@/modules/project/access";
import { projectAccessPlugin } from "@/plugins/project-access";
import type { AnalysisFileDeps } from "../files";
import { SessionDetail } from "../model";
import type { SessionDeps } from "../service";

/* What the session route groups share: the app's dependencies and the per-request service deps. */

export const ROUTE_PREFIX = "/project/:projectId/analysis/session";
export const TAGS = ["analysis"];

/** Every write to a session answers these before its own checks (`writableSession`). */
export const WRITE_PROBLEMS = [
  "SESSION_NOT_FOUND",
  "NOT_OWNER",
  "SESSION_ARCHIVED",
  "CHAT_IN_PROGRESS",
] as const satisfies readonly ProblemCode[];

/** A step write also replays the pipeline against the input. */
export const STEP_WRITE_PROBLEMS = [
  ...WRITE_PROBLEMS,
  "INPUT_FILE_REQUIRED",
  "STEP_CONFIG_INVALID",
  "STEP_REFERENCE_INVALID",
  "ANALYSIS_LIMIT_EXCEEDED",
] as const satisfies readonly ProblemCode[];

type Actor = { actor: SessionDeps["actor"] };

/** One route group: the session prefix with the project guard. */
export const routeGroup = (ctx: RouteContext, name: string) =>
  new Elysia({ name, prefix: ROUTE_PREFIX }).use(projectAccessPlugin(ctx.deps));

/** A 200 download with its Content-Length when the body's size is known. */
export function sized(
  body: ConstructorParameters<typeof Response>[0],
  headers: Record<string, string>,
  length?: number,
): Response {
  if (length !== undefined) headers["Content-Length"] = String(length);
  return new Response(body, { status: 200, headers });
}

/* ---------- handler helpers: the repeated parts of a session write ---------- */

type WriteRequest = { caller: Caller; auth: Actor; access: ProjectAccess; params: { sessionId: string } };

/** The leading arguments of every session write: its deps, the caller, the access, the session id. */
export const sessionWrite = (ctx: RouteContext, r: WriteRequest) =>
  [ctx.sessionDeps(r.auth), r.caller, r.access, r.params.sessionId] as const;
/** The same with the file deps (storage and parser). */
export const fileWrite = (ctx: RouteContext, r: WriteRequest) =>
  [ctx.fileDeps(r.auth), r.caller, r.access, r.params.sessionId] as const;

export const sessionUrl = (projectId: string, sessionId: string) =>
  `/api/v1/project/${projectId}/analysis/session/${sessionId}`;

export type RouteContext = {
  deps: AppDeps;
  db: AppDeps["database"]["db"];
  caches: AppDeps["analysisCaches"];
  sessionDeps: (auth: Actor) => SessionDeps;
  fileDeps: (auth: Actor) => AnalysisFileDeps;
};

export function routeContext(deps: AppDeps): RouteContext {
  const db = deps.database.db;
  const { analysisCaches: caches, enginePool: parser } = deps;
  return {
    deps,
    db,
    caches,
    sessionDeps: (auth) => ({ db, actor: auth.actor, caches }),
    fileDeps: (auth) => ({ db, storage: deps.storage, actor: auth.actor, caches, parser }),
  };
}

/* ---------- the export download (its body is not JSON for two of the formats) ---------- */

const MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
export const EXPORT_MIME = {
  xlsx: MIME_XLSX,
  csv: "text/csv; charset=utf-8",
  json: "application/json; charset=utf-8",
} as const;

const binary = { type: "string", format: "binary" } as const;
/** OpenAPI description of the download (the body is not JSON for two of the formats). */
export const EXPORT_RESPONSES = {
  200: {
    description:
      "Attachment (Content-Disposition with RFC 6266 filename*). xlsx: sheets Summary, Steps, Chat, Data and S<order>_<name> per step; csv: one step's rows, UTF-8 with BOM, CRLF; json: SessionDetail with the current snapshot's results (also stored as analysis/{sessionId}/snapshot_{YYYYMMDDTHHMMSSZ}.json). Text cells starting with = + - @ TAB CR are prefixed with '.",
    headers: {
      "Content-Disposition": { schema: { type: "string" } },
      "Content-Length": { schema: { type: "integer" }, description: "when known (streamed exports omit it)" },
    },
    content: {
      [MIME_XLSX]: { schema: binary },
      "text/csv": { schema: binary },
      // TypeBox's anyOf nullables are valid OpenAPI 3.1 but not typed as 3.0 schema objects.
      "application/json": { schema: SessionDetail as unknown as { type: "object" } },
    },
  },
  404: {
    description: "SESSION_NOT_FOUND, STEP_NOT_FOUND (problem+json)",
  },
  422: {
    description:
      "INPUT_FILE_REQUIRED; STEP_CONFIG_INVALID (the csv step is not ok); VALIDATION_FAILED (problem+json)",
  },
} as const;
