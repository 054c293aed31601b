import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { and, eq } from "drizzle-orm";
import { buildApp } from "@/app";
import { DEV_SECRET_KEY } from "@/config";
import { auditLog, userNotification } from "@/db/schema";
import { newId } from "@/lib/ids";
import { notificationHubOf } from "@/modules/notification";
import { toNotification } from "@/modules/notification/service";
import { notificationStream } from "@/modules/notification/stream";
import { seedIssue } from "./helpers/analysis";
import { testApp, testDeps } from "./helpers/context";
import { driverTreeApi } from "./helpers/driver-tree";
import { TEST_DATABASE_URL, TEST_REDIS_URL } from "./helpers/env";
import { uploadForm, xlsxBytes } from "./helpers/files";
import { freePort } from "./helpers/free-port";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";
import { world } from "./helpers/world";

/*
 * Notifications (api.md §2.10, §2.12.7): every producer with its recipients, the recipient's
 * toggle and language, the actor rule, the tree_updated refresh, the self-service routes, and
 * live delivery over Server-Sent Events on one instance (no Redis) and across two instances
 * sharing Redis (skipped without it).
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const { app, deps, request } = await testApp({ REDIS_URL: undefined });
const db = deps.database.db;
const secret = deps.config.secretKey;
type User = Awaited<ReturnType<typeof signIn>>;

async function inbox(user: User, query = "") {
  const res = await request(`/api/v1/notifications${query}`, { headers: user.auth });
  expect(res.status).toBe(200);
  return json(res);
}
const ofType = async (user: User, type: string) => (await inbox(user, `?type=${type}&limit=500`)).items;
const setSettings = async (user: User, body: unknown) =>
  expect((await request("/api/v1/user_account/me/settings", jsonInit("PATCH", body, user.auth))).status).toBe(
    200,
  );
const upload = (projectId: string, user: User, name = "a.csv") =>
  request(`/api/v1/project/${projectId}/file`, {
    method: "POST",
    body: uploadForm(name, "k,v\nx,1\n"),
    headers: user.auth,
  });

describe("producers", () => {
  test("member_added: the added user (each bulk item too), rendered in Japanese by default; never the actor; toggle honoured", async () => {
    const { project, users } = await world(request, secret, { member: "member" }, "通知プロジェクト");
    const [added] = await ofType(users.member, "member_added");
    expect(added).toMatchObject({
      type: "member_added",
      title: "プロジェクト「通知プロジェクト」に追加されました",
      projectId: project.id,
      referenceType: "project",
      referenceId: project.id,
      linkUrl: `/projects/${project.id}`,
      isRead: false,
      readAt: null,
      actor: { id: users.manager.id, email: users.manager.email },
    });
    expect(added.message).toContain("member");
    expect(await ofType(users.manager, "member_added")).toHaveLength(0);

    const a = await signIn(request, secret);
    const b = await signIn(request, secret);
    const muted = await signIn(request, secret);
    await setSettings(muted, { notifications: { memberChanges: false } });
    const bulk = await request(
      `/api/v1/project/${project.id}/member/bulk`,
      jsonInit(
        "POST",
        {
          members: [
            { userId: a.id, role: "viewer" },
            { userId: b.id },
            { userId: muted.id },
            { userId: users.member.id },
          ],
        },
        users.manager.auth,
      ),
    );
    expect(bulk.status).toBe(200);
    expect((await json(bulk)).totalAdded).toBe(3);
    expect(await ofType(a, "member_added")).toHaveLength(1);
    expect(await ofType(b, "member_added")).toHaveLength(1);
    expect(await ofType(muted, "member_added")).toHaveLength(0);
    // The failed item (already a member) notified nobody a second time.
    expect(await ofType(users.member, "member_added")).toHaveLength(1);
  });

  test("member_removed: the removed user; leaving notifies nobody", async () => {
    const { project, users } = await world(request, secret, { a: "member", b: "member" });
    const members = await json(
      await request(`/api/v1/project/${project.id}/member?limit=500`, { headers: users.manager.auth }),
    );
    const a = members.items.find((m: any) => m.userId === users.a.id);
    expect(
      (
        await request(`/api/v1/project/${project.id}/member/${a.id}`, {
          method: "DELETE",
          headers: users.manager.auth,
        })
      ).status,
    ).toBe(204);
    const [removed] = await ofType(users.a, "member_removed");
    expect(removed).toMatchObject({
      type: "member_removed",
      projectId: project.id,
      actor: { id: users.manager.id },
    });
    expect(
      (await request(`/api/v1/project/${project.id}/member/me`, { method: "DELETE", headers: users.b.auth }))
        .status,
    ).toBe(204);
    expect(await ofType(users.b, "member_removed")).toHaveLength(0);
    expect(await ofType(users.manager, "member_removed")).toHaveLength(0);
  });

  test("file_uploaded: every member but the uploader, on upload, new version and restore; never an outsider or a former member", async () => {
    const { project, users } = await world(
      request,
      secret,
      { member: "member", viewer: "viewer", muted: "viewer", gone: "member" },
      "秘密の案件",
    );
    await setSettings(users.muted, { notifications: { fileUploaded: false } });
    const members = await json(
      await request(`/api/v1/project/${project.id}/member?limit=500`, { headers: users.manager.auth }),
    );
    const gone = members.items.find((m: any) => m.userId === users.gone.id);
    await request(`/api/v1/project/${project.id}/member/${gone.id}`, {
      method: "DELETE",
      headers: users.manager.auth,
    });

    const up = await upload(project.id, users.member, "売上.csv");
    expect(up.status).toBe(201);
    const file = await json(up);
    const [n] = await ofType(users.viewer, "file_uploaded");
    expect(n).toMatchObject({
      referenceType: "file",
      referenceId: file.id,
      projectId: project.id,
      linkUrl: `/projects/${project.id}/files/${file.chainId}`,
      actor: { id: users.member.id },
    });
    expect(n.message).toContain("売上.csv");
    expect(await ofType(users.manager, "file_uploaded")).toHaveLength(1);
    expect(await ofType(users.member, "file_uploaded")).toHaveLength(0);
    expect(await ofType(users.muted, "file_uploaded")).toHaveLength(0);

    const v2 = await request(`/api/v1/project/${project.id}/file/${file.id}/version`, {
      method: "POST",
      body: uploadForm("売上.csv", "k,v\nx,2\n"),
      headers: users.manager.auth,
    });
    expect(v2.status).toBe(201);
    const restored = await request(
      `/api/v1/project/${project.id}/file/${(await json(v2)).id}/restore`,
      jsonInit("POST", { versionId: file.id }, users.manager.auth),
    );
    expect(restored.status).toBe(201);
    expect(await ofType(users.viewer, "file_uploaded")).toHaveLength(3);
    expect(await ofType(users.member, "file_uploaded")).toHaveLength(2);

    // Nothing about the project, its name included, reaches anyone outside it.
    for (const outsider of [users.outsider, users.gone]) {
      const all = await inbox(outsider, "?limit=500");
      expect(
        all.items.filter((i: any) => i.type !== "member_added" && i.type !== "member_removed"),
      ).toHaveLength(0);
    }
    const leaked = await db
      .select()
      .from(userNotification)
      .where(eq(userNotification.userId, users.outsider.id));
    expect(leaked.filter((r) => `${r.title} ${r.message}`.includes("秘密の案件"))).toHaveLength(0);
  });

  test("file_uploaded: a driver-tree upload goes through the same path", async () => {
    const { project, users } = await world(request, secret, { viewer: "viewer" });
    const form = new FormData();
    form.append(
      "file",
      new File(
        [
          await xlsxBytes({
            Sheet1: [
              ["科目", 2024],
              ["売上", 1],
            ],
          }),
        ],
        "ツリー.xlsx",
      ),
    );
    const res = await request(`/api/v1/project/${project.id}/driver-tree/file`, {
      method: "POST",
      body: form,
      headers: users.manager.auth,
    });
    expect(res.status).toBe(201);
    const [n] = await ofType(users.viewer, "file_uploaded");
    expect(n.message).toContain("ツリー.xlsx");
  });

  test("session_completed: the creator and the project managers, not the actor, not plain members", async () => {
    const issue = await seedIssue(db);
    const { project, users } = await world(request, secret, {
      creator: "member",
      pm2: "project_manager",
      member: "member",
      mod: "project_moderator",
    });
    const base = `/api/v1/project/${project.id}/analysis/session`;
    const s = await json(
      await request(base, jsonInit("POST", { issueId: issue.id, name: "売上分析" }, users.creator.auth)),
    );
    // A moderator completes the creator's session.
    const done = await request(`${base}/${s.id}`, jsonInit("PATCH", { status: "completed" }, users.mod.auth));
    expect(done.status).toBe(200);
    for (const who of [users.creator, users.manager, users.pm2]) {
      const [n] = await ofType(who, "session_completed");
      expect(n).toMatchObject({ referenceType: "session", referenceId: s.id, actor: { id: users.mod.id } });
      expect(n.title).toContain("売上分析");
    }
    expect(await ofType(users.mod, "session_completed")).toHaveLength(0);
    expect(await ofType(users.member, "session_completed")).toHaveLength(0);
    // Only the change to completed notifies: a rename of a completed session does not.
    await request(`${base}/${s.id}`, jsonInit("PATCH", { name: "改名" }, users.creator.auth));
    expect(await ofType(users.manager, "session_completed")).toHaveLength(1);

    // The creator completing their own session tells the managers only.
    const own = await json(await request(base, jsonInit("POST", { issueId: issue.id }, users.creator.auth)));
    await request(`${base}/${own.id}`, jsonInit("PATCH", { status: "completed" }, users.creator.auth));
    expect(await ofType(users.creator, "session_completed")).toHaveLength(1);
    expect(await ofType(users.pm2, "session_completed")).toHaveLength(2);
  });

  test("tree_updated: the creator only; an unread one is refreshed, a read one is followed by a new row", async () => {
    const { project, users } = await world(request, secret, { creator: "member", mod: "project_moderator" });
    const api = driverTreeApi(request, project.id);
    const tree = await api.createTree(users.creator, { name: "売上ツリー" });
    // The creator's own changes notify nobody.
    expect((await api.call("PATCH", `/tree/${tree.id}`, users.creator, { description: "自分" })).status).toBe(
      200,
    );
    expect(await ofType(users.creator, "tree_updated")).toHaveLength(0);

    expect((await api.call("PATCH", `/tree/${tree.id}`, users.mod, { description: "一回目" })).status).toBe(
      200,
    );
    const [first] = await ofType(users.creator, "tree_updated");
    expect(first).toMatchObject({ referenceType: "tree", referenceId: tree.id, actor: { id: users.mod.id } });
    expect(first.title).toContain("売上ツリー");
    await Bun.sleep(5);
    expect(
      (await api.call("PATCH", `/tree/${tree.id}`, users.manager, { description: "二回目" })).status,
    ).toBe(200);
    const again = await ofType(users.creator, "tree_updated");
    expect(again).toHaveLength(1);
    expect(again[0].id).toBe(first.id);
    expect(again[0].actor.id).toBe(users.manager.id);
    expect(Date.parse(again[0].updatedAt)).toBeGreaterThan(Date.parse(first.updatedAt));
    const rows = await db
      .select()
      .from(userNotification)
      .where(and(eq(userNotification.userId, users.creator.id), eq(userNotification.type, "tree_updated")));
    expect(rows).toHaveLength(1);
    expect(rows[0].dedupeKey).toBe(`tree_updated:${tree.id}`);

    await request(`/api/v1/notifications/${first.id}/read`, { method: "PATCH", headers: users.creator.auth });
    await api.call("PATCH", `/tree/${tree.id}`, users.mod, { description: "三回目" });
    const after = await ofType(users.creator, "tree_updated");
    expect(after).toHaveLength(2);
    expect(after.filter((n: any) => !n.isRead)).toHaveLength(1);
    expect(await ofType(users.mod, "tree_updated")).toHaveLength(0);
    expect(await ofType(users.manager, "tree_updated")).toHaveLength(0);
  });

  test("a rolled-back change writes no notification", async () => {
    const { project, users } = await world(request, secret, { member: "member" });
    // Adding a deactivated-free but unknown user fails inside the transaction.
    const res = await request(
      `/api/v1/project/${project.id}/member`,
      jsonInit("POST", { userId: newId() }, users.manager.auth),
    );
    expect(res.status).toBe(404);
    const bad = await request(`/api/v1/project/${project.id}/file`, {
      method: "POST",
      body: uploadForm("x.png", "not a png"),
      headers: users.member.auth,
    });
    expect(bad.status).toBe(415);
    expect(await ofType(users.manager, "file_uploaded")).toHaveLength(0);
  });
});

describe("templates and languages", () => {
  test("the recipient's language picks the template; an admin edit changes the text; unknown placeholders are refused; inactive falls back to the built-in", async () => {
    const list = await json(
      await request("/api/v1/admin/notification-templates?limit=500", { headers: DEV }),
    );
    expect(list.total).toBe(12);
    const en = list.items.find((t: any) => t.eventType === "file_uploaded" && t.language === "en");
    const ja = list.items.find((t: any) => t.eventType === "file_uploaded" && t.language === "ja");
    expect(en.variables).toEqual(["projectName", "actorName", "fileName", "version"]);

    const { project, users } = await world(
      request,
      secret,
      { english: "viewer", japanese: "viewer" },
      "Lang",
    );
    await setSettings(users.english, { language: "en" });
    await upload(project.id, users.manager, "one.csv");
    expect((await ofType(users.english, "file_uploaded"))[0].title).toBe("New file in Lang");
    expect((await ofType(users.japanese, "file_uploaded"))[0].title).toBe(
      "Lang にファイルがアップロードされました",
    );

    const path = `/api/v1/admin/notification-templates/${en.id}`;
    const refused = await request(
      path,
      jsonInit("PATCH", { bodyTemplate: "{actorName} leaked {secret}" }, DEV),
    );
    expect(refused.status).toBe(422);
    const problem = await json(refused);
    expect(problem.code).toBe("VALIDATION_FAILED");
    expect(problem.errors[0].path).toBe("/body/bodyTemplate");
    const patched = await request(
      path,
      jsonInit(
        "PATCH",
        { titleTemplate: "{fileName} arrived in {projectName}", bodyTemplate: "v{version} by {actorName}" },
        DEV,
      ),
    );
    expect(patched.status).toBe(200);
    expect((await json(patched)).titleTemplate).toBe("{fileName} arrived in {projectName}");
    const audit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, "notification_template"), eq(auditLog.resourceId, en.id)));
    expect(audit.length).toBeGreaterThan(0);

    await upload(project.id, users.manager, "two.csv");
    const [latest] = await ofType(users.english, "file_uploaded");
    expect(latest.title).toBe("two.csv arrived in Lang");
    expect(latest.message).toBe(`v1 by ${users.manager.email.split("@")[0]}`);
    expect((await ofType(users.japanese, "file_uploaded"))[0].title).toBe(
      "Lang にファイルがアップロードされました",
    );

    await request(path, jsonInit("PATCH", { isActive: false }, DEV));
    await upload(project.id, users.manager, "three.csv");
    expect((await ofType(users.english, "file_uploaded"))[0].title).toBe("New file in Lang");
    // Restore the shipped text for the other tests of this process.
    await request(
      path,
      jsonInit(
        "PATCH",
        {
          titleTemplate: "New file in {projectName}",
          bodyTemplate: "{actorName} uploaded {fileName} (version {version}).",
          isActive: true,
        },
        DEV,
      ),
    );
    expect(ja.isActive).toBe(true);
    const unknown = await request(
      `/api/v1/admin/notification-templates/${newId()}`,
      jsonInit("PATCH", { isActive: true }, DEV),
    );
    expect((await json(unknown)).code).toBe("TEMPLATE_NOT_FOUND");
    const notAdmin = await request("/api/v1/admin/notification-templates", { headers: users.english.auth });
    expect(notAdmin.status).toBe(403);
  });
});

describe("self-service routes", () => {
  test("list, unread count, read, read-all, delete; another user's id is 404; /me/context counts", async () => {
    const { project, users } = await world(request, secret, { a: "viewer", b: "viewer" });
    await upload(project.id, users.manager, "1.csv");
    await upload(project.id, users.manager, "2.csv");
    await upload(project.id, users.manager, "3.csv");
    const page = await inbox(users.a);
    // member_added + three uploads, newest first.
    expect(page.total).toBe(4);
    expect(page.unreadCount).toBe(4);
    expect(page.items[0].message).toContain("3.csv");
    const ctx = await json(await request("/api/v1/user_account/me/context", { headers: users.a.auth }));
    expect(ctx.notifications.unreadCount).toBe(4);

    const target = page.items[0];
    const foreign = await request(`/api/v1/notifications/${target.id}`, { headers: users.b.auth });
    expect(foreign.status).toBe(404);
    expect((await json(foreign)).code).toBe("NOTIFICATION_NOT_FOUND");
    for (const [method, suffix] of [
      ["PATCH", "/read"],
      ["DELETE", ""],
    ]) {
      const r = await request(`/api/v1/notifications/${target.id}${suffix}`, {
        method,
        headers: users.b.auth,
      });
      expect((await json(r)).code).toBe("NOTIFICATION_NOT_FOUND");
    }

    const read = await json(
      await request(`/api/v1/notifications/${target.id}/read`, { method: "PATCH", headers: users.a.auth }),
    );
    expect(read.isRead).toBe(true);
    await Bun.sleep(5);
    const again = await json(
      await request(`/api/v1/notifications/${target.id}/read`, { method: "PATCH", headers: users.a.auth }),
    );
    expect(again.readAt).toBe(read.readAt);
    expect(
      (await json(await request("/api/v1/notifications/unread-count", { headers: users.a.auth })))
        .unreadCount,
    ).toBe(3);
    expect((await inbox(users.a, "?isRead=true")).items.map((i: any) => i.id)).toEqual([target.id]);

    const all = await json(
      await request("/api/v1/notifications/read-all", { method: "PATCH", headers: users.a.auth }),
    );
    expect(all.updatedCount).toBe(3);
    expect((await inbox(users.a)).unreadCount).toBe(0);

    expect(
      (await request(`/api/v1/notifications/${target.id}`, { method: "DELETE", headers: users.a.auth }))
        .status,
    ).toBe(204);
    expect((await request(`/api/v1/notifications/${target.id}`, { headers: users.a.auth })).status).toBe(404);
    expect((await inbox(users.a)).total).toBe(3);
    // b's own rows are untouched by a's read-all.
    expect((await inbox(users.b)).unreadCount).toBe(4);
  });
});

/* ---- live delivery ---- */

type SseEvent = { id?: string; event?: string; data?: any; comments: string[] };

function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  async function nextBlock(deadline: number): Promise<SseEvent | null> {
    for (;;) {
      const end = buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e: SseEvent = { comments: [] };
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) e.comments.push(line.slice(1).trim());
          else if (line.startsWith("id: ")) e.id = line.slice(4);
          else if (line.startsWith("event: ")) e.event = line.slice(7);
          else if (line.startsWith("data: ")) e.data = JSON.parse(line.slice(6));
        }
        return e;
      }
      const left = deadline - Date.now();
      if (left <= 0) return null;
      const chunk = await Promise.race([reader.read(), Bun.sleep(left).then(() => null)]);
      if (chunk === null) return null;
      if (chunk.done) return null;
      buffer += decoder.decode(chunk.value, { stream: true });
    }
  }
  return {
    /** The next `notification` event within `ms`, or null. */
    async next(ms = 3000): Promise<SseEvent | null> {
      const deadline = Date.now() + ms;
      for (;;) {
        const e = await nextBlock(deadline);
        if (!e || e.event === "notification") return e;
      }
    },
    /** The next block of any kind (comments included). */
    block: (ms = 3000) => nextBlock(Date.now() + ms),
    close: () => reader.cancel().catch(() => {}),
  };
}

async function openStream(requester: typeof request, user: User, lastEventId?: string) {
  const controller = new AbortController();
  const res = await requester("/api/v1/notifications/stream", {
    headers: { ...user.auth, ...(lastEventId ? { "last-event-id": lastEventId } : {}) },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const sse = sseReader(res.body!);
  // The stream is subscribed once its first comment arrives.
  const hello = await sse.block(3000);
  expect(hello?.comments).toContain("connected");
  return {
    ...sse,
    close: async () => {
      controller.abort();
      await sse.close();
    },
  };
}

describe("live delivery (SSE)", () => {
  test("one instance without Redis: a new notification arrives within a second; Last-Event-ID resumes", async () => {
    const { project, users } = await world(request, secret, { watcher: "viewer" });
    const stream = await openStream(request, users.watcher);
    const started = performance.now();
    await upload(project.id, users.manager, "live.csv");
    const e = await stream.next(2000);
    const latencyMs = performance.now() - started;
    expect(e?.data.type).toBe("file_uploaded");
    expect(e?.id).toBe(e?.data.id);
    expect(e?.data.message).toContain("live.csv");
    expect(latencyMs).toBeLessThan(1000);
    await stream.close();

    // Missed while disconnected: two uploads; the reconnect with Last-Event-ID gets both, in order.
    await upload(project.id, users.manager, "missed-1.csv");
    await upload(project.id, users.manager, "missed-2.csv");
    const resumed = await openStream(request, users.watcher, e!.id);
    const r1 = await resumed.next(2000);
    const r2 = await resumed.next(2000);
    expect([r1?.data.message, r2?.data.message].map((m) => m.match(/missed-\d/)?.[0])).toEqual([
      "missed-1",
      "missed-2",
    ]);
    expect(r1!.id! < r2!.id!).toBe(true);
    expect(await resumed.next(300)).toBeNull();
    await resumed.close();
  });

  test("a refreshed tree_updated is sent again without an id; a rolled-back change sends nothing", async () => {
    const { project, users } = await world(request, secret, { creator: "member" });
    const api = driverTreeApi(request, project.id);
    const tree = await api.createTree(users.creator, { name: "木" });
    const stream = await openStream(request, users.creator);
    await api.call("PATCH", `/tree/${tree.id}`, users.manager, { description: "a" });
    const first = await stream.next(2000);
    expect(first?.data.type).toBe("tree_updated");
    expect(first?.id).toBe(first?.data.id);
    await api.call("PATCH", `/tree/${tree.id}`, users.manager, { description: "b" });
    const refreshed = await stream.next(2000);
    expect(refreshed?.data.id).toBe(first?.data.id);
    expect(refreshed?.id).toBeUndefined();
    // A bulk add whose only item fails rolls back: nothing is announced.
    await request(
      `/api/v1/project/${project.id}/member/bulk`,
      jsonInit("POST", { members: [{ userId: users.creator.id }] }, users.manager.auth),
    );
    expect(await stream.next(1500)).toBeNull();
    await stream.close();
  });

  test("heartbeat comments keep the stream open; shutdown of the hub ends the stream", async () => {
    const user = await signIn(request, secret);
    const localDeps = await testDeps({ REDIS_URL: undefined });
    const hub = notificationHubOf(localDeps);
    const body = notificationStream({
      db,
      hub,
      userId: user.id,
      lastEventId: null,
      toNotification,
      signals: [],
      heartbeatMs: 50,
    });
    const sse = sseReader(body);
    expect((await sse.block(2000))?.comments).toContain("connected");
    expect((await sse.block(1000))?.comments).toContain("heartbeat");
    await hub.close();
    expect(await sse.block(1000)).toBeNull();
  });

  const live: Subprocess[] = [];
  afterAll(() => {
    for (const p of live) p.kill("SIGKILL");
  });

  test.skipIf(!TEST_DATABASE_URL || !TEST_REDIS_URL)(
    "two instances sharing Redis: a notification produced on one reaches a stream on the other within a second",
    async () => {
      const appName = `camp-sse-${newId().slice(-8)}`;
      const port = await freePort();
      const proc = Bun.spawn(["bun", resolve(import.meta.dir, "../src/cli/main.ts"), "serve"], {
        env: {
          PATH: process.env.PATH ?? "",
          HOME: process.env.HOME ?? "/tmp",
          ENVIRONMENT: "development",
          HOST: "127.0.0.1",
          PORT: String(port),
          DATABASE_URL: TEST_DATABASE_URL!,
          REDIS_URL: TEST_REDIS_URL!,
          LOCAL_STORAGE_PATH: mkdtempSync(join(tmpdir(), "camp-sse-")),
          APP_NAME: appName,
          LOG_LEVEL: "silent",
          SEED_ON_START: "false",
          MIGRATE_ON_START: "false",
          RATE_LIMIT_CALLS: "100000",
        },
        stdout: "ignore",
        stderr: "pipe",
      });
      live.push(proc);
      const base = `http://127.0.0.1:${port}`;
      const until = Date.now() + 20_000;
      while (
        !(await fetch(`${base}/health/ready`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > until || proc.exitCode !== null) {
          throw new Error(`instance B did not start: ${await new Response(proc.stderr).text()}`);
        }
        await Bun.sleep(100);
      }
      const remote = (path: string, init?: RequestInit) => fetch(`${base}${path}`, init);

      // Instance A: in this process, same deployment name (so the same channel), Redis on.
      const aDeps = await testDeps({ APP_NAME: appName });
      const a = buildApp(aDeps);
      const aRequest = (path: string, init: RequestInit = {}) =>
        a.handle(new Request(`http://localhost${path}`, init));
      const { project, users } = await world(aRequest, DEV_SECRET_KEY, { watcher: "viewer" });

      const stream = await openStream(remote, users.watcher);
      const latencies: number[] = [];
      for (const name of ["x.csv", "y.csv", "z.csv"]) {
        const started = performance.now();
        const up = await aRequest(`/api/v1/project/${project.id}/file`, {
          method: "POST",
          body: uploadForm(name, "k,v\n"),
          headers: users.manager.auth,
        });
        expect(up.status).toBe(201);
        const e = await stream.next(3000);
        latencies.push(performance.now() - started);
        expect(e?.data.message).toContain(name);
      }
      // Pub/sub, not the 1 s poll: well under a second each time.
      expect(Math.max(...latencies)).toBeLessThan(1000);
      console.log(`cross-instance SSE latency ms: ${latencies.map((l) => l.toFixed(0)).join(", ")}`);
      await stream.close();
      await aDeps.notifications?.close();
      // An open stream does not hold up shutdown: draining ends it, and the process exits 0.
      const open = await openStream(remote, users.watcher);
      const stopped = performance.now();
      proc.kill("SIGTERM");
      expect(await open.block(5000)).toBeNull();
      expect(await proc.exited).toBe(0);
      expect(performance.now() - stopped).toBeLessThan(5000);
    },
    60_000,
  );
});

void app;
