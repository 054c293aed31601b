import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { auditLog, driverTree, driverTreeFormula } from "@/db/schema";
import { insertTree } from "@/modules/driver-tree/repository";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";
import { world } from "./helpers/world";

/* Driver-tree masters: admin CRUD (api.md §2.12.1) and the project reads (§2.8), over HTTP. */

const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const tag = () => crypto.randomUUID().slice(0, 8);

describe("driver-tree masters", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const secret = deps.config.secretKey;
  const admin = await json(await request("/api/v1/user_account/me", { headers: DEV }));
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = DEV) =>
    request(
      `/api/v1/admin${path}`,
      body === undefined ? { method, headers } : jsonInit(method, body, headers),
    );
  async function created(path: string, body: unknown) {
    const res = await call("POST", path, body);
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    expect(res.headers.get("location")).toStartWith(`/api/v1/admin${path}/`);
    return json(res);
  }
  const problemOf = async (res: Response, status: number) => {
    expect(res.status).toBe(status);
    return json(res);
  };
  const auditOf = (id: string) =>
    db.select().from(auditLog).where(eq(auditLog.resourceId, id)).orderBy(auditLog.createdAt);

  test("category: create reuses ids by name, NAME_TAKEN on the same triple, list filters, patch, delete", async () => {
    const t = tag();
    const a = await created("/category", {
      categoryName: ` 小売 ${t} `,
      industryName: `スーパー ${t}`,
      driverType: `客数×客単価型 ${t}`,
      description: "説明",
    });
    expect(a).toEqual({
      id: expect.stringMatching(UUID),
      categoryId: expect.stringMatching(UUID),
      categoryName: `小売 ${t}`,
      industryId: expect.stringMatching(UUID),
      industryName: `スーパー ${t}`,
      driverTypeId: expect.stringMatching(UUID),
      driverType: `客数×客単価型 ${t}`,
      description: "説明",
      formulaCount: 0,
      createdAt: expect.stringMatching(TS),
      updatedAt: expect.stringMatching(TS),
    });
    // Same category and driver type names, new industry: the ids of the names are reused.
    const b = await created("/category", {
      categoryName: `小売 ${t}`,
      industryName: `専門店 ${t}`,
      driverType: `客数×客単価型 ${t}`,
    });
    expect(b.categoryId).toBe(a.categoryId);
    expect(b.driverTypeId).toBe(a.driverTypeId);
    expect(b.industryId).not.toBe(a.industryId);
    expect(b.description).toBeNull();
    // An explicit id wins over the name.
    const explicit = crypto.randomUUID();
    const c = await created("/category", {
      categoryId: explicit,
      categoryName: `小売 ${t}`,
      industryName: `専門店 ${t}`,
      driverType: `店舗数型 ${t}`,
    });
    expect(c.categoryId).toBe(explicit);
    expect(c.industryId).toBe(b.industryId);

    const dup = await problemOf(
      await call("POST", "/category", {
        categoryName: `小売 ${t}`,
        industryName: `スーパー ${t}`,
        driverType: `客数×客単価型 ${t}`,
      }),
      409,
    );
    expect(dup.code).toBe("NAME_TAKEN");
    const blank = await problemOf(
      await call("POST", "/category", { categoryName: "  ", industryName: "x", driverType: "y" }),
      422,
    );
    expect(blank.code).toBe("VALIDATION_FAILED");

    expect(await json(await call("GET", `/category/${a.id}`))).toEqual(a);
    const byType = await json(await call("GET", `/category?driverTypeId=${a.driverTypeId}`));
    expect(byType.items.map((x: any) => x.id).sort()).toEqual([a.id, b.id].sort());
    expect(byType.total).toBe(2);
    const byIndustry = await json(await call("GET", `/category?industryId=${b.industryId}`));
    expect(byIndustry.items.map((x: any) => x.id).sort()).toEqual([b.id, c.id].sort());
    const byQ = await json(await call("GET", `/category?q=${encodeURIComponent(`店舗数型 ${t}`)}`));
    expect(byQ.items.map((x: any) => x.id)).toEqual([c.id]);
    const paged = await json(await call("GET", `/category?q=${encodeURIComponent(t)}&limit=1&skip=1`));
    expect(paged).toMatchObject({ total: 3, skip: 1, limit: 1 });
    expect((await call("GET", "/category?bogus=1")).status).toBe(422);

    const patched = await json(
      await call("PATCH", `/category/${c.id}`, { description: "更新", industryName: `新 ${t}` }),
    );
    expect(patched).toMatchObject({ description: "更新", industryName: `新 ${t}`, industryId: b.industryId });
    const clash = await problemOf(
      await call("PATCH", `/category/${c.id}`, { categoryId: b.categoryId, driverTypeId: b.driverTypeId }),
      409,
    );
    expect(clash.code).toBe("NAME_TAKEN");

    // A formula filed under the row survives its delete with categoryId null.
    const f = await created("/formula", {
      driverTypeId: a.driverTypeId,
      driverType: a.driverType,
      kpi: "売上",
      formulas: ["売上 = 客数 * 客単価"],
      categoryId: a.id,
    });
    expect((await json(await call("GET", `/category/${a.id}`))).formulaCount).toBe(1);
    expect((await call("DELETE", `/category/${a.id}`)).status).toBe(204);
    expect((await problemOf(await call("GET", `/category/${a.id}`), 404)).code).toBe("MASTER_NOT_FOUND");
    expect((await problemOf(await call("DELETE", `/category/${a.id}`), 404)).code).toBe("MASTER_NOT_FOUND");
    expect((await json(await call("GET", `/formula/${f.id}`))).categoryId).toBeNull();

    const rows = await auditOf(a.id);
    expect(rows.map((r) => [r.action, r.resourceType, r.userId])).toEqual([
      ["CREATE", "driver_tree_category", admin.id],
      ["DELETE", "driver_tree_category", admin.id],
    ]);
    expect(rows[1].metadata).toEqual({ formulasDetached: 1 });
    expect((await auditOf(c.id)).map((r) => r.action)).toEqual(["CREATE", "UPDATE"]);
  });

  test("concurrent creates under one new category name share one categoryId", async () => {
    const t = tag();
    const rows = await Promise.all(
      [1, 2, 3, 4, 5].map((i) =>
        created("/category", {
          categoryName: `同時 ${t}`,
          industryName: `業種 ${t} ${i}`,
          driverType: `型 ${t}`,
        }),
      ),
    );
    expect(new Set(rows.map((r) => r.categoryId)).size).toBe(1);
    expect(new Set(rows.map((r) => r.driverTypeId)).size).toBe(1);
    expect(new Set(rows.map((r) => r.industryId)).size).toBe(5);
  });

  test("formula: validation with line and index, KPI root, NAME_TAKEN, unknown category, patch, delete nulls trees", async () => {
    const driverTypeId = crypto.randomUUID();
    const driverType = `数量×単価型 ${tag()}`;
    const bad = await problemOf(
      await call("POST", "/formula", {
        driverTypeId,
        driverType,
        kpi: "売上",
        formulas: ["売上 = 販売数量 * 販売単価", "販売単価 = (定価 - 値引"],
      }),
      422,
    );
    expect(bad).toMatchObject({ code: "FORMULA_INVALID", line: 1, index: expect.any(Number) });
    expect(bad.errors[0].path).toBe("/body/formulas/1");
    const wrongRoot = await problemOf(
      await call("POST", "/formula", {
        driverTypeId,
        driverType,
        kpi: "原価",
        formulas: ["売上 = 販売数量 * 販売単価"],
      }),
      422,
    );
    expect(wrongRoot.code).toBe("FORMULA_INVALID");
    expect(wrongRoot.detail).toContain("原価");
    const twoRoots = await problemOf(
      await call("POST", "/formula", {
        driverTypeId,
        driverType,
        kpi: "売上",
        formulas: ["売上 = a * b", "原価 = c * d"],
      }),
      422,
    );
    expect(twoRoots.code).toBe("FORMULA_INVALID");
    const cycle = await problemOf(
      await call("POST", "/formula", {
        driverTypeId,
        driverType,
        kpi: "売上",
        formulas: ["売上 = a * b", "a = 売上 + c"],
      }),
      422,
    );
    expect(cycle.code).toBe("FORMULA_INVALID");
    expect(
      (await call("POST", "/formula", { driverTypeId, driverType, kpi: "利益", formulas: ["利益 = a"] }))
        .status,
    ).toBe(422);
    expect(
      (await call("POST", "/formula", { driverTypeId, driverType, kpi: "売上", formulas: [] })).status,
    ).toBe(422);
    const noCategory = await problemOf(
      await call("POST", "/formula", {
        driverTypeId,
        driverType,
        kpi: "売上",
        formulas: ["売上 = a * b"],
        categoryId: crypto.randomUUID(),
      }),
      404,
    );
    expect(noCategory.code).toBe("MASTER_NOT_FOUND");

    const f = await created("/formula", {
      driverTypeId,
      driverType,
      kpi: "売上",
      formulas: [" 売上 = 販売数量 * 販売単価 "],
    });
    expect(f).toEqual({
      id: expect.stringMatching(UUID),
      driverTypeId,
      driverType,
      kpi: "売上",
      formulas: ["売上 = 販売数量 * 販売単価"],
      categoryId: null,
      treeCount: 0,
      createdAt: expect.stringMatching(TS),
      updatedAt: expect.stringMatching(TS),
    });
    const dup = await problemOf(
      await call("POST", "/formula", { driverTypeId, driverType, kpi: "売上", formulas: ["売上 = x * y"] }),
      409,
    );
    expect(dup.code).toBe("NAME_TAKEN");
    const cost = await created("/formula", {
      driverTypeId,
      driverType,
      kpi: "原価",
      formulas: ["原価 = 販売数量 * 単位原価"],
    });
    const list = await json(await call("GET", `/formula?driverTypeId=${driverTypeId}`));
    expect(list.items.map((x: any) => x.kpi)).toEqual(["売上", "原価"]);
    const one = await json(
      await call("GET", `/formula?driverTypeId=${driverTypeId}&kpi=${encodeURIComponent("原価")}`),
    );
    expect(one.items.map((x: any) => x.id)).toEqual([cost.id]);

    // A KPI change must match the root of the list; a new list is validated too.
    expect((await problemOf(await call("PATCH", `/formula/${cost.id}`, { kpi: "粗利" }), 422)).code).toBe(
      "FORMULA_INVALID",
    );
    const badPatch = await problemOf(
      await call("PATCH", `/formula/${cost.id}`, { formulas: ["原価 = = 1"] }),
      422,
    );
    expect(badPatch).toMatchObject({ code: "FORMULA_INVALID", line: 0 });
    const patched = await json(
      await call("PATCH", `/formula/${cost.id}`, {
        formulas: ["原価 = 販売数量 * 単位原価", "単位原価 = 材料費 + 加工費"],
      }),
    );
    expect(patched.formulas).toHaveLength(2);

    // Trees built from a formula keep existing with formulaId null once it is deleted.
    const { project } = await world(request, secret, {});
    const tree = await db.transaction((tx) =>
      insertTree(tx, { projectId: project.id, name: "T", createdBy: null, formulaId: f.id }),
    );
    expect((await json(await call("GET", `/formula/${f.id}`))).treeCount).toBe(1);
    expect((await call("DELETE", `/formula/${f.id}`)).status).toBe(204);
    const [after] = await db.select().from(driverTree).where(eq(driverTree.id, tree.id));
    expect(after.formulaId).toBeNull();
    expect(await db.select().from(driverTreeFormula).where(eq(driverTreeFormula.id, f.id))).toEqual([]);
    const audit = await auditOf(f.id);
    expect(audit.map((r) => r.action)).toEqual(["CREATE", "DELETE"]);
    expect(audit[1].metadata).toEqual({ treesDetached: 1 });
    expect((await auditOf(cost.id)).map((r) => r.action)).toEqual(["CREATE", "UPDATE"]);
  });

  test("project reads: V+ sees the category tree and a formula; outsiders get 404; unknown formula 404", async () => {
    const t = tag();
    const cat = await created("/category", {
      categoryName: `飲食 ${t}`,
      industryName: `カフェ ${t}`,
      driverType: `店舗数×店舗売上型 ${t}`,
    });
    await created("/category", {
      categoryName: `飲食 ${t}`,
      industryName: `飲食店 ${t}`,
      driverType: `客数×客単価型 ${t}`,
    });
    const f = await created("/formula", {
      driverTypeId: cat.driverTypeId,
      driverType: cat.driverType,
      kpi: "粗利",
      formulas: ["粗利 = 売上 - 原価", "売上 = 店舗数 * 店舗当たり売上"],
      categoryId: cat.id,
    });
    const { project, users } = await world(request, secret, { viewer: "viewer" });
    const base = `/api/v1/project/${project.id}/driver-tree`;
    const res = await request(`${base}/category`, { headers: users.viewer.auth });
    expect(res.status).toBe(200);
    const mine = (await json(res)).categories.find((c: any) => c.categoryId === cat.categoryId);
    expect(mine).toEqual({
      categoryId: cat.categoryId,
      categoryName: `飲食 ${t}`,
      industries: [
        {
          industryId: cat.industryId,
          industryName: `カフェ ${t}`,
          driverTypes: [{ driverTypeId: cat.driverTypeId, driverType: `店舗数×店舗売上型 ${t}` }],
        },
        {
          industryId: expect.stringMatching(UUID),
          industryName: `飲食店 ${t}`,
          driverTypes: [expect.any(Object)],
        },
      ],
    });
    const q = (kpi: string, id = cat.driverTypeId) =>
      `${base}/formula?driverTypeId=${id}&kpi=${encodeURIComponent(kpi)}`;
    const got = await json(await request(q("粗利"), { headers: users.viewer.auth }));
    expect(got).toEqual({
      formula: {
        formulaId: f.id,
        driverTypeId: cat.driverTypeId,
        driverType: cat.driverType,
        kpi: "粗利",
        formulas: ["粗利 = 売上 - 原価", "売上 = 店舗数 * 店舗当たり売上"],
        categoryId: cat.id,
      },
    });
    expect((await problemOf(await request(q("EBITDA"), { headers: users.viewer.auth }), 404)).code).toBe(
      "FORMULA_NOT_FOUND",
    );
    expect((await request(q("利益"), { headers: users.viewer.auth })).status).toBe(422);
    expect(
      (await request(`${base}/formula?kpi=${encodeURIComponent("粗利")}`, { headers: users.viewer.auth }))
        .status,
    ).toBe(422);
    expect(
      (await problemOf(await request(`${base}/category`, { headers: users.outsider.auth }), 404)).code,
    ).toBe("PROJECT_NOT_FOUND");
    expect((await request(`${base}/category`)).status).toBe(401);
    // Reads are allowed on an inactive project.
    const off = await request(
      `/api/v1/project/${project.id}`,
      jsonInit("PATCH", { isActive: false }, users.manager.auth),
    );
    expect(off.status).toBe(200);
    expect((await request(q("粗利"), { headers: users.viewer.auth })).status).toBe(200);
    const denials = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.userId, users.outsider.id), eq(auditLog.action, "ACCESS_DENIED")));
    expect(denials).toHaveLength(1);
  });
});
