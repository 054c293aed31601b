import { describe, expect, test } from "bun:test";
import { buildApp } from "@/app";
import { createFrameCache } from "@/modules/driver-tree/frame-cache";
import type {
  DtFileOut,
  NodeDetailOut,
  SelectedSheetOut,
  SheetColumnsOut,
  SheetDetailOut,
  TreeDetailOut,
} from "@/modules/driver-tree/model";
import { testDeps } from "./helpers/context";
import { driverTreeApi, insertFormula, nodeByLabel, seriesOf } from "./helpers/driver-tree";
import { usingPostgres } from "./helpers/env";
import { uploadForm, xlsxBytes } from "./helpers/files";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";
import { world as baseWorld } from "./helpers/world";

/*
 * Driver-tree data (api.md §2.8 "Data files, sheets and columns", bindings; analysis.md §7.5–7.6):
 * scenarios 20 and 31 of §8 through HTTP, on PostgreSQL and PGlite.
 */

const CAPACITY = [
  "売上 = 稼働部屋数 * 単価",
  "稼働部屋数 = キャパシティ * 稼働率 * 期間",
  "キャパシティ = 施設数 * 施設当たり部屋数",
];

/* F7 (analysis.md §8): FY × 地域 headers, an empty row, then three items. */
const F7: (string | number)[][] = [
  ["FY", 2023, 2023, 2024, 2024],
  ["地域", "東京", "大阪", "東京", "大阪"],
  [],
  ["施設数", 6, 4, 7, 5],
  ["施設当たり部屋数", 20, 20, 20, 20],
  ["稼働率", 0.8, 0.8, 0.9, 0.7],
];

const close = (a: number | null | undefined, b: number) => {
  expect(a).not.toBeNull();
  expect(Math.abs((a as number) - b)).toBeLessThanOrEqual(Math.abs(b) * 1e-9);
};

describe(`driver-tree data over HTTP on ${usingPostgres ? "PostgreSQL" : "PGlite"}`, async () => {
  // The app's parsed-column cache is handed in so that the tests can see it being used.
  const frames = createFrameCache();
  const deps = await testDeps();
  const app = buildApp({ ...deps, driverTreeFrames: frames });
  const request = (path: string, init: RequestInit = {}) =>
    app.handle(new Request(`http://localhost${path}`, init));
  const handle = deps.database;
  const secret = deps.config.secretKey;

  async function world() {
    const w = await baseWorld(request, secret, { member: "member", other: "member", viewer: "viewer" });
    const api = driverTreeApi(request, w.project.id);
    type Who = { auth: Record<string, string> };
    const ok = async <T>(res: Response, status = 200): Promise<T> => {
      if (res.status !== status)
        throw new Error(`expected ${status}, got ${res.status}: ${await res.text()}`);
      return status === 204 ? (undefined as T) : json<T>(res);
    };
    const upload = (who: Who, name: string, bytes: Uint8Array) =>
      request(`${api.base}/file`, { method: "POST", body: uploadForm(name, bytes), headers: who.auth });
    const uploadOk = async (who: Who, name: string, bytes: Uint8Array) =>
      ok<DtFileOut>(await upload(who, name, bytes), 201);
    const sheetPath = (fileId: string, sheetId: string) => `/file/${fileId}/sheet/${sheetId}`;
    const select = (who: Who, fileId: string, sheetId: string) =>
      api.call("POST", sheetPath(fileId, sheetId), who);
    const selectOk = async (who: Who, fileId: string, sheetId: string) =>
      ok<SheetColumnsOut>(await select(who, fileId, sheetId), 201);
    const roles = (
      who: Who,
      fileId: string,
      sheetId: string,
      columns: { columnId: string; role: string }[],
    ) => api.call("PATCH", `${sheetPath(fileId, sheetId)}/column`, who, { columns });
    const bind = (who: Who, nodeId: string, body: Record<string, unknown>) =>
      api.call("PUT", `/node/${nodeId}/binding`, who, body);
    const bindOk = async (who: Who, nodeId: string, body: Record<string, unknown>) =>
      ok<NodeDetailOut>(await bind(who, nodeId, body));
    /** Uploads F7 (plus `extra` sheets), selects Sheet1 and gives FY time, 地域 axis, 科目 value. */
    async function f7(who: Who, extra: Record<string, (string | number)[][]> = {}) {
      const file = await uploadOk(who, "driver.xlsx", await xlsxBytes({ Sheet1: F7, ...extra }));
      const sheet = file.sheets.find((s) => s.sheetName === "Sheet1")!;
      const selected = await selectOk(who, file.fileId, sheet.sheetId);
      const col = (name: string) => selected.columns.find((c) => c.columnName === name)!.columnId;
      await ok(
        await roles(who, file.fileId, sheet.sheetId, [
          { columnId: col("FY"), role: "time" },
          { columnId: col("地域"), role: "axis" },
          { columnId: col("科目"), role: "value" },
        ]),
      );
      return { file, sheetId: sheet.sheetId, col, selected };
    }
    async function capacityTree(who: Who, values: Record<string, number> = { 期間: 30, 単価: 10000 }) {
      const formulaId = await insertFormula(handle, CAPACITY);
      const tree = await api.createTree(who, { name: `キャパシティ ${Math.random()}`, formulaId });
      for (const [label, value] of Object.entries(values)) {
        await api.patchNodeOk(who, nodeByLabel(tree, label).id, { value });
      }
      return tree;
    }
    return {
      ...w,
      api,
      ok,
      upload,
      uploadOk,
      select,
      selectOk,
      roles,
      bind,
      bindOk,
      f7,
      capacityTree,
      sheetPath,
    };
  }

  test("scenario 20: upload F7, select, roles with Japanese aliases, 409s, refresh keeps ids and roles", async () => {
    const w = await world();
    const as = w.users;
    const file = await w.uploadOk(as.member, "driver.xlsx", await xlsxBytes({ Sheet1: F7, メモ: [["x"]] }));
    expect(file.fileName).toBe("driver.xlsx");
    expect(file.version).toBe(1);
    expect(file.sheets.map((s) => [s.sheetName, s.selected])).toEqual([
      ["Sheet1", false],
      ["メモ", false],
    ]);
    // Listing catalogues nothing twice.
    const listed = await w.ok<{ items: DtFileOut[]; total: number }>(
      await w.api.call("GET", "/file", as.viewer),
    );
    expect(listed.total).toBe(1);
    expect(listed.items[0].sheets).toEqual(file.sheets);
    const again = await w.ok<{ items: DtFileOut[] }>(await w.api.call("GET", "/file", as.viewer));
    expect(again.items[0].sheets).toEqual(file.sheets);

    const sheetId = file.sheets[0].sheetId;
    expect((await w.select(as.viewer, file.fileId, sheetId)).status).toBe(403);
    const selected = await w.selectOk(as.member, file.fileId, sheetId);
    expect(selected.sheetId).toBe(sheetId);
    expect(selected.columns.map((c) => [c.columnName, c.role])).toEqual([
      ["FY", "unused"],
      ["地域", "unused"],
      ["科目", "unused"],
    ]);
    const byName = Object.fromEntries(selected.columns.map((c) => [c.columnName, c]));
    expect(byName.FY.items).toEqual(["2023", "2024"]);
    expect(byName.地域.items).toEqual(["東京", "大阪"]);
    expect(byName.科目.items).toEqual(["施設数", "施設当たり部屋数", "稼働率"]);
    for (const c of selected.columns) expect(c.items.length).toBeLessThanOrEqual(5);

    const again409 = await w.select(as.other, file.fileId, sheetId);
    expect(again409.status).toBe(409);
    expect((await json(again409)).code).toBe("SHEET_ALREADY_SELECTED");

    // Role rules (§7.5) before the good patch.
    const bad = async (
      columns: { columnId: string; role: string }[],
      code: string,
      status: number,
      who = as.member,
    ) => {
      const res = await w.roles(who, file.fileId, sheetId, columns);
      expect(res.status).toBe(status);
      expect((await json(res)).code).toBe(code);
    };
    await bad(
      [
        { columnId: byName.FY.columnId, role: "time" },
        { columnId: byName.地域.columnId, role: "推移" },
      ],
      "VALIDATION_FAILED",
      422,
    );
    await bad([{ columnId: byName.FY.columnId, role: "値" }], "VALIDATION_FAILED", 422);
    await bad([{ columnId: byName.科目.columnId, role: "axis" }], "VALIDATION_FAILED", 422);
    await bad([{ columnId: crypto.randomUUID(), role: "axis" }], "COLUMN_NOT_FOUND", 404);
    // Own = the user who selected the sheet.
    await bad([{ columnId: byName.FY.columnId, role: "time" }], "NOT_OWNER", 403, as.other);

    const patched = await w.ok<SheetColumnsOut>(
      await w.roles(as.member, file.fileId, sheetId, [
        { columnId: byName.FY.columnId, role: "推移" },
        { columnId: byName.地域.columnId, role: "軸" },
        { columnId: byName.科目.columnId, role: "値" },
      ]),
    );
    expect(patched.columns.map((c) => [c.columnName, c.role])).toEqual([
      ["FY", "time"],
      ["地域", "axis"],
      ["科目", "value"],
    ]);
    expect(
      (
        await w.roles(as.member, file.fileId, sheetId, [
          { columnId: byName.地域.columnId, role: "利用しない" },
        ])
      ).status,
    ).toBe(200);
    await w.ok(
      await w.roles(as.member, file.fileId, sheetId, [{ columnId: byName.地域.columnId, role: "axis" }]),
    );

    const refreshed = await w.ok<SheetColumnsOut>(
      await w.api.call("POST", `${w.sheetPath(file.fileId, sheetId)}/refresh`, as.member),
    );
    expect(refreshed.columns).toEqual(patched.columns);

    const detail = await w.ok<SheetDetailOut>(
      await w.api.call("GET", w.sheetPath(file.fileId, sheetId), as.viewer),
    );
    expect(detail.selected).toBe(true);
    expect(detail.rowCount).toBe(12);
    expect(detail.sampleData.length).toBe(10);
    expect(detail.sampleData[0]).toEqual({ FY: "2023", 地域: "東京", 科目: "施設数", 値: 6 });
    expect(detail.columns.map((c) => [c.name, c.columnId, c.dataType, c.role])).toEqual([
      ["FY", byName.FY.columnId, "number", "time"],
      ["地域", byName.地域.columnId, "string", "axis"],
      ["科目", byName.科目.columnId, "string", "value"],
    ]);
    const memo = file.sheets[1].sheetId;
    const memoDetail = await w.api.call("GET", w.sheetPath(file.fileId, memo), as.viewer);
    expect(memoDetail.status).toBe(422);
    expect((await json(memoDetail)).code).toBe("SHEET_PARSE_ERROR");
    const memoSelect = await w.select(as.member, file.fileId, memo);
    expect((await json(memoSelect)).code).toBe("SHEET_PARSE_ERROR");

    const sheets = await w.ok<{ items: SelectedSheetOut[]; total: number }>(
      await w.api.call("GET", "/sheet", as.viewer),
    );
    expect(sheets.total).toBe(1);
    expect(sheets.items[0]).toMatchObject({
      fileId: file.fileId,
      fileName: "driver.xlsx",
      sheetId,
      sheetName: "Sheet1",
    });
    expect(sheets.items[0].columns).toEqual(patched.columns);

    // Unselect without bindings; then it is not selected any more.
    const unselectPath = w.sheetPath(file.fileId, sheetId);
    expect((await w.api.call("DELETE", unselectPath, as.member)).status).toBe(204);
    const twice = await w.api.call("DELETE", unselectPath, as.member);
    expect((await json(twice)).code).toBe("SHEET_NOT_SELECTED");
    expect((await json(await w.api.call("POST", `${unselectPath}/refresh`, as.member))).code).toBe(
      "SHEET_NOT_SELECTED",
    );

    // Only spreadsheets.
    const csv = await w.upload(as.member, "a.csv", new TextEncoder().encode("a,b\n1,2\n"));
    expect(csv.status).toBe(415);
    expect((await json(csv)).code).toBe("UNSUPPORTED_FILE_TYPE");
  });

  test("scenario 31: bindings with sum and mean give per-period values; filters, latest, preview CSV, startPeriod", async () => {
    const w = await world();
    const as = w.users;
    const { sheetId, col } = await w.f7(as.member);
    const tree = await w.capacityTree(as.member);
    const id = (label: string) => nodeByLabel(tree, label).id;

    const bound = await w.bindOk(as.member, id("施設数"), { sheetId, item: "施設数", aggregation: "sum" });
    expect(bound.node.binding).toMatchObject({
      sheetId,
      sheetName: "Sheet1",
      item: "施設数",
      aggregation: "sum",
      axisFilter: null,
    });
    expect(bound.data).toEqual({ periods: ["2023", "2024"], values: [10, 12] });
    await w.bindOk(as.member, id("施設当たり部屋数"), {
      sheetId,
      item: "施設当たり部屋数",
      aggregation: "mean",
    });
    await w.bindOk(as.member, id("稼働率"), { sheetId, item: "稼働率", aggregation: "mean" });

    const data = await w.api.data(as.viewer, tree.id);
    expect(data.periods).toEqual(["2023", "2024"]);
    const sales = seriesOf(data, "売上").baseline;
    close(sales[0], 48_000_000);
    close(sales[1], 57_600_000);
    expect(seriesOf(data, "キャパシティ").baseline).toEqual([200, 240]);
    close(data.summary.rootBaseline, 105_600_000);

    // BINDING_INVALID: an unknown item lists the subjects; a calculation node cannot be bound.
    const unknown = await w.bind(as.member, id("期間"), { sheetId, item: "客数" });
    expect(unknown.status).toBe(422);
    const body = await json(unknown);
    expect(body.code).toBe("BINDING_INVALID");
    expect(body.availableSubjects).toEqual(["施設数", "施設当たり部屋数", "稼働率"]);
    expect((await json(await w.bind(as.member, id("キャパシティ"), { sheetId, item: "施設数" }))).code).toBe(
      "BINDING_INVALID",
    );
    // axisFilter keys must be axis columns of the sheet.
    expect(
      (
        await json(
          await w.bind(as.member, id("期間"), {
            sheetId,
            item: "施設数",
            axisFilter: { [col("FY")]: ["2023"] },
          }),
        )
      ).code,
    ).toBe("BINDING_INVALID");
    const noColumn = await w.bind(as.member, id("期間"), {
      sheetId,
      item: "施設数",
      axisFilter: { [crypto.randomUUID()]: ["x"] },
    });
    expect(noColumn.status).toBe(404);
    expect((await json(noColumn)).code).toBe("COLUMN_NOT_FOUND");
    const noSheet = await w.bind(as.member, id("期間"), { sheetId: crypto.randomUUID(), item: "施設数" });
    expect((await json(noSheet)).code).toBe("SHEET_NOT_FOUND");
    expect((await w.bind(as.other, id("期間"), { sheetId, item: "施設数" })).status).toBe(403);

    // Tokyo only; latest = the right-most column of the period.
    const tokyo = await w.bindOk(as.member, id("施設数"), {
      sheetId,
      item: "施設数",
      axisFilter: { [col("地域")]: ["東京"] },
    });
    expect(tokyo.data?.values).toEqual([6, 7]);
    const latest = await w.bindOk(as.member, id("施設数"), {
      sheetId,
      item: "施設数",
      aggregation: "latest",
    });
    expect(latest.data?.values).toEqual([4, 5]);
    await w.bindOk(as.member, id("施設数"), { sheetId, item: "施設数" });

    // The preview: BOM, CRLF, period,value.
    const preview = await w.api.call("GET", `/node/${id("施設数")}/preview/output`, as.viewer);
    expect(preview.status).toBe(200);
    expect(preview.headers.get("content-type")).toContain("text/csv");
    const bytes = new Uint8Array(await preview.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(new TextDecoder().decode(bytes.slice(3))).toBe("period,value\r\n2023,10\r\n2024,12\r\n");
    const salesCsv = await (await w.api.call("GET", `/node/${id("売上")}/preview/output`, as.viewer)).text();
    expect(salesCsv.replace(/^\uFEFF/, "")).toBe("period,value\r\n2023,48000000\r\n2024,57600000\r\n");

    // A policy from 2024 on changes 2024 only (startPeriod over real periods).
    await w.api.addPolicy(as.member, id("単価"), { name: "値上げ", value: 10, startPeriod: "2024" });
    const withPolicy = await w.api.data(as.viewer, tree.id);
    const sim = seriesOf(withPolicy, "売上").simulated;
    close(sim[0], 48_000_000);
    close(sim[1], 63_360_000);

    // Unbinding falls back to the manual value (none here: MISSING_INPUT).
    expect((await w.api.call("DELETE", `/node/${id("稼働率")}/binding`, as.member)).status).toBe(204);
    const node = await w.ok<NodeDetailOut>(await w.api.call("GET", `/node/${id("稼働率")}`, as.viewer));
    expect(node.node.binding).toBeNull();
    await w.api.patchNodeOk(as.member, id("稼働率"), { value: 0.5 });
    const after = await w.api.data(as.viewer, tree.id);
    expect(seriesOf(after, "稼働率").baseline).toEqual([0.5, 0.5]);
  });

  test("bindings from two sheets share the tree's periods; import with sheetId binds input nodes", async () => {
    const w = await world();
    const as = w.users;
    const price: (string | number)[][] = [["FY", 2024, 2025], [], ["単価", 11000, 12000]];
    const { file, sheetId } = await w.f7(as.member, { 価格: price });
    const priceSheet = file.sheets.find((s) => s.sheetName === "価格")!.sheetId;
    const priceCols = await w.selectOk(as.member, file.fileId, priceSheet);
    await w.ok(
      await w.roles(as.member, file.fileId, priceSheet, [
        { columnId: priceCols.columns.find((c) => c.columnName === "FY")!.columnId, role: "time" },
        { columnId: priceCols.columns.find((c) => c.columnName === "科目")!.columnId, role: "value" },
      ]),
    );

    // Import binds the created input nodes named like the sheet's subjects (sum).
    const tree = await w.api.createTree(as.member, { name: "インポート" });
    const unknownSheet = await w.api.call("POST", `/tree/${tree.id}/import`, as.member, {
      formulas: CAPACITY,
      sheetId: crypto.randomUUID(),
    });
    expect(unknownSheet.status).toBe(404);
    const imported = await w.ok<TreeDetailOut>(
      await w.api.call("POST", `/tree/${tree.id}/import`, as.member, { formulas: CAPACITY, sheetId }),
    );
    const bindings = Object.fromEntries(imported.nodes.map((n) => [n.label, n.binding?.item ?? null]));
    expect(bindings).toMatchObject({
      施設数: "施設数",
      施設当たり部屋数: "施設当たり部屋数",
      稼働率: "稼働率",
      期間: null,
      単価: null,
      売上: null,
    });
    expect(nodeByLabel(imported, "稼働率").binding?.aggregation).toBe("sum");
    const id = (label: string) => nodeByLabel(imported, label).id;
    await w.bindOk(as.member, id("施設当たり部屋数"), {
      sheetId,
      item: "施設当たり部屋数",
      aggregation: "mean",
    });
    await w.bindOk(as.member, id("稼働率"), { sheetId, item: "稼働率", aggregation: "mean" });
    await w.api.patchNodeOk(as.member, id("期間"), { value: 30 });
    await w.bindOk(as.member, id("単価"), { sheetId: priceSheet, item: "単価" });

    const data = await w.api.data(as.viewer, tree.id);
    expect(data.periods).toEqual(["2023", "2024", "2025"]);
    const sales = seriesOf(data, "売上");
    expect(sales.baseline[0]).toBeNull(); // no 単価 for 2023
    close(sales.baseline[1], 5760 * 11000);
    expect(sales.baseline[2]).toBeNull(); // no facilities for 2025
    expect(seriesOf(data, "単価").warnings).toContain("MISSING_INPUT");

    // An unselected sheet cannot be imported against.
    expect((await w.api.call("DELETE", w.sheetPath(file.fileId, priceSheet), as.member)).status).toBe(409);
    expect(
      (await w.api.call("DELETE", `${w.sheetPath(file.fileId, priceSheet)}?force=true`, as.member)).status,
    ).toBe(204);
    const t2 = await w.api.createTree(as.member, { name: "二" });
    const refused = await w.api.call("POST", `/tree/${t2.id}/import`, as.member, {
      formulas: ["売上 = 単価 * 数量"],
      sheetId: priceSheet,
    });
    expect(refused.status).toBe(409);
    expect((await json(refused)).code).toBe("SHEET_NOT_SELECTED");
    expect(nodeByLabel(await w.api.getTree(as.viewer, tree.id), "単価").binding).toBeNull();
  });

  test("refresh after a new file version keeps ids and roles and clears bindings to vanished items", async () => {
    const w = await world();
    const as = w.users;
    const { file, sheetId, selected } = await w.f7(as.member);
    const tree = await w.capacityTree(as.member, { 期間: 30, 単価: 10000, 施設当たり部屋数: 20 });
    const id = (label: string) => nodeByLabel(tree, label).id;
    await w.bindOk(as.member, id("施設数"), { sheetId, item: "施設数" });
    await w.bindOk(as.member, id("稼働率"), { sheetId, item: "稼働率", aggregation: "mean" });

    // Version 2: 施設数 changes, 稼働率 is gone, a year is added.
    const v2: (string | number)[][] = [
      ["FY", 2023, 2023, 2024, 2024, 2025],
      ["地域", "東京", "大阪", "東京", "大阪", "東京"],
      [],
      ["施設数", 1, 2, 3, 4, 5],
      ["施設当たり部屋数", 20, 20, 20, 20, 20],
    ];
    const version = await request(`/api/v1/project/${w.project.id}/file/${file.fileId}/version`, {
      method: "POST",
      body: uploadForm("driver.xlsx", await xlsxBytes({ Sheet1: v2 })),
      headers: as.other.auth,
    });
    expect(version.status).toBe(201);
    const v2Id = (await json(version)).id as string;

    // The listing shows the latest version, with the still-selected sheet.
    const listed = await w.ok<{ items: DtFileOut[] }>(await w.api.call("GET", "/file", as.viewer));
    expect(listed.items[0].fileId).toBe(v2Id);
    expect(listed.items[0].version).toBe(2);
    expect(listed.items[0].sheets).toEqual([{ sheetId, sheetName: "Sheet1", selected: true }]);

    expect((await w.api.call("POST", `${w.sheetPath(v2Id, sheetId)}/refresh`, as.other)).status).toBe(403);
    const refreshed = await w.ok<SheetColumnsOut>(
      await w.api.call("POST", `${w.sheetPath(v2Id, sheetId)}/refresh`, as.member),
    );
    expect(refreshed.columns.map((c) => [c.columnName, c.columnId, c.role])).toEqual(
      selected.columns.map((c, i) => [c.columnName, c.columnId, ["time", "axis", "value"][i]]),
    );
    expect(refreshed.columns.find((c) => c.columnName === "科目")?.items).toEqual([
      "施設数",
      "施設当たり部屋数",
    ]);

    const after = await w.api.getTree(as.viewer, tree.id);
    expect(nodeByLabel(after, "稼働率").binding).toBeNull();
    expect(nodeByLabel(after, "施設数").binding?.fileId).toBe(v2Id);
    const data = await w.api.data(as.viewer, tree.id);
    expect(data.periods).toEqual(["2023", "2024", "2025"]);
    expect(seriesOf(data, "施設数").baseline).toEqual([3, 7, 5]);
    // Still one sheet row for the chain.
    const again = await w.ok<{ items: DtFileOut[] }>(await w.api.call("GET", "/file", as.viewer));
    expect(again.items[0].sheets).toEqual([{ sheetId, sheetName: "Sheet1", selected: true }]);
  });

  test("FILE_IN_USE with and without force, the usage counts, and unselect with bound nodes", async () => {
    const w = await world();
    const as = w.users;
    const { file, sheetId } = await w.f7(as.member);
    const tree = await w.capacityTree(as.member, {
      期間: 30,
      単価: 10000,
      施設数: 1,
      施設当たり部屋数: 1,
      稼働率: 1,
    });
    const id = (label: string) => nodeByLabel(tree, label).id;
    await w.bindOk(as.member, id("施設数"), { sheetId, item: "施設数" });
    await w.bindOk(as.member, id("稼働率"), { sheetId, item: "稼働率", aggregation: "mean" });

    const usage = await w.ok<Record<string, any>>(
      await request(`/api/v1/project/${w.project.id}/file/${file.fileId}/usage`, { headers: as.viewer.auth }),
    );
    expect(usage).toMatchObject({ driverTreeSheetCount: 1, boundNodeCount: 2, analysisSessionCount: 0 });
    expect(usage.usages).toEqual([
      expect.objectContaining({ usageType: "driver_tree_sheet", targetId: sheetId, sheetName: "Sheet1" }),
    ]);

    const unselect = await w.api.call("DELETE", w.sheetPath(file.fileId, sheetId), as.member);
    expect(unselect.status).toBe(409);
    expect((await json(unselect)).code).toBe("FILE_IN_USE");

    expect((await w.api.call("DELETE", `/file/${file.fileId}`, as.other)).status).toBe(403);
    const refused = await w.api.call("DELETE", `/file/${file.fileId}`, as.member);
    expect(refused.status).toBe(409);
    const problem = await json(refused);
    expect(problem.code).toBe("FILE_IN_USE");
    expect(problem.usage.boundNodeCount).toBe(2);
    // The project file route answers the same.
    const plain = await request(`/api/v1/project/${w.project.id}/file/${file.fileId}`, {
      method: "DELETE",
      headers: as.member.auth,
    });
    expect(plain.status).toBe(409);

    expect((await w.api.call("DELETE", `/file/${file.fileId}?force=true`, as.member)).status).toBe(204);
    const after = await w.api.getTree(as.viewer, tree.id);
    expect(nodeByLabel(after, "施設数").binding).toBeNull();
    expect(nodeByLabel(after, "稼働率").binding).toBeNull();
    const data = await w.api.data(as.viewer, tree.id);
    expect(data.periods).toEqual(["total"]);
    expect(seriesOf(data, "売上").baseline).toEqual([300000]);
    expect((await w.ok<{ total: number }>(await w.api.call("GET", "/file", as.viewer))).total).toBe(0);
    expect((await w.ok<{ total: number }>(await w.api.call("GET", "/sheet", as.viewer))).total).toBe(0);

    // A selected sheet nobody binds does not hold the file.
    const second = await w.f7(as.member);
    expect((await w.api.call("DELETE", `/file/${second.file.fileId}`, as.member)).status).toBe(204);

    // Unselect with force clears the bindings.
    const third = await w.f7(as.member);
    await w.bindOk(as.member, id("施設数"), { sheetId: third.sheetId, item: "施設数" });
    expect(
      (await w.api.call("DELETE", `${w.sheetPath(third.file.fileId, third.sheetId)}?force=true`, as.member))
        .status,
    ).toBe(204);
    expect(nodeByLabel(await w.api.getTree(as.viewer, tree.id), "施設数").binding).toBeNull();
  });

  test("another project's files, sheets and nodes are 404 with their codes; an inactive project is 409", async () => {
    const p = await world();
    const q = await world();
    const { file, sheetId } = await q.f7(q.users.member);
    const qTree = await q.capacityTree(q.users.member);
    const mine = await p.f7(p.users.member);
    const pTree = await p.capacityTree(p.users.member);
    const who = p.users.manager;
    const code = async (res: Promise<Response>, status: number, expected: string) => {
      const r = await res;
      expect(r.status).toBe(status);
      expect((await json(r)).code).toBe(expected);
    };
    await code(p.api.call("GET", p.sheetPath(file.fileId, sheetId), who), 404, "FILE_NOT_FOUND");
    await code(p.api.call("POST", p.sheetPath(file.fileId, sheetId), who), 404, "FILE_NOT_FOUND");
    await code(p.api.call("GET", p.sheetPath(mine.file.fileId, sheetId), who), 404, "SHEET_NOT_FOUND");
    await code(
      p.api.call("POST", `${p.sheetPath(mine.file.fileId, sheetId)}/refresh`, who),
      404,
      "SHEET_NOT_FOUND",
    );
    await code(
      p.roles(who, mine.file.fileId, sheetId, [{ columnId: crypto.randomUUID(), role: "time" }]),
      404,
      "SHEET_NOT_FOUND",
    );
    await code(p.api.call("DELETE", p.sheetPath(mine.file.fileId, sheetId), who), 404, "SHEET_NOT_FOUND");
    await code(p.api.call("DELETE", `/file/${file.fileId}`, who), 404, "FILE_NOT_FOUND");
    const pNode = nodeByLabel(pTree, "施設数").id;
    await code(p.bind(who, pNode, { sheetId, item: "施設数" }), 404, "SHEET_NOT_FOUND");
    const qNode = nodeByLabel(qTree, "施設数").id;
    await code(p.bind(who, qNode, { sheetId: mine.sheetId, item: "施設数" }), 404, "NODE_NOT_FOUND");
    await code(p.api.call("DELETE", `/node/${qNode}/binding`, who), 404, "NODE_NOT_FOUND");
    await code(p.api.call("GET", `/node/${qNode}/preview/output`, who), 404, "NODE_NOT_FOUND");
    const t = await p.api.createTree(p.users.member, { name: "x" });
    await code(
      p.api.call("POST", `/tree/${t.id}/import`, p.users.member, { formulas: ["a = b"], sheetId }),
      404,
      "SHEET_NOT_FOUND",
    );
    // Nothing of Q changed.
    expect(
      (await q.ok<{ items: SelectedSheetOut[] }>(await q.api.call("GET", "/sheet", q.users.viewer))).items
        .length,
    ).toBe(1);

    await request(`/api/v1/project/${p.project.id}`, jsonInit("PATCH", { isActive: false }, who.auth));
    await code(
      p.bind(p.users.member, pNode, { sheetId: mine.sheetId, item: "施設数" }),
      409,
      "PROJECT_INACTIVE",
    );
    await code(
      p.api.call("POST", `${p.sheetPath(mine.file.fileId, mine.sheetId)}/refresh`, p.users.member),
      409,
      "PROJECT_INACTIVE",
    );
    expect((await p.api.call("GET", "/sheet", p.users.viewer)).status).toBe(200);
  });

  test("/data reads parsed columns from the app's cache; a new file version, refresh and re-select are never stale", async () => {
    const w = await world();
    const as = w.users;
    const { file, sheetId, col } = await w.f7(as.member);
    const tree = await w.capacityTree(as.member);
    const id = (label: string) => nodeByLabel(tree, label).id;
    const misses = frames.misses;
    await w.bindOk(as.member, id("施設数"), { sheetId, item: "施設数" });
    expect(frames.misses).toBeGreaterThan(misses); // read and parsed once (the binding's answer)…
    const hits = frames.hits;
    const missesAfter = frames.misses;
    expect(seriesOf(await w.api.data(as.viewer, tree.id), "施設数").baseline).toEqual([10, 12]);
    expect(frames.hits).toBeGreaterThan(hits); // …then served from the cache
    expect(frames.misses).toBe(missesAfter);
    // Roles are read per request: a filter on an axis column applies to cached columns.
    await w.bindOk(as.member, id("施設数"), {
      sheetId,
      item: "施設数",
      axisFilter: { [col("地域")]: ["東京"] },
    });
    expect(seriesOf(await w.api.data(as.viewer, tree.id), "施設数").baseline).toEqual([6, 7]);

    // Version 2 of the file: the sheet keeps reading version 1 until it is refreshed, then version 2.
    const v2: (string | number)[][] = [
      ["FY", 2023, 2023, 2024, 2024],
      ["地域", "東京", "大阪", "東京", "大阪"],
      [],
      ["施設数", 100, 1, 200, 2],
      ["施設当たり部屋数", 20, 20, 20, 20],
      ["稼働率", 0.8, 0.8, 0.9, 0.7],
    ];
    const version = await request(`/api/v1/project/${w.project.id}/file/${file.fileId}/version`, {
      method: "POST",
      body: uploadForm("driver.xlsx", await xlsxBytes({ Sheet1: v2 })),
      headers: as.member.auth,
    });
    expect(version.status).toBe(201);
    const v2Id = (await json(version)).id as string;
    expect(seriesOf(await w.api.data(as.viewer, tree.id), "施設数").baseline).toEqual([6, 7]);
    const detail = async () =>
      (await w.ok<SheetDetailOut>(await w.api.call("GET", w.sheetPath(file.fileId, sheetId), as.viewer)))
        .sampleData[0];
    // The sheet detail's parse is cached per stored object: a second read is the same, and the
    // refresh onto version 2 (another object) shows version 2's values.
    expect(await detail()).toEqual({ FY: "2023", 地域: "東京", 科目: "施設数", 値: 6 });
    expect(await detail()).toEqual({ FY: "2023", 地域: "東京", 科目: "施設数", 値: 6 });
    await w.ok(await w.api.call("POST", `${w.sheetPath(v2Id, sheetId)}/refresh`, as.member));
    expect(seriesOf(await w.api.data(as.viewer, tree.id), "施設数").baseline).toEqual([100, 200]);
    expect(await detail()).toEqual({ FY: "2023", 地域: "東京", 科目: "施設数", 値: 100 });
    const preview = await (await w.api.call("GET", `/node/${id("施設数")}/preview/output`, as.viewer)).text();
    expect(preview).toBe("\uFEFFperiod,value\r\n2023,100\r\n2024,200\r\n");

    // Unselect, version 3, select again (new column ids), roles, bind: version 3's numbers.
    const v3 = v2.map((row) => (row[0] === "施設数" ? ["施設数", 5, 5, 9, 9] : row));
    const third = await request(`/api/v1/project/${w.project.id}/file/${file.fileId}/version`, {
      method: "POST",
      body: uploadForm("driver.xlsx", await xlsxBytes({ Sheet1: v3 })),
      headers: as.member.auth,
    });
    expect(third.status).toBe(201);
    const v3Id = (await json(third)).id as string;
    await w.ok(await w.api.call("DELETE", `${w.sheetPath(v3Id, sheetId)}?force=true`, as.member), 204);
    const listed = await w.ok<{ items: DtFileOut[] }>(await w.api.call("GET", "/file", as.viewer));
    const sheet3 = listed.items.find((f) => f.fileId === v3Id)!.sheets.find((s) => s.sheetName === "Sheet1")!;
    const reselected = await w.selectOk(as.member, v3Id, sheet3.sheetId);
    const col3 = (name: string) => reselected.columns.find((c) => c.columnName === name)!.columnId;
    await w.ok(
      await w.roles(as.member, v3Id, sheet3.sheetId, [
        { columnId: col3("FY"), role: "time" },
        { columnId: col3("科目"), role: "value" },
      ]),
    );
    await w.bindOk(as.member, id("施設数"), { sheetId: sheet3.sheetId, item: "施設数" });
    expect(seriesOf(await w.api.data(as.viewer, tree.id), "施設数").baseline).toEqual([10, 18]);
  });

  test("two app instances, each with its own cache: a refresh through one is read fresh through the other", async () => {
    const w = await world();
    const as = w.users;
    const otherFrames = createFrameCache();
    const other = buildApp({ ...(await testDeps({}, handle)), driverTreeFrames: otherFrames });
    const otherRequest = (path: string, init: RequestInit = {}) =>
      other.handle(new Request(`http://localhost${path}`, init));
    const { file, sheetId } = await w.f7(as.member);
    const tree = await w.capacityTree(as.member);
    await w.bindOk(as.member, nodeByLabel(tree, "施設数").id, { sheetId, item: "施設数" });
    expect(seriesOf(await w.api.data(as.viewer, tree.id), "施設数").baseline).toEqual([10, 12]);

    const v2 = F7.map((row) => (row[0] === "施設数" ? ["施設数", 1, 1, 2, 2] : row));
    const version = await otherRequest(`/api/v1/project/${w.project.id}/file/${file.fileId}/version`, {
      method: "POST",
      body: uploadForm("driver.xlsx", await xlsxBytes({ Sheet1: v2 })),
      headers: as.member.auth,
    });
    const v2Id = (await json(version)).id as string;
    const refresh = await otherRequest(`${w.api.base}${w.sheetPath(v2Id, sheetId)}/refresh`, {
      method: "POST",
      headers: as.member.auth,
    });
    expect(refresh.status).toBe(200);
    // This instance never saw the refresh; its cached columns are simply no longer the ones read.
    expect(seriesOf(await w.api.data(as.viewer, tree.id), "施設数").baseline).toEqual([2, 4]);
    expect(otherFrames.size).toBe(0);
  });

  test.skipIf(!usingPostgres)(
    "a binding waits for a concurrent change of its sheet and is checked against the result (PostgreSQL)",
    async () => {
      const w = await world();
      const as = w.users;
      const { sheetId } = await w.f7(as.member);
      const tree = await w.capacityTree(as.member);
      let release = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      let taken = () => {};
      const lockTaken = new Promise<void>((r) => {
        taken = r;
      });
      // What a role change holds for its whole transaction: the sheet locked, then 科目 made unused.
      const holder = handle.rawTransaction(async (raw) => {
        await raw.query("select id from driver_tree_file where id = $1 for update", [sheetId]);
        await raw.query(
          "update driver_tree_data_frame set role = 'unused' where driver_tree_file_id = $1 and is_subject",
          [sheetId],
        );
        taken();
        await held;
      });
      await lockTaken;
      const bind = w.bind(as.member, nodeByLabel(tree, "施設数").id, { sheetId, item: "施設数" });
      const first = await Promise.race([bind.then(() => "bound"), Bun.sleep(500).then(() => "waiting")]);
      expect(first).toBe("waiting");
      release();
      await holder;
      // The binding was checked after the change committed, not against the roles before it.
      const res = await bind;
      expect(res.status).toBe(422);
      expect((await json(res)).code).toBe("BINDING_INVALID");
      expect(nodeByLabel(await w.api.getTree(as.viewer, tree.id), "施設数").binding).toBeNull();
    },
  );

  test("a role change that breaks bindings is 409 FILE_IN_USE naming the nodes; force unbinds them in the same change", async () => {
    const w = await world();
    const as = w.users;
    const { file, sheetId, col } = await w.f7(as.member);
    const tree = await w.capacityTree(as.member);
    const id = (label: string) => nodeByLabel(tree, label).id;
    await w.bindOk(as.member, id("施設数"), { sheetId, item: "施設数" });
    await w.bindOk(as.member, id("稼働率"), {
      sheetId,
      item: "稼働率",
      aggregation: "mean",
      axisFilter: { [col("地域")]: ["東京"] },
    });
    const refused = async (columns: { columnId: string; role: string }[], labels: string[]) => {
      const res = await w.roles(as.member, file.fileId, sheetId, columns);
      expect(res.status).toBe(409);
      const body = await json(res);
      expect(body.code).toBe("FILE_IN_USE");
      expect(body.nodes.map((n: { label: string }) => n.label).sort()).toEqual([...labels].sort());
      expect(body.nodes.every((n: { treeId: string }) => n.treeId === tree.id)).toBe(true);
      expect(body.usage.boundNodeCount).toBe(labels.length);
      for (const label of labels) expect(body.detail).toContain(label);
      return body;
    };
    // 地域 carries 稼働率's filter; 科目 and FY carry every binding.
    const region = await refused([{ columnId: col("地域"), role: "unused" }], ["稼働率"]);
    expect(region.nodes[0].reason).toContain("地域");
    expect(
      (await refused([{ columnId: col("科目"), role: "利用しない" }], ["施設数", "稼働率"])).detail,
    ).toContain("科目");
    await refused([{ columnId: col("FY"), role: "axis" }], ["施設数", "稼働率"]);
    // Nothing changed: roles, bindings and numbers as before.
    const sheets = await w.ok<{ items: SelectedSheetOut[] }>(await w.api.call("GET", "/sheet", as.viewer));
    expect(sheets.items[0].columns.map((c) => c.role)).toEqual(["time", "axis", "value"]);
    expect(seriesOf(await w.api.data(as.viewer, tree.id), "稼働率").baseline).toEqual([0.8, 0.9]);
    // Changes that keep every binding readable pass: moving time within the rules, same roles.
    await w.ok(await w.roles(as.member, file.fileId, sheetId, [{ columnId: col("地域"), role: "axis" }]));

    // force: the roles change and the broken bindings go in the same transaction.
    const forced = await w.ok<SheetColumnsOut>(
      await w.api.call("PATCH", `${w.sheetPath(file.fileId, sheetId)}/column?force=true`, as.member, {
        columns: [{ columnId: col("地域"), role: "unused" }],
      }),
    );
    expect(forced.columns.find((c) => c.columnName === "地域")?.role).toBe("unused");
    let after = await w.api.getTree(as.viewer, tree.id);
    expect(nodeByLabel(after, "稼働率").binding).toBeNull();
    expect(nodeByLabel(after, "施設数").binding?.item).toBe("施設数");
    const audit = await handle.raw.query(
      "select metadata from audit_log where resource_id = $1 and action = 'UPDATE' order by created_at desc limit 1",
      [sheetId],
    );
    const rows =
      (audit as { rows?: { metadata: unknown }[] }).rows ?? (audit as unknown as { metadata: unknown }[]);
    expect(JSON.stringify(rows[0].metadata)).toContain(id("稼働率"));
    await w.ok(
      await w.api.call("PATCH", `${w.sheetPath(file.fileId, sheetId)}/column?force=true`, as.member, {
        columns: [{ columnId: col("科目"), role: "unused" }],
      }),
    );
    after = await w.api.getTree(as.viewer, tree.id);
    expect(nodeByLabel(after, "施設数").binding).toBeNull();
    const data = await w.api.data(as.viewer, tree.id);
    expect(data.periods).toEqual(["total"]);

    // A sheet whose 科目 is not the value column cannot be bound, by PUT or by import.
    const put = await w.bind(as.member, id("施設数"), { sheetId, item: "施設数" });
    expect(put.status).toBe(422);
    const putBody = await json(put);
    expect(putBody.code).toBe("BINDING_INVALID");
    expect(putBody.detail).toContain("value");
    const empty = await w.api.createTree(as.member, { name: "空" });
    const imported = await w.api.call("POST", `/tree/${empty.id}/import`, as.member, {
      formulas: ["売上 = 施設数 * 単価"],
      sheetId,
    });
    expect(imported.status).toBe(422);
    expect((await json(imported)).code).toBe("BINDING_INVALID");
  });

  test("refresh onto a version whose time column is gone clears every binding to the sheet", async () => {
    const w = await world();
    const as = w.users;
    const { file, sheetId } = await w.f7(as.member);
    const tree = await w.capacityTree(as.member);
    await w.bindOk(as.member, nodeByLabel(tree, "施設数").id, { sheetId, item: "施設数" });
    const renamed = F7.map((row) => (row[0] === "FY" ? ["年度", ...row.slice(1)] : row));
    const version = await request(`/api/v1/project/${w.project.id}/file/${file.fileId}/version`, {
      method: "POST",
      body: uploadForm("driver.xlsx", await xlsxBytes({ Sheet1: renamed })),
      headers: as.member.auth,
    });
    const v2Id = (await json(version)).id as string;
    const refreshed = await w.ok<SheetColumnsOut>(
      await w.api.call("POST", `${w.sheetPath(v2Id, sheetId)}/refresh`, as.member),
    );
    expect(refreshed.columns.map((c) => [c.columnName, c.role])).toEqual([
      ["年度", "unused"],
      ["地域", "axis"],
      ["科目", "value"],
    ]);
    expect(nodeByLabel(await w.api.getTree(as.viewer, tree.id), "施設数").binding).toBeNull();
    expect((await w.api.data(as.viewer, tree.id)).periods).toEqual(["total"]);
  });

  test("legacy .xls is refused at upload with the accepted kinds, and an .xls project file is not listed", async () => {
    const w = await world();
    const as = w.users;
    // An OLE compound file header: what an .xls starts with.
    const ole = new Uint8Array(1536);
    ole.set([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
    const res = await w.upload(as.member, "old.xls", ole);
    expect(res.status).toBe(415);
    const body = await json(res);
    expect(body.code).toBe("UNSUPPORTED_FILE_TYPE");
    expect(body.allowed).toEqual(["xlsx", "xlsm"]);
    expect(body.detail).toContain(".xlsx");
    const listed = await w.ok<{ items: DtFileOut[]; total: number }>(
      await w.api.call("GET", "/file", as.viewer),
    );
    expect(listed.total).toBe(0);
    // The project file routes still take .xls; driver trees do not list what they cannot read.
    const plain = await request(`/api/v1/project/${w.project.id}/file`, {
      method: "POST",
      body: uploadForm("old.xls", ole),
      headers: as.member.auth,
    });
    expect(plain.status).toBe(201);
    const again = await w.ok<{ items: DtFileOut[]; total: number }>(
      await w.api.call("GET", "/file", as.viewer),
    );
    expect(again.total).toBe(0);
  });
});
