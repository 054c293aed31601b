import type { AppDeps } from "@/deps";
import { requestLineLogger } from "@/lib/logger";
import { scrubSecretText } from "@/lib/mask";
import { UNMATCHED_ENDPOINT } from "@/lib/metrics";
import { requestContext } from "@/plugins/request-context";

/*
 * Stage 9 of api.md §4.1: one metrics observation and one JSON log line per request, labelled by
 * the route template so a scan of random paths cannot grow the label set.
 *
 * Called by the stage that produces the response (the app's response mapper, or the error mapper)
 * rather than from an after-response hook: the framework runs those through `setImmediate` and a
 * fresh async closure per request, which cost more than the observation itself. The context's
 * `observed` flag keeps it to one per request when both stages see the same request.
 */

export type Observation = {
  /** The matched route template; absent (or a 404/405) is labelled as unmatched. */
  route?: string;
  status: number;
  notFound?: boolean;
  /** Declared body size, when the response states it. */
  bytes?: number | null;
};

export function createObserver(deps: AppDeps) {
  return (request: Request, o: Observation) => {
    const rc = requestContext(request);
    if (rc.observed) return;
    rc.observed = true;
    const durationS = (performance.now() - rc.startedAt) / 1000;
    const status = o.status;
    const route = o.route && !o.notFound && status !== 405 ? o.route : UNMATCHED_ENDPOINT;
    deps.metrics.observeRequest({ method: request.method, endpoint: route, status, durationS });
    const path = rc.path;
    if (path === "/health" || path === "/metrics") return;
    // The line skips the logger's deep mask; the client-chosen request id is the only free text.
    requestLineLogger(deps.logger).info(
      {
        requestId: rc.requestId.includes(".") ? scrubSecretText(rc.requestId) : rc.requestId,
        method: request.method,
        route,
        status,
        durationMs: Math.round(durationS * 100000) / 100,
        userId: rc.userId,
        bytes: o.bytes ?? null,
      },
      "request",
    );
  };
}

/** The declared length of a response, if it states one. */
export function declaredBytes(response: Response): number | null {
  const length = response.headers.get("content-length");
  return length ? Number(length) : null;
}

/* What the tracing plugin's after-response hook reads (only registered when an exporter is set). */
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
