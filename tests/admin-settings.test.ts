import { afterAll, describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { buildApp } from "@/app";
import { auditLog, systemSetting } from "@/db/schema";
import { newId } from "@/lib/ids";
import { migratedDatabase, testDeps } from "./helpers/context";
import { TEST_REDIS_URL } from "./helpers/env";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/*
 * Settings and maintenance mode (api.md §2.12.4, §4.1 stage 6). A database of its own: maintenance
 * switched on here must never reach another test file's requests.
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const BASE = "/api/v1/admin/settings";

describe("settings and maintenance", async () => {
  const iso = await migratedDatabase();
  afterAll(() => iso.drop());
  const db = iso.db;

  /* Two instances of one deployment (same cache namespace); with Redis they share it. */
  async function instance(namespace: string, vars: Record<string, string> = {}) {
    const deps = await testDeps(vars, iso.handle, namespace);
    const app = buildApp(deps);
    const request = (path: string, init: RequestInit = {}) =>
      app.handle(new Request(`http://localhost${path}`, init));
    return { deps, request };
  }
  const ns = () => `set-${crypto.randomUUID().slice(0, 8)}`;
  const { deps, request } = await instance(ns(), { LLM_MAX_TURNS_PER_USER_PER_HOUR: "42" });
  const user = await signIn(request, deps.config.secretKey);
  const admin = await json(await request("/api/v1/user_account/me", { headers: DEV }));

  test("GET /settings lists every category with typed defaults; the LLM defaults come from the environment", async () => {
    const res = await request(BASE, { headers: DEV });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(Object.keys(body.categories).sort()).toEqual(
      ["API", "GENERAL", "LLM", "MAINTENANCE", "NOTIFICATION", "RETENTION", "SECURITY", "STORAGE"].sort(),
    );
    const llm = body.categories.LLM;
    expect(llm.find((s: any) => s.key === "max_turns_per_user_per_hour")).toMatchObject({
      category: "LLM",
      value: 42,
      valueType: "NUMBER",
      minimum: 1,
      maximum: 10000,
      isEditable: true,
      updatedAt: null,
      updatedBy: null,
    });
    expect(body.categories.MAINTENANCE.map((s: any) => s.key)).toEqual([
      "maintenance_mode",
      "maintenance_message",
      "allow_admin_access",
      "retry_after_seconds",
    ]);
    const one = await json(await request(`${BASE}/RETENTION`, { headers: DEV }));
    expect(one.category).toBe("RETENTION");
    expect(one.items.find((s: any) => s.key === "audit_log_days").value).toBe(365);
    expect((await request(`${BASE}/NOPE`, { headers: DEV })).status).toBe(422);
  });

  test("PATCH coerces by type, checks the range, audits, and the LLM limits follow at once", async () => {
    expect(await deps.settings.llmLimits()).toEqual({ maxTurnsPerUserPerHour: 42, turnTimeoutS: 300 });
    const res = await request(
      `${BASE}/LLM/max_turns_per_user_per_hour`,
      jsonInit("PATCH", { value: "7" }, DEV),
    );
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      value: 7,
      updatedBy: { id: admin.id },
      updatedAt: expect.any(String),
    });
    expect((await deps.settings.llmLimits()).maxTurnsPerUserPerHour).toBe(7);

    const low = await request(`${BASE}/RETENTION/audit_log_days`, jsonInit("PATCH", { value: 30 }, DEV));
    expect(low.status).toBe(422);
    expect((await json(low)).code).toBe("SETTING_VALUE_INVALID");
    const wrongType = await request(
      `${BASE}/MAINTENANCE/allow_admin_access`,
      jsonInit("PATCH", { value: 3 }, DEV),
    );
    expect((await json(wrongType)).code).toBe("SETTING_VALUE_INVALID");
    const fraction = await request(
      `${BASE}/LLM/turn_timeout_seconds`,
      jsonInit("PATCH", { value: 45.5 }, DEV),
    );
    expect((await json(fraction)).code).toBe("SETTING_VALUE_INVALID");
    const unknown = await request(`${BASE}/LLM/no_such_key`, jsonInit("PATCH", { value: 1 }, DEV));
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).code).toBe("SETTING_NOT_FOUND");

    const audit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "SETTING_CHANGE"), eq(auditLog.userId, admin.id)));
    expect(audit.at(-1)).toMatchObject({
      eventType: "SYSTEM",
      severity: "WARNING",
      oldValue: { value: 42 },
      newValue: { value: 7 },
      metadata: { category: "LLM", key: "max_turns_per_user_per_hour" },
    });
    await request(`${BASE}/LLM/max_turns_per_user_per_hour`, jsonInit("PATCH", { value: 42 }, DEV));
  });

  test("a read-only row answers 422 SETTING_READ_ONLY; a secret value reads ***", async () => {
    await db.insert(systemSetting).values([
      {
        id: newId(),
        category: "SECURITY",
        key: "locked_flag",
        value: true,
        valueType: "BOOLEAN",
        isEditable: false,
      },
      {
        id: newId(),
        category: "SECURITY",
        key: "api_secret",
        value: "s3cr3t",
        valueType: "STRING",
        isSecret: true,
      },
    ]);
    const res = await request(`${BASE}/SECURITY/locked_flag`, jsonInit("PATCH", { value: false }, DEV));
    expect(res.status).toBe(422);
    expect((await json(res)).code).toBe("SETTING_READ_ONLY");
    const items = (await json(await request(`${BASE}/SECURITY`, { headers: DEV }))).items;
    expect(items.find((s: any) => s.key === "api_secret")).toMatchObject({ value: "***", isSecret: true });
    const changed = await request(`${BASE}/SECURITY/api_secret`, jsonInit("PATCH", { value: "n3w" }, DEV));
    expect(await json(changed)).toMatchObject({ value: "***" });
    const [a] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "SETTING_CHANGE"), eq(auditLog.userId, admin.id)))
      .orderBy(auditLog.createdAt)
      .then((rows) => rows.filter((r) => (r.metadata as any)?.key === "api_secret"));
    expect(a).toMatchObject({ oldValue: { value: "***" }, newValue: { value: "***" } });
  });

  test("maintenance: 503 with Retry-After for everyone but admins; health and docs pass; off again", async () => {
    const on = await request(
      `${BASE}/maintenance/enable`,
      jsonInit("POST", { message: "Upgrading the database", retryAfterSeconds: 120 }, DEV),
    );
    expect(on.status).toBe(200);
    expect(await json(on)).toMatchObject({
      enabled: true,
      message: "Upgrading the database",
      allowAdminAccess: true,
      retryAfterSeconds: 120,
      changedBy: { id: admin.id },
      changedAt: expect.any(String),
    });
    try {
      const refused = await request(
        "/api/v1/project",
        jsonInit("POST", { name: "X", code: "MNT-1" }, user.auth),
      );
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("120");
      expect(refused.headers.get("content-type")).toContain("application/problem+json");
      expect(await json(refused)).toMatchObject({
        code: "MAINTENANCE_MODE",
        detail: "Upgrading the database",
        retryAfterSeconds: 120,
      });
      expect((await request("/api/v1/user_account/me", { headers: user.auth })).status).toBe(503);
      expect((await request("/api/v1/user_account/me")).status).toBe(503);
      expect((await request("/health")).status).toBe(200);
      expect((await request("/api/v1/user_account/me", { headers: DEV })).status).toBe(200);

      // Admins locked out too: only the maintenance routes stay open to them.
      await request(`${BASE}/maintenance/enable`, jsonInit("POST", { allowAdminAccess: false }, DEV));
      expect((await request("/api/v1/user_account/me", { headers: DEV })).status).toBe(503);
    } finally {
      const off = await request(`${BASE}/maintenance/disable`, { method: "POST", headers: DEV });
      expect(off.status).toBe(200);
      expect((await json(off)).enabled).toBe(false);
    }
    expect((await request("/api/v1/user_account/me", { headers: user.auth })).status).toBe(200);
    const actions = (await db.select().from(auditLog).where(eq(auditLog.userId, admin.id))).map(
      (r) => r.action,
    );
    expect(actions).toContain("MAINTENANCE_ON");
    expect(actions).toContain("MAINTENANCE_OFF");
  });

  test.skipIf(!TEST_REDIS_URL)(
    "two instances: maintenance switched on A refuses a non-admin write on B on its next request",
    async () => {
      const namespace = ns();
      const a = await instance(namespace);
      const b = await instance(namespace);
      const u = await signIn(b.request, b.deps.config.secretKey);
      // B has a warm settings copy (maintenance off) before A switches it on.
      expect((await b.request("/api/v1/user_account/me", { headers: u.auth })).status).toBe(200);
      expect(b.deps.settings.fresh()).toBeDefined();
      try {
        expect((await a.request(`${BASE}/maintenance/enable`, jsonInit("POST", {}, DEV))).status).toBe(200);
        const write = await b.request(
          "/api/v1/project",
          jsonInit("POST", { name: "B", code: "MNT-B" }, u.auth),
        );
        expect(write.status).toBe(503);
        expect(write.headers.get("retry-after")).toBe("3600");
        expect((await b.request("/api/v1/user_account/me", { headers: DEV })).status).toBe(200);
      } finally {
        expect(
          (await a.request(`${BASE}/maintenance/disable`, { method: "POST", headers: DEV })).status,
        ).toBe(200);
      }
      expect((await b.request("/api/v1/user_account/me", { headers: u.auth })).status).toBe(200);
    },
  );
});
