import type { AppDeps } from "@/deps";
import { problem } from "@/lib/errors";
import { authStateOf } from "@/plugins/auth";
import { pathOf } from "@/plugins/request-context";

/*
 * Stage 6 of api.md §4.1: while MAINTENANCE.maintenance_mode is on, every request answers 503
 * MAINTENANCE_MODE with Retry-After, except health, metrics and docs, and — when
 * allow_admin_access — system admins (all routes). The admin maintenance routes stay open to
 * admins either way, so maintenance can always be switched off. Runs as a transform right after
 * the rate limiter (before validation); the flag is read from the in-process settings store
 * (modules/admin-settings/store.ts), so the warm path adds no I/O.
 */

export const maintenanceExempt = (path: string) =>
  path === "/health" ||
  path.startsWith("/health/") ||
  path === "/metrics" ||
  path === "/docs" ||
  path.startsWith("/docs/");

const MAINTENANCE_ROUTES = "/api/v1/admin/settings/maintenance/";

export function maintenanceHook(deps: AppDeps) {
  const store = deps.settings;
  const check = async (request: Request, snapshot: Awaited<ReturnType<typeof store.current>>) => {
    const m = store.maintenance(snapshot);
    if (!m.enabled) return;
    const path = pathOf(request);
    if (maintenanceExempt(path)) return;
    if (m.allowAdminAccess || path.startsWith(MAINTENANCE_ROUTES)) {
      const auth = await authStateOf(deps, request);
      if (auth.caller?.isSystemAdmin) return;
    }
    throw problem("MAINTENANCE_MODE", {
      ...(m.message ? { detail: m.message } : {}),
      headers: { "Retry-After": String(m.retryAfterSeconds) },
      extensions: { retryAfterSeconds: m.retryAfterSeconds },
    });
  };
  return ({ request }: { request: Request }): Promise<void> | undefined => {
    const snapshot = store.fresh();
    if (snapshot) return store.maintenance(snapshot).enabled ? check(request, snapshot) : undefined;
    return store.current().then((s) => check(request, s));
  };
}
