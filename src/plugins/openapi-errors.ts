import { PROBLEMS, type ProblemCode, type ProblemSpec } from "@/lib/problems";
import { maintenanceExempt } from "@/plugins/maintenance";
import { rateLimitExempt } from "@/plugins/rate-limit";

/*
 * Documented error responses (api.md §1.7 in the OpenAPI document). Each operation lists the
 * problem codes it can answer with in `x-problem-codes`: a route declares its own codes in one line
 * of its `detail`, and the auth/admin/project macros add theirs through the `detail` they return
 * (Elysia merges macro and route `detail`, concatenating arrays). This post-processor adds what the
 * HTTP edge contributes to every route (body parsing, validation, rate limit, 5xx), then turns the
 * list into one `application/problem+json` response per status, each narrowing `Problem.code` to the
 * codes of that status, so a generated client sees exactly which codes a route returns.
 */

declare module "elysia" {
  interface DocumentDecoration {
    /** The problem codes this route can answer with, beyond the ones its guards and the edge add. */
    "x-problem-codes"?: ProblemCode[];
  }
}

type Schema = Record<string, unknown>;
type ResponseObject = {
  description?: string;
  content?: Record<string, { schema?: unknown }>;
  headers?: Schema;
};
type Operation = {
  "x-problem-codes"?: string[];
  parameters?: { in?: string }[];
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, ResponseObject>;
};
type Document = {
  paths?: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown>; [key: string]: unknown };
};

export const PROBLEM_SCHEMA_REF = "#/components/schemas/Problem";

/** Codes that are HTTP problems, as opposed to step-result or agent-tool codes. */
const httpCodes = () =>
  (Object.entries(PROBLEMS) as [ProblemCode, ProblemSpec][])
    .filter(([, spec]) => !spec.scope)
    .map(([code]) => code);

/* decisions.md "Errors: one envelope everywhere". */
export function problemSchemas(): Record<string, Schema> {
  return {
    ProblemFieldError: {
      type: "object",
      required: ["path", "message"],
      properties: {
        path: { type: "string", description: "JSON Pointer into the request, e.g. /body/name" },
        message: { type: "string" },
      },
    },
    Problem: {
      type: "object",
      description:
        "RFC 9457 problem details. `code` is the stable identifier to branch on; the full catalogue (status, title, default detail of every code) is in `x-problem-catalogue`. Extension members (e.g. `maxBytes`, `usage`, `retryAfterSeconds`) may follow.",
      required: ["type", "title", "status", "detail", "instance", "code", "requestId"],
      properties: {
        type: { type: "string", description: "urn:camp-backend:problem:{code}" },
        title: { type: "string", description: "The same for every occurrence of a code" },
        status: { type: "integer", description: "The HTTP status, repeated" },
        detail: { type: "string", description: "This occurrence, for humans" },
        instance: { type: "string", description: "The request path" },
        code: { type: "string", enum: httpCodes() },
        requestId: { type: "string", description: "Equals the X-Request-ID response header" },
        errors: {
          type: "array",
          description: "Field problems (400/422)",
          items: { $ref: "#/components/schemas/ProblemFieldError" },
        },
      },
      additionalProperties: true,
      "x-problem-catalogue": PROBLEMS,
    },
  };
}

const BODY_METHODS = new Set(["post", "put", "patch", "delete"]);
/* project-access checks PROJECT_INACTIVE on writes only. */
const READ_METHODS = new Set(["get", "head"]);

/** What the HTTP edge adds to an operation: parsing, validation, rate limit, unexpected failures. */
function edgeCodes(path: string, method: string, op: Operation): ProblemCode[] {
  const codes: ProblemCode[] = ["INTERNAL_ERROR"];
  const content = op.requestBody?.content ?? {};
  if (BODY_METHODS.has(method) && op.requestBody) {
    if (content["application/json"]) codes.push("MALFORMED_REQUEST", "PAYLOAD_TOO_LARGE");
    codes.push("UNSUPPORTED_MEDIA_TYPE", "REQUEST_TIMEOUT");
  }
  // Under /api/ any query string is inspected (NUL, lone surrogates), declared or not.
  if (op.requestBody || (op.parameters ?? []).length > 0 || path.startsWith("/api/"))
    codes.push("VALIDATION_FAILED");
  if (!rateLimitExempt(path)) codes.push("RATE_LIMITED");
  if (!maintenanceExempt(path)) codes.push("MAINTENANCE_MODE");
  if (path.startsWith("/api/")) codes.push("DEPENDENCY_UNAVAILABLE");
  if (content["multipart/form-data"]) codes.push("INSUFFICIENT_STORAGE");
  return codes;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  507: "Insufficient Storage",
};

const RESPONSE_HEADERS: Record<number, Schema> = {
  401: { "WWW-Authenticate": { description: "RFC 6750 Bearer challenge", schema: { type: "string" } } },
  429: { "Retry-After": { description: "Seconds until the budget refills", schema: { type: "integer" } } },
  503: { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } } },
  507: { "Retry-After": { description: "Seconds to wait before retrying", schema: { type: "integer" } } },
};

function problemResponse(status: number, codes: ProblemCode[], existing?: ResponseObject): ResponseObject {
  const lines = codes.map((code) => `- \`${code}\`: ${PROBLEMS[code].title}`).join("\n");
  const response: ResponseObject = {
    ...existing,
    description: `${existing?.description ? `${existing.description}\n\n` : ""}${STATUS_TEXT[status] ?? "Error"}:\n${lines}`,
    content: {
      ...existing?.content,
      "application/problem+json": {
        schema: {
          allOf: [
            { $ref: PROBLEM_SCHEMA_REF },
            { type: "object", properties: { code: { type: "string", enum: codes } } },
          ],
        },
      },
    },
  };
  const headers = RESPONSE_HEADERS[status];
  if (headers) response.headers = { ...headers, ...existing?.headers };
  return response;
}

/** The codes an operation documents, in catalogue order, without duplicates. */
export function operationCodes(path: string, method: string, op: Operation): ProblemCode[] {
  const wanted = new Set<string>([...(op["x-problem-codes"] ?? []), ...edgeCodes(path, method, op)]);
  if (READ_METHODS.has(method)) wanted.delete("PROJECT_INACTIVE");
  return (Object.keys(PROBLEMS) as ProblemCode[]).filter((code) => wanted.has(code));
}

const done = new WeakSet<object>();

/**
 * Adds `components.schemas.Problem` and the problem+json error responses to every operation.
 * Idempotent: the openapi plugin caches the document object, and this runs on each request for it.
 */
export function addProblemResponses<D extends Document>(doc: D): D {
  if (done.has(doc)) return doc;
  done.add(doc);
  doc.components ??= {};
  doc.components.schemas = { ...doc.components.schemas, ...problemSchemas() };
  for (const [path, ops] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(ops)) {
      const codes = operationCodes(path, method, op);
      op["x-problem-codes"] = codes;
      const byStatus = new Map<number, ProblemCode[]>();
      for (const code of codes) {
        const status = PROBLEMS[code].status;
        byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
      }
      op.responses ??= {};
      for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
        op.responses[String(status)] = problemResponse(status, list, op.responses[String(status)]);
      }
    }
  }
  return doc;
}
