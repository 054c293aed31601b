import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { analysisGraphAxisMaster, auditLog } from "@/db/schema";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

/* Admin CRUD for the analysis masters (api.md §2.12.1), through the HTTP stack on a real database. */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const BASE = "/api/v1/admin";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const tag = () => crypto.randomUUID().slice(0, 8);

describe("admin analysis masters", async () => {
  const { app, request, deps } = await testApp();
  const db = deps.database.db;
  const secret = deps.config.secretKey;
  const admin = await json(await request("/api/v1/user_account/me", { headers: DEV }));

  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = DEV) =>
    request(`${BASE}${path}`, body === undefined ? { method, headers } : jsonInit(method, body, headers));
  async function created(path: string, body: unknown) {
    const res = await call("POST", path, body);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return json(res);
  }
  const newValidation = (extra: Record<string, unknown> = {}) =>
    created("/validation", { name: `施策 ${tag()}`, ...extra });
  const newIssue = (validationId: string, extra: Record<string, unknown> = {}) =>
    created("/issue", { validationId, name: `課題 ${tag()}`, agentPrompt: "## 目的\nテスト", ...extra });
  async function auditOf(resourceId: string) {
    return db.select().from(auditLog).where(eq(auditLog.resourceId, resourceId)).orderBy(auditLog.createdAt);
  }
  async function projectWithViewer() {
    const owner = await signIn(request, secret);
    const project = await json(
      await request("/api/v1/project", jsonInit("POST", { name: "分析", code: `M-${tag()}` }, owner.auth)),
    );
    return { owner, project };
  }

  test("every /admin route: 401 without a token, 403 for a non-admin (audited)", async () => {
    const id = crypto.randomUUID();
    const createBodies: Record<string, unknown> = {
      validation: { name: "x" },
      issue: { validationId: id, name: "x", agentPrompt: "p" },
      "graph-axis": { issueId: id, name: "x", option: "subject" },
      "dummy-formula": { issueId: id, name: "x", value: "y" },
      "dummy-chart": { issueId: id, chart: { data: [], layout: {} } },
      category: { categoryName: "c", industryName: "i", driverType: "d" },
      formula: { driverTypeId: id, driverType: "d", kpi: "売上", formulas: ["売上 = a * b"] },
    };
    // The analysis masters' routes (other admin routes have their own tests; tests/admin-guard.test.ts walks them all).
    const routes = app.routes.filter(
      (r) => r.path.startsWith(`${BASE}/`) && r.path.split("/")[4] in createBodies,
    );
    expect(routes).toHaveLength(Object.keys(createBodies).length * 5);
    const user = await signIn(request, secret);
    for (const r of routes) {
      const resource = r.path.split("/")[4];
      const path = r.path.replace(":id", id);
      const body = r.method === "POST" ? createBodies[resource] : r.method === "PATCH" ? {} : undefined;
      const init = (headers: Record<string, string>) =>
        body === undefined ? { method: r.method, headers } : jsonInit(r.method, body, headers);
      const anon = await request(path, init({}));
      expect([r.method, r.path, anon.status]).toEqual([r.method, r.path, 401]);
      expect((await json(anon)).code).toBe("UNAUTHENTICATED");
      const denied = await request(path, init(user.auth));
      expect([r.method, r.path, denied.status]).toEqual([r.method, r.path, 403]);
      expect((await json(denied)).code).toBe("ADMIN_REQUIRED");
    }
    expect(new Set(routes.map((r) => r.path.split("/")[4]))).toEqual(new Set(Object.keys(createBodies)));
    const denials = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, user.id), eq(auditLog.action, "ACCESS_DENIED")));
    expect(denials).toHaveLength(routes.length);
  });

  test("validation: create, read, list, patch, archive, restore, purge — exact shapes and audit", async () => {
    const name = `施策 ${tag()}`;
    const v = await created("/validation", { name: `  ${name} `, validationOrder: 3 });
    expect(v).toEqual({
      id: expect.stringMatching(UUID),
      name,
      validationOrder: 3,
      isActive: true,
      archivedAt: null,
      issueCount: 0,
      createdAt: expect.stringMatching(TS),
      updatedAt: expect.stringMatching(TS),
    });
    expect(await json(await call("GET", `/validation/${v.id}`))).toEqual(v);
    const list = await json(await call("GET", `/validation?q=${encodeURIComponent(name)}`));
    expect(list).toEqual({ items: [v], total: 1, skip: 0, limit: 50 });

    const patched = await json(await call("PATCH", `/validation/${v.id}`, { validationOrder: 1 }));
    expect(patched).toMatchObject({ name, validationOrder: 1, isActive: true });
    expect(patched.updatedAt >= v.updatedAt).toBe(true);

    expect((await call("DELETE", `/validation/${v.id}`)).status).toBe(204);
    const archived = await json(await call("GET", `/validation/${v.id}`));
    expect(archived).toMatchObject({ isActive: false, archivedAt: expect.stringMatching(TS) });
    expect((await json(await call("GET", `/validation?q=${encodeURIComponent(name)}`))).total).toBe(0);
    const withArchived = await json(
      await call("GET", `/validation?includeArchived=true&q=${encodeURIComponent(name)}`),
    );
    expect(withArchived.items.map((x: any) => x.id)).toEqual([v.id]);

    const restored = await json(await call("PATCH", `/validation/${v.id}`, { isActive: true }));
    expect(restored).toMatchObject({ isActive: true, archivedAt: null });

    expect((await call("DELETE", `/validation/${v.id}?purge=true`)).status).toBe(204);
    const gone = await call("GET", `/validation/${v.id}`);
    expect(gone.status).toBe(404);
    expect((await json(gone)).code).toBe("MASTER_NOT_FOUND");

    const rows = await auditOf(v.id);
    expect(rows.map((r) => r.action)).toEqual(["CREATE", "UPDATE", "ARCHIVE", "UPDATE", "DELETE"]);
    for (const r of rows) {
      expect(r.userId).toBe(admin.id);
      expect(r.actorEmail).toBe(admin.email);
      expect(r.resourceType).toBe("analysis_validation_master");
    }
    expect(rows[1].oldValue).toMatchObject({ validationOrder: 3 });
    expect(rows[1].newValue).toMatchObject({ validationOrder: 1 });
    expect(rows[1].changedFields).toEqual(["validationOrder"]);
    expect(rows[2].severity).toBe("WARNING");
    expect(rows[3].metadata).toEqual({ restored: true });
    expect(rows[4].metadata).toEqual({ purge: true });
  });

  test("list paging, default order (order field, then name) and sort", async () => {
    const t = tag();
    for (const [n, o] of [
      ["b", 2],
      ["a", 2],
      ["c", 1],
    ] as const) {
      await created("/validation", { name: `順序 ${t} ${n}`, validationOrder: o });
    }
    const q = `q=${encodeURIComponent(`順序 ${t}`)}`;
    const names = async (qs: string) =>
      (await json(await call("GET", `/validation?${q}&${qs}`))).items.map((x: any) => x.name.slice(-1));
    expect(await names("")).toEqual(["c", "a", "b"]);
    expect(await names("sort=name")).toEqual(["a", "b", "c"]);
    expect(await names("sort=-createdAt")).toEqual(["c", "a", "b"]);
    const page = await json(await call("GET", `/validation?${q}&skip=1&limit=1`));
    expect(page).toMatchObject({ total: 3, skip: 1, limit: 1 });
    expect(page.items).toHaveLength(1);
    expect((await call("GET", `/validation?limit=501`)).status).toBe(422);
    expect((await call("GET", `/validation?sort=bogus`)).status).toBe(422);
    expect((await call("GET", `/validation?nope=1`)).status).toBe(422);
  });

  test("validation NAME_TAKEN (case-insensitive, on create and rename); closed bodies", async () => {
    const v = await newValidation({ name: `Theme ${tag()}` });
    const clash = await call("POST", "/validation", { name: v.name.toUpperCase() });
    expect(clash.status).toBe(409);
    expect((await json(clash)).code).toBe("NAME_TAKEN");
    const other = await newValidation();
    const rename = await call("PATCH", `/validation/${other.id}`, { name: v.name });
    expect((await json(rename)).code).toBe("NAME_TAKEN");
    const extra = await call("POST", "/validation", { name: `x ${tag()}`, colour: "red" });
    expect(extra.status).toBe(422);
    expect((await json(extra)).code).toBe("VALIDATION_FAILED");
    expect((await call("PATCH", `/validation/${v.id}`, { issueCount: 2 })).status).toBe(422);
    expect((await call("POST", "/validation", { name: "   " })).status).toBe(422);
    expect((await call("POST", "/validation", { name: "x".repeat(256) })).status).toBe(422);
    expect((await call("PATCH", `/validation/${crypto.randomUUID()}`, { name: "z" })).status).toBe(404);
    expect((await call("GET", "/validation/not-a-uuid")).status).toBe(422);
  });

  test("issue: round trip with exact shape, per-validation NAME_TAKEN, 404/409 on the parent", async () => {
    const v = await newValidation();
    const rows = Array.from({ length: 3 }, (_, i) => ({
      製品: `P${i}`,
      値: i * 10,
      有効: i > 0,
      備考: null,
    }));
    const name = `赤字製品 ${tag()}`;
    const body = {
      validationId: v.id,
      name,
      description: "説明",
      agentPrompt: "## 目的\n赤字製品の特定",
      initialMessage: "科目を選んでください。",
      dummyHint: "製品別の損益",
      dummyInput: rows,
      issueOrder: 4,
    };
    const res = await call("POST", "/issue", body);
    expect(res.status).toBe(201);
    const issue = await json(res);
    expect(issue).toEqual({
      id: expect.stringMatching(UUID),
      ...body,
      isActive: true,
      archivedAt: null,
      sessionCount: 0,
      createdAt: expect.stringMatching(TS),
      updatedAt: expect.stringMatching(TS),
    });
    expect(await json(await call("GET", `/issue/${issue.id}`))).toEqual(issue);
    expect((await json(await call("GET", `/validation/${v.id}`))).issueCount).toBe(1);
    const list = await json(await call("GET", `/issue?validationId=${v.id}`));
    expect(list).toEqual({ items: [issue], total: 1, skip: 0, limit: 50 });

    const patched = await json(
      await call("PATCH", `/issue/${issue.id}`, { description: null, dummyInput: null, issueOrder: 1 }),
    );
    expect(patched).toMatchObject({ description: null, dummyInput: null, issueOrder: 1, name });
    expect(patched.initialMessage).toBe(body.initialMessage);

    const dup = await call("POST", "/issue", { ...body, name: name.toLowerCase() + "" });
    expect(dup.status).toBe(409);
    expect((await json(dup)).code).toBe("NAME_TAKEN");
    const elsewhere = await newValidation();
    await newIssue(elsewhere.id, { name });

    const orphan = await call("POST", "/issue", { ...body, validationId: crypto.randomUUID() });
    expect(orphan.status).toBe(404);
    expect((await json(orphan)).code).toBe("MASTER_NOT_FOUND");
    await call("DELETE", `/validation/${elsewhere.id}`);
    const onArchived = await call("POST", "/issue", { ...body, validationId: elsewhere.id, name: "新" });
    expect(onArchived.status).toBe(409);
    expect((await json(onArchived)).code).toBe("MASTER_ARCHIVED");

    const audit = await auditOf(issue.id);
    expect(audit.map((r) => [r.action, r.userId])).toEqual([
      ["CREATE", admin.id],
      ["UPDATE", admin.id],
    ]);
    expect(audit[0].newValue).toMatchObject({ name, initialMessage: body.initialMessage });
    expect((audit[0].newValue as any).dummyInput).toMatchObject({ rows: 3 });
    expect(audit[1].changedFields).toEqual(
      expect.arrayContaining(["description", "dummyInput", "issueOrder"]),
    );
  });

  test("issue bodies: closed, ≤1000 flat rows, length limits", async () => {
    const v = await newValidation();
    const base = { validationId: v.id, name: `x ${tag()}`, agentPrompt: "p" };
    expect((await call("POST", "/issue", { ...base, initialMsg: "old column name" })).status).toBe(422);
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ i }));
    expect((await call("POST", "/issue", { ...base, dummyInput: tooMany })).status).toBe(422);
    const nested = [{ a: { b: 1 } }];
    expect((await call("POST", "/issue", { ...base, dummyInput: nested })).status).toBe(422);
    expect((await call("POST", "/issue", { ...base, dummyInput: [[1, 2]] })).status).toBe(422);
    expect((await call("POST", "/issue", { ...base, agentPrompt: "" })).status).toBe(422);
    expect((await call("POST", "/issue", { ...base, dummyHint: "x".repeat(5001) })).status).toBe(422);
    const ok = await call("POST", "/issue", {
      ...base,
      dummyInput: Array.from({ length: 1000 }, (_, i) => ({ i })),
    });
    expect(ok.status).toBe(201);
    expect((await json(ok)).dummyInput).toHaveLength(1000);
  });

  test("archive takes an issue out of the project catalogue; PATCH isActive true brings it back", async () => {
    const { owner, project } = await projectWithViewer();
    const v = await newValidation();
    const issue = await newIssue(v.id);
    const catalogue = async () =>
      (
        await json(
          await request(`/api/v1/project/${project.id}/analysis/template?validationId=${v.id}`, {
            headers: owner.auth,
          }),
        )
      ).items.map((i: any) => i.issueId);
    expect(await catalogue()).toEqual([issue.id]);

    expect((await call("DELETE", `/issue/${issue.id}`)).status).toBe(204);
    expect(await catalogue()).toEqual([]);
    const archived = await json(await call("GET", `/issue/${issue.id}`));
    expect(archived).toMatchObject({ isActive: false, archivedAt: expect.stringMatching(TS) });
    expect((await json(await call("GET", `/issue?validationId=${v.id}`))).total).toBe(0);
    expect((await json(await call("GET", `/issue?validationId=${v.id}&includeArchived=true`))).total).toBe(1);
    const refused = await request(
      `/api/v1/project/${project.id}/analysis/session`,
      jsonInit("POST", { issueId: issue.id }, owner.auth),
    );
    expect((await json(refused)).code).toBe("MASTER_ARCHIVED");

    const restored = await json(await call("PATCH", `/issue/${issue.id}`, { isActive: true }));
    expect(restored).toMatchObject({ isActive: true, archivedAt: null });
    expect(await catalogue()).toEqual([issue.id]);

    // Archiving the validation hides its issues too.
    expect((await call("DELETE", `/validation/${v.id}`)).status).toBe(204);
    expect(await catalogue()).toEqual([]);
    const hidden = await request(`/api/v1/project/${project.id}/analysis/template/${issue.id}`, {
      headers: owner.auth,
    });
    expect((await json(hidden)).code).toBe("ISSUE_NOT_FOUND");
    const underArchived = await request(
      `/api/v1/project/${project.id}/analysis/session`,
      jsonInit("POST", { issueId: issue.id }, owner.auth),
    );
    expect((await json(underArchived)).code).toBe("MASTER_ARCHIVED");
    await call("PATCH", `/validation/${v.id}`, { isActive: true });
    expect(await catalogue()).toEqual([issue.id]);

    const actions = (await auditOf(issue.id)).map((r) => r.action);
    expect(actions).toEqual(["CREATE", "ARCHIVE", "UPDATE"]);
  });

  test("purge: refused while a session uses the issue or an issue the validation; cascades children", async () => {
    const { owner, project } = await projectWithViewer();
    const v = await newValidation();
    const used = await newIssue(v.id);
    const session = await request(
      `/api/v1/project/${project.id}/analysis/session`,
      jsonInit("POST", { issueId: used.id }, owner.auth),
    );
    expect(session.status).toBe(201);
    expect((await json(await call("GET", `/issue/${used.id}`))).sessionCount).toBe(1);

    const blocked = await call("DELETE", `/issue/${used.id}?purge=true`);
    expect(blocked.status).toBe(409);
    const problem = await json(blocked);
    expect(problem.code).toBe("MASTER_IN_USE");
    expect(problem.usage).toEqual({ sessions: 1, templates: 0 });
    expect((await call("GET", `/issue/${used.id}`)).status).toBe(200);

    const vBlocked = await call("DELETE", `/validation/${v.id}?purge=true`);
    expect(vBlocked.status).toBe(409);
    expect((await json(vBlocked)).code).toBe("MASTER_IN_USE");

    // An unused issue purges, and its axes, formulas and charts go with it.
    const free = await newIssue(v.id);
    const axis = await created("/graph-axis", { issueId: free.id, name: "横軸", option: "subject" });
    const formula = await created("/dummy-formula", { issueId: free.id, name: "利益", value: "XXX円" });
    const chart = await created("/dummy-chart", { issueId: free.id, chart: { data: [], layout: {} } });
    expect((await call("DELETE", `/issue/${free.id}?purge=true`)).status).toBe(204);
    expect((await call("GET", `/issue/${free.id}`)).status).toBe(404);
    expect((await call("GET", `/graph-axis/${axis.id}`)).status).toBe(404);
    expect((await call("GET", `/dummy-formula/${formula.id}`)).status).toBe(404);
    expect((await call("GET", `/dummy-chart/${chart.id}`)).status).toBe(404);
    const [purged] = (await auditOf(free.id)).filter((r) => r.action === "DELETE");
    expect(purged).toMatchObject({ userId: admin.id, severity: "WARNING" });
    expect(purged.metadata).toEqual({ purge: true, cascaded: { axes: 1, formulas: 1, charts: 1 } });
    expect(purged.oldValue).toMatchObject({ name: free.name });
  });

  test("graph-axis: round trip, option aliases, NAME_TAKEN per issue, 404 issue", async () => {
    const v = await newValidation();
    const issue = await newIssue(v.id);
    const axis = await created("/graph-axis", { issueId: issue.id, name: "横軸の科目", option: "科目" });
    expect(axis).toEqual({
      id: expect.stringMatching(UUID),
      issueId: issue.id,
      name: "横軸の科目",
      option: "subject",
      multiple: false,
      axisOrder: 0,
      createdAt: expect.stringMatching(TS),
      updatedAt: expect.stringMatching(TS),
    });
    expect(await json(await call("GET", `/graph-axis/${axis.id}`))).toEqual(axis);
    const second = await created("/graph-axis", {
      issueId: issue.id,
      name: "Columns",
      option: "軸",
      multiple: true,
      axisOrder: -1,
    });
    expect(second).toMatchObject({ option: "column", multiple: true, axisOrder: -1 });
    const list = await json(await call("GET", `/graph-axis?issueId=${issue.id}`));
    expect(list).toEqual({ items: [second, axis], total: 2, skip: 0, limit: 50 });

    const patched = await json(
      await call("PATCH", `/graph-axis/${axis.id}`, { option: "コラム", axisOrder: 5 }),
    );
    expect(patched).toMatchObject({ option: "column", axisOrder: 5, name: "横軸の科目" });

    const dup = await call("POST", "/graph-axis", { issueId: issue.id, name: "columns", option: "column" });
    expect(dup.status).toBe(409);
    expect((await json(dup)).code).toBe("NAME_TAKEN");
    expect((await call("PATCH", `/graph-axis/${second.id}`, { name: "横軸の科目" })).status).toBe(409);
    const other = await newIssue(v.id);
    await created("/graph-axis", { issueId: other.id, name: "Columns", option: "column" });

    const orphan = await call("POST", "/graph-axis", {
      issueId: crypto.randomUUID(),
      name: "x",
      option: "subject",
    });
    expect(orphan.status).toBe(404);
    expect((await json(orphan)).code).toBe("MASTER_NOT_FOUND");
    expect(
      (await call("POST", "/graph-axis", { issueId: issue.id, name: "y", option: "x_axis" })).status,
    ).toBe(422);
    expect(
      (await call("POST", "/graph-axis", { issueId: issue.id, name: "y", option: "subject", extra: 1 }))
        .status,
    ).toBe(422);

    expect((await call("DELETE", `/graph-axis/${axis.id}`)).status).toBe(204);
    const gone = await call("DELETE", `/graph-axis/${axis.id}`);
    expect(gone.status).toBe(404);
    expect((await json(gone)).code).toBe("MASTER_NOT_FOUND");
    const [row] = await db
      .select()
      .from(analysisGraphAxisMaster)
      .where(eq(analysisGraphAxisMaster.id, axis.id));
    expect(row).toBeUndefined();
    expect((await auditOf(axis.id)).map((r) => [r.action, r.userId])).toEqual([
      ["CREATE", admin.id],
      ["UPDATE", admin.id],
      ["DELETE", admin.id],
    ]);
  });

  test("dummy-formula: round trip, 404 issue, closed body", async () => {
    const issue = await newIssue((await newValidation()).id);
    const f = await created("/dummy-formula", { issueId: issue.id, name: "利益合計", value: "2,880,000円" });
    expect(f).toEqual({
      id: expect.stringMatching(UUID),
      issueId: issue.id,
      name: "利益合計",
      value: "2,880,000円",
      formulaOrder: 0,
      createdAt: expect.stringMatching(TS),
      updatedAt: expect.stringMatching(TS),
    });
    expect(await json(await call("GET", `/dummy-formula/${f.id}`))).toEqual(f);
    const g = await created("/dummy-formula", {
      issueId: issue.id,
      name: "売上",
      value: "YYY円",
      formulaOrder: 2,
    });
    expect((await json(await call("GET", `/dummy-formula?issueId=${issue.id}`))).items).toEqual([f, g]);
    const patched = await json(
      await call("PATCH", `/dummy-formula/${f.id}`, { value: "XXX個", formulaOrder: 3 }),
    );
    expect(patched).toMatchObject({ value: "XXX個", formulaOrder: 3 });
    expect((await call("POST", "/dummy-formula", { issueId: issue.id, name: "x" })).status).toBe(422);
    expect(
      (await call("POST", "/dummy-formula", { issueId: issue.id, name: "x", value: "y", unit: "円" })).status,
    ).toBe(422);
    const orphan = await call("POST", "/dummy-formula", {
      issueId: crypto.randomUUID(),
      name: "x",
      value: "y",
    });
    expect((await json(orphan)).code).toBe("MASTER_NOT_FOUND");
    expect((await call("DELETE", `/dummy-formula/${f.id}`)).status).toBe(204);
    expect((await call("GET", `/dummy-formula/${f.id}`)).status).toBe(404);
    expect((await auditOf(f.id)).map((r) => r.action)).toEqual(["CREATE", "UPDATE", "DELETE"]);
  });

  test("dummy-chart: round trip; figure shape and the 512 KiB limit → 422", async () => {
    const issue = await newIssue((await newValidation()).id);
    const chart = { data: [{ type: "bar", x: ["A", "B"], y: [1, 2] }], layout: { title: { text: "利益" } } };
    const c = await created("/dummy-chart", { issueId: issue.id, chart, chartOrder: 1 });
    expect(c).toEqual({
      id: expect.stringMatching(UUID),
      issueId: issue.id,
      chart,
      chartOrder: 1,
      createdAt: expect.stringMatching(TS),
      updatedAt: expect.stringMatching(TS),
    });
    expect(await json(await call("GET", `/dummy-chart/${c.id}`))).toEqual(c);
    expect(await json(await call("GET", `/dummy-chart?issueId=${issue.id}`))).toEqual({
      items: [c],
      total: 1,
      skip: 0,
      limit: 50,
    });
    const next = { data: [], layout: {}, frames: [] };
    const patched = await json(await call("PATCH", `/dummy-chart/${c.id}`, { chart: next }));
    expect(patched.chart).toEqual(next);

    const big = { data: [{ type: "scatter", y: "9".repeat(600 * 1024) }], layout: {} };
    const oversize = await call("POST", "/dummy-chart", { issueId: issue.id, chart: big });
    expect(oversize.status).toBe(422);
    const problem = await json(oversize);
    expect(problem.code).toBe("VALIDATION_FAILED");
    expect(problem.errors[0].path).toBe("/body/chart");
    expect((await call("PATCH", `/dummy-chart/${c.id}`, { chart: big })).status).toBe(422);
    for (const bad of [
      { data: [] },
      { layout: {} },
      { data: {}, layout: {} },
      { data: [1], layout: {} },
      [],
    ]) {
      expect((await call("POST", "/dummy-chart", { issueId: issue.id, chart: bad })).status).toBe(422);
    }
    const orphan = await call("POST", "/dummy-chart", { issueId: crypto.randomUUID(), chart });
    expect((await json(orphan)).code).toBe("MASTER_NOT_FOUND");

    expect((await call("DELETE", `/dummy-chart/${c.id}`)).status).toBe(204);
    expect((await call("GET", `/dummy-chart/${c.id}`)).status).toBe(404);
    const audit = await auditOf(c.id);
    expect(audit.map((r) => r.action)).toEqual(["CREATE", "UPDATE", "DELETE"]);
    expect((audit[0].newValue as any).chart).toMatchObject({
      bytes: Buffer.byteLength(JSON.stringify(chart)),
    });
    expect(audit.every((r) => r.userId === admin.id)).toBe(true);
  });

  test("concurrent creates of one name: one 201, the rest 409 NAME_TAKEN", async () => {
    const name = `並行 ${tag()}`;
    const results = await Promise.all(Array.from({ length: 4 }, () => call("POST", "/validation", { name })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409]);
  });
});
