import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { problem } from "@/lib/errors";
import { registerFastFormats } from "@/lib/formats";
import { inputRefused, inspectValue, parseJsonBody } from "@/lib/input-guard";
import { adminAnalysisMasterController } from "@/modules/admin-analysis-master";
import { analysisAgentController } from "@/modules/analysis-agent";
import { analysisCatalogueController } from "@/modules/analysis-catalogue";
import { analysisSessionController } from "@/modules/analysis-session";
import { fileController } from "@/modules/file";
import { memberController } from "@/modules/member";
import { projectController } from "@/modules/project";
import { systemController } from "@/modules/system";
import type { Probe } from "@/modules/system/service";
import { userAccountController } from "@/modules/user-account";
import {
  checkDeclaredLength,
  checkHeaderSize,
  JSON_LIMIT_BYTES,
  multipartRoutes,
  payloadTooLarge,
  readLimited,
} from "@/plugins/body-limit";
import { mapError, mappedProblem, problemResponse } from "@/plugins/error-handler";
import { observeHook } from "@/plugins/observability";
import { type DocumentedRoute, openapiDocument } from "@/plugins/openapi-document";
import { rateLimitHook } from "@/plugins/rate-limit";
import { beginRequest, pathOf, requestContext } from "@/plugins/request-context";
import { createHeaderPolicy } from "@/plugins/security-headers";
import { swaggerUi } from "@/plugins/swagger-ui";
import { requestTracing } from "@/plugins/tracing";

// After every import, so the OpenAPI plugin's Zod-backed format checks are already replaced.
registerFastFormats();

/* Tag descriptions shown as section headings in Swagger UI (order = display order). */
const API_TAGS = [
  { name: "system", description: "Service info, liveness/readiness probes and metrics. No authentication." },
  {
    name: "user_account",
    description: "The signed-in user's account and settings; user administration (admin).",
  },
  { name: "project", description: "Projects and their settings; access follows the caller's project role." },
  { name: "member", description: "Project members and roles (viewer, member, moderator, manager)." },
  { name: "file", description: "Versioned project files: upload, download, versions and comparisons." },
  {
    name: "analysis",
    description: "Analysis catalogue, sessions, steps, charts, exports and the analysis agent.",
  },
  { name: "admin", description: "System-admin maintenance of the analysis masters." },
];

export type BuildOptions = {
  probes?: { cache: Probe | null; storage: Probe | null };
  /** Extra routes mounted under the app (tests use this to exercise the error pipeline). */
  extend?: (app: any) => any;
};

const decoder = new TextDecoder("utf-8", { fatal: true });

/* Turns the app's route table into matchers so a method mismatch can answer 405 with `Allow`. */
function methodIndex(routes: { method: string; path: string }[]) {
  const entries = routes
    .filter((r) => r.method !== "ALL" && r.method !== "OPTIONS")
    .map((r) => ({
      method: r.method === "GET" ? "GET, HEAD" : r.method,
      regex: new RegExp(
        `^${r.path
          .split("/")
          .map((seg) =>
            seg.startsWith(":") ? "[^/]+" : seg === "*" ? ".*" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
          )
          .join("/")}/?$`,
      ),
    }));
  return (path: string): string[] => [
    ...new Set(entries.filter((e) => e.regex.test(path)).map((e) => e.method)),
  ];
}

export function buildApp(deps: AppDeps, options: BuildOptions = {}) {
  const { config, logger } = deps;
  const policy = createHeaderPolicy(config);
  let allowedMethods: ((path: string) => string[]) | null = null;
  // Read from this app's route table on first use, when every controller has registered.
  let multipart: ReadonlySet<string> | null = null;

  function baseHeaders(request: Request): Record<string, string> {
    const ctx = requestContext(request);
    return {
      ...policy.securityHeaders(pathOf(request)),
      ...policy.corsHeaders(request.headers.get("origin")),
      "X-Request-ID": ctx.requestId,
      "Server-Timing": `app;dur=${(performance.now() - ctx.startedAt).toFixed(1)}`,
    };
  }

  let app = new Elysia({ name: "camp-backend", normalize: false })
    .onRequest(({ request, set, server }) => {
      const ctx = beginRequest(request, server);
      const origin = request.headers.get("origin");
      if (request.method === "OPTIONS") {
        const preflight = policy.preflightHeaders(origin);
        return new Response(null, {
          status: 204,
          headers: {
            ...policy.securityHeaders(pathOf(request)),
            ...(preflight ?? {}),
            "X-Request-ID": ctx.requestId,
          },
        });
      }
      const headers = set.headers as Record<string, string>;
      Object.assign(headers, policy.securityHeaders(pathOf(request)));
      if (origin !== null) Object.assign(headers, policy.corsHeaders(origin));
      headers["X-Request-ID"] = ctx.requestId;
      headers["Cache-Control"] = "no-store";
      ctx.deadlineAt = ctx.startedAt + config.requestTimeoutS * 1000;
      checkHeaderSize(config, request);
      checkDeclaredLength(config, request);
    })
    // After the request id exists; adds no hook unless an exporter is configured.
    .use(requestTracing(deps))
    .onParse({ as: "global" }, async ({ request, contentType, route }) => {
      const ct = contentType.toLowerCase();
      if (ct.startsWith("application/json") || ct.includes("+json")) {
        const bytes = await readLimited(
          request.body,
          JSON_LIMIT_BYTES,
          () => payloadTooLarge(JSON_LIMIT_BYTES),
          requestContext(request).deadlineAt,
        );
        if (bytes.byteLength === 0) return {};
        let parsed: ReturnType<typeof parseJsonBody>;
        try {
          parsed = parseJsonBody(decoder.decode(bytes));
        } catch {
          parsed = {
            error: problem("MALFORMED_REQUEST", { detail: "The request body is not valid UTF-8." }),
          };
        }
        if ("value" in parsed) return parsed.value;
        // Raised after authentication (the auth macros run in transform, before validation).
        requestContext(request).inputError ??= parsed.error;
        return {};
      }
      // Upload handlers stream the body themselves; returning a value stops the framework from
      // buffering it through formData().
      if (ct.startsWith("multipart/form-data")) {
        multipart ??= multipartRoutes(app.routes);
        if (multipart.has(route)) return {};
      }
      if (!request.body || request.headers.get("content-length") === "0") return {};
      throw problem("UNSUPPORTED_MEDIA_TYPE", {
        detail: `Content-Type '${ct || "(none)"}' is not accepted here; send application/json.`,
      });
    })
    .mapResponse({ as: "global" }, ({ request, set }) => {
      const ctx = requestContext(request);
      set.headers["Server-Timing"] = `app;dur=${(performance.now() - ctx.startedAt).toFixed(1)}`;
    })
    .onError({ as: "global" }, ({ code, error, request }) => {
      const ctx = requestContext(request);
      const path = pathOf(request);
      if (code === "VALIDATION" && ctx.inputError) error = ctx.inputError;
      deps.database.noteFailure(error);
      let mapped = mapError(code, error, config, logger, {
        requestId: ctx.requestId,
        method: request.method,
        path,
      });
      if (mapped.code === "ROUTE_NOT_FOUND") {
        allowedMethods ??= methodIndex(app.routes);
        const allow = allowedMethods(path);
        if (allow.length > 0) {
          mapped = mappedProblem("METHOD_NOT_ALLOWED", {
            detail: `${request.method} is not allowed on this path.`,
            headers: { Allow: allow.join(", ") },
          });
        }
      }
      ctx.status = mapped.status;
      return problemResponse(mapped, path, ctx.requestId, baseHeaders(request));
    })
    // Rate limit, then (in the auth macros' transform) authentication, then validation: a caller
    // without a valid token gets 401/429 before anything about its input is looked at.
    .onTransform({ as: "global" }, rateLimitHook(deps))
    .onTransform({ as: "global" }, ({ request, query, params }) => {
      const ctx = requestContext(request);
      if (ctx.inputError) return;
      const errors = inspectValue(params, "/params");
      const queryErrors = inspectValue(query, "/query");
      if (errors.length + queryErrors.length > 0) ctx.inputError = inputRefused(errors.concat(queryErrors));
    })
    // Public routes have no auth macro: refused input is raised here, or by onError when the
    // placeholder body failed validation first.
    .onBeforeHandle({ as: "global" }, ({ request }) => {
      const error = requestContext(request).inputError;
      if (error) throw error;
    })
    .onAfterResponse({ as: "global" }, observeHook(deps))
    .use(
      openapiDocument({
        routes: (): readonly DocumentedRoute[] => app.routes,
        enabled: config.enableDocs,
        path: "/docs",
        specPath: "/docs/json",
        // The plugin's page loads Swagger UI from a CDN; swaggerUi below serves pinned local assets.
        provider: null,
        documentation: {
          tags: API_TAGS,
          info: {
            title: "camp-backend API",
            version: config.version,
            description: "Projects, files, analysis sessions and driver trees for consulting teams.",
          },
          components: {
            securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } },
          },
          security: [{ bearer: [] }],
        },
      }),
    )
    .use(
      config.enableDocs
        ? swaggerUi({ path: "/docs", specPath: "/docs/json", title: "camp-backend API" })
        : new Elysia({ name: "swagger-ui" }),
    )
    .use(systemController(deps, options.probes))
    .group("/api/v1", (api) =>
      api
        .use(userAccountController(deps))
        .use(projectController(deps))
        .use(memberController(deps))
        .use(fileController(deps))
        .use(analysisCatalogueController(deps))
        .use(analysisSessionController(deps))
        .use(adminAnalysisMasterController(deps))
        .use(analysisAgentController(deps)),
    );

  if (options.extend) app = options.extend(app) as unknown as typeof app;
  return app;
}

export type App = ReturnType<typeof buildApp>;
