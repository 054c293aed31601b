import { Elysia, ElysiaCustomStatusResponse } from "elysia";
import type { AppDeps } from "@/deps";
import { problem } from "@/lib/errors";
import { registerFastFormats } from "@/lib/formats";
import { inputRefused, inspectFlat, parseJsonBody } from "@/lib/input-guard";
import { adminActivityController } from "@/modules/admin-activity";
import { adminAnalysisMasterController } from "@/modules/admin-analysis-master";
import { adminAuditController } from "@/modules/admin-audit";
import { adminAuthSessionController } from "@/modules/admin-auth-session";
import { adminBulkController } from "@/modules/admin-bulk";
import { adminProjectController } from "@/modules/admin-project";
import { adminRetentionController } from "@/modules/admin-retention";
import { adminRoleController } from "@/modules/admin-role";
import { adminSettingsController } from "@/modules/admin-settings";
import { adminStatisticsController } from "@/modules/admin-statistics";
import { analysisAgentController } from "@/modules/analysis-agent";
import { analysisCatalogueController } from "@/modules/analysis-catalogue";
import { analysisSessionController } from "@/modules/analysis-session";
import { adminAnnouncementController, announcementController } from "@/modules/announcement";
import { dashboardController } from "@/modules/dashboard";
import { driverTreeController } from "@/modules/driver-tree";
import { adminDriverTreeMasterController, driverTreeMasterController } from "@/modules/driver-tree-master";
import { driverTreeTemplateController } from "@/modules/driver-tree-template";
import { fileController } from "@/modules/file";
import { memberController } from "@/modules/member";
import { adminNotificationTemplateController, notificationController } from "@/modules/notification";
import { projectController } from "@/modules/project";
import { searchController } from "@/modules/search";
import { systemController } from "@/modules/system";
import type { Probe } from "@/modules/system/service";
import { userAccountController } from "@/modules/user-account";
import { activityHook } from "@/plugins/activity";
import {
  checkDeclaredLength,
  checkHeaderSize,
  JSON_LIMIT_BYTES,
  multipartRoutes,
  payloadTooLarge,
  readLimited,
} from "@/plugins/body-limit";
import { mapError, mappedProblem, problemResponse } from "@/plugins/error-handler";
import { maintenanceHook } from "@/plugins/maintenance";
import { createObserver, declaredBytes } from "@/plugins/observability";
import { API_TAGS, type DocumentedRoute, openapiDocument } from "@/plugins/openapi-document";
import { rateLimitHook } from "@/plugins/rate-limit";
import { beginRequest, type RequestContext, requestContext } from "@/plugins/request-context";
import { createHeaderPolicy } from "@/plugins/security-headers";
import { swaggerUi } from "@/plugins/swagger-ui";
import { requestTracing } from "@/plugins/tracing";

// After every import, so the OpenAPI plugin's Zod-backed format checks are already replaced.
registerFastFormats();

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

  const observe = createObserver(deps);
  const recordActivity = activityHook(deps);
  const serverTiming = (ctx: RequestContext) => `app;dur=${(performance.now() - ctx.startedAt).toFixed(1)}`;

  function baseHeaders(request: Request): Record<string, string> {
    const ctx = requestContext(request);
    return {
      ...policy.securityHeaders(ctx.path),
      ...policy.corsHeaders(request.headers.get("origin")),
      "X-Request-ID": ctx.requestId,
      "Cache-Control": "no-store",
      "Server-Timing": serverTiming(ctx),
    };
  }

  let app = new Elysia({ name: "camp-backend", normalize: false })
    // Headers are added when the response is built (mapResponse, or the error mapper), not here:
    // a plain-object `set.headers` makes the framework rebuild every response's headers from it.
    .onRequest(({ request }) => {
      // The listening server, read here rather than from the context: asking the context for
      // `server` makes the framework define a getter on every request's context.
      const ctx = beginRequest(request, app.server);
      if (request.method === "OPTIONS") {
        const preflight = policy.preflightHeaders(request.headers.get("origin"));
        return new Response(null, {
          status: 204,
          headers: {
            ...policy.securityHeaders(ctx.path),
            ...(preflight ?? {}),
            "X-Request-ID": ctx.requestId,
          },
        });
      }
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
    .mapResponse({ as: "global" }, ({ request, set, responseValue, route, params, body }) => {
      const ctx = requestContext(request);
      // The error mapper built this response whole (and observed it).
      if (ctx.observed) return;
      const own = set.headers as Record<string, string>;
      const ctor = (responseValue as object | null | undefined)?.constructor;
      // A JSON answer (the common case) is encoded here with one copy of prebuilt headers; the
      // framework passes a finished 200 response with empty `set.headers` through untouched.
      if ((ctor === Object || ctor === Array) && set.status === 200 && !set.cookie) {
        const response = policy.jsonResponse(ctx.path, JSON.stringify(responseValue));
        const headers = response.headers;
        const origin = request.headers.get("origin");
        if (origin !== null) {
          const cors = policy.corsHeaders(origin);
          for (const name in cors) headers.set(name, cors[name]);
        }
        headers.set("X-Request-ID", ctx.requestId);
        for (const name in own) headers.set(name, own[name]);
        set.headers = {};
        headers.set("Server-Timing", serverTiming(ctx));
        observe(request, { route, status: 200 });
        recordActivity({ request, route, params, body, status: 200 });
        return response;
      }
      // Anything else (files, streams, text, other statuses): the headers go into `set` for the
      // framework to merge, without replacing any the route set itself.
      const taken = new Set(Object.keys(own).map((name) => name.toLowerCase()));
      const add = (name: string, value: string) => {
        if (!taken.has(name.toLowerCase())) own[name] = value;
      };
      const fixed = policy.securityHeaders(ctx.path);
      for (const name in fixed) add(name, fixed[name]);
      const cors = policy.corsHeaders(request.headers.get("origin"));
      for (const name in cors) add(name, cors[name]);
      add("X-Request-ID", ctx.requestId);
      add("Cache-Control", "no-store");
      own["Server-Timing"] = serverTiming(ctx);
      const response = responseValue instanceof Response ? responseValue : null;
      const status =
        responseValue instanceof ElysiaCustomStatusResponse
          ? responseValue.code
          : (response?.status ?? (typeof set.status === "number" ? set.status : 200));
      observe(request, { route, status, bytes: response ? declaredBytes(response) : null });
      recordActivity({ request, route, params, body, status });
    })
    .onError({ as: "global" }, ({ code, error, request, route, params, body }) => {
      const ctx = requestContext(request);
      const path = ctx.path;
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
      ctx.errorCode = mapped.code;
      ctx.errorDetail = mapped.detail;
      const response = problemResponse(mapped, path, ctx.requestId, baseHeaders(request));
      observe(request, { route, status: mapped.status, notFound: code === "NOT_FOUND" });
      recordActivity({ request, route, params, body, status: mapped.status, notFound: code === "NOT_FOUND" });
      return response;
    })
    // Rate limit, then (in the auth macros' transform) authentication, then validation: a caller
    // without a valid token gets 401/429 before anything about its input is looked at.
    .onTransform({ as: "global" }, rateLimitHook(deps))
    .onTransform({ as: "global" }, maintenanceHook(deps))
    .onTransform({ as: "global" }, ({ request, query, params }) => {
      const ctx = requestContext(request);
      if (ctx.inputError) return;
      const errors = inspectFlat(params, "/params");
      const queryErrors = inspectFlat(query, "/query");
      if (errors.length + queryErrors.length > 0) ctx.inputError = inputRefused(errors.concat(queryErrors));
    })
    // Public routes have no auth macro: refused input is raised here, or by onError when the
    // placeholder body failed validation first.
    .onBeforeHandle({ as: "global" }, ({ request }) => {
      const error = requestContext(request).inputError;
      if (error) throw error;
    })
    .use(
      openapiDocument({
        routes: (): readonly DocumentedRoute[] => app.routes,
        enabled: config.enableDocs,
        path: "/docs",
        specPath: "/docs/json",
        // The plugin's page loads Swagger UI from a CDN; swaggerUi below serves pinned local assets.
        provider: null,
        documentation: {
          tags: API_TAGS.map((tag) => ({ ...tag })),
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
        .use(driverTreeController(deps))
        .use(adminAnalysisMasterController(deps))
        .use(driverTreeMasterController(deps))
        .use(driverTreeTemplateController(deps))
        .use(adminDriverTreeMasterController(deps))
        .use(adminSettingsController(deps))
        .use(adminAuthSessionController(deps))
        .use(adminAuditController(deps))
        .use(adminActivityController(deps))
        .use(adminStatisticsController(deps))
        .use(adminProjectController(deps))
        .use(adminRoleController(deps))
        .use(adminRetentionController(deps))
        .use(adminBulkController(deps))
        .use(analysisAgentController(deps))
        .use(dashboardController(deps))
        .use(searchController(deps))
        .use(notificationController(deps))
        .use(announcementController(deps))
        .use(adminAnnouncementController(deps))
        .use(adminNotificationTemplateController(deps)),
    );

  if (options.extend) app = options.extend(app) as unknown as typeof app;
  return app;
}

export type App = ReturnType<typeof buildApp>;
