import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { buildApp } from "@/app";
import type { DatabaseHandle } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import {
  analysisChat,
  analysisSession,
  analysisSnapshot,
  project,
  projectFile,
  userAccount,
  userActivity,
  userSession,
} from "@/db/schema";
import { seedIssue } from "./helpers/analysis";
import { isolatedDatabase, testConfig, testDeps } from "./helpers/context";
import { json } from "./helpers/http";
import { uniqueEmail } from "./helpers/users";

/*
 * Admin statistics (api.md §2.12.5) against a database of its own with the activity recorder
 * off, so every figure is exactly the rows seeded here, at known UTC times.
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const BASE = "/api/v1/admin/statistics";
const DAY = 86_400_000;
const midnight = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
/* `n` days before today (UTC), at `h` hours past midnight. */
const at = (n: number, h = 12) => new Date(midnight - n * DAY + h * 3_600_000);
const date = (n: number) => new Date(midnight - n * DAY).toISOString().slice(0, 10);

describe("admin statistics", () => {
  let iso: { handle: DatabaseHandle; drop: () => Promise<void> };
  let request: (path: string, init?: RequestInit) => Promise<Response>;
  const get = async (path: string) => {
    const res = await request(`${BASE}${path}`, { headers: DEV });
    expect(res.status).toBe(200);
    return json(res);
  };
  const ids = { u1: crypto.randomUUID(), u2: crypto.randomUUID(), u3: crypto.randomUUID() };
  let adminCreatedThisMonth = 1;

  beforeAll(async () => {
    iso = await isolatedDatabase();
    await migrateUp(iso.handle, migrationsDir(testConfig()));
    const deps = await testDeps({}, iso.handle);
    // No activity recorder: the statistics read only the activity rows seeded below.
    const app = buildApp({ ...deps, activity: undefined });
    request = (path, init = {}) => app.handle(new Request(`http://localhost${path}`, init));
    const db = iso.handle.db;

    // The dev admin signs in first (created today, one auth session started today).
    expect((await request("/api/v1/user_account/me", { headers: DEV })).status).toBe(200);

    await db.insert(userAccount).values([
      { id: ids.u1, email: uniqueEmail("u1"), createdAt: at(3, 10) },
      // The last millisecond of a UTC day still belongs to it.
      { id: ids.u2, email: uniqueEmail("u2"), createdAt: new Date(midnight - 1) },
      { id: ids.u3, email: uniqueEmail("u3"), createdAt: at(10), isActive: false, deactivatedAt: at(9) },
    ]);
    const monthStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), 1);
    adminCreatedThisMonth =
      1 + [at(3, 10), new Date(midnight - 1), at(10)].filter((d) => d.getTime() >= monthStart).length;

    const key = () => crypto.randomUUID().replace(/-/g, "").padEnd(64, "0");
    const session = (
      userId: string,
      startedAt: Date,
      extra: Partial<typeof userSession.$inferInsert> = {},
    ) => ({
      id: crypto.randomUUID(),
      userId,
      sessionKeyHash: key(),
      keySource: "token",
      startedAt,
      lastActivityAt: startedAt,
      expiresAt: new Date(Date.now() + DAY),
      ...extra,
    });
    await db
      .insert(userSession)
      .values([
        session(ids.u1, at(3, 9)),
        session(ids.u1, at(3, 15), { endedAt: at(3, 16), endReason: "MANUAL" }),
        session(ids.u2, at(1, 8), { expiresAt: new Date(Date.now() - 3_600_000) }),
      ]);

    const activity = (
      userId: string | null,
      createdAt: Date,
      route: string,
      durationMs: number,
      statusCode = 200,
      errorCode: string | null = null,
    ) => ({
      id: crypto.randomUUID(),
      userId,
      actionType: statusCode >= 400 ? "ERROR" : "READ",
      method: "GET",
      route,
      path: route,
      statusCode,
      durationMs,
      errorCode,
      requestId: crypto.randomUUID(),
      createdAt,
    });
    const P = "/api/v1/project";
    const ONE = "/api/v1/project/:projectId";
    const ME = "/api/v1/user_account/me";
    await db.insert(userActivity).values([
      ...[10, 20, 30, 40].map((ms, i) => activity(ids.u1, at(3, 8 + i), P, ms)),
      activity(ids.u1, at(1, 1), ONE, 100),
      activity(ids.u2, at(1, 2), ONE, 200, 404, "PROJECT_NOT_FOUND"),
      activity(ids.u2, at(1, 3), P, 300, 500, "INTERNAL_ERROR"),
      activity(null, at(1, 4), P, 400, 401, "UNAUTHENTICATED"),
      // Before the 5-day window: in no figure below.
      activity(ids.u1, at(7), "/api/v1/old", 9999, 503, "DEPENDENCY_UNAVAILABLE"),
      // Today, in the past hour.
      activity(ids.u1, new Date(Date.now() - 1000), ME, 50),
      activity(ids.u1, new Date(Date.now() - 2000), ME, 150, 503, "DEPENDENCY_UNAVAILABLE"),
    ]);

    const [p1, p2] = [crypto.randomUUID(), crypto.randomUUID()];
    await db.insert(project).values([
      { id: p1, name: "Stats one", code: `ST1-${p1.slice(-6)}` },
      { id: p2, name: "Stats two", code: `ST2-${p2.slice(-6)}`, isActive: false, deactivatedAt: new Date() },
    ]);
    const file = (
      projectId: string,
      chainId: string,
      version: number,
      isLatest: boolean,
      kind: string,
      sizeBytes: number,
      uploadedAt: Date,
    ) => {
      const id = crypto.randomUUID();
      return {
        id,
        projectId,
        chainId,
        version,
        isLatest,
        filename: `${id}.${kind}`,
        originalFilename: `f.${kind}`,
        storageKey: `projects/${projectId}/${id}`,
        kind,
        mimeType: "application/octet-stream",
        sizeBytes,
        checksumSha256: "0".repeat(64),
        uploadedAt,
      };
    };
    const [c1, c2, c3] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
    await db
      .insert(projectFile)
      .values([
        file(p1, c1, 1, false, "xlsx", 1000, at(4)),
        file(p1, c1, 2, true, "xlsx", 1500, at(2, 9)),
        file(p1, c2, 1, true, "csv", 200, at(2, 10)),
        file(p2, c3, 1, true, "pdf", 5000, at(20)),
      ]);

    const issue = await seedIssue(db);
    const sessionId = crypto.randomUUID();
    const snapshotId = crypto.randomUUID();
    await db.insert(analysisSession).values({ id: sessionId, projectId: p1, issueId: issue.id });
    await db
      .insert(analysisSnapshot)
      .values({ id: snapshotId, sessionId, snapshotOrder: 1, trigger: "create" });
    const chat = (chatOrder: number, role: string, createdAt: Date) => ({
      id: crypto.randomUUID(),
      snapshotId,
      chatOrder,
      role,
      message: role,
      createdAt,
    });
    await db.insert(analysisChat).values([
      // An opening message is not a turn; a turn is the user's message and the agent's reply.
      chat(1, "assistant", at(1)),
      chat(2, "user", at(1, 13)),
      chat(3, "assistant", at(1, 13)),
      chat(4, "user", new Date(Date.now() - 500)),
      chat(5, "assistant", new Date(Date.now() - 400)),
    ]);
  }, 120_000);
  afterAll(() => iso.drop());

  test("overview: users, projects, stored bytes, today's requests, sessions and turns", async () => {
    const o = await get("/overview");
    expect(o).toEqual({
      users: { total: 4, active: 3, activeToday: 1, newThisMonth: adminCreatedThisMonth },
      projects: { total: 2, active: 1, inactive: 1 },
      storage: { totalBytes: 7700, fileCount: 3 },
      api: { requestsToday: 2, avgDurationMs: 100, errorRate: 0.5 },
      // u1's open session and the admin's; u2's has expired, u1's other one ended.
      authSessions: { active: 2, loginsToday: 1 },
      llm: { turnsToday: 1 },
      generatedAt: expect.any(String),
    });
    expect(Math.abs(Date.parse(o.generatedAt) - Date.now())).toBeLessThan(60_000);
  });

  test("users: active users, new accounts and sign-ins per UTC day, every day present", async () => {
    const s = await get("/users?days=5");
    expect(s).toEqual({
      days: 5,
      series: [
        { date: date(4), activeUsers: 0, newUsers: 0, logins: 0 },
        { date: date(3), activeUsers: 1, newUsers: 1, logins: 2 },
        { date: date(2), activeUsers: 0, newUsers: 0, logins: 0 },
        // The null-user (401) request makes no active user.
        { date: date(1), activeUsers: 2, newUsers: 1, logins: 1 },
        { date: date(0), activeUsers: 1, newUsers: 1, logins: 1 },
      ],
    });
    const month = await get("/users");
    expect(month.days).toBe(30);
    expect(month.series).toHaveLength(30);
    expect(month.series[0].date).toBe(date(29));
    expect(month.series.at(-1).date).toBe(date(0));
    // u3 was created 10 days ago: inside 30 days, outside 5.
    expect(month.series.reduce((n: number, d: any) => n + d.newUsers, 0)).toBe(4);
  });

  test("storage: bytes by upload day with a running total from before the window; by kind", async () => {
    const s = await get("/storage?days=5");
    expect(s).toEqual({
      days: 5,
      totalBytes: 7700,
      series: [
        { date: date(4), uploadedBytes: 1000, uploadedFiles: 1, cumulativeBytes: 6000 },
        { date: date(3), uploadedBytes: 0, uploadedFiles: 0, cumulativeBytes: 6000 },
        { date: date(2), uploadedBytes: 1700, uploadedFiles: 2, cumulativeBytes: 7700 },
        { date: date(1), uploadedBytes: 0, uploadedFiles: 0, cumulativeBytes: 7700 },
        { date: date(0), uploadedBytes: 0, uploadedFiles: 0, cumulativeBytes: 7700 },
      ],
      byKind: [
        { kind: "pdf", fileCount: 1, bytes: 5000 },
        // Two versions of one file: one file, both versions' bytes.
        { kind: "xlsx", fileCount: 1, bytes: 2500 },
        { kind: "csv", fileCount: 1, bytes: 200 },
      ],
    });
  });

  test("api-requests: count, errors, mean and p95 duration per day; the busiest routes", async () => {
    const s = await get("/api-requests?days=5");
    expect(s).toEqual({
      days: 5,
      series: [
        { date: date(4), requests: 0, errors: 0, avgDurationMs: null, p95DurationMs: null },
        // percentile_cont(0.95) of 10, 20, 30, 40: 30 + 0.85 × 10.
        { date: date(3), requests: 4, errors: 0, avgDurationMs: 25, p95DurationMs: 38.5 },
        { date: date(2), requests: 0, errors: 0, avgDurationMs: null, p95DurationMs: null },
        { date: date(1), requests: 4, errors: 3, avgDurationMs: 250, p95DurationMs: 385 },
        { date: date(0), requests: 2, errors: 1, avgDurationMs: 100, p95DurationMs: 145 },
      ],
      topRoutes: [
        { route: "/api/v1/project", requests: 6, avgDurationMs: 133.33 },
        // Tied on count: by route.
        { route: "/api/v1/project/:projectId", requests: 2, avgDurationMs: 150 },
        { route: "/api/v1/user_account/me", requests: 2, avgDurationMs: 100 },
      ],
    });
    const wide = await get("/api-requests?days=8");
    expect(wide.topRoutes.map((r: any) => r.route)).toContain("/api/v1/old");
  });

  test("errors: rate over the window, per day, by status and by problem code", async () => {
    const s = await get("/errors?days=5");
    expect(s).toEqual({
      days: 5,
      errorRate: 0.4,
      series: [
        { date: date(4), errors: 0, total: 0 },
        { date: date(3), errors: 0, total: 4 },
        { date: date(2), errors: 0, total: 0 },
        { date: date(1), errors: 3, total: 4 },
        { date: date(0), errors: 1, total: 2 },
      ],
      byStatus: [
        { status: 401, count: 1 },
        { status: 404, count: 1 },
        { status: 500, count: 1 },
        { status: 503, count: 1 },
      ],
      byCode: [
        { code: "DEPENDENCY_UNAVAILABLE", count: 1 },
        { code: "INTERNAL_ERROR", count: 1 },
        { code: "PROJECT_NOT_FOUND", count: 1 },
        { code: "UNAUTHENTICATED", count: 1 },
      ],
    });
    const one = await get("/errors?days=1");
    expect(one).toMatchObject({ errorRate: 0.5, byStatus: [{ status: 503, count: 1 }] });
    const eight = await get("/errors?days=8");
    expect(eight.byCode[0]).toEqual({ code: "DEPENDENCY_UNAVAILABLE", count: 2 });
  });

  test("days outside 1–365 or unknown parameters are 422", async () => {
    for (const q of ["days=0", "days=366", "days=abc", "day=5"]) {
      const res = await request(`${BASE}/users?${q}`, { headers: DEV });
      expect([q, res.status]).toEqual([q, 422]);
    }
    expect((await get("/errors?days=365")).series).toHaveLength(365);
  });
});
