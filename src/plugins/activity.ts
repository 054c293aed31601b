import type { AppDeps } from "@/deps";
import { resolveClientIp } from "@/lib/client-ip";
import { UNMATCHED_ENDPOINT } from "@/lib/metrics";
import { peerIpOf, requestContext } from "@/plugins/request-context";

/*
 * Stage 8 of api.md §4.1, the activity half: one activity row per request (not health, metrics,
 * docs or preflights), handed to the recorder's in-process queue after the response went out.
 * Nothing here waits on I/O; masking and size checks happen when the batch is written.
 */

/* What the response stage knows when it records (the same call sites as the metrics observation). */
export type ActivityEvent = {
  request: Request;
  route?: string;
  params?: Record<string, string | undefined>;
  body?: unknown;
  status: number;
  notFound?: boolean;
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const skipped = (path: string) =>
  path === "/health" ||
  path.startsWith("/health/") ||
  path === "/metrics" ||
  path === "/docs" ||
  path.startsWith("/docs/");

function actionOf(method: string, path: string, status: number): string {
  if (status >= 400) return "ERROR";
  if (path.endsWith("/logout")) return "LOGOUT";
  if (path.endsWith("/export") || path.endsWith("/download")) return "EXPORT";
  if (path.endsWith("/import")) return "IMPORT";
  switch (method) {
    case "POST":
      return "CREATE";
    case "PUT":
    case "PATCH":
      return "UPDATE";
    case "DELETE":
      return "DELETE";
    default:
      return "READ";
  }
}

/* The resource is the route's last parameter and the static segment before it (`/file/:fileId`). */
function resourceOf(route: string, params: Record<string, string | undefined> | undefined) {
  const segments = route.split("/");
  for (let i = segments.length - 1; i > 0; i--) {
    const s = segments[i];
    if (!s.startsWith(":")) continue;
    const value = params?.[s.slice(1)];
    const type = segments[i - 1]?.startsWith(":") ? null : segments[i - 1];
    return { type: type ?? null, id: value && UUID.test(value) ? value : null };
  }
  const last = segments.filter((s) => s !== "" && s !== "api" && s !== "v1");
  return { type: last[0] ?? null, id: null };
}

export function activityHook(deps: AppDeps): (event: ActivityEvent) => void {
  const recorder = deps.activity;
  if (!recorder) return () => {};
  return (event: ActivityEvent) => {
    const { request, status } = event;
    const rc = requestContext(request);
    if (rc.recorded) return;
    rc.recorded = true;
    const path = rc.path;
    if (skipped(path) || request.method === "OPTIONS") return;
    const matched = event.route && !event.notFound && status !== 405;
    const route = matched ? (event.route as string) : UNMATCHED_ENDPOINT;
    const resource = matched ? resourceOf(route, event.params) : { type: null, id: null };
    const projectId = event.params?.projectId;
    const json = (request.headers.get("content-type") ?? "").includes("json");
    recorder.record({
      userId: rc.userId,
      actionType: actionOf(request.method, path, status),
      resourceType: resource.type?.slice(0, 50) ?? null,
      resourceId: resource.id,
      projectId: projectId && UUID.test(projectId) ? projectId : null,
      method: request.method.slice(0, 7),
      route,
      path,
      statusCode: status,
      durationMs: Math.round(performance.now() - rc.startedAt),
      errorCode: status >= 400 ? (rc.errorCode ?? null) : null,
      errorMessage: status >= 400 ? (rc.errorDetail ?? null) : null,
      requestBody: json ? event.body : null,
      ipAddress: resolveClientIp({
        peerIp: peerIpOf(request),
        headers: request.headers,
        trustedProxies: deps.config.trustedProxies,
      }),
      userAgent: request.headers.get("user-agent"),
      requestId: rc.requestId,
      createdAt: new Date(),
    });
  };
}
