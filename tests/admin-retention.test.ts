import { afterAll, describe, expect, test } from "bun:test";
import { utimes } from "node:fs/promises";
import { join } from "node:path";
import { and, eq, inArray, sql } from "drizzle-orm";
import { buildApp } from "@/app";
import {
  analysisSession,
  auditLog,
  projectFile,
  systemSetting,
  userAccount,
  userActivity,
  userNotification,
  userSession,
} from "@/db/schema";
import { newId } from "@/lib/ids";
import { createMetrics } from "@/lib/metrics";
import { LocalStorage } from "@/lib/storage";
import * as retention from "@/modules/admin-retention/service";
import { JOB_NAMES, standardJobs } from "@/modules/jobs/catalogue";
import { JobRunner, LOCK_SPACE, msUntilDailyUtc, nextDelayMs } from "@/modules/jobs/runner";
import { seedIssue } from "./helpers/analysis";
import { migratedDatabase, silentLogger, testApp, testDeps } from "./helpers/context";
import { TEST_REDIS_URL } from "./helpers/env";
import { uploadForm } from "./helpers/files";
import { json } from "./helpers/http";
import { jsonInit, uniqueEmail } from "./helpers/users";

/*
 * Data retention and cleanup (api.md §2.12.10, §4.4). A database of its own: the deletes are
 * cutoff-based over whole tables, so no other test file's rows may be in reach.
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

describe("data retention and cleanup", async () => {
  const iso = await migratedDatabase();
  afterAll(() => iso.drop());
  const db = iso.db;
  const { deps, request } = await testApp({}, {}, iso.handle);
  const admin = await json(await request("/api/v1/user_account/me", { headers: DEV }));

  const [user] = await db
    .insert(userAccount)
    .values({ id: newId(), email: uniqueEmail("ret"), source: "seed" })
    .returning();

  /* Old and young rows of every row target; answers the ids that must go and that must stay. */
  async function seedRows() {
    const activity = async (at: Date) => {
      const id = newId();
      await db.insert(userActivity).values({
        id,
        actionType: "READ",
        method: "GET",
        route: "/x",
        path: "/x",
        statusCode: 200,
        requestId: `r-${id.slice(-8)}`,
        createdAt: at,
      });
      return id;
    };
    const audit = async (at: Date) => {
      const id = newId();
      await db.insert(auditLog).values({
        id,
        eventType: "SYSTEM",
        action: "TEST",
        resourceType: "retention_test",
        createdAt: at,
      });
      return id;
    };
    const session = async (v: { endedAt?: Date; expiresAt: Date }) => {
      const id = newId();
      await db.insert(userSession).values({
        id,
        userId: user.id,
        sessionKeyHash: newId().replace(/-/g, "").padEnd(64, "0"),
        keySource: "token",
        expiresAt: v.expiresAt,
        endedAt: v.endedAt ?? null,
        endReason: v.endedAt ? "MANUAL" : null,
      });
      return id;
    };
    const notification = async (isRead: boolean, readAt: Date | null, createdAt: Date) => {
      const id = newId();
      await db.insert(userNotification).values({
        id,
        userId: user.id,
        type: "announcement",
        title: "t",
        isRead,
        readAt,
        createdAt,
      });
      return id;
    };
    return {
      ACTIVITY_LOGS: {
        gone: [await activity(ago(100)), await activity(ago(91))],
        kept: [await activity(ago(89)), await activity(ago(1))],
      },
      AUDIT_LOGS: { gone: [await audit(ago(400))], kept: [await audit(ago(300))] },
      AUTH_SESSIONS: {
        gone: [
          await session({ endedAt: ago(40), expiresAt: ago(39) }),
          // Lapsed, not yet marked EXPIRED by its job.
          await session({ expiresAt: ago(31) }),
        ],
        kept: [
          await session({ endedAt: ago(5), expiresAt: ago(4) }),
          await session({ expiresAt: new Date(Date.now() + DAY) }),
          // Started long ago, still active: its age is when it ends, not when it began.
          await session({ expiresAt: new Date(Date.now() + 3600_000) }),
        ],
      },
      READ_NOTIFICATIONS: {
        gone: [await notification(true, ago(100), ago(120))],
        kept: [await notification(true, ago(10), ago(120)), await notification(false, null, ago(200))],
      },
    };
  }

  const tables = {
    ACTIVITY_LOGS: userActivity,
    AUDIT_LOGS: auditLog,
    AUTH_SESSIONS: userSession,
    READ_NOTIFICATIONS: userNotification,
  } as const;
  async function present(target: keyof typeof tables, ids: string[]) {
    const t = tables[target];
    const rows = await db.select({ id: t.id }).from(t).where(inArray(t.id, ids));
    return rows.map((r) => r.id).sort();
  }
  const ROW_TARGETS = Object.keys(tables) as (keyof typeof tables)[];

  test("preview counts exactly the rows past each policy cutoff, with their span and size", async () => {
    const seeded = await seedRows();
    const res = await request(`/api/v1/admin/data/cleanup/preview?targetTypes=${ROW_TARGETS.join(",")}`, {
      headers: DEV,
    });
    expect(res.status).toBe(200);
    const body = await json(res);
    const by = Object.fromEntries(body.targets.map((t: any) => [t.targetType, t]));
    expect(by.ACTIVITY_LOGS).toMatchObject({ retentionDays: 90, count: 2 });
    expect(by.AUDIT_LOGS).toMatchObject({ retentionDays: 365, count: 1 });
    expect(by.AUTH_SESSIONS).toMatchObject({ retentionDays: 30, count: 2 });
    expect(by.READ_NOTIFICATIONS).toMatchObject({ retentionDays: 90, count: 1 });
    for (const t of body.targets) expect(t.estimatedBytes).toBeGreaterThan(0);
    const cutoff = Date.parse(by.ACTIVITY_LOGS.cutoff);
    expect(Math.abs(cutoff - ago(90).getTime())).toBeLessThan(60_000);
    expect(Date.parse(by.ACTIVITY_LOGS.oldest)).toBeLessThan(Date.parse(by.ACTIVITY_LOGS.newest));
    expect(Math.abs(Date.parse(by.ACTIVITY_LOGS.oldest) - ago(100).getTime())).toBeLessThan(60_000);

    // The preview deleted nothing.
    for (const t of ROW_TARGETS) expect(await present(t, seeded[t].gone)).toEqual(seeded[t].gone.sort());
    await cleanup(seeded);
  });

  /* Removes one case's seeded rows (audit rows only as the retention path may: camp.retention). */
  async function cleanup(seeded: Awaited<ReturnType<typeof seedRows>>) {
    await db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('camp.retention', 'on', true)`);
      for (const t of ROW_TARGETS) {
        const ids = [...seeded[t].gone, ...seeded[t].kept];
        await tx.delete(tables[t]).where(inArray(tables[t].id, ids));
      }
    });
  }

  test("a retention below a target's minimum is 422 RETENTION_TOO_SHORT; execute needs confirm: true", async () => {
    const short = await request(
      "/api/v1/admin/data/cleanup/preview?targetTypes=ACTIVITY_LOGS,AUDIT_LOGS&retentionDays=30",
      { headers: DEV },
    );
    expect(short.status).toBe(422);
    expect((await json(short)).code).toBe("RETENTION_TOO_SHORT");
    const exec = await request(
      "/api/v1/admin/data/cleanup/execute",
      jsonInit(
        "POST",
        { targetTypes: ["AUTH_SESSIONS", "ACTIVITY_LOGS"], retentionDays: 6, confirm: true },
        DEV,
      ),
    );
    expect(exec.status).toBe(422);
    expect((await json(exec)).code).toBe("RETENTION_TOO_SHORT");
    for (const body of [
      { targetTypes: ["ACTIVITY_LOGS"] },
      { targetTypes: ["ACTIVITY_LOGS"], confirm: false },
    ]) {
      const res = await request("/api/v1/admin/data/cleanup/execute", jsonInit("POST", body, DEV));
      expect(res.status).toBe(422);
      expect((await json(res)).code).toBe("VALIDATION_FAILED");
    }
    const bad = await request("/api/v1/admin/data/cleanup/preview?targetTypes=NOPE", { headers: DEV });
    expect(bad.status).toBe(422);
  });

  test("execute deletes exactly the rows past the cutoff per target, and is audited PURGE", async () => {
    const seeded = await seedRows();
    const res = await request(
      "/api/v1/admin/data/cleanup/execute",
      jsonInit("POST", { targetTypes: ROW_TARGETS, confirm: true }, DEV),
    );
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(Object.fromEntries(body.targets.map((t: any) => [t.targetType, t.deleted]))).toEqual({
      ACTIVITY_LOGS: 2,
      AUDIT_LOGS: 1,
      AUTH_SESSIONS: 2,
      READ_NOTIFICATIONS: 1,
    });
    for (const t of ROW_TARGETS) {
      expect(await present(t, seeded[t].gone)).toEqual([]);
      expect(await present(t, seeded[t].kept)).toEqual(seeded[t].kept.sort());
    }
    const [purge] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "PURGE"), eq(auditLog.userId, admin.id)));
    expect(purge).toMatchObject({
      eventType: "DATA_CHANGE",
      severity: "CRITICAL",
      resourceType: "data_cleanup",
    });
    expect((purge.metadata as any).targets).toHaveLength(4);

    // Outside the retention path the audit log stays append-only.
    let refused: unknown = null;
    try {
      await db.delete(auditLog).where(eq(auditLog.id, seeded.AUDIT_LOGS.kept[0]!));
    } catch (err) {
      refused = err;
    }
    expect(String((refused as { cause?: unknown })?.cause ?? refused)).toContain("retention job");
    await cleanup(seeded);
  });

  test("an explicit retentionDays applies to every listed target", async () => {
    const seeded = await seedRows();
    const res = await request(
      "/api/v1/admin/data/cleanup/execute",
      jsonInit(
        "POST",
        { targetTypes: ["ACTIVITY_LOGS", "READ_NOTIFICATIONS"], retentionDays: 7, confirm: true },
        DEV,
      ),
    );
    expect(res.status).toBe(200);
    expect((await json(res)).targets.map((t: any) => t.deleted)).toEqual([3, 2]);
    expect(await present("ACTIVITY_LOGS", seeded.ACTIVITY_LOGS.kept)).toHaveLength(1);
    expect(await present("AUDIT_LOGS", seeded.AUDIT_LOGS.gone)).toHaveLength(1);
    await cleanup(seeded);
  });

  test("deletes go in batches of at most the batch size, each its own transaction", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = newId();
      ids.push(id);
      await db
        .insert(auditLog)
        .values({ id, eventType: "SYSTEM", action: "TEST", resourceType: "batch", createdAt: ago(500) });
    }
    const batches: number[] = [];
    const deleted = await retention.purgeRows(db, "AUDIT_LOGS", ago(365), {
      batchSize: 3,
      onBatch: (n) => batches.push(n),
    });
    expect(deleted).toBe(7);
    expect(batches).toEqual([3, 3, 1]);
    expect(retention.BATCH_SIZE).toBe(5000);
  });

  test("retention policy: the RETENTION settings, minimums enforced, audited, updatedBy", async () => {
    const base = "/api/v1/admin/data/retention-policy";
    expect(await json(await request(base, { headers: DEV }))).toEqual({
      activityLogDays: 90,
      auditLogDays: 365,
      authSessionDays: 30,
      readNotificationDays: 90,
      updatedAt: null,
      updatedBy: null,
    });
    for (const body of [{ auditLogDays: 89 }, { activityLogDays: 6 }, { readNotificationDays: 1 }]) {
      const res = await request(base, jsonInit("PATCH", body, DEV));
      expect(res.status).toBe(422);
      expect((await json(res)).code).toBe("RETENTION_TOO_SHORT");
    }
    expect((await request(base, jsonInit("PATCH", { authSessionDays: 0 }, DEV))).status).toBe(422);
    expect((await request(base, jsonInit("PATCH", { auditLogDays: 3651 }, DEV))).status).toBe(422);
    const res = await request(base, jsonInit("PATCH", { activityLogDays: 30, authSessionDays: 1 }, DEV));
    expect(res.status).toBe(200);
    const policy = await json(res);
    expect(policy).toMatchObject({
      activityLogDays: 30,
      auditLogDays: 365,
      authSessionDays: 1,
      readNotificationDays: 90,
      updatedBy: { id: admin.id },
    });
    expect(Date.parse(policy.updatedAt)).toBeGreaterThan(Date.now() - 60_000);
    // The same values are the settings of category RETENTION (one policy store).
    const rows = await db.select().from(systemSetting).where(eq(systemSetting.category, "RETENTION"));
    expect(Object.fromEntries(rows.map((r) => [r.key, r.value]))).toEqual({
      activity_log_days: 30,
      auth_session_days: 1,
    });
    const settings = await json(await request("/api/v1/admin/settings/RETENTION", { headers: DEV }));
    expect(settings.items.find((s: any) => s.key === "activity_log_days").value).toBe(30);
    const [change] = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "SETTING_CHANGE"), eq(auditLog.userId, admin.id)));
    expect(change.newValue).toEqual({ activity_log_days: 30, auth_session_days: 1 });
    expect(change.oldValue).toEqual({ activity_log_days: 90, auth_session_days: 30 });
  });

  test("the daily job applies the current policy (here activity 30 days, sessions 1 day)", async () => {
    const seeded = await seedRows();
    const oldActivity = seeded.ACTIVITY_LOGS.kept[0]!; // 89 days: past the new 30-day policy
    const metrics = createMetrics({ defaultMetrics: false });
    const runner = new JobRunner({
      database: iso.handle,
      logger: silentLogger,
      metrics,
      jobs: standardJobs({
        database: iso.handle,
        cache: deps.cache,
        storage: deps.storage,
        logger: silentLogger,
        config: deps.config,
      }),
      lockKey: { space: LOCK_SPACE, id: Math.floor(Math.random() * 1e9) },
    });
    const run = await runner.runNow(JOB_NAMES.retention);
    expect(run.outcome).toBe("ok");
    const exposition = await metrics.render();
    expect(exposition).toContain('background_job_items_total{job="retention",item="activity_logs"} 3');
    expect(exposition).toContain('background_job_runs_total{job="retention",outcome="ok"} 1');
    expect(run.result).toEqual({
      activity_logs: 3,
      audit_logs: 1,
      auth_sessions: 3,
      read_notifications: 1,
    });
    expect(await present("ACTIVITY_LOGS", [oldActivity])).toEqual([]);
    expect(await present("ACTIVITY_LOGS", [seeded.ACTIVITY_LOGS.kept[1]!])).toHaveLength(1);
    expect(await present("AUTH_SESSIONS", seeded.AUTH_SESSIONS.kept)).toHaveLength(2);
    const jobAudit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, "PURGE"), sql`${auditLog.metadata}->>'job' = 'retention'`));
    expect(jobAudit).toHaveLength(1);
    await cleanup(seeded);
  });

  test("the retention job is scheduled daily at 03:00 UTC", () => {
    const job = standardJobs({
      database: iso.handle,
      cache: deps.cache,
      storage: deps.storage,
      logger: silentLogger,
      config: deps.config,
    }).find((j) => j.name === JOB_NAMES.retention)!;
    expect(job.dailyAtUtc).toBe("03:00");
    const at = (s: string) => Date.parse(s);
    expect(nextDelayMs(job, at("2026-12-03T02:59:30.000Z"))).toBe(30_000);
    expect(nextDelayMs(job, at("2026-12-03T03:00:00.000Z"))).toBe(DAY);
    expect(nextDelayMs(job, at("2026-12-03T03:00:01.000Z"))).toBe(DAY - 1000);
    expect(nextDelayMs(job, at("2026-12-03T17:00:00.000Z"))).toBe(10 * 3600_000);
    // Across a month and a year end.
    expect(nextDelayMs(job, at("2026-12-31T23:00:00.000Z"))).toBe(4 * 3600_000);
    expect(msUntilDailyUtc("00:00", at("2026-02-28T12:00:00.000Z"))).toBe(12 * 3600_000);
    expect(() => msUntilDailyUtc("3:00", 0)).toThrow();
    expect(() => msUntilDailyUtc("24:00", 0)).toThrow();
    expect(nextDelayMs({ everyMs: 60_000 }, at("2026-12-03T02:59:30.000Z"))).toBe(60_000);
    expect(
      () =>
        new JobRunner({
          database: iso.handle,
          logger: silentLogger,
          metrics: createMetrics({ defaultMetrics: false }),
          jobs: [{ name: "bad", everyMs: 1, dailyAtUtc: "noon", run: async () => undefined }],
          lockKey: { space: LOCK_SPACE, id: 1 },
        }),
    ).toThrow();
  });

  test("ORPHAN_OBJECTS on local storage: unreferenced objects older than 24 h go; referenced and young ones stay", async () => {
    const storage = deps.storage as LocalStorage;
    expect(storage).toBeInstanceOf(LocalStorage);
    const created = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "Retention", code: `RET-${newId().slice(-6)}` }, DEV),
      ),
    );
    const upload = await request(`/api/v1/project/${created.id}/file`, {
      method: "POST",
      headers: DEV,
      body: uploadForm("kept.csv", "a,b\n1,2\n"),
    });
    expect(upload.status).toBe(201);
    const file = await json(upload);
    const [row] = await db.select().from(projectFile).where(eq(projectFile.id, file.id));
    const issue = await seedIssue(db);
    const sessionId = newId();
    await db.insert(analysisSession).values({ id: sessionId, projectId: created.id, issueId: issue.id });

    const put = (container: "uploads" | "analysis", key: string) =>
      storage.put(container, key, "x".repeat(100));
    const orphanFile = `projects/${created.id}/${newId()}_orphan.csv`;
    const goneProjectFile = `projects/${newId()}/${newId()}_old.csv`;
    const youngFile = `projects/${created.id}/${newId()}_young.csv`;
    const orphanSnapshot = `analysis/${newId()}/snapshot_1.json`;
    const keptSnapshot = `analysis/${sessionId}/snapshot_1.json`;
    for (const k of [orphanFile, goneProjectFile, youngFile]) await put("uploads", k);
    for (const k of [orphanSnapshot, keptSnapshot]) await put("analysis", k);
    const old = ago(2);
    for (const k of [orphanFile, goneProjectFile, orphanSnapshot, keptSnapshot, row.storageKey]) {
      await utimes(join(storage.root, ...k.split("/")), old, old);
    }

    const preview = await json(
      await request("/api/v1/admin/data/cleanup/preview?targetTypes=ORPHAN_OBJECTS", { headers: DEV }),
    );
    expect(preview.targets[0]).toMatchObject({
      targetType: "ORPHAN_OBJECTS",
      retentionDays: null,
      count: 3,
      estimatedBytes: 300,
    });
    expect(Math.abs(Date.parse(preview.targets[0].cutoff) - ago(1).getTime())).toBeLessThan(60_000);

    const res = await request(
      "/api/v1/admin/data/cleanup/execute",
      jsonInit("POST", { targetTypes: ["ORPHAN_OBJECTS"], confirm: true }, DEV),
    );
    expect(res.status).toBe(200);
    expect((await json(res)).targets[0]).toMatchObject({ targetType: "ORPHAN_OBJECTS", deleted: 3 });
    expect(await storage.exists("uploads", orphanFile)).toBe(false);
    expect(await storage.exists("uploads", goneProjectFile)).toBe(false);
    expect(await storage.exists("analysis", orphanSnapshot)).toBe(false);
    expect(await storage.exists("uploads", youngFile)).toBe(true);
    expect(await storage.exists("uploads", row.storageKey)).toBe(true);
    expect(await storage.exists("analysis", keptSnapshot)).toBe(true);
    // The referenced file still downloads.
    const download = await request(`/api/v1/project/${created.id}/file/${file.id}/download`, {
      headers: DEV,
    });
    expect(download.status).toBe(200);
    expect(await download.text()).toBe("a,b\n1,2\n");
  });

  test.skipIf(!TEST_REDIS_URL)(
    "two instances: a policy PATCH on A drops B's cached settings on B's next request",
    async () => {
      const namespace = `ret-${newId().slice(-8)}`;
      const instance = async () => {
        const d = await testDeps({}, iso.handle, namespace);
        const a = buildApp(d);
        return {
          deps: d,
          request: (path: string, init: RequestInit = {}) =>
            a.handle(new Request(`http://localhost${path}`, init)),
        };
      };
      const a = await instance();
      const b = await instance();
      expect((await b.request("/api/v1/user_account/me", { headers: DEV })).status).toBe(200);
      const before = await b.deps.settings.current();
      expect(Number(b.deps.settings.valueOf(before, "RETENTION", "read_notification_days"))).toBe(90);
      const res = await a.request(
        "/api/v1/admin/data/retention-policy",
        jsonInit("PATCH", { readNotificationDays: 45 }, DEV),
      );
      expect(res.status).toBe(200);
      expect((await b.request("/api/v1/user_account/me", { headers: DEV })).status).toBe(200);
      const after = await b.deps.settings.current();
      expect(Number(b.deps.settings.valueOf(after, "RETENTION", "read_notification_days"))).toBe(45);
    },
  );

  test("non-admins get 403 on every retention route", async () => {
    const { signIn } = await import("./helpers/users");
    const u = await signIn(request, deps.config.secretKey);
    for (const [method, path] of [
      ["GET", "/api/v1/admin/data/cleanup/preview?targetTypes=ACTIVITY_LOGS"],
      ["GET", "/api/v1/admin/data/retention-policy"],
    ]) {
      const res = await request(path, { method, headers: u.auth });
      expect(res.status).toBe(403);
    }
  });
});
