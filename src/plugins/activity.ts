import type { AppDeps } from "@/deps";
import { UNMATCHED_ENDPOINT } from "@/lib/metrics";
import { clientIpOf, requestContext } from "@/plugins/request-context";

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

/*
 * The resource is the route's last parameter and the static segment before it (`/file/:fileId`).
 * Worked out once per route template (the route table bounds them), not split per request.
 */
type ResourceShape = { param: string | null; type: string | null };
const shapes = new Map<string, ResourceShape>();

function shapeOf(route: string): ResourceShape {
  let shape = shapes.get(route);
  if (shape) return shape;
  const segments = route.split("/");
  shape = { param: null, type: null };
  for (let i = segments.length - 1; i > 0; i--) {
    const s = segments[i];
    if (!s.startsWith(":")) continue;
    const type = segments[i - 1]?.startsWith(":") ? null : segments[i - 1];
    shape = { param: s.slice(1), type: type ?? null };
    break;
  }
  if (shape.param === null) {
    const last = segments.filter((s) => s !== "" && s !== "api" && s !== "v1");
    shape = { param: null, type: last[0] ?? null };
  }
  // Bounded all the same, should a caller ever hand in a raw path instead of a template.
  if (shapes.size < 2048) shapes.set(route, shape);
  return shape;
}

function resourceOf(route: string, params: Record<string, string | undefined> | undefined) {
  const { param, type } = shapeOf(route);
  if (param === null) return { type, id: null };
  const value = params?.[param];
  return { type, id: value && UUID.test(value) ? value : null };
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
      ipAddress: clientIpOf(request, deps.config.trustedProxies),
      userAgent: request.headers.get("user-agent"),
      requestId: rc.requestId,
      createdAt: new Date(),
    });
  };
}
