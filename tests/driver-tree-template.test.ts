import { describe, expect, test } from "bun:test";
import { and, eq } from "drizzle-orm";
import { auditLog, driverTree, driverTreePolicy } from "@/db/schema";
import { newId } from "@/lib/ids";
import { insertStructure, insertTree } from "@/modules/driver-tree/repository";
import { testApp } from "./helpers/context";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";
import { world } from "./helpers/world";

/* Driver-tree templates (api.md §2.8 "Templates", analysis.md §7.10) over HTTP. */

const TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("driver-tree templates", async () => {
  const { request, deps } = await testApp();
  const db = deps.database.db;
  const secret = deps.config.secretKey;
  const { project, users } = await world(request, secret, {
    member: "member",
    other: "member",
    moderator: "project_moderator",
    viewer: "viewer",
  });
  const second = await world(request, secret, { member: "member" }, "Second");
  const base = (p = project.id) => `/api/v1/project/${p}/driver-tree/template`;
  const post = (path: string, body: unknown, auth: Record<string, string>) =>
    request(path, jsonInit("POST", body, auth));

  /* 売上 = 客数 * 客単価 * 1.1 with a policy on 客数; root at (400, 100). */
  async function sourceTree(projectId: string, createdBy: string | null) {
    const [root, customers, spend, factor, detached] = [newId(), newId(), newId(), newId(), newId()];
    const tree = await db.transaction(async (tx) => {
      const t = await insertTree(tx, { projectId, name: "売上ツリー", createdBy });
      await insertStructure(tx, t.id, {
        rootId: root,
        nodes: [
          { id: customers, label: "客数", nodeType: "input", positionX: 200, positionY: 220, value: 25000 },
          { id: root, label: "売上", nodeType: "calculation", positionX: 400, positionY: 100, value: null },
          { id: spend, label: "客単価", nodeType: "input", positionX: 400, positionY: 220, value: 2000 },
          { id: factor, label: "1.1", nodeType: "constant", positionX: 600, positionY: 220, value: 1.1 },
          { id: detached, label: "メモ", nodeType: "input", positionX: 900, positionY: 0, value: null },
        ],
        relationships: [{ parentId: root, operator: "*", childIds: [customers, spend, factor] }],
      });
      await tx.insert(driverTreePolicy).values({ id: newId(), nodeId: customers, label: "販促", value: 10 });
      return t;
    });
    return { tree, ids: { root, customers, spend, factor, detached } };
  }

  const { tree } = await sourceTree(project.id, users.member.id);

  test("save: structure relative to the root and constants only; roles, NAME_TAKEN, foreign tree", async () => {
    const res = await post(
      base(),
      {
        name: " 売上テンプレート ",
        description: "客数×客単価",
        category: "retail_ec",
        sourceTreeId: tree.id,
      },
      users.member.auth,
    );
    expect(res.status).toBe(201);
    const tpl = await json(res);
    expect(res.headers.get("location")).toBe(`${base()}/${tpl.id}`);
    expect(tpl).toEqual({
      id: expect.any(String),
      projectId: project.id,
      name: "売上テンプレート",
      description: "客数×客単価",
      category: "retail_ec",
      isPublic: false,
      nodeCount: 5,
      sourceTreeId: tree.id,
      usageCount: 0,
      lastUsedAt: null,
      createdBy: { id: users.member.id, email: users.member.email, displayName: expect.anything() },
      editable: true,
      createdAt: expect.stringMatching(TS),
      updatedAt: expect.stringMatching(TS),
      config: {
        nodes: [
          { key: "n0", label: "売上", nodeType: "calculation", relativeX: 0, relativeY: 0, value: null },
          { key: "n1", label: "客数", nodeType: "input", relativeX: -200, relativeY: 120, value: null },
          { key: "n2", label: "客単価", nodeType: "input", relativeX: 0, relativeY: 120, value: null },
          { key: "n3", label: "1.1", nodeType: "constant", relativeX: 200, relativeY: 120, value: 1.1 },
          { key: "n4", label: "メモ", nodeType: "input", relativeX: 500, relativeY: -100, value: null },
        ],
        relationships: [{ parentKey: "n0", operator: "*", childKeys: ["n1", "n2", "n3"] }],
      },
    });
    const same = await post(
      base(),
      { name: "売上テンプレート".toUpperCase(), sourceTreeId: tree.id },
      users.other.auth,
    );
    expect(same.status).toBe(409);
    expect((await json(same)).code).toBe("NAME_TAKEN");
    const publicByMember = await post(
      base(),
      { name: "公開", sourceTreeId: tree.id, isPublic: true },
      users.member.auth,
    );
    expect(publicByMember.status).toBe(403);
    expect((await json(publicByMember)).code).toBe("ROLE_INSUFFICIENT");
    const byViewer = await post(base(), { name: "閲覧者", sourceTreeId: tree.id }, users.viewer.auth);
    expect(byViewer.status).toBe(403);
    expect((await json(byViewer)).code).toBe("ROLE_INSUFFICIENT");
    const foreign = await sourceTree(second.project.id, second.users.member.id);
    const wrongProject = await post(base(), { name: "他", sourceTreeId: foreign.tree.id }, users.member.auth);
    expect(wrongProject.status).toBe(404);
    expect((await json(wrongProject)).code).toBe("TREE_NOT_FOUND");
    expect((await post(base(), { name: "", sourceTreeId: tree.id }, users.member.auth)).status).toBe(422);
    expect(
      (await post(base(), { name: "x", sourceTreeId: tree.id, category: "food" }, users.member.auth)).status,
    ).toBe(422);
    const [audit] = await db.select().from(auditLog).where(eq(auditLog.resourceId, tpl.id));
    expect(audit).toMatchObject({
      action: "CREATE",
      resourceType: "driver_tree_template",
      userId: users.member.id,
      projectId: project.id,
    });
  });

  test("apply: a new tree reproduces structure, relative positions and constants, without policies", async () => {
    const tpl = await json(await post(base(), { name: "適用元", sourceTreeId: tree.id }, users.member.auth));
    const res = await post(`${base()}/${tpl.id}/apply`, { positionX: 1000, positionY: 50 }, users.other.auth);
    expect(res.status).toBe(201);
    const applied = await json(res);
    expect(res.headers.get("location")).toBe(`/api/v1/project/${project.id}/driver-tree/tree/${applied.id}`);
    expect(applied).toMatchObject({
      projectId: project.id,
      name: "適用元",
      sourceTemplateId: tpl.id,
      formulaId: null,
      nodeCount: 5,
      policyCount: 0,
      createdBy: { id: users.other.id },
    });
    const byLabel = new Map(applied.nodes.map((n: any) => [n.label, n]));
    const node = (l: string) => byLabel.get(l) as any;
    expect(applied.rootNodeId).toBe(node("売上").id);
    expect(
      applied.nodes
        .map((n: any) => [n.label, n.nodeType, n.positionX, n.positionY, n.value, n.binding, n.policyCount])
        .sort(),
    ).toEqual(
      [
        ["売上", "calculation", 1000, 50, null, null, 0],
        ["客数", "input", 800, 170, null, null, 0],
        ["客単価", "input", 1000, 170, null, null, 0],
        ["1.1", "constant", 1200, 170, 1.1, null, 0],
        ["メモ", "input", 1500, -50, null, null, 0],
      ].sort(),
    );
    expect(applied.relationship).toEqual([
      {
        parentId: node("売上").id,
        operator: "*",
        childIdList: [node("客数").id, node("客単価").id, node("1.1").id],
      },
    ]);
    const again = await json(await request(`${base()}/${tpl.id}`, { headers: users.viewer.auth }));
    expect(again).toMatchObject({ usageCount: 1, lastUsedAt: expect.stringMatching(TS), editable: false });
    const named = await json(await post(`${base()}/${tpl.id}/apply`, { name: "別名" }, users.member.auth));
    expect(named).toMatchObject({ name: "別名", sourceTemplateId: tpl.id });
    expect(named.nodes.find((n: any) => n.label === "売上")).toMatchObject({ positionX: 0, positionY: 0 });
    expect(
      (await json(await request(`${base()}/${tpl.id}`, { headers: users.member.auth }))).usageCount,
    ).toBe(2);
    const actions = await db.select().from(auditLog).where(eq(auditLog.resourceId, tpl.id));
    expect(actions.map((a) => a.action).sort()).toEqual(["APPLY", "APPLY", "CREATE"]);
    const created = await db.select().from(auditLog).where(eq(auditLog.resourceId, applied.id));
    expect(created.map((a) => [a.action, a.resourceType])).toEqual([["CREATE", "driver_tree"]]);

    const byViewer = await post(`${base()}/${tpl.id}/apply`, {}, users.viewer.auth);
    expect(byViewer.status).toBe(403);
    const unknown = await post(`${base()}/${newId()}/apply`, {}, users.member.auth);
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).code).toBe("TEMPLATE_NOT_FOUND");
  });

  test("visibility: private stays in its project, public is listed, read and applied everywhere", async () => {
    // Public templates of earlier runs stay visible on a kept database: names carry a run tag.
    const tg = crypto.randomUUID().slice(0, 8);
    const priv = await json(
      await post(base(), { name: "非公開", sourceTreeId: tree.id, category: "saas" }, users.member.auth),
    );
    const pub = await json(
      await post(
        base(),
        { name: `公開テンプレート ${tg}`, sourceTreeId: tree.id, isPublic: true },
        users.manager.auth,
      ),
    );
    expect(pub.isPublic).toBe(true);
    const outside = second.users.member.auth;
    const listed = await json(await request(`${base(second.project.id)}?limit=500`, { headers: outside }));
    const ids = listed.items.map((x: any) => x.id);
    expect(ids).toContain(pub.id);
    expect(ids).not.toContain(priv.id);
    expect(listed.items.find((x: any) => x.id === pub.id)).toMatchObject({
      editable: false,
      projectId: project.id,
    });
    expect(listed.items.every((x: any) => !("config" in x))).toBe(true);
    const ownOnly = await json(
      await request(`${base(second.project.id)}?includePublic=false`, { headers: outside }),
    );
    expect(ownOnly.items.map((x: any) => x.id)).not.toContain(pub.id);
    expect((await request(`${base(second.project.id)}/${priv.id}`, { headers: outside })).status).toBe(404);
    const read = await json(await request(`${base(second.project.id)}/${pub.id}`, { headers: outside }));
    expect(read.config.nodes).toHaveLength(5);

    const mine = await json(
      await request(`${base()}?category=saas&includePublic=false`, { headers: users.viewer.auth }),
    );
    expect(mine.items.map((x: any) => x.id)).toEqual([priv.id]);
    const searched = await json(
      await request(`${base()}?q=${encodeURIComponent(`テンプレート ${tg}`)}`, {
        headers: users.viewer.auth,
      }),
    );
    expect(searched.items.map((x: any) => x.id)).toEqual([pub.id]);
    expect(searched.total).toBe(1);

    const elsewhere = await post(`${base(second.project.id)}/${pub.id}/apply`, {}, outside);
    expect(elsewhere.status).toBe(201);
    const t = await json(elsewhere);
    expect(t).toMatchObject({ projectId: second.project.id, sourceTemplateId: pub.id, nodeCount: 5 });
    const audit = await db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceId, pub.id), eq(auditLog.action, "APPLY")));
    expect(audit[0].metadata).toEqual({ templateProjectId: project.id });
    expect((await post(`${base(second.project.id)}/${priv.id}/apply`, {}, outside)).status).toBe(404);
  });

  test("delete: Own|Mod+ in the owning project only; applied trees stay with sourceTemplateId null", async () => {
    const tpl = await json(
      await post(base(), { name: "削除対象", sourceTreeId: tree.id, isPublic: true }, users.manager.auth),
    );
    const mine = await json(await post(base(), { name: "自分の", sourceTreeId: tree.id }, users.member.auth));
    const applied = await json(await post(`${base()}/${mine.id}/apply`, {}, users.member.auth));

    const notOwner = await request(`${base()}/${mine.id}`, { method: "DELETE", headers: users.other.auth });
    expect(notOwner.status).toBe(403);
    expect((await json(notOwner)).code).toBe("NOT_OWNER");
    const fromElsewhere = await request(`${base(second.project.id)}/${tpl.id}`, {
      method: "DELETE",
      headers: second.users.manager.auth,
    });
    expect(fromElsewhere.status).toBe(403);
    expect((await json(fromElsewhere)).code).toBe("NOT_OWNER");
    expect(
      (await request(`${base()}/${mine.id}`, { method: "DELETE", headers: users.viewer.auth })).status,
    ).toBe(403);

    expect(
      (await request(`${base()}/${mine.id}`, { method: "DELETE", headers: users.member.auth })).status,
    ).toBe(204);
    expect(
      (await request(`${base()}/${tpl.id}`, { method: "DELETE", headers: users.moderator.auth })).status,
    ).toBe(204);
    const gone = await request(`${base()}/${mine.id}`, { headers: users.member.auth });
    expect(gone.status).toBe(404);
    expect((await json(gone)).code).toBe("TEMPLATE_NOT_FOUND");
    const [row] = await db.select().from(driverTree).where(eq(driverTree.id, applied.id));
    expect(row.sourceTemplateId).toBeNull();
    const rows = await db.select().from(auditLog).where(eq(auditLog.resourceId, mine.id));
    expect(rows.map((r) => r.action).sort()).toEqual(["APPLY", "CREATE", "DELETE"]);
  });

  test("an inactive project refuses template writes with 409 and still reads", async () => {
    const w = await world(request, secret, { member: "member" }, "Inactive");
    const src = await sourceTree(w.project.id, w.users.member.id);
    const tpl = await json(
      await post(base(w.project.id), { name: "先に", sourceTreeId: src.tree.id }, w.users.member.auth),
    );
    const off = await request(
      `/api/v1/project/${w.project.id}`,
      jsonInit("PATCH", { isActive: false }, w.users.manager.auth),
    );
    expect(off.status).toBe(200);
    for (const res of [
      await post(base(w.project.id), { name: "後で", sourceTreeId: src.tree.id }, w.users.member.auth),
      await post(`${base(w.project.id)}/${tpl.id}/apply`, {}, w.users.member.auth),
      await request(`${base(w.project.id)}/${tpl.id}`, { method: "DELETE", headers: w.users.member.auth }),
    ]) {
      expect(res.status).toBe(409);
      expect((await json(res)).code).toBe("PROJECT_INACTIVE");
    }
    expect((await request(`${base(w.project.id)}/${tpl.id}`, { headers: w.users.member.auth })).status).toBe(
      200,
    );
    expect((await request(`${base(w.project.id)}/not-a-uuid`, { headers: w.users.member.auth })).status).toBe(
      422,
    );
    expect((await request(base(w.project.id), { headers: users.outsider.auth })).status).toBe(404);
  });
});
