import { afterAll, describe, expect, test } from "bun:test";
import { and, eq, sql } from "drizzle-orm";
import { auditLog, systemAnnouncement, userNotification } from "@/db/schema";
import { newId } from "@/lib/ids";
import { fanOut } from "@/modules/announcement/service";
import { JOB_NAMES, standardJobs } from "@/modules/jobs/catalogue";
import { migratedDatabase, testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/*
 * System announcements (api.md §2.12.6, §4.4): admin CRUD with audit, the end-user list of current
 * announcements by target role, and the `announcement` notification fan-out — at creation when
 * already started, else by the minute job — sent exactly once, in batches, honouring the toggle,
 * the NOTIFICATION.enabled switch and deactivation. A database of its own: announcements go to
 * every user, and the switch is global.
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const ADMIN = "/api/v1/admin/announcements";

describe("announcements", async () => {
  const iso = await migratedDatabase();
  afterAll(() => iso.drop());
  const db = iso.db;
  const { deps, request } = await testApp({}, {}, iso.handle);
  const secret = deps.config.secretKey;
  const admin = await json(await request("/api/v1/user_account/me", { headers: DEV }));
  const alice = await signIn(request, secret);
  const bob = await signIn(request, secret);
  const muted = await signIn(request, secret);
  await request(
    "/api/v1/user_account/me/settings",
    jsonInit("PATCH", { notifications: { systemAnnouncement: false } }, muted.auth),
  );
  const gone = await signIn(request, secret);
  expect(
    (await request(`/api/v1/user_account/${gone.id}/deactivate`, jsonInit("PATCH", {}, DEV))).status,
  ).toBe(200);

  const create = async (body: Record<string, unknown>) => {
    const res = await request(
      ADMIN,
      jsonInit("POST", { title: "T", content: "C", announcementType: "INFO", ...body }, DEV),
    );
    expect(res.status).toBe(201);
    return json(res);
  };
  const announcementsOf = (userId: string, announcementId: string) =>
    db
      .select()
      .from(userNotification)
      .where(and(eq(userNotification.userId, userId), eq(userNotification.referenceId, announcementId)));
  const current = async (auth: Record<string, string>) =>
    (await json(await request("/api/v1/announcements?limit=500", { headers: auth }))).items.map(
      (a: any) => a.title,
    );

  test("admin CRUD: defaults, Location, filters, date range, 404, audit; non-admins refused", async () => {
    const res = await request(
      ADMIN,
      jsonInit(
        "POST",
        { title: " 定期メンテナンス ", content: "土曜 2:00", announcementType: "MAINTENANCE" },
        DEV,
      ),
    );
    expect(res.status).toBe(201);
    const a = await json(res);
    expect(res.headers.get("location")).toBe(`${ADMIN}/${a.id}`);
    expect(a).toMatchObject({
      title: "定期メンテナンス",
      priority: 5,
      isActive: true,
      notify: false,
      notifiedAt: null,
      targetRoles: null,
      endAt: null,
      createdBy: { id: admin.id },
    });
    expect(Math.abs(Date.parse(a.startAt) - Date.now())).toBeLessThan(60_000);

    const bad = await request(
      ADMIN,
      jsonInit(
        "POST",
        {
          title: "x",
          content: "y",
          announcementType: "INFO",
          startAt: "2030-01-02T00:00:00Z",
          endAt: "2030-01-01T00:00:00Z",
        },
        DEV,
      ),
    );
    expect((await json(bad)).code).toBe("INVALID_DATE_RANGE");
    const badPatch = await request(
      `${ADMIN}/${a.id}`,
      jsonInit("PATCH", { endAt: "2000-01-01T00:00:00Z" }, DEV),
    );
    expect((await json(badPatch)).code).toBe("INVALID_DATE_RANGE");

    const patched = await json(
      await request(`${ADMIN}/${a.id}`, jsonInit("PATCH", { priority: 1, announcementType: "URGENT" }, DEV)),
    );
    expect(patched).toMatchObject({ priority: 1, announcementType: "URGENT", title: "定期メンテナンス" });
    expect((await json(await request(`${ADMIN}/${a.id}`, { headers: DEV }))).priority).toBe(1);
    const urgent = await json(
      await request(`${ADMIN}?announcementType=URGENT&current=true`, { headers: DEV }),
    );
    expect(urgent.items.map((x: any) => x.id)).toContain(a.id);
    const inactive = await json(await request(`${ADMIN}?isActive=false`, { headers: DEV }));
    expect(inactive.items.map((x: any) => x.id)).not.toContain(a.id);

    expect((await request(`${ADMIN}/${a.id}`, { method: "DELETE", headers: DEV })).status).toBe(204);
    for (const [method, init] of [
      ["GET", { headers: DEV }],
      ["PATCH", jsonInit("PATCH", { priority: 2 }, DEV)],
      ["DELETE", { method: "DELETE", headers: DEV }],
    ] as const) {
      const r = await request(`${ADMIN}/${a.id}`, { ...init, method });
      expect(r.status).toBe(404);
      expect((await json(r)).code).toBe("ANNOUNCEMENT_NOT_FOUND");
    }
    const actions = (
      await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.resourceType, "system_announcement"), eq(auditLog.resourceId, a.id)))
    ).map((r) => r.action);
    expect(actions.sort()).toEqual(["CREATE", "DELETE", "UPDATE"]);

    expect((await request(ADMIN, { headers: alice.auth })).status).toBe(403);
    expect(
      (
        await request(
          ADMIN,
          jsonInit("POST", { title: "x", content: "y", announcementType: "INFO" }, alice.auth),
        )
      ).status,
    ).toBe(403);
  });

  test("current list: active, started, not ended, matching role; by priority then newest start; counted in /me/context", async () => {
    const tag = newId().slice(-6);
    const hour = 3600_000;
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    await create({ title: `everyone-${tag}`, priority: 5, startAt: at(-2 * hour) });
    await create({ title: `everyone-newer-${tag}`, priority: 5, startAt: at(-hour) });
    await create({ title: `urgent-${tag}`, priority: 1, startAt: at(-3 * hour), targetRoles: [] });
    await create({ title: `admins-${tag}`, targetRoles: ["system_admin"] });
    await create({ title: `users-${tag}`, priority: 9, targetRoles: ["user"] });
    await create({ title: `future-${tag}`, startAt: at(hour) });
    await create({ title: `ended-${tag}`, startAt: at(-2 * hour), endAt: at(-hour) });
    await create({ title: `off-${tag}`, isActive: false });
    const mine = (titles: string[]) => titles.filter((t) => t.endsWith(tag));
    expect(mine(await current(alice.auth))).toEqual([
      `urgent-${tag}`,
      `everyone-newer-${tag}`,
      `everyone-${tag}`,
      `users-${tag}`,
    ]);
    expect(mine(await current(DEV))).toContain(`admins-${tag}`);
    const ctx = await json(await request("/api/v1/user_account/me/context", { headers: alice.auth }));
    expect(ctx.announcements.activeCount).toBe((await current(alice.auth)).length);
    const page = await json(await request("/api/v1/announcements?limit=1", { headers: alice.auth }));
    expect(Object.keys(page.items[0]).sort()).toEqual(
      ["announcementType", "content", "endAt", "id", "priority", "startAt", "title"].sort(),
    );
  });

  test("notify=true and already started: every matching active user once (not the author, not muted, not deactivated)", async () => {
    const a = await create({ title: "お知らせ {x}", content: "本文", notify: true });
    expect(a.notifiedAt).not.toBeNull();
    const [row] = await announcementsOf(alice.id, a.id);
    expect(row).toMatchObject({
      type: "announcement",
      title: "お知らせ {x}",
      message: "本文",
      referenceType: "announcement",
      projectId: null,
    });
    expect(await announcementsOf(bob.id, a.id)).toHaveLength(1);
    for (const u of [muted.id, gone.id, admin.id]) expect(await announcementsOf(u, a.id)).toHaveLength(0);

    // Never twice: a repeat, a concurrent pair, the job, a PATCH.
    const again = await Promise.all([fanOut(db, a.id), fanOut(db, a.id)]);
    expect(again).toEqual([0, 0]);
    await request(`${ADMIN}/${a.id}`, jsonInit("PATCH", { notify: true, content: "変更" }, DEV));
    const job = standardJobs({
      database: iso.handle,
      cache: deps.cache,
      storage: deps.storage,
      logger: deps.logger,
      config: deps.config,
    }).find((j) => j.name === JOB_NAMES.announcementFanOut)!;
    expect(job.everyMs).toBe(60_000);
    await job.run(new AbortController().signal);
    expect(await announcementsOf(alice.id, a.id)).toHaveLength(1);

    // Targeted at admins: plain users get nothing.
    const adminsOnly = await create({ title: "管理者向け", notify: true, targetRoles: ["system_admin"] });
    expect(await announcementsOf(alice.id, adminsOnly.id)).toHaveLength(0);
  });

  test("a future start is sent by the minute job once it has come, exactly once, in batches", async () => {
    const a = await create({
      title: "予定",
      notify: true,
      startAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(a.notifiedAt).toBeNull();
    expect(await announcementsOf(alice.id, a.id)).toHaveLength(0);
    const job = standardJobs({
      database: iso.handle,
      cache: deps.cache,
      storage: deps.storage,
      logger: deps.logger,
      config: deps.config,
    }).find((j) => j.name === JOB_NAMES.announcementFanOut)!;
    expect(await job.run(new AbortController().signal)).toMatchObject({ notified: 0 });
    // Time passes: the start is now in the past.
    await db
      .update(systemAnnouncement)
      .set({ startAt: sql`now() - interval '1 minute'` })
      .where(eq(systemAnnouncement.id, a.id));
    // Batches of two users: the keyset cursor still reaches everyone.
    const extra = await Promise.all([1, 2, 3].map(() => signIn(request, secret)));
    // Two claimers at once (two instances, or the job and a PATCH): one sends, the other finds it claimed.
    const [first, second] = await Promise.all([fanOut(db, a.id, 2), fanOut(db, a.id, 2)]);
    expect(Math.min(first, second)).toBe(0);
    expect(Math.max(first, second)).toBeGreaterThanOrEqual(5);
    for (const u of [alice, bob, ...extra]) expect(await announcementsOf(u.id, a.id)).toHaveLength(1);
    expect(await job.run(new AbortController().signal)).toMatchObject({ notified: 0 });
    const [stored] = await db.select().from(systemAnnouncement).where(eq(systemAnnouncement.id, a.id));
    expect(stored.notifiedAt).not.toBeNull();
    expect(await announcementsOf(muted.id, a.id)).toHaveLength(0);
  });

  test("NOTIFICATION.enabled=false silences every producer", async () => {
    expect(
      (await request("/api/v1/admin/settings/NOTIFICATION/enabled", jsonInit("PATCH", { value: false }, DEV)))
        .status,
    ).toBe(200);
    const a = await create({ title: "静か", notify: true });
    expect(a.notifiedAt).not.toBeNull();
    expect(await announcementsOf(alice.id, a.id)).toHaveLength(0);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "P", code: `N-${newId().slice(-8)}` }, alice.auth),
      ),
    );
    await request(`/api/v1/project/${project.id}/member`, jsonInit("POST", { userId: bob.id }, alice.auth));
    const bobs = await db
      .select()
      .from(userNotification)
      .where(and(eq(userNotification.userId, bob.id), eq(userNotification.projectId, project.id)));
    expect(bobs).toHaveLength(0);
    await request("/api/v1/admin/settings/NOTIFICATION/enabled", jsonInit("PATCH", { value: true }, DEV));
  });
});
