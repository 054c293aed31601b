import type { AppDeps } from "@/deps";
import { requestLineLogger } from "@/lib/logger";
import { scrubSecretText } from "@/lib/mask";
import { UNMATCHED_ENDPOINT } from "@/lib/metrics";
import { pathOf, requestContext } from "@/plugins/request-context";

/*
 * Stage 9 of api.md §4.1: one metrics observation and one JSON log line per request, labelled by
 * the route template so a scan of random paths cannot grow the label set.
 */

export type AfterResponseContext = {
  request: Request;
  route?: string;
  set: { status?: number | string };
  responseValue?: unknown;
  code?: unknown;
};

/**
 * The final status and the route template (one shared label for unmatched paths) of a request.
 * Hooks pass the context's fields one by one: Elysia reads a hook's source to decide which
 * context fields to build, and a whole `ctx` handed to a function makes it build all of them.
 */
export function requestOutcome(
  request: Request,
  routeTemplate: string | undefined,
  set: AfterResponseContext["set"],
  responseValue: unknown,
  code: unknown,
) {
  const rc = requestContext(request);
  const response = responseValue instanceof Response ? responseValue : null;
  const status = rc.status ?? response?.status ?? (typeof set.status === "number" ? set.status : 200);
  const route = routeTemplate && code !== "NOT_FOUND" && status !== 405 ? routeTemplate : UNMATCHED_ENDPOINT;
  return { rc, response, status, route };
}

export function observeHook(deps: AppDeps) {
  return (ctx: AfterResponseContext) => {
    const { rc, response, status, route } = requestOutcome(
      ctx.request,
      ctx.route,
      ctx.set,
      ctx.responseValue,
      ctx.code,
    );
    const durationS = (performance.now() - rc.startedAt) / 1000;
    deps.metrics.observeRequest({ method: ctx.request.method, endpoint: route, status, durationS });
    const path = pathOf(ctx.request);
    if (path === "/health" || path === "/metrics") return;
    const length = response?.headers.get("content-length");
    // The line skips the logger's deep mask; the client-chosen request id is the only free text.
    requestLineLogger(deps.logger).info(
      {
        requestId: rc.requestId.includes(".") ? scrubSecretText(rc.requestId) : rc.requestId,
        method: ctx.request.method,
        route,
        status,
        durationMs: Math.round(durationS * 100000) / 100,
        userId: rc.userId,
        bytes: length ? Number(length) : null,
      },
      "request",
    );
  };
}
