import { describe, expect, test } from "bun:test";
import ExcelJS from "exceljs";
import { treeImageKey, treeImagePrefix } from "@/lib/storage/keys";
import type { TreeSensitivityOut } from "@/modules/driver-tree/model";
import { drainDeletionQueue } from "@/modules/storage-deletion/service";
import { testApp } from "./helpers/context";
import { driverTreeApi, insertFormula, nodeByLabel, seriesOf } from "./helpers/driver-tree";
import { usingPostgres } from "./helpers/env";
import { json } from "./helpers/http";
import { world as baseWorld } from "./helpers/world";

/* Driver-tree outputs over HTTP (analysis.md §7.8–7.9, scenario 32's export half, the tree picture). */

const CAPACITY = [
  "売上 = 稼働部屋数 * 単価",
  "稼働部屋数 = キャパシティ * 稼働率 * 期間",
  "キャパシティ = 施設数 * 施設当たり部屋数",
];
const DEPTH_FIRST = [
  "売上",
  "稼働部屋数",
  "キャパシティ",
  "施設数",
  "施設当たり部屋数",
  "稼働率",
  "期間",
  "単価",
];
const close = (a: number | null | undefined, b: number) => {
  expect(a).not.toBeNull();
  expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(Math.max(1, Math.abs(b)) * 1e-9);
};

function pngSize(bytes: Uint8Array) {
  expect([...bytes.slice(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(new TextDecoder().decode(bytes.slice(12, 16))).toBe("IHDR");
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}
// Response.text() would drop the BOM the tests are checking for.
const csvText = async (res: Response) =>
  new TextDecoder("utf-8", { ignoreBOM: true }).decode(await res.arrayBuffer());
const sheetValues = (ws: ExcelJS.Worksheet) => {
  const out: unknown[][] = [];
  ws.eachRow({ includeEmpty: true }, (row) => {
    out.push((row.values as unknown[]).slice(1));
  });
  return out;
};

describe(`driver-tree sensitivity, export and picture on ${usingPostgres ? "PostgreSQL" : "PGlite"}`, async () => {
  const { request, deps } = await testApp();
  const renderer = deps.chartRenderer!;

  async function world() {
    const w = await baseWorld(request, deps.config.secretKey, { member: "member", viewer: "viewer" });
    return { ...w, api: driverTreeApi(request, w.project.id) };
  }
  type World = Awaited<ReturnType<typeof world>>;

  /** Scenario 19's tree with its manual values. */
  async function capacityTree(w: World, name = "キャパシティ") {
    const formulaId = await insertFormula(deps.database, CAPACITY);
    const tree = await w.api.createTree(w.users.member, { name, formulaId });
    const values = { 施設数: 10, 施設当たり部屋数: 20, 稼働率: 0.8, 期間: 30, 単価: 10000 };
    for (const [label, value] of Object.entries(values)) {
      await w.api.patchNodeOk(w.users.member, nodeByLabel(tree, label).id, { value });
    }
    return { tree, unit: nodeByLabel(tree, "単価").id };
  }
  const get = (w: World, path: string, who = w.users.viewer, headers: Record<string, string> = {}) =>
    w.api.call("GET", path, { auth: { ...who.auth, ...headers } });
  const sens = async (w: World, treeId: string, query = "") => {
    const res = await get(w, `/tree/${treeId}/sensitivity${query}`);
    expect(res.status).toBe(200);
    return json<TreeSensitivityOut>(res);
  };

  test("scenario 32, export half: csv with BOM and CRLF, 売上 simulated 50880000; xlsx with Policies and Summary", async () => {
    const w = await world();
    const { tree, unit } = await capacityTree(w, "売上/ツリー");
    await w.api.addPolicy(w.users.member, unit, { name: "単価改定", value: 5, cost: 1_000_000 });
    await w.api.addPolicy(w.users.member, unit, {
      name: "=追加値上げ",
      value: 100,
      valueKind: "absolute",
      cost: 500_000,
      durationMonths: 6,
    });
    const data = await w.api.data(w.users.viewer, tree.id);
    close(seriesOf(data, "単価").simulated[0], 10_600);
    close(seriesOf(data, "売上").simulated[0], 50_880_000);
    expect(data.summary.totalPolicyCost).toBe(1_500_000);
    close(data.summary.roi, 0.92);
    // A detached node whose label a spreadsheet would evaluate.
    const free = await w.api.call("POST", `/tree/${tree.id}/node`, w.users.member, {
      label: "@SUM(A1)",
      nodeType: "input",
      positionX: 0,
      positionY: 0,
      value: -5,
    });
    expect(free.status).toBe(201);

    const csv = await get(w, `/tree/${tree.id}/output?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    expect(csv.headers.get("content-disposition")).toContain("attachment");
    expect(csv.headers.get("content-disposition")).toContain(".csv");
    const text = await csvText(csv);
    expect(
      text.startsWith("\uFEFFnodeId,depth,label,nodeType,formula,period,baseline,simulated,delta\r\n"),
    ).toBe(true);
    expect(text.endsWith("\r\n")).toBe(true);
    const lines = text.slice(1).split("\r\n").slice(1, -1);
    expect(lines).toHaveLength(9);
    const rows = lines.map((l) => l.split(","));
    expect(rows.map((r) => r[2])).toEqual([...DEPTH_FIRST, "'@SUM(A1)"]);
    expect(rows.map((r) => Number(r[1]))).toEqual([0, 1, 2, 3, 3, 2, 2, 1, 0]);
    const sales = rows[0];
    expect(sales[0]).toBe(tree.rootNodeId!);
    expect(sales.slice(3, 7)).toEqual(["calculation", "売上 = 稼働部屋数 * 単価", "total", "48000000"]);
    close(Number(sales[7]), 50_880_000);
    close(Number(sales[8]), 2_880_000);
    expect(rows[1][4]).toBe("稼働部屋数 = キャパシティ * 稼働率 * 期間");
    expect(rows[7].slice(3, 7)).toEqual(["input", "", "total", "10000"]);
    // Numbers are numbers: a negative value is not neutralised like text.
    expect(rows[8].slice(6)).toEqual(["-5", "-5", "0"]);

    const withoutPolicies = await csvText(
      await get(w, `/tree/${tree.id}/output?format=csv&withPolicies=false`),
    );
    expect(withoutPolicies.split("\r\n")[1].split(",").slice(6)).toEqual(["48000000", "48000000", "0"]);

    const xlsx = await get(w, `/tree/${tree.id}/output?format=xlsx`);
    expect(xlsx.status).toBe(200);
    expect(xlsx.headers.get("content-type")).toBe(
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    );
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(await xlsx.arrayBuffer());
    expect(wb.worksheets.map((s) => s.name)).toEqual(["Tree", "Policies", "Summary"]);
    const treeSheet = sheetValues(wb.getWorksheet("Tree")!);
    expect(treeSheet[0]).toEqual([
      "nodeId",
      "depth",
      "label",
      "nodeType",
      "formula",
      "period",
      "baseline",
      "simulated",
      "delta",
    ]);
    expect(treeSheet.slice(1).map((r) => r[2])).toEqual([...DEPTH_FIRST, "'@SUM(A1)"]);
    expect(treeSheet[1][6]).toBe(48_000_000);
    expect(typeof treeSheet[1][7]).toBe("number");
    close(treeSheet[1][7] as number, 50_880_000);
    expect(treeSheet[1][1]).toBe(0);
    const policies = sheetValues(wb.getWorksheet("Policies")!);
    expect(policies[0]).toEqual([
      "node",
      "name",
      "kind",
      "value",
      "startPeriod",
      "cost",
      "durationMonths",
      "status",
    ]);
    expect(policies.slice(1)).toEqual([
      ["単価", "'=追加値上げ", "absolute", 100, undefined, 500_000, 6, "planned"],
      ["単価", "単価改定", "percent", 5, undefined, 1_000_000, undefined, "planned"],
    ]);
    const summary = Object.fromEntries(sheetValues(wb.getWorksheet("Summary")!).map((r) => [r[0], r[1]]));
    expect(summary.tree).toBe("売上/ツリー");
    expect(summary.rootBaseline).toBe(48_000_000);
    close(summary.rootSimulated as number, 50_880_000);
    expect(summary.totalPolicyCost).toBe(1_500_000);
    close(summary.roi as number, 0.92);
    expect(summary.withPolicies).toBe("true");

    // Each download is an ACCESS/EXPORT audit entry.
    const audits = await deps.database.raw.query<{ format: string }>(
      `select metadata->>'format' as format from audit_log where resource_type = 'driver_tree' and action = 'EXPORT' and resource_id = $1 order by created_at`,
      [tree.id],
    );
    expect(audits.map((a) => a.format)).toEqual(["csv", "csv", "xlsx"]);

    const bad = await get(w, `/tree/${tree.id}/output?format=pdf`);
    expect([bad.status, (await json(bad)).code]).toEqual([422, "VALIDATION_FAILED"]);
  });

  test("sensitivity (§7.8): ±deltaPct per input, ordering, constants, skipped, period and deltaPct checks", async () => {
    const w = await world();
    const { tree, unit } = await capacityTree(w);
    const s = await sens(w, tree.id, "?deltaPct=10");
    expect([s.periods, s.period, s.deltaPct, s.withPolicies, s.rootNodeId]).toEqual([
      ["total"],
      null,
      10,
      false,
      tree.rootNodeId,
    ]);
    expect(s.items.map((x) => x.label)).toEqual(
      ["単価", "施設当たり部屋数", "施設数", "期間", "稼働率"].sort(),
    );
    for (const x of s.items) {
      expect([x.rootBase, x.rootUp, x.rootDown, x.impactUp, x.impactDown]).toEqual([
        48_000_000, 52_800_000, 43_200_000, 4_800_000, -4_800_000,
      ]);
      close(x.elasticity, 1);
    }
    expect((await sens(w, tree.id, "?period=total")).items).toEqual(s.items);

    // Policies: +50 % on 単価 lifts the root the analysis starts from.
    await w.api.addPolicy(w.users.member, unit, { name: "p", value: 50 });
    const withP = await sens(w, tree.id, "?withPolicies=true&deltaPct=20");
    expect(withP.items[0].rootBase).toBe(72_000_000);
    close(withP.items[0].impactUp, 14_400_000);

    const gross = await w.api.createTree(w.users.member, { name: "粗利" });
    const imported = await w.api.importOk(w.users.member, gross.id, ["粗利 = 売上 - 原価 + 0.5"]);
    const unset = { label: "x", nodeType: "input", positionX: 0, positionY: 0 };
    expect((await w.api.call("POST", `/tree/${gross.id}/node`, w.users.member, unset)).status).toBe(201);
    await w.api.patchNodeOk(w.users.member, nodeByLabel(imported, "売上").id, { value: 100 });
    await w.api.patchNodeOk(w.users.member, nodeByLabel(imported, "原価").id, { value: 60 });
    const g = await sens(w, gross.id);
    expect(g.items.map((x) => [x.label, x.impactUp, x.impactDown])).toEqual([
      ["売上", 10, -10],
      ["原価", -6, 6],
    ]);
    close(g.items[0].elasticity, 20 / 8.1);
    close(g.items[1].elasticity, -12 / 8.1);
    expect(g.skipped.map((x) => x.label)).toEqual(["x"]);
    const withConstants = await sens(w, gross.id, "?includeConstants=true&deltaPct=100");
    expect(withConstants.items.map((x) => x.label)).toEqual(["売上", "原価", "0.5"]);
    expect(withConstants.items[2]).toMatchObject({ nodeType: "constant", baseValue: 0.5, impactUp: 0.5 });

    for (const q of ["?deltaPct=0", "?deltaPct=100.5", "?deltaPct=-1", "?period=2099", "?extra=1"]) {
      const res = await get(w, `/tree/${tree.id}/sensitivity${q}`);
      expect([q, res.status, (await json(res)).code]).toEqual([q, 422, "VALIDATION_FAILED"]);
    }
    const unknown = await json(await get(w, `/tree/${tree.id}/sensitivity?period=2099`));
    expect(unknown.errors[0]).toMatchObject({ path: "/query/period" });
  });

  test("picture: PNG signature and size, stored once per content, ETag and 304; SVG shows the tree", async () => {
    const w = await world();
    const { tree, unit } = await capacityTree(w, "画像ツリー");
    await w.api.addPolicy(w.users.member, unit, { name: "単価改定", value: 5 });
    const svgRes = await get(w, `/tree/${tree.id}/image?format=svg`);
    expect(svgRes.status).toBe(200);
    expect(svgRes.headers.get("content-type")).toBe("image/svg+xml; charset=utf-8");
    const svg = await svgRes.text();
    for (const label of DEPTH_FIRST) expect(svg).toContain(`>${label}<`);
    expect(svg).toContain("基準 48,000,000");
    expect(svg).toContain("施策後 50,400,000");
    expect(svg).toContain("差分 +2,400,000 (+5.0%)");
    expect(svg).toContain(">×<");
    expect(svg).toContain("画像ツリー");
    const svgWidth = Number(/width="(\d+)"/.exec(svg)?.[1]);
    const svgHeight = Number(/height="(\d+)"/.exec(svg)?.[1]);

    const before = renderer.renderCount();
    const res = await get(w, `/tree/${tree.id}/image`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(res.headers.get("content-disposition")).toContain("inline");
    const imageId = res.headers.get("x-image-id")!;
    expect(imageId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.get("etag")).toBe(`"${imageId}"`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(pngSize(bytes)).toEqual({ width: svgWidth * 2, height: svgHeight * 2 });
    expect(Number(res.headers.get("content-length"))).toBe(bytes.byteLength);
    const rendered = renderer.renderCount();
    expect(rendered).toBeGreaterThan(before);
    expect(await deps.storage.exists("analysis", treeImageKey(tree.id, imageId))).toBe(true);

    const again = await get(w, `/tree/${tree.id}/image?format=png&withPolicies=true&period=total`);
    expect(again.headers.get("x-image-id")).toBe(imageId);
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(bytes);
    expect(renderer.renderCount()).toBe(rendered);
    const cached = await get(w, `/tree/${tree.id}/image`, w.users.viewer, {
      "If-None-Match": `"${imageId}"`,
    });
    expect(cached.status).toBe(304);
    expect(renderer.renderCount()).toBe(rendered);

    // Anything drawn changes the id: the policies switched off, or a value edited.
    const plain = await get(w, `/tree/${tree.id}/image?withPolicies=false`);
    expect(plain.headers.get("x-image-id")).not.toBe(imageId);
    expect(await (await get(w, `/tree/${tree.id}/image?format=svg&withPolicies=false`)).text()).not.toContain(
      "施策後",
    );
    await w.api.patchNodeOk(w.users.member, unit, { value: 12000 });
    const edited = await get(w, `/tree/${tree.id}/image`, w.users.viewer, {
      "If-None-Match": `"${imageId}"`,
    });
    expect(edited.status).toBe(200);
    expect(edited.headers.get("x-image-id")).not.toBe(imageId);

    const unknown = await get(w, `/tree/${tree.id}/image?period=2099`);
    expect([unknown.status, (await json(unknown)).code]).toEqual([422, "VALIDATION_FAILED"]);

    // Deleting the project takes the stored pictures with it (the deletion outbox).
    const gone = await request(`/api/v1/project/${w.project.id}`, {
      method: "DELETE",
      headers: w.users.manager.auth,
    });
    expect(gone.status).toBe(204);
    expect(await deps.storage.exists("analysis", treeImageKey(tree.id, imageId))).toBe(false);
  });

  test("deleting one tree queues its stored pictures; the deletion drain removes them", async () => {
    const w = await world();
    const { tree } = await capacityTree(w, "消えるツリー");
    const png = await get(w, `/tree/${tree.id}/image`);
    expect(png.status).toBe(200);
    const imageId = png.headers.get("x-image-id") as string;
    expect(await deps.storage.exists("analysis", treeImageKey(tree.id, imageId))).toBe(true);
    const del = await w.api.call("DELETE", `/tree/${tree.id}`, w.users.member);
    expect(del.status).toBe(204);
    const prefix = treeImagePrefix(tree.id);
    const queued = await deps.database.raw.query<{ n: number }>(
      "select count(*)::int as n from storage_deletion_queue where container = 'analysis' and storage_key = $1",
      [prefix],
    );
    expect(queued[0].n).toBe(1);
    await drainDeletionQueue(deps.database.db, deps.storage, deps.logger, { keys: [prefix] });
    expect(await deps.storage.exists("analysis", treeImageKey(tree.id, imageId))).toBe(false);
  });

  test("picture of a 30-node tree: every node drawn, no two boxes overlap", async () => {
    const w = await world();
    const tree = await w.api.createTree(w.users.member, { name: "30 ノード" });
    // 1 + 3 + 9 calculation nodes, 17 inputs: 30 nodes in four levels.
    const formulas = ["営業利益 = 事業A + 事業B + 事業C"];
    const leaves: string[] = [];
    for (const a of ["A", "B", "C"]) {
      formulas.push(`事業${a} = ${a}売上 - ${a}原価 - ${a}販管費`);
      for (const b of ["売上", "原価", "販管費"]) {
        const kids = b === "販管費" && a === "A" ? [`${a}人件費`] : [`${a}${b}数量`, `${a}${b}単価`];
        formulas.push(`${a}${b} = ${kids.join(" * ")}`);
        leaves.push(...kids);
      }
    }
    const built = await w.api.importOk(w.users.member, tree.id, formulas);
    expect(built.nodes).toHaveLength(30);
    const svg = await (await get(w, `/tree/${tree.id}/image?format=svg`)).text();
    const boxes = [
      ...svg.matchAll(
        /<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" rx="6" fill="#ffffff"/g,
      ),
    ].map((m) => ({ x: Number(m[1]), y: Number(m[2]), w: Number(m[3]), h: Number(m[4]) }));
    expect(boxes).toHaveLength(30);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        expect(a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h).toBe(false);
      }
    for (const label of leaves) expect(svg).toContain(`>${label}<`);
    const png = await get(w, `/tree/${tree.id}/image`);
    expect(png.status).toBe(200);
    expect(pngSize(new Uint8Array(await png.arrayBuffer())).width).toBeGreaterThan(1000);
  });

  test("platform: viewers read all three, other projects' trees are TREE_NOT_FOUND, outsiders PROJECT_NOT_FOUND", async () => {
    const w = await world();
    const q = await world();
    const { tree } = await capacityTree(w);
    const theirs = await q.api.createTree(q.users.member, { name: "Q" });
    const paths = ["sensitivity", "output?format=csv", "output?format=xlsx", "image", "image?format=svg"];
    for (const p of paths) {
      const mine = await get(w, `/tree/${tree.id}/${p}`);
      expect([p, mine.status]).toEqual([p, 200]);
      await mine.arrayBuffer();
      const other = await get(w, `/tree/${theirs.id}/${p}`);
      expect([p, other.status, (await json(other)).code]).toEqual([p, 404, "TREE_NOT_FOUND"]);
      const outsider = await get(w, `/tree/${tree.id}/${p}`, w.users.outsider);
      expect([p, outsider.status, (await json(outsider)).code]).toEqual([p, 404, "PROJECT_NOT_FOUND"]);
    }
    // An empty tree: no rows, no items, a picture with just its title.
    const empty = await q.api.createTree(q.users.member, { name: "空" });
    const csv = await csvText(await get(q, `/tree/${empty.id}/output?format=csv`, q.users.member));
    expect(csv).toBe("\uFEFFnodeId,depth,label,nodeType,formula,period,baseline,simulated,delta\r\n");
    expect((await json(await get(q, `/tree/${empty.id}/sensitivity`, q.users.member))).items).toEqual([]);
    expect((await get(q, `/tree/${empty.id}/image`, q.users.member)).status).toBe(200);

    // A picture is drawn for at most 500 nodes; the other outputs take any size.
    const big = await q.api.createTree(q.users.member, { name: "大" });
    const groups = Array.from({ length: 10 }, (_, g) => `g${g}`);
    const formulas = [`r=${groups.join("+")}`];
    for (const g of groups)
      formulas.push(`${g}=${Array.from({ length: 55 }, (_, i) => `${g}x${i}`).join("+")}`);
    expect((await q.api.importOk(q.users.member, big.id, formulas)).nodes).toHaveLength(561);
    const tooBig = await get(q, `/tree/${big.id}/image?format=svg`, q.users.member);
    expect([tooBig.status, (await json(tooBig)).code]).toEqual([422, "VALIDATION_FAILED"]);
    expect((await get(q, `/tree/${big.id}/sensitivity`, q.users.member)).status).toBe(200);
  });
});
