import type { Span } from "@opentelemetry/api";
import { SpanStatusCode } from "@opentelemetry/api";
import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { type AfterResponseContext, requestOutcome } from "@/plugins/observability";
import { pathOf, requestContext } from "@/plugins/request-context";

/*
 * The request's server span: opened after the request id is known, named by the route template
 * once routing is done, closed after the response. The SQL, cache, storage and LLM adapters open
 * their spans under it (lib/tracing.ts). Without an exporter this plugin adds no hook at all.
 */

const SPAN = Symbol("camp.requestSpan");
type WithSpan = Request & { [SPAN]?: Span | null };

export function requestTracing(deps: AppDeps) {
  const tracing = deps.tracing;
  const plugin = new Elysia({ name: "request-tracing" });
  if (!tracing?.enabled) return plugin;
  return plugin
    .onRequest(({ request, server }) => {
      const rc = requestContext(request);
      (request as WithSpan)[SPAN] = tracing.startRequest(
        request.method,
        {
          "http.request.method": request.method,
          "url.path": pathOf(request),
          "request.id": rc.requestId,
        },
        server !== null && server !== undefined,
      );
    })
    .onAfterResponse({ as: "global" }, (ctx) => {
      const span = (ctx.request as WithSpan)[SPAN];
      if (!span) return;
      const { status, route, rc } = requestOutcome(
        ctx.request,
        ctx.route,
        ctx.set as AfterResponseContext["set"],
        ctx.responseValue,
        (ctx as { code?: unknown }).code,
      );
      span.updateName(`${ctx.request.method} ${route}`);
      span.setAttributes({ "http.route": route, "http.response.status_code": status });
      if (rc.userId) span.setAttribute("enduser.id", rc.userId);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
}
