import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { auditLog } from "@/db/schema";
import { ADMIN_GUARD_EXEMPTIONS } from "@/modules/admin-role";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/*
 * api.md §2.12: every route under /api/v1/admin is for system admins. This walks the app's route
 * table, so a route added later without the admin guard fails here. The one exemption
 * (`GET /admin/role`, any signed-in user) is listed in src/modules/admin-role and must answer a
 * non-admin 200; anything else that lets a non-admin through fails.
 */

const BASE = "/api/v1/admin";

describe("the /admin guard", async () => {
  const { app, request, deps } = await testApp();

  test("every /admin route: 401 without a token, 403 ADMIN_REQUIRED for a non-admin (audited)", async () => {
    const exempt = new Set<string>(ADMIN_GUARD_EXEMPTIONS);
    const all = app.routes.filter((r) => r.path.startsWith(`${BASE}/`) && r.method !== "OPTIONS");
    const routes = all.filter((r) => !exempt.has(`${r.method} ${r.path}`));
    // Every exemption names a real route, so the list cannot hide a typo.
    expect(all.filter((r) => exempt.has(`${r.method} ${r.path}`))).toHaveLength(exempt.size);
    expect(routes.length).toBeGreaterThan(25);
    for (const prefix of ["/settings", "/sessions", "/audit-logs", "/statistics", "/projects"]) {
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

  test("the exempted routes: 401 without a token, 200 for a non-admin", async () => {
    const user = await signIn(request, deps.config.secretKey);
    expect(ADMIN_GUARD_EXEMPTIONS).toEqual(["GET /api/v1/admin/role"]);
    for (const entry of ADMIN_GUARD_EXEMPTIONS) {
      const [method, path] = entry.split(" ");
      expect((await request(path, { method })).status).toBe(401);
      const res = await request(path, { method, headers: user.auth });
      expect([entry, res.status]).toEqual([entry, 200]);
    }
  });
});
