import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import type { DatabaseHandle } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import { project, projectFile } from "@/db/schema";
import { isolatedDatabase, testApp, testConfig } from "./helpers/context";
import { uploadForm } from "./helpers/files";
import { type Body, json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";
import type { User } from "./helpers/world";

/*
 * The all-projects view (api.md §2.12.11) on a database of its own, so totals and summaries are
 * exactly the three projects made here: Alpha (two managers, a viewer, files with versions),
 * Beta_50% (idle 40 days) and Gamma (deactivated, idle 100 days).
 */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const BASE = "/api/v1/admin/projects";
const DAY = 86_400_000;

describe("admin: all projects", () => {
  let iso: { handle: DatabaseHandle; drop: () => Promise<void> };
  let request: (path: string, init?: RequestInit) => Promise<Response>;
  const get = async (path: string) => {
    const res = await request(`${BASE}${path}`, { headers: DEV });
    expect([path, res.status]).toEqual([path, 200]);
    return json(res);
  };
  const names = (page: Body) => page.items.map((p: Body) => p.name);
  let alpha: Body;
  let beta: Body;
  let gamma: Body;
  let ann: User;
  let bob: User;
  let vic: User;
  let cat: User;
  const sizes = { v1: 0, v2: 0, other: 0 };

  beforeAll(async () => {
    iso = await isolatedDatabase();
    await migrateUp(iso.handle, migrationsDir(testConfig()));
    const ctx = await testApp({}, {}, iso.handle);
    request = ctx.request;
    const secret = ctx.deps.config.secretKey;
    ann = await signIn(request, secret, `ann.${crypto.randomUUID().slice(0, 8)}@example.com`, "Ann");
    bob = await signIn(request, secret, `bob.${crypto.randomUUID().slice(0, 8)}@example.com`, "Bob");
    vic = await signIn(request, secret, `vic.${crypto.randomUUID().slice(0, 8)}@example.com`, "Vic");
    cat = await signIn(request, secret, `cat.${crypto.randomUUID().slice(0, 8)}@example.com`, "Cat");
    const create = async (u: User, name: string, code: string) => {
      const res = await request("/api/v1/project", jsonInit("POST", { name, code }, u.auth));
      expect(res.status).toBe(201);
      return json(res);
    };
    alpha = await create(ann, "Alpha", "ALPHA");
    for (const [u, role] of [
      [bob, "project_manager"],
      [vic, "viewer"],
    ] as const) {
      const res = await request(
        `/api/v1/project/${alpha.id}/member`,
        jsonInit("POST", { userId: u.id, role }, ann.auth),
      );
      expect(res.status).toBe(201);
    }
    const files = `/api/v1/project/${alpha.id}/file`;
    const upload = async (path: string, name: string, text: string) => {
      const res = await request(path, { method: "POST", body: uploadForm(name, text), headers: ann.auth });
      expect(res.status).toBe(201);
      return json(res);
    };
    const v1Text = "a,b\n1,2\n";
    const v2Text = "a,b\n1,2\n3,4\n5,6\n";
    const otherText = "hello world";
    const v1 = await upload(files, "data.csv", v1Text);
    await upload(`${files}/${v1.id}/version`, "data.csv", v2Text);
    await upload(files, "notes.txt", otherText);
    Object.assign(sizes, { v1: v1Text.length, v2: v2Text.length, other: otherText.length });

    beta = await create(bob, "Beta_50%", "BETA");
    gamma = await create(cat, "Gamma", "GAMMA");
    const off = await request(
      `/api/v1/project/${gamma.id}`,
      jsonInit("PATCH", { isActive: false }, cat.auth),
    );
    expect(off.status).toBe(200);
    const db = iso.handle.db;
    const ago = (days: number) => new Date(Date.now() - days * DAY);
    // Creation order Alpha < Beta < Gamma, idle for 0, 40 and 100 days.
    await db
      .update(project)
      .set({ createdAt: ago(3) })
      .where(eq(project.id, alpha.id));
    await db
      .update(project)
      .set({ createdAt: ago(2), lastActivityAt: ago(40) })
      .where(eq(project.id, beta.id));
    await db
      .update(project)
      .set({ createdAt: ago(1), lastActivityAt: ago(100) })
      .where(eq(project.id, gamma.id));
  }, 120_000);
  afterAll(() => iso.drop());

  test("list: every project as AdminProject with its managers, newest first, and a system summary", async () => {
    const page = await get("");
    const totalBytes = sizes.v1 + sizes.v2 + sizes.other;
    expect(page).toMatchObject({
      total: 3,
      skip: 0,
      limit: 50,
      summary: { total: 3, active: 2, inactive: 1, totalStorageBytes: totalBytes },
    });
    expect(names(page)).toEqual(["Gamma", "Beta_50%", "Alpha"]);
    const a = page.items[2];
    expect(a).not.toHaveProperty("myRole");
    expect(a).not.toHaveProperty("viaSystemAdmin");
    expect(a.managers).toEqual([
      { id: ann.id, email: ann.email, displayName: "Ann" },
      { id: bob.id, email: bob.email, displayName: "Bob" },
    ]);
    expect(a).toMatchObject({
      id: alpha.id,
      code: "ALPHA",
      isActive: true,
      createdBy: { id: ann.id },
      stats: { memberCount: 3, fileCount: 2, sessionCount: 0, treeCount: 0, storageBytes: totalBytes },
    });
    // The same fields as the project module's own view of the project, minus the caller's role.
    const own = await json(await request(`/api/v1/project/${alpha.id}`, { headers: ann.auth }));
    const { myRole: _r, viaSystemAdmin: _v, ...shared } = own;
    const { managers: _m, ...adminShared } = a;
    expect(adminShared).toEqual(shared);
    expect(page.items[0]).toMatchObject({ isActive: false, managers: [{ id: cat.id }] });
  });

  test("filters: status, managerId, inactiveDays, q (wildcards literal); paging keeps the total", async () => {
    expect(names(await get("?status=active"))).toEqual(["Beta_50%", "Alpha"]);
    expect(names(await get("?status=inactive"))).toEqual(["Gamma"]);
    expect(names(await get(`?managerId=${bob.id}`))).toEqual(["Beta_50%", "Alpha"]);
    expect(names(await get(`?managerId=${vic.id}`))).toEqual([]);
    expect(names(await get("?inactiveDays=30"))).toEqual(["Gamma", "Beta_50%"]);
    expect(names(await get("?inactiveDays=60&status=all"))).toEqual(["Gamma"]);
    expect(names(await get("?q=alp"))).toEqual(["Alpha"]);
    expect(names(await get("?q=gamma"))).toEqual(["Gamma"]);
    expect(names(await get(`?q=${encodeURIComponent("_50%")}`))).toEqual(["Beta_50%"]);
    // `%` and `_` match themselves, not anything.
    expect(names(await get(`?q=${encodeURIComponent("%")}`))).toEqual(["Beta_50%"]);
    expect(names(await get("?q=_"))).toEqual(["Beta_50%"]);
    expect((await get(`?q=${encodeURIComponent("\\")}`)).total).toBe(0);
    const second = await get("?limit=1&skip=1");
    expect([second.total, names(second)]).toEqual([3, ["Beta_50%"]]);
    const past = await get("?skip=10");
    expect([past.total, past.items, past.summary.total]).toEqual([3, [], 3]);
    for (const bad of [
      "status=gone",
      "inactiveDays=0",
      "managerId=x",
      "sort=name,-createdAt",
      "isActive=true",
    ]) {
      const res = await request(`${BASE}?${bad}`, { headers: DEV });
      expect([bad, res.status]).toEqual([bad, 422]);
    }
  });

  test("sort: name, -lastActivityAt, -storageBytes", async () => {
    expect(names(await get("?sort=name"))).toEqual(["Alpha", "Beta_50%", "Gamma"]);
    expect(names(await get("?sort=-lastActivityAt"))).toEqual(["Alpha", "Beta_50%", "Gamma"]);
    expect(names(await get("?sort=-storageBytes"))[0]).toBe("Alpha");
    expect(names(await get("?sort=-createdAt"))).toEqual(["Gamma", "Beta_50%", "Alpha"]);
  });

  test("storage: real bytes of every version, files and versions per project, largest first", async () => {
    const page = await get("/storage");
    const alphaBytes = sizes.v1 + sizes.v2 + sizes.other;
    expect(page).toMatchObject({ total: 3, skip: 0, limit: 50, totalBytes: alphaBytes });
    expect(page.items[0]).toEqual({
      projectId: alpha.id,
      name: "Alpha",
      code: "ALPHA",
      storageBytes: alphaBytes,
      fileCount: 2,
      versionCount: 3,
    });
    expect(page.items.slice(1).map((i: Body) => [i.storageBytes, i.fileCount, i.versionCount])).toEqual([
      [0, 0, 0],
      [0, 0, 0],
    ]);
    const [{ n }] = await iso.handle.db
      .select({ n: projectFile.sizeBytes })
      .from(projectFile)
      .where(eq(projectFile.originalFilename, "notes.txt"));
    expect(n).toBe(sizes.other);
    const second = await get("/storage?skip=1&limit=1");
    expect([second.total, second.items.length, second.totalBytes]).toEqual([3, 1, alphaBytes]);
  });

  test("inactive: active projects idle for inactiveDays (default 30), longest idle first", async () => {
    const page = await get("/inactive");
    expect(names(page)).toEqual(["Beta_50%"]);
    expect(page.items[0]).toMatchObject({ id: beta.id, managers: [{ id: bob.id }] });
    expect(page.items[0]).not.toHaveProperty("myRole");
    expect((await get("/inactive?inactiveDays=50")).total).toBe(0);
    expect(names(await get("/inactive?inactiveDays=1"))).toEqual(["Beta_50%"]);
    expect((await request(`${BASE}/inactive?inactiveDays=3651`, { headers: DEV })).status).toBe(422);
  });

  test("detail: AdminProject with members and recent activity; 404 for an unknown id", async () => {
    const d = await get(`/${alpha.id}`);
    expect(d).toMatchObject({ id: alpha.id, name: "Alpha", managers: [{ id: ann.id }, { id: bob.id }] });
    expect(d).not.toHaveProperty("myRole");
    expect(d.members.map((m: Body) => [m.userId, m.role])).toEqual([
      [ann.id, "project_manager"],
      [bob.id, "project_manager"],
      [vic.id, "viewer"],
    ]);
    const feed = d.recentActivity.map((a: Body) => [a.action, a.resourceType, a.resourceName]);
    expect(feed).toEqual([
      // The same DashboardActivity as the dashboard's feed (one mapping: dashboard/service.ts).
      ["uploaded", "file", "notes.txt"],
      ["uploaded", "file", "data.csv"],
      ["uploaded", "file", "data.csv"],
      ["joined", "member", "Vic"],
      ["joined", "member", "Bob"],
      ["created", "project", "Alpha"],
    ]);
    for (const a of d.recentActivity) {
      expect(a).toMatchObject({ projectId: alpha.id, projectName: "Alpha", actor: { id: ann.id } });
    }
    const times = d.recentActivity.map((a: Body) => Date.parse(a.occurredAt));
    expect(times).toEqual([...times].sort((x, y) => y - x));

    const g = await get(`/${gamma.id}`);
    // Deactivation is audited as a DELETE of the project, but nothing was deleted.
    expect(g.recentActivity.map((a: Body) => a.action)).toEqual(["updated", "created"]);

    const missing = await request(`${BASE}/${crypto.randomUUID()}`, { headers: DEV });
    expect(missing.status).toBe(404);
    expect((await json(missing)).code).toBe("PROJECT_NOT_FOUND");
    expect((await request(`${BASE}/not-a-uuid`, { headers: DEV })).status).toBe(422);
  });

  test("recent activity stops at the 20 newest", async () => {
    for (let i = 0; i < 21; i++) {
      const res = await request(
        `/api/v1/project/${beta.id}`,
        jsonInit("PATCH", { description: `round ${i}` }, bob.auth),
      );
      expect(res.status).toBe(200);
    }
    const d = await get(`/${beta.id}`);
    expect(d.recentActivity).toHaveLength(20);
    expect(d.recentActivity.every((a: Body) => a.action === "updated" && a.resourceName === "Beta_50%")).toBe(
      true,
    );
  });
});
