import { afterAll, describe, expect, test } from "bun:test";
import { and, count, eq } from "drizzle-orm";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { analysisSnapshot, auditLog, userAccount } from "@/db/schema";
import { newId } from "@/lib/ids";
import { seedIssue } from "./helpers/analysis";
import { migratedDatabase, testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { insertFileChain, insertProject, insertSession, insertTree } from "./helpers/rows";
import { jsonInit, signIn } from "./helpers/users";

/*
 * Dashboard (api.md §2.9) over a world written straight into a database of its own, so the
 * figures of a system admin's "every project" are exact.
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };

describe("dashboard", async () => {
  const iso = await migratedDatabase();
  afterAll(() => iso.drop());
  const db = iso.db;
  const { deps, request } = await testApp({}, {}, iso.handle);
  const secret = deps.config.secretKey;
  const [alice, bob, carol] = [
    await signIn(request, secret, undefined, "Alice"),
    await signIn(request, secret, undefined, "Bob"),
    await signIn(request, secret, undefined, "Carol"),
  ];
  const issue = await seedIssue(db);
  const get = async (auth: Record<string, string>, path: string) => {
    const res = await request(`/api/v1/dashboard${path}`, { headers: auth });
    return { status: res.status, body: await json(res) };
  };

  // P1 active (alice PM, carol member), P2 inactive (alice viewer), P3 active (bob PM).
  const p1 = await insertProject(db, { name: "P1 active" }, [
    [alice.id, "project_manager"],
    [carol.id, "member"],
  ]);
  const p2 = await insertProject(db, { name: "P2 inactive", isActive: false }, [[alice.id, "viewer"]]);
  const p3 = await insertProject(db, { name: "P3 bob" }, [[bob.id, "project_manager"]]);
  for (const status of ["draft", "draft", "completed"])
    await insertSession(db, p1, issue.id, { name: "s", status });
  await insertSession(db, p2, issue.id, { name: "s", status: "archived" });
  await insertSession(db, p3, issue.id, { name: "s", status: "active" });
  await insertTree(db, p1, { name: "t", status: "active" });
  await insertTree(db, p2, { name: "t", status: "completed" });
  await insertTree(db, p2, { name: "t", status: "draft" });
  await insertFileChain(db, p1, ["a.csv", "a2.csv"], { sizeBytes: 100 }); // 2 versions: 200 bytes
  await insertFileChain(db, p1, ["b.csv"], { sizeBytes: 150 });
  await insertFileChain(db, p3, ["c.csv"], { sizeBytes: 1000 });

  test("a member's stats cover exactly their projects", async () => {
    const r = await get(alice.auth, "/stats");
    expect(r.status).toBe(200);
    const { generatedAt, ...figures } = r.body;
    expect(Number.isNaN(Date.parse(generatedAt))).toBe(false);
    expect(figures).toEqual({
      scope: "mine",
      projects: { total: 2, active: 1, inactive: 1 },
      sessions: { total: 4, draft: 2, active: 0, completed: 1, archived: 1 },
      trees: { total: 3, draft: 1, active: 1, completed: 1, archived: 0 },
      files: { total: 2, totalSizeBytes: 350 },
      members: { distinctUsers: 2 },
    });
    const bobs = await get(bob.auth, "/stats?scope=mine");
    expect(bobs.body).toMatchObject({
      projects: { total: 1, active: 1, inactive: 0 },
      sessions: { total: 1, active: 1 },
      trees: { total: 0 },
      files: { total: 1, totalSizeBytes: 1000 },
      members: { distinctUsers: 1 },
    });
  });

  test("a system admin sees every project (with user counts) unless scope=mine", async () => {
    const all = await get(DEV, "/stats");
    // Counted after the admin's first request, which provisions the admin's own account.
    const [{ n: users }] = await db.select({ n: count() }).from(userAccount);
    const [{ n: activeUsers }] = await db
      .select({ n: count() })
      .from(userAccount)
      .where(eq(userAccount.isActive, true));
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      scope: "all",
      projects: { total: 3, active: 2, inactive: 1 },
      sessions: { total: 5, draft: 2, active: 1, completed: 1, archived: 1 },
      trees: { total: 3, draft: 1, active: 1, completed: 1, archived: 0 },
      files: { total: 3, totalSizeBytes: 1350 },
      members: { distinctUsers: 3 },
      users: { total: users, active: activeUsers },
    });
    const mine = await get(DEV, "/stats?scope=mine");
    expect(mine.body).toMatchObject({
      scope: "mine",
      projects: { total: 0 },
      files: { total: 0, totalSizeBytes: 0 },
    });
    expect(mine.body.users).toBeUndefined();
  });

  test("scope=all by a non-admin is 403 ADMIN_REQUIRED on every route, and audited", async () => {
    for (const path of ["/stats?scope=all", "/activities?scope=all", "/charts?scope=all"]) {
      const r = await get(carol.auth, path);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe("ADMIN_REQUIRED");
    }
    const denied = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, carol.id), eq(auditLog.action, "ACCESS_DENIED")));
    expect(denied).toHaveLength(3);
    expect((await get(carol.auth, "/stats?scope=mine")).status).toBe(200);
  });

  test("figures are cached per user and scope: a new row shows only after the TTL", async () => {
    const before = await get(bob.auth, "/stats");
    await insertSession(db, p3, issue.id, { name: "late", status: "draft" });
    const again = await get(bob.auth, "/stats");
    expect(again.body).toEqual(before.body);
    // Another scope of the same data is its own entry, computed now.
    const admin = await get(DEV, "/stats?scope=all");
    expect(admin.body.sessions.total).toBe(5); // cached by the previous test
    const fresh = await get(DEV, "/stats?scope=mine");
    expect(fresh.body.sessions.total).toBe(0);
    const counted = await get(carol.auth, "/stats");
    expect(counted.body.sessions.total).toBe(3);
  });

  test("activities come from successful data changes and member events of in-scope projects, newest first", async () => {
    const actorOf = (u: { id: string; email: string }): AuditActor => ({
      userId: u.id,
      email: u.email,
      ip: null,
      userAgent: null,
      requestId: null,
    });
    const write = (u: { id: string; email: string }, e: Parameters<typeof writeAudit>[2]) =>
      writeAudit(db, actorOf(u), e);
    const fileId = newId();
    const sessionId = newId();
    const memberId = newId();
    await write(alice, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "project",
      resourceId: p1,
      projectId: p1,
      newValue: { name: "P1 active" },
    });
    await write(alice, {
      eventType: "SECURITY",
      action: "MEMBER_ADD",
      resourceType: "project_member",
      resourceId: memberId,
      projectId: p1,
      newValue: { userId: carol.id, role: "member" },
    });
    await write(carol, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "project_file",
      resourceId: fileId,
      projectId: p1,
      newValue: { originalFilename: "sales.xlsx", version: 1 },
    });
    await write(carol, {
      eventType: "DATA_CHANGE",
      action: "UPDATE",
      resourceType: "analysis_session",
      resourceId: sessionId,
      projectId: p1,
      oldValue: { name: "Q1", status: "active" },
      newValue: { name: "Q1", status: "completed" },
    });
    // Not activities: a refusal, an export, a change of an inner resource, another project's change.
    await write(carol, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "project_file",
      resourceId: fileId,
      projectId: p1,
      outcome: "denied",
    });
    await write(carol, {
      eventType: "ACCESS",
      action: "EXPORT",
      resourceType: "project_file",
      projectId: p1,
    });
    await write(carol, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "analysis_step",
      projectId: p1,
    });
    await write(bob, {
      eventType: "DATA_CHANGE",
      action: "CREATE",
      resourceType: "driver_tree",
      resourceId: newId(),
      projectId: p3,
      newValue: { name: "Bob's tree" },
    });
    await write(alice, {
      eventType: "SECURITY",
      action: "MEMBER_REMOVE",
      resourceType: "project_member",
      resourceId: memberId,
      projectId: p1,
      oldValue: { userId: carol.id, role: "member" },
      metadata: { leave: true },
    });
    await write(alice, {
      eventType: "DATA_CHANGE",
      action: "DELETE",
      resourceType: "driver_tree",
      resourceId: newId(),
      projectId: p2,
      oldValue: { name: "Old tree" },
    });

    const r = await get(alice.auth, "/activities");
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(6);
    const view = (r.body.items as Record<string, any>[]).map((a) => [
      a.action,
      a.resourceType,
      a.resourceName,
      a.projectName,
      a.actor?.email,
    ]);
    expect(view).toEqual([
      ["deleted", "tree", "Old tree", "P2 inactive", alice.email],
      ["left", "member", "Carol", "P1 active", alice.email],
      ["completed", "session", "Q1", "P1 active", carol.email],
      ["uploaded", "file", "sales.xlsx", "P1 active", carol.email],
      ["joined", "member", "Carol", "P1 active", alice.email],
      ["created", "project", "P1 active", "P1 active", alice.email],
    ]);
    expect(r.body.items[3]).toMatchObject({ resourceId: fileId, projectId: p1 });
    expect(r.body.items[3].actor).toEqual({ id: carol.id, email: carol.email, displayName: "Carol" });

    const bobs = await get(bob.auth, "/activities");
    expect(bobs.body.items.map((a: any) => a.resourceName)).toEqual(["Bob's tree"]);
    const admin = await get(DEV, "/activities?limit=2&skip=1");
    expect(admin.body.total).toBe(7);
    expect(admin.body.items.map((a: any) => a.resourceName)).toEqual(["Carol", "Bob's tree"]);
    const filtered = await get(alice.auth, `/activities?types=member,file&projectId=${p1}`);
    expect(filtered.body.items.map((a: any) => a.action)).toEqual(["left", "uploaded", "joined"]);
    // A project outside the scope filters to nothing rather than revealing anything.
    const outside = await get(alice.auth, `/activities?projectId=${p3}`);
    expect(outside.body).toMatchObject({ total: 0, items: [] });
    expect((await get(alice.auth, "/activities?types=project,user")).status).toBe(422);
  });

  test("charts count per day in the caller's time zone, zero-filled, with progress per project", async () => {
    const dave = await signIn(request, secret);
    const erin = await signIn(request, secret);
    const set = await request(
      "/api/v1/user_account/me/settings",
      jsonInit("PATCH", { timezone: "UTC" }, erin.auth),
    );
    expect(set.status).toBe(200);
    const p4 = await insertProject(db, { name: "P4 charts" }, [
      [dave.id, "project_manager"],
      [erin.id, "member"],
    ]);
    const dayIn = (tz: string, at: number) =>
      new Intl.DateTimeFormat("en-CA", {
        timeZone: tz,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
      }).format(at);
    const DAY = 86_400_000;
    const now = Date.now();
    const tokyoToday = dayIn("Asia/Tokyo", now);
    const tokyoYesterday = dayIn("Asia/Tokyo", now - DAY);
    // 00:30 today and 23:30 yesterday in Tokyo (UTC+9, no DST): an hour apart, the same UTC day.
    const early = new Date(Date.parse(`${tokyoToday}T00:30:00+09:00`));
    const late = new Date(Date.parse(`${tokyoYesterday}T23:30:00+09:00`));
    const s1 = await insertSession(db, p4, issue.id, { name: "c1", status: "completed", at: early });
    await insertSession(db, p4, issue.id, { name: "c2", status: "active", at: late });
    await insertTree(db, p4, { name: "t", at: late });
    await insertFileChain(db, p4, ["x.csv", "y.csv"], { at: early });
    await db.insert(analysisSnapshot).values({
      id: newId(),
      sessionId: s1,
      snapshotOrder: 0,
      trigger: "create",
      createdAt: early,
    });

    const tokyo = await get(dave.auth, "/charts?days=3");
    expect(tokyo.status).toBe(200);
    const days3 = [2, 1, 0].map((d) => dayIn("Asia/Tokyo", now - d * DAY));
    const expectSeries = (
      series: { date: string; count: number }[],
      counts: Record<string, number>,
      days: string[],
    ) => expect(series).toEqual(days.map((date) => ({ date, count: counts[date] ?? 0 })));
    expectSeries(tokyo.body.sessionTrend, { [tokyoToday]: 1, [tokyoYesterday]: 1 }, days3);
    expectSeries(tokyo.body.treeTrend, { [tokyoYesterday]: 1 }, days3);
    expectSeries(tokyo.body.snapshotTrend, { [tokyoToday]: 1 }, days3);
    expectSeries(tokyo.body.fileUploadTrend, { [tokyoToday]: 2 }, days3);
    expect(tokyo.body.days).toBe(3);
    expect(tokyo.body.projectDistribution).toEqual({ active: 1, inactive: 0 });
    expect(tokyo.body.projectProgress).toEqual([
      { projectId: p4, name: "P4 charts", completedSessions: 1, totalSessions: 2, percent: 50 },
    ]);
    expect(tokyo.body.userActivity).toBeUndefined();

    // Erin reads the same rows in UTC: both sessions fall on one day.
    const utc = await get(erin.auth, "/charts?days=3");
    const utcDay = dayIn("UTC", early.getTime());
    const utcDays = [2, 1, 0].map((d) => dayIn("UTC", now - d * DAY));
    expectSeries(utc.body.sessionTrend, { [utcDay]: 2 }, utcDays);

    const admin = await get(DEV, "/charts?days=1");
    expect(admin.body.sessionTrend).toHaveLength(1);
    expect(admin.body.projectDistribution).toEqual({ active: 3, inactive: 1 });
    const [{ n: users }] = await db.select({ n: count() }).from(userAccount);
    expect(admin.body.userActivity.active + admin.body.userActivity.inactive).toBe(users);
    expect(admin.body.userActivity.active).toBeGreaterThanOrEqual(1);
    expect((await get(dave.auth, "/charts?days=0")).status).toBe(422);
    expect((await get(dave.auth, "/charts?days=366")).status).toBe(422);
  });
});
