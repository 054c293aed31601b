import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import { auditLog, roleHistory, userAccount } from "@/db/schema";
import { signDevToken } from "@/lib/auth/dev-token";
import { isolatedDatabase, testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn, uniqueEmail } from "./helpers/users";

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };

describe("accounts, provisioning and revocation", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const secret = deps.config.secretKey;

  test("no token → 401 UNAUTHENTICATED with WWW-Authenticate", async () => {
    const res = await request("/api/v1/user_account/me");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toContain("Bearer");
    expect((await json(res)).code).toBe("UNAUTHENTICATED");
  });

  test("a garbage token → 401 TOKEN_INVALID, and the failure is audited without the token", async () => {
    const res = await request("/api/v1/user_account/me", { headers: { authorization: "Bearer not.a.jwt" } });
    expect(res.status).toBe(401);
    const body = await json(res);
    expect(body.code).toBe("TOKEN_INVALID");
    const rows = await db.select().from(auditLog).where(eq(auditLog.requestId, body.requestId));
    expect(rows).toHaveLength(1);
    expect(rows[0].action).toBe("LOGIN_FAILED");
    expect(JSON.stringify(rows[0])).not.toContain("not.a.jwt");
  });

  test("the dev mock token is the seeded-style development admin", async () => {
    const res = await request("/api/v1/user_account/me", { headers: DEV });
    expect(res.status).toBe(200);
    const me = await json(res);
    expect(me.email).toBe(deps.config.devMockUserEmail);
    expect(me.isSystemAdmin).toBe(true);
    expect(me.roles).toEqual(["system_admin", "user"]);
  });

  test("first token provisions; later requests of the same session do not count a login", async () => {
    const email = uniqueEmail("prov");
    const token = await signDevToken({ secretKey: secret, email, name: "Prov One" });
    const h = { authorization: `Bearer ${token}` };
    const first = await json(await request("/api/v1/user_account/me", { headers: h }));
    expect(first.email).toBe(email);
    expect(first.displayName).toBe("Prov One");
    expect(first.roles).toEqual(["user"]);
    await request("/api/v1/user_account/me", { headers: h });
    const again = await json(await request("/api/v1/user_account/me", { headers: h }));
    expect(again.loginCount).toBe(1);
    expect(again.lastLoginAt).not.toBeNull();
    const logins = await db.select().from(auditLog).where(eq(auditLog.userId, first.id));
    expect(logins.filter((r) => r.action === "LOGIN_SUCCESS")).toHaveLength(1);
    // A second token (new session) counts a second login.
    const t2 = await signDevToken({ secretKey: secret, email, name: "Prov One", expiresInS: 120 });
    const second = await json(
      await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${t2}` } }),
    );
    expect(second.loginCount).toBe(2);
  });

  test("an imported user (no oid) is linked by email on first sign-in", async () => {
    const email = uniqueEmail("import");
    const [row] = await db
      .insert(userAccount)
      .values({ id: crypto.randomUUID(), email: email.toUpperCase(), source: "import" })
      .returning();
    const user = await signIn(request, secret, email, "Imported");
    expect(user.id).toBe(row.id);
    const [after] = await db.select().from(userAccount).where(eq(userAccount.id, row.id));
    expect(after.azureOid).not.toBeNull();
  });

  test("an email held by another oid → 409 IDENTITY_CONFLICT", async () => {
    const email = uniqueEmail("clash");
    await signIn(request, secret, email);
    const other = await signDevToken({ secretKey: secret, email, oid: crypto.randomUUID() });
    const res = await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${other}` } });
    expect(res.status).toBe(409);
    expect((await json(res)).code).toBe("IDENTITY_CONFLICT");
  });

  test("PATCH /me changes the display name; roles or isActive → 403 SELF_ACTION_FORBIDDEN", async () => {
    const u = await signIn(request, secret);
    const ok = await request(
      "/api/v1/user_account/me",
      jsonInit("PATCH", { displayName: "  New Name " }, u.auth),
    );
    expect((await json(ok)).displayName).toBe("New Name");
    const bad = await request(
      "/api/v1/user_account/me",
      jsonInit("PATCH", { roles: ["system_admin"] }, u.auth),
    );
    expect(bad.status).toBe(403);
    expect((await json(bad)).code).toBe("SELF_ACTION_FORBIDDEN");
    const snake = await request("/api/v1/user_account/me", jsonInit("PATCH", { display_name: "x" }, u.auth));
    expect(snake.status).toBe(422);
  });

  test("settings: defaults on first read, deep-partial update, unknown timezone → 422", async () => {
    const u = await signIn(request, secret);
    const s = await json(await request("/api/v1/user_account/me/settings", { headers: u.auth }));
    expect(s).toMatchObject({ theme: "light", language: "ja", timezone: "Asia/Tokyo" });
    expect(s.display).toEqual({ itemsPerPage: 20, defaultProjectView: "grid", showWelcomeMessage: true });
    expect(Object.values(s.notifications).every((v) => v === true)).toBe(true);
    const patched = await request(
      "/api/v1/user_account/me/settings",
      jsonInit(
        "PATCH",
        { theme: "dark", notifications: { email: false }, display: { itemsPerPage: 50 } },
        u.auth,
      ),
    );
    const p = await json(patched);
    expect(p.theme).toBe("dark");
    expect(p.notifications.email).toBe(false);
    expect(p.notifications.memberChanges).toBe(true);
    expect(p.display.itemsPerPage).toBe(50);
    const tz = await request(
      "/api/v1/user_account/me/settings",
      jsonInit("PATCH", { timezone: "Mars/Olympus" }, u.auth),
    );
    expect(tz.status).toBe(422);
    const range = await request(
      "/api/v1/user_account/me/settings",
      jsonInit("PATCH", { display: { itemsPerPage: 5 } }, u.auth),
    );
    expect(range.status).toBe(422);
  });

  test("context: navigation and sidebar by role", async () => {
    const u = await signIn(request, secret);
    const ctx = await json(await request("/api/v1/user_account/me/context", { headers: u.auth }));
    expect(ctx.navigation).toEqual({
      projectCount: 0,
      defaultProjectId: null,
      defaultProjectName: null,
      projectNavigationType: "list",
    });
    expect(ctx.sidebar.hiddenSections).toEqual(["system-admin", "monitoring", "operations"]);
    expect(ctx.permissions.isSystemAdmin).toBe(false);
    await request(
      "/api/v1/project",
      jsonInit("POST", { name: "Solo", code: `SOLO-${u.id.slice(-8)}` }, u.auth),
    );
    const ctx2 = await json(await request("/api/v1/user_account/me/context", { headers: u.auth }));
    expect(ctx2.navigation.projectNavigationType).toBe("detail");
    expect(ctx2.navigation.defaultProjectName).toBe("Solo");
  });

  test("logout ends the session: the same token → 401 SESSION_REVOKED", async () => {
    const u = await signIn(request, secret);
    const out = await request("/api/v1/user_account/logout", { method: "POST", headers: u.auth });
    expect(out.status).toBe(204);
    const res = await request("/api/v1/user_account/me", { headers: u.auth });
    expect(res.status).toBe(401);
    expect((await json(res)).code).toBe("SESSION_REVOKED");
  });

  test("every admin route refuses a non-admin with 403 ADMIN_REQUIRED", async () => {
    const u = await signIn(request, secret);
    const other = await signIn(request, secret);
    const cases: [string, string, unknown][] = [
      ["GET", "/api/v1/user_account", undefined],
      ["GET", `/api/v1/user_account/${other.id}`, undefined],
      ["PATCH", `/api/v1/user_account/${other.id}/activate`, {}],
      ["PATCH", `/api/v1/user_account/${other.id}/deactivate`, {}],
      ["PUT", `/api/v1/user_account/${other.id}/role`, { roles: ["system_admin"] }],
      ["DELETE", `/api/v1/user_account/${other.id}`, undefined],
      ["GET", `/api/v1/user_account/${other.id}/role_history`, undefined],
    ];
    for (const [method, path, body] of cases) {
      const res = await request(
        path,
        body === undefined ? { method, headers: u.auth } : jsonInit(method, body, u.auth),
      );
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 403 });
      expect((await json(res)).code).toBe("ADMIN_REQUIRED");
    }
    expect((await request(`/api/v1/user_account/${other.id}`, { headers: DEV })).status).toBe(200);
  });

  test("admin routes: non-admin → 403 ADMIN_REQUIRED; admin lists, reads, unknown id → 404", async () => {
    const u = await signIn(request, secret);
    const denied = await request("/api/v1/user_account", { headers: u.auth });
    expect(denied.status).toBe(403);
    expect((await json(denied)).code).toBe("ADMIN_REQUIRED");
    const list = await json(
      await request(`/api/v1/user_account?email=${encodeURIComponent(u.email)}`, { headers: DEV }),
    );
    expect(list.total).toBe(1);
    expect(list.items[0].id).toBe(u.id);
    expect((await request(`/api/v1/user_account/${u.id}`, { headers: DEV })).status).toBe(200);
    const missing = await request(`/api/v1/user_account/${crypto.randomUUID()}`, { headers: DEV });
    expect(missing.status).toBe(404);
    expect((await json(missing)).code).toBe("USER_NOT_FOUND");
    expect((await request("/api/v1/user_account/not-a-uuid", { headers: DEV })).status).toBe(422);
  });

  test("deactivate → 403 ACCOUNT_DISABLED on every route; activate restores", async () => {
    const u = await signIn(request, secret);
    const off = await request(
      `/api/v1/user_account/${u.id}/deactivate`,
      jsonInit("PATCH", { reason: "left" }, DEV),
    );
    expect(off.status).toBe(200);
    expect((await json(off)).isActive).toBe(false);
    const blocked = await request("/api/v1/user_account/me", { headers: u.auth });
    expect(blocked.status).toBe(403);
    expect((await json(blocked)).code).toBe("ACCOUNT_DISABLED");
    await request(`/api/v1/user_account/${u.id}/activate`, { method: "PATCH", headers: DEV });
    const fresh = await signDevToken({ secretKey: secret, email: u.email, expiresInS: 300 });
    const back = await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${fresh}` } });
    expect(back.status).toBe(200);
  });

  test("role change writes role_history and is visible to the user; self change refused", async () => {
    const u = await signIn(request, secret);
    const res = await request(
      `/api/v1/user_account/${u.id}/role`,
      jsonInit("PUT", { roles: ["system_admin"], reason: "ops" }, DEV),
    );
    expect(res.status).toBe(200);
    expect((await json(res)).roles).toEqual(["system_admin", "user"]);
    const rows = await db.select().from(roleHistory).where(eq(roleHistory.userId, u.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      roleType: "system",
      action: "update",
      oldRoles: ["user"],
      newRoles: ["system_admin", "user"],
      reason: "ops",
    });
    // The promotion takes effect on the user's next request (cache invalidated).
    expect((await request("/api/v1/user_account", { headers: u.auth })).status).toBe(200);
    const hist = await json(await request(`/api/v1/user_account/${u.id}/role_history`, { headers: u.auth }));
    expect(hist.total).toBe(1);
    expect(hist.items[0].changedBy.email).toBe(deps.config.devMockUserEmail);
    const self = await request(
      `/api/v1/user_account/${u.id}/role`,
      jsonInit("PUT", { roles: ["user"] }, u.auth),
    );
    expect(self.status).toBe(403);
    expect((await json(self)).code).toBe("SELF_ACTION_FORBIDDEN");
    const other = await signIn(request, secret);
    const peek = await request(`/api/v1/user_account/${u.id}/role_history`, { headers: other.auth });
    expect(peek.status).toBe(403);
  });

  test("delete: the sole manager of a project → 422 LAST_PROJECT_MANAGER with projects[]", async () => {
    const u = await signIn(request, secret);
    const code = `DEL-${u.id.slice(-8)}`;
    await request("/api/v1/project", jsonInit("POST", { name: "Owned", code }, u.auth));
    const res = await request(`/api/v1/user_account/${u.id}`, { method: "DELETE", headers: DEV });
    expect(res.status).toBe(422);
    const body = await json(res);
    expect(body.code).toBe("LAST_PROJECT_MANAGER");
    expect(body.projects[0].name).toBe("Owned");
    const v = await signIn(request, secret);
    expect((await request(`/api/v1/user_account/${v.id}`, { method: "DELETE", headers: DEV })).status).toBe(
      204,
    );
    expect((await request(`/api/v1/user_account/${v.id}`, { headers: DEV })).status).toBe(404);
  });
});

describe("the last active system admin", () => {
  let ctx: Awaited<ReturnType<typeof testApp>>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const iso = await isolatedDatabase();
    drop = iso.drop;
    await migrateUp(
      iso.handle,
      migrationsDir(ctx?.deps.config ?? (await import("./helpers/context")).testConfig()),
    );
    ctx = await testApp({}, {}, iso.handle);
  }, 60_000);
  afterAll(() => drop());

  test("cannot be demoted, deactivated or deleted; a second admin makes it possible", async () => {
    const { request, deps } = ctx;
    const admin = await signIn(request, deps.config.secretKey);
    // Make `admin` the only admin: promote, then demote the dev user.
    const dev = await json(await request("/api/v1/user_account/me", { headers: DEV }));
    await request(
      `/api/v1/user_account/${admin.id}/role`,
      jsonInit("PUT", { roles: ["system_admin", "user"] }, DEV),
    );
    const demoteDev = await request(
      `/api/v1/user_account/${dev.id}/role`,
      jsonInit("PUT", { roles: ["user"] }, admin.auth),
    );
    expect(demoteDev.status).toBe(200);
    const other = await signIn(request, deps.config.secretKey);
    // `other` is not an admin; `admin` is the last one. Self-actions are refused first.
    for (const [method, path, body] of [
      ["PUT", `/api/v1/user_account/${admin.id}/role`, { roles: ["user"] }],
      ["PATCH", `/api/v1/user_account/${admin.id}/deactivate`, {}],
      ["DELETE", `/api/v1/user_account/${admin.id}`, undefined],
    ] as const) {
      const res = await request(
        path,
        body ? jsonInit(method, body, admin.auth) : { method, headers: admin.auth },
      );
      expect(res.status).toBe(403);
    }
    // Concurrent demotions of the only two admins: exactly one may succeed.
    await request(
      `/api/v1/user_account/${other.id}/role`,
      jsonInit("PUT", { roles: ["system_admin"] }, admin.auth),
    );
    const fresh = await signDevToken({
      secretKey: deps.config.secretKey,
      email: other.email,
      expiresInS: 400,
    });
    const otherAuth = { authorization: `Bearer ${fresh}` };
    const [a, b] = await Promise.all([
      request(`/api/v1/user_account/${other.id}/role`, jsonInit("PUT", { roles: ["user"] }, admin.auth)),
      request(`/api/v1/user_account/${admin.id}/role`, jsonInit("PUT", { roles: ["user"] }, otherAuth)),
    ]);
    // The loser is refused either by the row lock (422) or, when the winner committed first, by
    // the admin guard of its own now-demoted account (403). Never both succeed.
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect([403, 422]).toContain(statuses[1]);
    const loser = a.status === 200 ? b : a;
    expect(["LAST_SYSTEM_ADMIN", "ADMIN_REQUIRED"]).toContain((await json(loser)).code);
    const admins = await deps.database.db.select().from(userAccount);
    expect(admins.filter((u) => u.isActive && u.roles.includes("system_admin"))).toHaveLength(1);
  });
});
