import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { auditLog } from "@/db/schema";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/*
 * api.md §2.12: every route under /api/v1/admin is for system admins. This walks the app's route
 * table, so a route added later without the admin guard fails here.
 */

const BASE = "/api/v1/admin";

describe("the /admin guard", async () => {
  const { app, request, deps } = await testApp();

  test("every /admin route: 401 without a token, 403 ADMIN_REQUIRED for a non-admin (audited)", async () => {
    const routes = app.routes.filter((r) => r.path.startsWith(`${BASE}/`) && r.method !== "OPTIONS");
    expect(routes.length).toBeGreaterThan(25);
    for (const prefix of ["/settings", "/sessions", "/audit-logs"]) {
      expect(routes.some((r) => r.path.startsWith(`${BASE}${prefix}`))).toBe(true);
    }
    const user = await signIn(request, deps.config.secretKey);
    const fill = (path: string) =>
      path.replace(/:(\w+)/g, (_, name: string) =>
        name === "category" ? "MAINTENANCE" : crypto.randomUUID(),
      );
    for (const r of routes) {
      const path = fill(r.path);
      const init = (headers: Record<string, string>) =>
        r.method === "GET" || r.method === "DELETE"
          ? { method: r.method, headers }
          : jsonInit(r.method, {}, headers);
      const anon = await request(path, init({}));
      expect([r.method, r.path, anon.status]).toEqual([r.method, r.path, 401]);
      const denied = await request(path, init(user.auth));
      expect([r.method, r.path, denied.status]).toEqual([r.method, r.path, 403]);
      expect((await json(denied)).code).toBe("ADMIN_REQUIRED");
    }
    const denials = await deps.database.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, user.id), eq(auditLog.action, "ACCESS_DENIED")));
    expect(denials).toHaveLength(routes.length);
  });
});
