import { describe, expect, test } from "bun:test";
import { eq, like } from "drizzle-orm";
import pino from "pino";
import { buildApp } from "@/app";
import { auditLog, userActivity } from "@/db/schema";
import { ACTIONS_MATCH } from "@/modules/admin-activity/model";
import { ActivityRecorder } from "@/modules/admin-activity/recorder";
import { testApp, testDeps } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/* The activity log (api.md §2.12.2, §4.1 stage 8): recorded off the request path, read by admins. */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const BASE = "/api/v1/admin/activity-logs";
/* afterResponse hooks run once the response has been handed back, one tick later. */
const settle = () => Bun.sleep(20);

describe("activity log", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const recorder = deps.activity!;

  test("each request becomes one row: route template, action, project, status, masked body; health is not logged", async () => {
    expect(ACTIONS_MATCH).toBe(true);
    const u = await signIn(request, deps.config.secretKey);
    const created = await request(
      "/api/v1/project",
      jsonInit("POST", { name: "Act", code: `ACT-${u.id.slice(-8)}`, description: "token=abc" }, u.auth),
    );
    const project = await json(created);
    await request(`/api/v1/project/${project.id}`, { headers: u.auth });
    const bad = await request(`/api/v1/project/${crypto.randomUUID()}`, { headers: u.auth });
    expect(bad.status).toBe(404);
    await request("/api/v1/user_account/me", jsonInit("PATCH", { displayName: "N", password: "x" }, u.auth));
    await request("/health");
    await settle();
    await recorder.flush();

    const page = await json(await request(`${BASE}?userId=${u.id}`, { headers: DEV }));
    const rows = page.items as any[];
    expect(rows.map((r) => `${r.method} ${r.route} ${r.statusCode} ${r.actionType}`)).toEqual([
      "PATCH /api/v1/user_account/me 422 ERROR",
      "GET /api/v1/project/:projectId 404 ERROR",
      "GET /api/v1/project/:projectId 200 READ",
      "POST /api/v1/project 201 CREATE",
      "GET /api/v1/user_account/me 200 READ",
    ]);
    expect(rows[2]).toMatchObject({
      user: { id: u.id, email: u.email },
      resourceType: "project",
      resourceId: project.id,
      projectId: project.id,
      path: `/api/v1/project/${project.id}`,
      errorCode: null,
      requestId: expect.any(String),
    });
    expect(rows[1]).toMatchObject({ errorCode: "PROJECT_NOT_FOUND", errorMessage: expect.any(String) });
    expect(rows.some((r) => r.path === "/health")).toBe(false);

    const errors = await json(await request(`${BASE}/errors?userId=${u.id}`, { headers: DEV }));
    expect(errors.total).toBe(2);
    const one = await json(await request(`${BASE}/${rows[0].id}`, { headers: DEV }));
    expect(one.requestBody).toEqual({ displayName: "N", password: "***" });
    expect(one.errorCode).toBe("VALIDATION_FAILED");
    const missing = await request(`${BASE}/${crypto.randomUUID()}`, { headers: DEV });
    expect((await json(missing)).code).toBe("LOG_ENTRY_NOT_FOUND");
    const range = await request(`${BASE}?from=2030-01-01T00:00:00Z&to=2020-01-01T00:00:00Z`, {
      headers: DEV,
    });
    expect((await json(range)).code).toBe("INVALID_DATE_RANGE");
  });

  test("export: CSV neutralises formula cells and is audited; JSON parses", async () => {
    const u = await signIn(request, deps.config.secretKey);
    await request("/api/v1/user_account/me", {
      headers: { ...u.auth, "user-agent": '=HYPERLINK("http://x")' },
    });
    await settle();
    await recorder.flush();
    const res = await request(`${BASE}/export?userId=${u.id}`, { headers: DEV });
    expect(res.headers.get("x-export-truncated")).toBe("false");
    const text = await res.text();
    expect(text.split("\r\n")[0]).toStartWith("id,createdAt,userId,userEmail,actionType");
    expect(text).toContain(`"'=HYPERLINK(""http://x"")"`);
    const j = (await (
      await request(`${BASE}/export?userId=${u.id}&format=json`, { headers: DEV })
    ).json()) as any[];
    expect(j.length).toBe(2);
    const audited = await db.select().from(auditLog).where(eq(auditLog.resourceType, "user_activity"));
    expect(audited.filter((a) => (a.metadata as any)?.filter?.userId === u.id)).toHaveLength(2);
  });

  test("200 concurrent requests: every row is written or counted as dropped (queue bound 50)", async () => {
    for (const bound of [10_000, 50]) {
      const d = await testDeps();
      const small = new ActivityRecorder({
        db: d.database.db,
        copyIn: d.database.copyIn,
        logger: pino({ level: "silent" }),
        maxQueue: bound,
        batchSize: 500,
        flushIntervalMs: 60_000,
      });
      const app = buildApp({ ...d, activity: small });
      const tag = `c${crypto.randomUUID().slice(0, 8)}`;
      const responses = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          app.handle(new Request("http://localhost/", { headers: { "x-request-id": `${tag}-${i}` } })),
        ),
      );
      expect(responses.every((r) => r.status === 200)).toBe(true);
      await settle();
      const before = small.stats;
      expect(before.recorded).toBe(200);
      expect(before.queued + before.dropped).toBe(200);
      expect(before.dropped).toBe(bound >= 200 ? 0 : 200 - bound);
      await small.close();
      const stored = await db
        .select({ id: userActivity.id })
        .from(userActivity)
        .where(like(userActivity.requestId, `${tag}-%`));
      expect(stored.length).toBe(small.stats.written);
      expect(small.stats.written + small.stats.dropped).toBe(200);
      expect(small.stats.written).toBe(Math.min(200, bound));
      // A closed recorder drops (and counts) instead of queueing.
      expect(small.record({ ...(null as any) })).toBe(false);
    }
  });

  test("a batch keeps every character (COPY escaping on PostgreSQL); a refused batch is counted, never hangs", async () => {
    const r = new ActivityRecorder({
      db,
      copyIn: deps.database.copyIn,
      logger: pino({ level: "silent" }),
      flushIntervalMs: 3_600_000,
    });
    const tag = `esc${crypto.randomUUID().slice(0, 8)}`;
    const hostile = "tab\there\nnew line\r\\N back\\slash \\t 日本語 \u{1F600} nul\u0000end";
    const entry = (i: number, extra: Record<string, unknown> = {}) => ({
      userId: null,
      actionType: "ERROR",
      resourceType: "project",
      resourceId: null,
      projectId: null,
      method: "POST",
      route: "/api/v1/project",
      path: `/api/v1/project/${tag}`,
      statusCode: 422,
      durationMs: 7,
      errorCode: "VALIDATION_FAILED",
      errorMessage: hostile,
      requestBody: { name: hostile, nested: { list: [1, "a\tb", null] } },
      ipAddress: "::1",
      userAgent: hostile,
      requestId: `${tag}-${i}`,
      createdAt: new Date("2026-12-03T10:00:00.123Z"),
      ...extra,
    });
    r.record(entry(1));
    r.record(entry(2, { requestBody: null, errorMessage: null, userAgent: null, ipAddress: null }));
    await r.flush();
    expect(r.stats).toMatchObject({ written: 2, dropped: 0 });
    const rows = await db
      .select()
      .from(userActivity)
      .where(like(userActivity.requestId, `${tag}-%`));
    const byId = Object.fromEntries(rows.map((row) => [row.requestId, row]));
    const stored = hostile.replace("\u0000", ""); // PostgreSQL text cannot hold NUL; it is dropped
    expect(byId[`${tag}-1`]).toMatchObject({
      errorMessage: stored,
      userAgent: stored,
      ipAddress: "::1",
      statusCode: 422,
      durationMs: 7,
      requestBody: { name: stored, nested: { list: [1, "a\tb", null] } },
    });
    expect(byId[`${tag}-1`].createdAt.toISOString()).toBe("2026-12-03T10:00:00.123Z");
    expect(byId[`${tag}-2`]).toMatchObject({
      errorMessage: null,
      userAgent: null,
      ipAddress: null,
      requestBody: null,
    });

    // A row the database refuses (a user that does not exist) fails its batch: counted as dropped.
    r.record(entry(3, { userId: crypto.randomUUID() }));
    await r.flush();
    expect(r.stats).toMatchObject({ written: 2, dropped: 1 });
    // The connection that carried the refused batch still serves the next one.
    r.record(entry(4));
    await r.close();
    expect(r.stats).toMatchObject({ written: 3, dropped: 1 });
  });

  test("record() stays off the request path: well under 5 µs per row, no I/O", () => {
    const r = new ActivityRecorder({
      db: deps.database.db,
      logger: pino({ level: "silent" }),
      maxQueue: 1_000_000,
      batchSize: 1_000_000,
      flushIntervalMs: 3_600_000,
    });
    const entry = {
      userId: null,
      actionType: "READ",
      resourceType: null,
      resourceId: null,
      projectId: null,
      method: "GET",
      route: "/",
      path: "/",
      statusCode: 200,
      durationMs: 1,
      errorCode: null,
      errorMessage: null,
      requestBody: null,
      ipAddress: null,
      userAgent: null,
      requestId: "x",
      createdAt: new Date(),
    };
    const n = 100_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) r.record(entry);
    const perRowUs = ((performance.now() - t0) * 1000) / n;
    console.log(`activity record(): ${perRowUs.toFixed(3)} µs per row`);
    expect(perRowUs).toBeLessThan(5);
    expect(r.stats).toMatchObject({ recorded: n, queued: n, written: 0, dropped: 0 });
  });
});
