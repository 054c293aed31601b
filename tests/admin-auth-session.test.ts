import { describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import { buildApp } from "@/app";
import { auditLog, userSession } from "@/db/schema";
import { signDevToken } from "@/lib/auth/dev-token";
import { expireSessions } from "@/modules/admin-auth-session/service";
import { testApp, testDeps } from "./helpers/context";
import { TEST_REDIS_URL } from "./helpers/env";
import { json } from "./helpers/http";
import { jsonInit, signIn, uniqueEmail } from "./helpers/users";

/* Auth sessions and forced logout (api.md §2.12.8, §1.1 revocation). */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const BASE = "/api/v1/admin/sessions";

describe("auth sessions and forced logout", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const secret = deps.config.secretKey;
  const admin = await json(await request("/api/v1/user_account/me", { headers: DEV }));

  test("list: active sessions with stats; per user; filters by state", async () => {
    const u = await signIn(request, secret);
    const res = await request(`${BASE}?userId=${u.id}`, { headers: DEV });
    expect(res.status).toBe(200);
    const page = await json(res);
    expect(page).toMatchObject({ total: 1, skip: 0, limit: 50 });
    expect(page.stats.activeSessions).toBeGreaterThanOrEqual(1);
    expect(page.stats.loginsToday).toBeGreaterThanOrEqual(1);
    expect(page.items[0]).toMatchObject({
      user: { id: u.id, email: u.email },
      keySource: "token",
      isActive: true,
      endedAt: null,
      endReason: null,
      endedBy: null,
    });
    const mine = await json(await request(`${BASE}/user/${u.id}?state=all`, { headers: DEV }));
    expect(mine.total).toBe(1);
    expect(mine.items[0].id).toBe(page.items[0].id);
    expect((await request(`${BASE}/user/${crypto.randomUUID()}`, { headers: DEV })).status).toBe(404);
    expect((await json(await request(`${BASE}/user/${u.id}?state=ended`, { headers: DEV }))).total).toBe(0);
  });

  test("terminate one: that session's next request is 401 SESSION_REVOKED, others live on; 409 twice", async () => {
    const u = await signIn(request, secret);
    const other = await signDevToken({ secretKey: secret, email: u.email, name: "x", sid: "second-device" });
    expect(
      (await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${other}` } })).status,
    ).toBe(200);
    const sessions = (await json(await request(`${BASE}/user/${u.id}`, { headers: DEV }))).items;
    expect(sessions).toHaveLength(2);
    const target = sessions.find((s: any) => s.keySource === "token");
    const res = await request(
      `${BASE}/${target.id}/terminate`,
      jsonInit("POST", { reason: "lost laptop" }, DEV),
    );
    expect(res.status).toBe(200);
    expect(await json(res)).toMatchObject({
      id: target.id,
      endReason: "FORCED",
      isActive: false,
      endedBy: { id: admin.id },
      endedAt: expect.any(String),
    });
    const refused = await request("/api/v1/user_account/me", { headers: u.auth });
    expect(refused.status).toBe(401);
    expect((await json(refused)).code).toBe("SESSION_REVOKED");
    expect(
      (await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${other}` } })).status,
    ).toBe(200);
    const again = await request(`${BASE}/${target.id}/terminate`, jsonInit("POST", {}, DEV));
    expect(again.status).toBe(409);
    expect((await json(again)).code).toBe("SESSION_ALREADY_ENDED");
    const unknown = await request(`${BASE}/${crypto.randomUUID()}/terminate`, jsonInit("POST", {}, DEV));
    expect((await json(unknown)).code).toBe("AUTH_SESSION_NOT_FOUND");
    const [audit] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "SESSION_TERMINATE"), eq(auditLog.resourceId, target.id)));
    expect(audit).toMatchObject({ eventType: "SECURITY", severity: "WARNING", userId: admin.id });
  });

  test("terminate-all: every session ends and a token issued before, never used, is refused too", async () => {
    const email = uniqueEmail();
    const u = await signIn(request, secret, email);
    const unused = await signDevToken({ secretKey: secret, email, name: "later", sid: "never-seen" });
    const res = await request(
      `${BASE}/user/${u.id}/terminate-all`,
      jsonInit("POST", { reason: "breach" }, DEV),
    );
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toEqual({ terminatedCount: 1, tokensValidAfter: expect.any(String) });
    for (const token of [u.token, unused]) {
      const r = await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(401);
      expect((await json(r)).code).toBe("SESSION_REVOKED");
    }
    // A token issued after the watermark signs in again (blocking needs deactivation).
    await Bun.sleep(1100);
    const fresh = await signDevToken({ secretKey: secret, email, name: "again" });
    expect(
      (await request("/api/v1/user_account/me", { headers: { authorization: `Bearer ${fresh}` } })).status,
    ).toBe(200);
    expect(
      (await request(`${BASE}/user/${crypto.randomUUID()}/terminate-all`, jsonInit("POST", {}, DEV))).status,
    ).toBe(404);
  });

  test("the expiry job marks lapsed sessions EXPIRED and they stop counting as active", async () => {
    const u = await signIn(request, secret);
    await db
      .update(userSession)
      .set({ expiresAt: sql`now() - interval '1 minute'` })
      .where(eq(userSession.userId, u.id));
    expect((await json(await request(`${BASE}?userId=${u.id}`, { headers: DEV }))).total).toBe(0);
    const { expired } = await expireSessions(db, deps.cache);
    expect(expired).toBeGreaterThanOrEqual(1);
    const [row] = await db.select().from(userSession).where(eq(userSession.userId, u.id));
    expect(row.endReason).toBe("EXPIRED");
    expect(row.endedAt).not.toBeNull();
    const ended = await json(await request(`${BASE}/user/${u.id}?state=ended`, { headers: DEV }));
    expect(ended.items[0]).toMatchObject({ endReason: "EXPIRED", isActive: false });
  });

  test.skipIf(!TEST_REDIS_URL)(
    "two instances: forced logout on A makes the user's next request on B 401",
    async () => {
      const namespace = `ses-${crypto.randomUUID().slice(0, 8)}`;
      const mk = async () => {
        const d = await testDeps({}, undefined, namespace);
        const app = buildApp(d);
        return (path: string, init: RequestInit = {}) =>
          app.handle(new Request(`http://localhost${path}`, init));
      };
      const a = await mk();
      const b = await mk();
      const u = await signIn(b, secret);
      // Warm on B: its near cache holds the session and the user.
      expect((await b("/api/v1/user_account/me", { headers: u.auth })).status).toBe(200);
      expect((await b("/api/v1/user_account/me", { headers: u.auth })).status).toBe(200);
      const [s] = (await json(await a(`${BASE}/user/${u.id}`, { headers: DEV }))).items;
      expect((await a(`${BASE}/${s.id}/terminate`, jsonInit("POST", {}, DEV))).status).toBe(200);
      const r = await b("/api/v1/user_account/me", { headers: u.auth });
      expect(r.status).toBe(401);
      expect((await json(r)).code).toBe("SESSION_REVOKED");

      const v = await signIn(b, secret);
      expect((await b("/api/v1/user_account/me", { headers: v.auth })).status).toBe(200);
      expect((await a(`${BASE}/user/${v.id}/terminate-all`, jsonInit("POST", {}, DEV))).status).toBe(200);
      const r2 = await b("/api/v1/user_account/me", { headers: v.auth });
      expect(r2.status).toBe(401);
    },
  );
});
