import { describe, expect, test } from "bun:test";
import { newId } from "@/lib/ids";
import type { TreeDetailOut } from "@/modules/driver-tree/model";
import { testApp } from "./helpers/context";
import { childLabels, driverTreeApi, insertFormula, nodeByLabel, seriesOf } from "./helpers/driver-tree";
import { usingPostgres } from "./helpers/env";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";
import { world as baseWorld } from "./helpers/world";

const CAPACITY = [
  "売上 = 稼働部屋数 * 単価",
  "稼働部屋数 = キャパシティ * 稼働率 * 期間",
  "キャパシティ = 施設数 * 施設当たり部屋数",
];
const close = (a: number | null | undefined, b: number) => {
  expect(a).not.toBeNull();
  expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(Math.abs(b) * 1e-9);
};

describe(`driver trees over HTTP on ${usingPostgres ? "PostgreSQL" : "PGlite"}`, async () => {
  const { request, deps } = await testApp();
  const handle = deps.database;
  const secret = deps.config.secretKey;

  async function world() {
    const w = await baseWorld(request, secret, {
      member: "member",
      other: "member",
      moderator: "project_moderator",
      viewer: "viewer",
    });
    return { ...w, api: driverTreeApi(request, w.project.id) };
  }

  /** Scenario 19's tree with its manual values. */
  async function capacityTree(w: Awaited<ReturnType<typeof world>>) {
    const formulaId = await insertFormula(handle, CAPACITY);
    const tree = await w.api.createTree(w.users.member, { name: "キャパシティ", formulaId });
    const values: Record<string, number> = {
      施設数: 10,
      施設当たり部屋数: 20,
      稼働率: 0.8,
      期間: 30,
      単価: 10000,
    };
    for (const [label, value] of Object.entries(values)) {
      await w.api.patchNodeOk(w.users.member, nodeByLabel(tree, label).id, { value });
    }
    return { tree, formulaId, unit: nodeByLabel(tree, "単価").id };
  }

  test("scenario 18: one formula, its layout, and the import's 422s", async () => {
    const w = await world();
    const tree = await w.api.createTree(w.users.member, { name: "売上ツリー" });
    expect(tree.rootNodeId).toBeNull();
    expect(tree.nodes).toEqual([]);
    expect((await w.api.getTree(w.users.viewer, tree.id)).name).toBe("売上ツリー");

    const after = await w.api.importOk(w.users.member, tree.id, ["売上 = 客数 * 客単価 * 1.1"], {
      positionX: 100,
      positionY: 100,
    });
    const root = nodeByLabel(after, "売上");
    expect(after.rootNodeId).toBe(root.id);
    expect([root.nodeType, root.positionX, root.positionY]).toEqual(["calculation", 100, 100]);
    expect(childLabels(after, "売上")).toEqual(["客数", "客単価", "1.1"]);
    expect(after.relationship).toHaveLength(1);
    expect(after.relationship[0].operator).toBe("*");
    expect(nodeByLabel(after, "客数").nodeType).toBe("input");
    expect(nodeByLabel(after, "客単価").nodeType).toBe("input");
    expect(nodeByLabel(after, "1.1")).toMatchObject({ nodeType: "constant", value: 1.1 });
    // Tidy layout: one row below, 200 apart.
    expect(nodeByLabel(after, "客数")).toMatchObject({ positionX: 100, positionY: 220 });
    expect(nodeByLabel(after, "1.1")).toMatchObject({ positionX: 500, positionY: 220 });

    const empty = await w.api.importFormulas(w.users.member, tree.id, []);
    expect([empty.status, (await json(empty)).code]).toEqual([422, "VALIDATION_FAILED"]);
    const bad = await w.api.importFormulas(w.users.member, tree.id, ["売上 客数"]);
    const badBody = await json(bad);
    expect([bad.status, badBody.code, badBody.line]).toEqual([422, "FORMULA_INVALID", 0]);
    expect(badBody.errors[0]).toMatchObject({ line: 0 });

    const cycle = await w.api.patchNode(w.users.member, nodeByLabel(after, "客数").id, {
      nodeType: "計算",
      operator: "*",
      childrenIdList: [root.id],
    });
    const cycleBody = await json(cycle);
    expect([cycle.status, cycleBody.code]).toEqual([422, "TREE_CYCLE"]);
    expect(cycleBody.cycle).toEqual(["売上", "客数", "売上"]);
    expect(cycleBody.detail).toContain("売上 → 客数 → 売上");
    // Nothing of the refused edits was written.
    expect(await w.api.getTree(w.users.member, tree.id)).toMatchObject({
      nodeCount: 4,
      relationship: after.relationship,
    });
  });

  test("scenario 19: a formula master builds the multi-level tree; manual values and a +5 % policy", async () => {
    const w = await world();
    const { tree, formulaId, unit } = await capacityTree(w);
    expect(tree.formulaId).toBe(formulaId);
    expect(tree.formulaMasterName).toContain("売上");
    expect(nodeByLabel(tree, "売上").id).toBe(tree.rootNodeId!);
    expect(childLabels(tree, "売上")).toEqual(["稼働部屋数", "単価"]);
    expect(childLabels(tree, "稼働部屋数")).toEqual(["キャパシティ", "稼働率", "期間"]);
    expect(childLabels(tree, "キャパシティ")).toEqual(["施設数", "施設当たり部屋数"]);
    const labels = tree.nodes.map((n) => n.label);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toHaveLength(8);

    const base = await w.api.data(w.users.viewer, tree.id);
    expect(base.periods).toEqual(["total"]);
    expect(seriesOf(base, "売上").baseline).toEqual([48_000_000]);
    expect(seriesOf(base, "キャパシティ").baseline).toEqual([200]);
    expect(seriesOf(base, "稼働部屋数").baseline).toEqual([4_800]);

    const policy = await w.api.addPolicy(w.users.member, unit, { name: "単価改定", value: 5 });
    expect(policy).toMatchObject({ valueKind: "percent", status: "planned", nodeLabel: "単価", cost: null });
    const sim = await w.api.data(w.users.viewer, tree.id);
    close(seriesOf(sim, "売上").simulated[0], 50_400_000);
    close(seriesOf(sim, "売上").delta[0], 2_400_000);
    expect(seriesOf(sim, "売上").baseline).toEqual([48_000_000]);
    const off = await w.api.data(w.users.viewer, tree.id, "?withPolicies=false");
    expect(off.withPolicies).toBe(false);
    expect(seriesOf(off, "売上").simulated).toEqual([48_000_000]);

    const node = await json(await w.api.call("GET", `/node/${unit}`, w.users.viewer));
    expect(node.data).toEqual({ periods: ["total"], values: [10_500] });
    expect(node.policies.map((p: { name: string }) => p.name)).toEqual(["単価改定"]);
    expect(node.parentIds).toEqual([tree.rootNodeId]);
    expect((await w.api.getTree(w.users.viewer, tree.id)).policyCount).toBe(1);
  });

  test("scenario 32: policy kinds, costs and ROI", async () => {
    const w = await world();
    const { tree, unit } = await capacityTree(w);
    for (const p of [
      { valueKind: "percent", value: 5 },
      { valueKind: "factor", value: 1.05 },
      { valueKind: "absolute", value: 500 },
    ]) {
      const created = await w.api.addPolicy(w.users.member, unit, { name: p.valueKind, ...p });
      close(seriesOf(await w.api.data(w.users.member, tree.id), "売上").simulated[0], 50_400_000);
      const del = await w.api.call("DELETE", `/node/${unit}/policy/${created.id}`, w.users.member);
      expect(del.status).toBe(204);
    }
    const zero = await w.api.call("POST", `/node/${unit}/policy`, w.users.member, {
      name: "x",
      value: 0,
      valueKind: "factor",
    });
    expect([zero.status, (await json(zero)).code]).toEqual([422, "VALIDATION_FAILED"]);

    await w.api.addPolicy(w.users.member, unit, { name: "値上げ", value: 5, cost: 1_000_000 });
    const second = await w.api.addPolicy(w.users.member, unit, {
      name: "付加価値",
      value: 100,
      valueKind: "absolute",
      cost: 500_000,
      durationMonths: 12,
      status: "in_progress",
      description: "朝食付き",
    });
    expect(second).toMatchObject({ durationMonths: 12, status: "in_progress", description: "朝食付き" });
    const data = await w.api.data(w.users.viewer, tree.id);
    close(seriesOf(data, "単価").simulated[0], 10_600);
    close(seriesOf(data, "売上").simulated[0], 50_880_000);
    expect(seriesOf(data, "単価").policyCost).toBe(1_500_000);
    expect(data.summary.totalPolicyCost).toBe(1_500_000);
    close(data.summary.rootBaseline, 48_000_000);
    close(data.summary.roi, 0.92);

    // PATCH: null clears an optional field; an unknown start period makes the policy apply nowhere.
    const patched = await json(
      await w.api.call("PATCH", `/node/${unit}/policy/${second.id}`, w.users.member, {
        cost: null,
        startPeriod: "2099",
      }),
    );
    expect(patched).toMatchObject({ cost: null, startPeriod: "2099", name: "付加価値" });
    const later = await w.api.data(w.users.viewer, tree.id);
    close(seriesOf(later, "単価").simulated[0], 10_500);
    expect(seriesOf(later, "単価").warnings).toContain("UNKNOWN_START_PERIOD");
    const list = await json(
      await w.api.call("GET", `/tree/${tree.id}/policy?status=planned`, w.users.viewer),
    );
    expect(list).toMatchObject({ total: 1, skip: 0, limit: 50 });
    const nodeList = await json(await w.api.call("GET", `/node/${unit}/policy?limit=1`, w.users.viewer));
    expect([nodeList.total, nodeList.items.length, nodeList.items[0].name]).toEqual([2, 1, "値上げ"]);
  });

  test("scenario 30: precedence, parentheses and unary minus", async () => {
    const w = await world();
    const make = async (formulas: string[]) => {
      const t = await w.api.createTree(w.users.member, { name: `P ${newId().slice(-6)}` });
      return w.api.importOk(w.users.member, t.id, formulas);
    };
    const setValues = async (tree: TreeDetailOut, values: Record<string, number>) => {
      for (const [label, value] of Object.entries(values))
        await w.api.patchNodeOk(w.users.member, nodeByLabel(tree, label).id, { value });
    };
    const op = await make(["営業利益 = 売上 * 粗利率 - 販管費"]);
    expect(childLabels(op, "営業利益")).toEqual(["売上 * 粗利率", "販管費"]);
    expect(nodeByLabel(op, "売上 * 粗利率").nodeType).toBe("calculation");
    await setValues(op, { 売上: 1000, 粗利率: 0.3, 販管費: 200 });
    close(seriesOf(await w.api.data(w.users.member, op.id), "営業利益").baseline[0], 100);

    const paren = await make(["X = (a + b) * c"]);
    await setValues(paren, { a: 1, b: 2, c: 4 });
    expect(seriesOf(await w.api.data(w.users.member, paren.id), "X").baseline).toEqual([12]);

    await make(["X = -a + b"]);
    const t = await w.api.createTree(w.users.member, { name: "open" });
    const open = "売上 = (客数 * 単価";
    const res = await w.api.importFormulas(w.users.member, t.id, [open]);
    const body = await json(res);
    expect([res.status, body.code, body.line, body.index]).toEqual([422, "FORMULA_INVALID", 0, open.length]);
  });

  test("node editing: the 422s of analysis.md §7.4, appending, deleting, root protection", async () => {
    const w = await world();
    const tree = await w.api.createTree(w.users.member, { name: "編集" });
    const other = await w.api.importOk(
      w.users.member,
      (await w.api.createTree(w.users.member, { name: "別" })).id,
      ["Z = y + x"],
    );
    // The first node of an empty tree becomes its root.
    const first = await w.api.call("POST", `/tree/${tree.id}/node`, w.users.member, {
      label: "利益",
      nodeType: "計算",
      positionX: 0,
      positionY: 0,
    });
    expect(first.status).toBe(201);
    const f = await json(first);
    expect(f.rootNodeId).toBe(f.createdNodeId);
    expect(nodeByLabel(f as TreeDetailOut, "利益").nodeType).toBe("calculation");
    const rootId = f.createdNodeId as string;

    const add = (body: Record<string, unknown>) =>
      w.api.call("POST", `/tree/${tree.id}/node`, w.users.member, { positionX: 0, positionY: 0, ...body });
    const code = async (res: Promise<Response>) => {
      const r = await res;
      return [r.status, (await json(r)).code];
    };
    expect(await code(add({ label: "売上", nodeType: "input", parentId: rootId }))).toEqual([
      422,
      "OPERATOR_REQUIRED",
    ]);
    expect(await code(add({ label: "売上", nodeType: "input", parentId: other.rootNodeId }))).toEqual([
      422,
      "NODE_NOT_IN_TREE",
    ]);
    const sales = await json(
      await add({ label: "売上", nodeType: "input", value: 100, parentId: rootId, operator: "-" }),
    );
    const cost = await json(await add({ label: "原価", nodeType: "input", value: 60, parentId: rootId }));
    expect(childLabels(cost as TreeDetailOut, "利益")).toEqual(["売上", "原価"]);
    expect(await code(add({ label: "原価", nodeType: "input" }))).toEqual([409, "NAME_TAKEN"]);
    expect(seriesOf(await w.api.data(w.users.member, tree.id), "利益").baseline).toEqual([40]);

    const free = await json(await add({ label: "単独", nodeType: "calculation" }));
    const freeId = free.createdNodeId as string;
    const patch = (id: string, body: Record<string, unknown>) =>
      code(w.api.patchNode(w.users.member, id, body));
    expect(await patch(freeId, { childrenIdList: [sales.createdNodeId] })).toEqual([
      422,
      "OPERATOR_REQUIRED",
    ]);
    expect(await patch(freeId, { operator: "+", childrenIdList: [nodeByLabel(other, "y").id] })).toEqual([
      422,
      "NODE_NOT_IN_TREE",
    ]);
    expect(await patch(sales.createdNodeId, { operator: "+", childrenIdList: [freeId] })).toEqual([
      422,
      "VALIDATION_FAILED",
    ]);
    expect(await patch(rootId, { nodeType: "input" })).toEqual([422, "VALIDATION_FAILED"]);
    expect(await patch(freeId, { operator: "+", childrenIdList: [rootId] })).toEqual([200, undefined]);
    expect(await patch(rootId, { childrenIdList: [sales.createdNodeId, freeId] })).toEqual([
      422,
      "TREE_CYCLE",
    ]);

    // Reorder, then [] removes the relationship.
    const reordered = await w.api.patchNodeOk(w.users.member, rootId, {
      childrenIdList: [cost.createdNodeId, sales.createdNodeId],
      operator: "-",
    });
    expect(reordered.relationship?.childIdList).toEqual([cost.createdNodeId, sales.createdNodeId]);
    const cleared = await w.api.patchNodeOk(w.users.member, freeId, { childrenIdList: [] });
    expect(cleared.relationship).toBeNull();

    // Delete: out of the parent's list, the root refuses, an emptied relationship goes.
    expect(await code(w.api.call("DELETE", `/node/${rootId}`, w.users.member))).toEqual([
      422,
      "ROOT_NODE_PROTECTED",
    ]);
    await w.api.addPolicy(w.users.member, cost.createdNodeId, { name: "調達", value: -5 });
    expect((await w.api.call("DELETE", `/node/${cost.createdNodeId}`, w.users.member)).status).toBe(204);
    let now = await w.api.getTree(w.users.member, tree.id);
    expect(childLabels(now, "利益")).toEqual(["売上"]);
    expect(now.policyCount).toBe(0);
    expect((await w.api.call("DELETE", `/node/${sales.createdNodeId}`, w.users.member)).status).toBe(204);
    now = await w.api.getTree(w.users.member, tree.id);
    expect(now.relationship).toEqual([]);
    expect(now.nodes.map((n) => n.label).sort()).toEqual(["利益", "単独"].sort());
    expect((await w.api.call("GET", `/node/${sales.createdNodeId}`, w.users.member)).status).toBe(404);
  });

  test("trees: list, patch, reset, duplicate (with policies and bindings), delete, treeCount, audit", async () => {
    const w = await world();
    const { tree, unit } = await capacityTree(w);
    await w.api.addPolicy(w.users.member, unit, { name: "単価改定", value: 5, cost: 10 });

    // A binding written straight to the rows (the binding routes are part 2).
    const fileId = newId();
    const sheetId = newId();
    await handle.raw.query(
      `insert into project_file (id, project_id, chain_id, version, filename, original_filename, storage_key, kind,
         mime_type, size_bytes, checksum_sha256) values ($1, $2, $1, 1, 'd.xlsx', 'd.xlsx', $3, 'xlsx', 'x', 1, $4)`,
      [fileId, w.project.id, `projects/${w.project.id}/${fileId}_d.xlsx`, "0".repeat(64)],
    );
    await handle.raw.query(
      "insert into driver_tree_file (id, project_file_id, sheet_name, sheet_index, is_selected) values ($1, $2, 'Sheet1', 0, true)",
      [sheetId, fileId],
    );
    const bound = nodeByLabel(tree, "施設数").id;
    await handle.raw.query(
      "update driver_tree_node set bound_sheet_id = $1, bound_item = '施設数', aggregation = 'mean' where id = $2",
      [sheetId, bound],
    );

    const renamed = await json(
      await w.api.call("PATCH", `/tree/${tree.id}`, w.users.member, { name: "改名", status: "active" }),
    );
    expect(renamed).toMatchObject({ name: "改名", status: "active", nodeCount: 8, policyCount: 1 });
    const foreignRoot = await w.api.call("PATCH", `/tree/${tree.id}`, w.users.member, {
      rootNodeId: newId(),
    });
    expect((await json(foreignRoot)).code).toBe("NODE_NOT_IN_TREE");

    const list = await json(await w.api.call("GET", "/tree?q=改", w.users.viewer));
    expect(list).toMatchObject({ total: 1, skip: 0, limit: 50 });
    expect(list.items[0].id).toBe(tree.id);

    const copyRes = await w.api.call("POST", `/tree/${tree.id}/duplicate`, w.users.other, {});
    expect(copyRes.status).toBe(201);
    const copy = (await json(copyRes)) as TreeDetailOut;
    const source = await w.api.getTree(w.users.member, tree.id);
    expect(copy.id).not.toBe(tree.id);
    expect(copy.name).toBe("改名 (コピー)");
    expect(copy.createdBy?.id).toBe(w.users.other.id);
    expect([copy.nodeCount, copy.policyCount]).toEqual([8, 1]);
    expect(nodeByLabel(copy, "売上").id).toBe(copy.rootNodeId!);
    for (const label of ["売上", "稼働部屋数", "キャパシティ"])
      expect(childLabels(copy, label)).toEqual(childLabels(source, label));
    expect(nodeByLabel(copy, "施設数").binding).toMatchObject({
      sheetId,
      fileId,
      item: "施設数",
      aggregation: "mean",
    });
    expect(new Set(copy.nodes.map((n) => n.id)).size).toBe(8);
    expect(copy.nodes.some((n) => source.nodes.some((s) => s.id === n.id))).toBe(false);
    close(seriesOf(await w.api.data(w.users.viewer, copy.id), "売上").simulated[0], 50_400_000);

    const reset = await json(await w.api.call("POST", `/tree/${tree.id}/reset`, w.users.member));
    expect(reset.relationship).toEqual([]);
    expect(reset.nodes).toHaveLength(8);
    expect(reset.rootNodeId).toBe(tree.rootNodeId);
    // The copy is untouched by the source's reset.
    expect((await w.api.getTree(w.users.viewer, copy.id)).relationship).toHaveLength(3);

    const project = async () =>
      json(await request(`/api/v1/project/${w.project.id}`, { headers: w.users.viewer.auth }));
    expect((await project()).stats.treeCount).toBe(2);
    expect((await w.api.call("DELETE", `/tree/${copy.id}`, w.users.other)).status).toBe(204);
    expect((await w.api.call("GET", `/tree/${copy.id}`, w.users.other)).status).toBe(404);
    expect((await project()).stats.treeCount).toBe(1);

    const audit = await handle.raw.query(
      "select action, resource_type from audit_log where project_id = $1 and event_type = 'DATA_CHANGE' order by created_at",
      [w.project.id],
    );
    const rows = (audit as unknown as { rows?: { action: string; resource_type: string }[] }).rows ?? audit;
    const seen = (rows as { action: string; resource_type: string }[]).map(
      (r) => `${r.resource_type}:${r.action}`,
    );
    for (const a of [
      "driver_tree:CREATE",
      "driver_tree_node:UPDATE",
      "driver_tree_policy:CREATE",
      "driver_tree:UPDATE",
      "driver_tree:DELETE",
    ])
      expect(seen).toContain(a);
  });

  test("roles, ownership, inactive projects and other projects' ids", async () => {
    const w = await world();
    const q = await world();
    const mine = await w.api.importOk(
      w.users.member,
      (await w.api.createTree(w.users.member, { name: "A" })).id,
      ["A = b + c"],
    );
    const theirs = await q.api.importOk(
      q.users.member,
      (await q.api.createTree(q.users.member, { name: "Q" })).id,
      ["Q = r + s"],
    );
    const qNode = nodeByLabel(theirs, "r").id;
    const qPolicy = await q.api.addPolicy(q.users.member, qNode, { name: "q", value: 1 });
    const myNode = nodeByLabel(mine, "b").id;
    const code = async (res: Promise<Response>) => {
      const r = await res;
      return [r.status, (await json(r)).code];
    };
    const as = w.users;

    // Another project's ids under this project: the object's own 404.
    expect(await code(w.api.call("GET", `/tree/${theirs.id}`, as.member))).toEqual([404, "TREE_NOT_FOUND"]);
    expect(await code(w.api.call("GET", `/tree/${theirs.id}/data`, as.member))).toEqual([
      404,
      "TREE_NOT_FOUND",
    ]);
    expect(await code(w.api.call("GET", `/tree/${theirs.id}/policy`, as.member))).toEqual([
      404,
      "TREE_NOT_FOUND",
    ]);
    expect(
      await code(w.api.call("POST", `/tree/${theirs.id}/import`, as.member, { formulas: ["x = y"] })),
    ).toEqual([404, "TREE_NOT_FOUND"]);
    expect(await code(w.api.call("POST", `/tree/${theirs.id}/duplicate`, as.member, {}))).toEqual([
      404,
      "TREE_NOT_FOUND",
    ]);
    expect(await code(w.api.call("GET", `/node/${qNode}`, as.member))).toEqual([404, "NODE_NOT_FOUND"]);
    expect(await code(w.api.call("PATCH", `/node/${qNode}`, as.member, { value: 1 }))).toEqual([
      404,
      "NODE_NOT_FOUND",
    ]);
    expect(await code(w.api.call("GET", `/node/${qNode}/policy`, as.member))).toEqual([
      404,
      "NODE_NOT_FOUND",
    ]);
    expect(await code(w.api.call("DELETE", `/node/${myNode}/policy/${qPolicy.id}`, as.member))).toEqual([
      404,
      "POLICY_NOT_FOUND",
    ]);
    expect(
      await code(w.api.call("PATCH", `/node/${myNode}/policy/${qPolicy.id}`, as.member, { value: 2 })),
    ).toEqual([404, "POLICY_NOT_FOUND"]);
    expect(
      await code(
        w.api.call("POST", `/tree/${mine.id}/node`, as.member, {
          label: "x",
          nodeType: "input",
          positionX: 0,
          positionY: 0,
          parentId: theirs.rootNodeId,
        }),
      ),
    ).toEqual([422, "NODE_NOT_IN_TREE"]);
    expect(await code(w.api.call("POST", "/tree", as.member, { name: "x", formulaId: newId() }))).toEqual([
      404,
      "FORMULA_NOT_FOUND",
    ]);

    // Roles: viewers read, members create; Own|Mod+ for someone else's tree.
    expect((await w.api.call("GET", "/tree", as.viewer)).status).toBe(200);
    expect((await w.api.call("GET", `/node/${myNode}`, as.viewer)).status).toBe(200);
    expect(await code(w.api.call("POST", "/tree", as.viewer, { name: "v" }))).toEqual([
      403,
      "ROLE_INSUFFICIENT",
    ]);
    expect(await code(w.api.call("PATCH", `/tree/${mine.id}`, as.other, { name: "x" }))).toEqual([
      403,
      "NOT_OWNER",
    ]);
    expect(await code(w.api.call("POST", `/tree/${mine.id}/reset`, as.other))).toEqual([403, "NOT_OWNER"]);
    expect(await code(w.api.call("PATCH", `/node/${myNode}`, as.other, { value: 3 }))).toEqual([
      403,
      "NOT_OWNER",
    ]);
    expect(
      await code(w.api.call("POST", `/node/${myNode}/policy`, as.other, { name: "p", value: 1 })),
    ).toEqual([403, "NOT_OWNER"]);
    expect(await code(w.api.call("DELETE", `/tree/${mine.id}`, as.other))).toEqual([403, "NOT_OWNER"]);
    expect((await w.api.call("POST", `/tree/${mine.id}/duplicate`, as.other, {})).status).toBe(201);
    expect((await w.api.patchNode(as.moderator, myNode, { value: 3 })).status).toBe(200);
    expect(await code(w.api.call("GET", "/tree", as.outsider))).toEqual([404, "PROJECT_NOT_FOUND"]);

    // A deactivated project is read-only.
    await request(`/api/v1/project/${w.project.id}`, jsonInit("PATCH", { isActive: false }, as.manager.auth));
    expect(await code(w.api.call("POST", "/tree", as.member, { name: "late" }))).toEqual([
      409,
      "PROJECT_INACTIVE",
    ]);
    expect(await code(w.api.call("PATCH", `/node/${myNode}`, as.member, { value: 4 }))).toEqual([
      409,
      "PROJECT_INACTIVE",
    ]);
    expect((await w.api.call("GET", `/tree/${mine.id}/data`, as.member)).status).toBe(200);
  });

  test("concurrent imports into one tree leave one consistent tree", async () => {
    const w = await world();
    for (let round = 0; round < 3; round++) {
      const tree = await w.api.createTree(w.users.member, { name: `並行 ${round}` });
      const batches = [
        ["売上 = 客数 * 単価"],
        ["客数 = 新規 + 既存"],
        ["単価 = 定価 - 値引"],
        ["売上 = 客数 * 単価", "客数 = 新規 + 既存"],
      ];
      const results = await Promise.all(batches.map((f) => w.api.importFormulas(w.users.member, tree.id, f)));
      // Serialised by the tree lock: every import plans against what the earlier ones committed.
      for (const r of results) expect([200, 422]).toContain(r.status);
      const after = await w.api.getTree(w.users.member, tree.id);
      const labels = after.nodes.map((n) => n.label);
      expect(new Set(labels).size).toBe(labels.length);
      const parents = after.relationship.map((r) => r.parentId);
      expect(new Set(parents).size).toBe(parents.length);
      for (const r of after.relationship) {
        const parent = after.nodes.find((n) => n.id === r.parentId);
        expect(parent?.nodeType).toBe("calculation");
        for (const c of r.childIdList) expect(after.nodes.some((n) => n.id === c)).toBe(true);
      }
      expect(after.rootNodeId).not.toBeNull();
      // Everything was importable in some order, so all of it arrived.
      expect(results.every((r) => r.status === 200)).toBe(true);
      expect(labels.sort()).toEqual(["売上", "客数", "単価", "新規", "既存", "定価", "値引"].sort());
      const data = await w.api.data(w.users.member, tree.id);
      expect(data.calculatedDataList).toHaveLength(7);
    }
  });
});
