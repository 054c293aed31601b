import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { count, eq } from "drizzle-orm";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import { driverTreeCategory, driverTreeFormula, seedState } from "@/db/schema";
import { SeedSetInvalidError } from "@/modules/analysis-catalogue/seed";
import {
  type DriverTreeSeedReport,
  seedDriverTreeMasters,
  seededDriverTypeId,
  seededFormulaId,
} from "@/modules/driver-tree-master/seed";
import { isolatedDatabase, testApp, testConfig } from "./helpers/context";
import { childLabels, driverTreeApi, nodeByLabel, seriesOf } from "./helpers/driver-tree";
import { json } from "./helpers/http";
import { jsonInit } from "./helpers/users";

/* The driver-tree master seed (analysis.md §7.10), loaded like the analysis catalogue (§6.4). */

const SEED = resolve(import.meta.dir, "../seed/driver-tree");
const DEV = { authorization: "Bearer mock-access-token-dev-12345" };
const ROWS = 16 + 36;

const counts = (r: DriverTreeSeedReport) => ({
  created: r.created,
  updated: r.updated,
  unchanged: r.unchanged,
  skipped: r.skipped,
  removed: r.removed,
});

function copySet(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "camp-dt-seed-")), "driver-tree");
  cpSync(SEED, dir, { recursive: true });
  return dir;
}
function edit(dir: string, file: string, fn: (text: string) => string) {
  const path = join(dir, file);
  const before = readFileSync(path, "utf8");
  const after = fn(before);
  if (after === before) throw new Error(`edit of ${file} changed nothing`);
  writeFileSync(path, after);
}
async function invalid(promise: Promise<unknown>): Promise<SeedSetInvalidError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof SeedSetInvalidError) return e;
    throw e;
  }
  throw new Error("expected SeedSetInvalidError");
}

describe("driver-tree master seed on a database", async () => {
  const iso = await isolatedDatabase();
  await migrateUp(iso.handle, migrationsDir(testConfig()));
  const db = iso.handle.db;
  const scratch: string[] = [];
  afterAll(async () => {
    for (const d of scratch) rmSync(resolve(d, ".."), { recursive: true, force: true });
    await iso.drop();
  });
  const scratchSet = () => {
    const d = copySet();
    scratch.push(d);
    return d;
  };
  const rows = async () => ({
    categories: (await db.select({ n: count() }).from(driverTreeCategory))[0].n,
    formulas: (await db.select({ n: count() }).from(driverTreeFormula))[0].n,
  });

  test("an invalid set names file and field, and writes nothing", async () => {
    const dir = scratchSet();
    edit(dir, "formulas.yaml", (t) => t.replace("- 売上 = 客数 * 客単価", "- 売上 = 客数 *"));
    edit(dir, "formulas.yaml", (t) => t.replace("- 原価 = 販売数量 * 単位原価", "- 原価 = 販売数量 * 原価"));
    edit(dir, "formulas.yaml", (t) =>
      t.replace(
        "- EBITDA = 営業利益 + 減価償却費\n      - 営業利益 = 粗利 - 販管費\n      - 減価償却費",
        "- EBIT = 営業利益 + 減価償却費\n      - 営業利益 = 粗利 - 販管費\n      - 減価償却費",
      ),
    );
    edit(dir, "categories.yaml", (t) =>
      t.replace("driverTypes: [volume-price]}", "driverTypes: [no-such-type]}"),
    );
    const e = await invalid(seedDriverTreeMasters(db, { dir }));
    expect(e.problems).toContainEqual({
      file: "categories.yaml",
      field: "categories[3].industries[0].driverTypes[0]",
      message: expect.stringContaining("unknown driver type no-such-type"),
    });
    // categories.yaml failed, so formulas are not even read: fix it and look again.
    edit(dir, "categories.yaml", (t) =>
      t.replace("driverTypes: [no-such-type]}", "driverTypes: [volume-price]}"),
    );
    const f = await invalid(seedDriverTreeMasters(db, { dir }));
    const fields = f.problems.map((p) => `${p.file} ${p.field}`);
    expect(fields).toContain("formulas.yaml [1].kpis.売上[0]");
    expect(f.problems.find((p) => p.field === "[1].kpis.売上[0]")?.message).toMatch(/^at character \d+: /);
    expect(fields).toContain("formulas.yaml [3].kpis.原価");
    expect(f.problems.find((p) => p.field === "[3].kpis.原価")?.message).toContain("cycle");
    expect(f.problems.find((p) => p.field === "[2].kpis.EBITDA[0]")?.message).toContain("EBITDA");
    expect(await rows()).toEqual({ categories: 0, formulas: 0 });
    expect((await db.select({ n: count() }).from(seedState))[0].n).toBe(0);

    const shape = scratchSet();
    edit(shape, "formulas.yaml", (t) =>
      t.replace(
        "  kpis:\n    売上:\n      - 売上 = 稼働部屋数",
        "  kpi:\n    売上:\n      - 売上 = 稼働部屋数",
      ),
    );
    const s = await invalid(seedDriverTreeMasters(db, { dir: shape }));
    expect(s.problems).toContainEqual({ file: "formulas.yaml", field: "[0].kpis", message: "is required" });
    expect(s.problems.map((x) => x.field)).toContain("[0].kpi");

    const missing = scratchSet();
    edit(missing, "formulas.yaml", (t) =>
      t.replace(
        / {4}販管費:\n {6}- 販管費 = 人件費 \+ 広告宣伝費 \+ その他販管費\n {6}- 人件費 = 従業員数 \* 一人当たり人件費\n/,
        "",
      ),
    );
    const m = await invalid(seedDriverTreeMasters(db, { dir: missing }));
    expect(m.problems).toContainEqual({
      file: "formulas.yaml",
      field: "[0].kpis",
      message: expect.stringContaining("has no formulas for 販管費"),
    });
  });

  test("first run creates every row; a second run reports only unchanged", async () => {
    const first = await seedDriverTreeMasters(db, { dir: SEED });
    expect(first.categories).toEqual({ created: 16, updated: 0, unchanged: 0, skipped: 0, removed: 0 });
    expect(first.formulas).toEqual({ created: 36, updated: 0, unchanged: 0, skipped: 0, removed: 0 });
    expect(await rows()).toEqual({ categories: 16, formulas: 36 });
    const [sales] = await db
      .select()
      .from(driverTreeFormula)
      .where(eq(driverTreeFormula.id, seededFormulaId("customers-spend", "売上")));
    expect(sales.formulas).toEqual([
      "売上 = 客数 * 客単価",
      "客数 = 新規客数 + リピート客数",
      "客単価 = 買上点数 * 商品単価",
    ]);
    expect(sales.categoryId).not.toBeNull();
    const second = await seedDriverTreeMasters(db, { dir: SEED });
    expect(counts(second)).toEqual({ created: 0, updated: 0, unchanged: ROWS, skipped: 0, removed: 0 });
    expect(second.problems).toBeUndefined();
  });

  test("an admin edit is skipped and reported; force restores it", async () => {
    const target = seededFormulaId("subscription", "販管費");
    await db
      .update(driverTreeFormula)
      .set({ formulas: ["販管費 = 人件費 + 広告宣伝費"] })
      .where(eq(driverTreeFormula.id, target));
    const run = await seedDriverTreeMasters(db, { dir: SEED });
    expect(counts(run)).toEqual({ created: 0, updated: 0, unchanged: ROWS - 1, skipped: 1, removed: 0 });
    expect(run.problems?.[0]).toMatchObject({
      seedKey: "driver-tree-formula:subscription/販管費",
      file: "formulas.yaml",
    });
    const forced = await seedDriverTreeMasters(db, { dir: SEED, force: true });
    expect(counts(forced)).toEqual({ created: 0, updated: 1, unchanged: ROWS - 1, skipped: 0, removed: 0 });
    const [row] = await db.select().from(driverTreeFormula).where(eq(driverTreeFormula.id, target));
    expect(row.formulas[0]).toBe("販管費 = 人件費 + 広告宣伝費 + その他販管費");
  });

  test("a changed file updates; an entry removed from the files is deleted while untouched", async () => {
    const dir = scratchSet();
    edit(dir, "categories.yaml", (t) => t.replace("name: 駐車場,", "name: コインパーキング,"));
    const changed = await seedDriverTreeMasters(db, { dir });
    expect(counts(changed)).toEqual({ created: 0, updated: 1, unchanged: ROWS - 1, skipped: 0, removed: 0 });
    const parking = await db
      .select()
      .from(driverTreeCategory)
      .where(eq(driverTreeCategory.industryName, "コインパーキング"));
    expect(parking).toHaveLength(1);

    edit(dir, "categories.yaml", (t) =>
      t.replace("driverTypes: [stores-sales, customers-spend]}", "driverTypes: [stores-sales]}"),
    );
    const removed = await seedDriverTreeMasters(db, { dir });
    expect(counts(removed)).toEqual({ created: 0, updated: 0, unchanged: ROWS - 1, skipped: 0, removed: 1 });
    expect((await rows()).categories).toBe(15);
    expect(counts(await seedDriverTreeMasters(db, { dir }))).toEqual({
      created: 0,
      updated: 0,
      unchanged: ROWS - 1,
      skipped: 0,
      removed: 0,
    });
    const back = await seedDriverTreeMasters(db, { dir: SEED });
    expect(counts(back)).toEqual({ created: 1, updated: 1, unchanged: ROWS - 2, skipped: 0, removed: 0 });
  });

  test("the seeded masters over HTTP: category tree and formula lookup", async () => {
    const { request } = await testApp({}, {}, iso.handle);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "DT", code: `DT-${crypto.randomUUID().slice(0, 6)}` }, DEV),
      ),
    );
    const base = `/api/v1/project/${project.id}/driver-tree`;
    const cat = await json(await request(`${base}/category`, { headers: DEV }));
    expect(cat.categories.map((c: any) => c.categoryName).sort()).toEqual(
      ["宿泊・レジャー", "小売", "飲食", "製造", "IT・サービス", "医療・介護"].sort(),
    );
    const retail = cat.categories.find((c: any) => c.categoryName === "小売");
    const chain = retail.industries.find((i: any) => i.industryName === "チェーン小売");
    expect(chain.driverTypes.map((d: any) => d.driverType).sort()).toEqual(
      ["客数×客単価型", "店舗数×店舗売上型"].sort(),
    );
    const industries = cat.categories.flatMap((c: any) => c.industries);
    expect(industries.length).toBeGreaterThanOrEqual(12);

    const dt = seededDriverTypeId("subscription");
    const res = await request(`${base}/formula?driverTypeId=${dt}&kpi=${encodeURIComponent("EBITDA")}`, {
      headers: DEV,
    });
    expect(res.status).toBe(200);
    expect((await json(res)).formula).toEqual({
      formulaId: seededFormulaId("subscription", "EBITDA"),
      driverTypeId: dt,
      driverType: "サブスクリプション型",
      kpi: "EBITDA",
      formulas: ["EBITDA = 営業利益 + 減価償却費", "営業利益 = 粗利 - 販管費", "粗利 = 売上 - 原価"],
      categoryId: expect.any(String),
    });
  });

  test("scenario 19 from the shipped masters: category → formula → tree → values → +5 % policy", async () => {
    await seedDriverTreeMasters(iso.handle.db, { dir: SEED });
    const { request } = await testApp({}, {}, iso.handle);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "DT19", code: `DT-${crypto.randomUUID().slice(0, 6)}` }, DEV),
      ),
    );
    const api = driverTreeApi(request, project.id);
    const dev = { auth: DEV };
    const cat = await json(await request(`${api.base}/category`, { headers: DEV }));
    const driverType = cat.categories
      .flatMap((c: any) => c.industries)
      .flatMap((i: any) => i.driverTypes)
      .find((d: any) => d.driverType === "キャパシティ×稼働率型①");
    expect(driverType).toBeDefined();
    const formula = (
      await json(
        await request(
          `${api.base}/formula?driverTypeId=${driverType.driverTypeId}&kpi=${encodeURIComponent("売上")}`,
          {
            headers: DEV,
          },
        ),
      )
    ).formula;
    expect(formula.formulas).toHaveLength(3);

    const tree = await api.createTree(dev, { name: "稼働率", formulaId: formula.formulaId });
    expect(childLabels(tree, "売上")).toEqual(["稼働部屋数", "単価"]);
    expect(childLabels(tree, "稼働部屋数")).toEqual(["キャパシティ", "稼働率", "期間"]);
    expect(childLabels(tree, "キャパシティ")).toEqual(["施設数", "施設当たり部屋数"]);
    const values = { 施設数: 10, 施設当たり部屋数: 20, 稼働率: 0.8, 期間: 30, 単価: 10000 };
    for (const [label, value] of Object.entries(values))
      await api.patchNodeOk(dev, nodeByLabel(tree, label).id, { value });
    const base = await api.data(dev, tree.id);
    expect(seriesOf(base, "売上").baseline).toEqual([48_000_000]);
    expect(seriesOf(base, "キャパシティ").baseline).toEqual([200]);
    expect(seriesOf(base, "稼働部屋数").baseline).toEqual([4_800]);
    await api.addPolicy(dev, nodeByLabel(tree, "単価").id, { name: "単価改定", value: 5 });
    const sim = seriesOf(await api.data(dev, tree.id), "売上");
    expect(Math.abs((sim.simulated[0] as number) - 50_400_000)).toBeLessThan(1e-6);
    expect(Math.abs((sim.delta[0] as number) - 2_400_000)).toBeLessThan(1e-6);
  });
});

describe("concurrent driver-tree seeds", () => {
  test("two runs at once: one creates, the other finds everything unchanged", async () => {
    const iso = await isolatedDatabase();
    try {
      await migrateUp(iso.handle, migrationsDir(testConfig()));
      const runs = await Promise.all([
        seedDriverTreeMasters(iso.handle.db, { dir: SEED }),
        seedDriverTreeMasters(iso.handle.db, { dir: SEED }),
      ]);
      expect(runs.map(counts).sort((x, y) => x.created - y.created)).toEqual([
        { created: 0, updated: 0, unchanged: ROWS, skipped: 0, removed: 0 },
        { created: ROWS, updated: 0, unchanged: 0, skipped: 0, removed: 0 },
      ]);
    } finally {
      await iso.drop();
    }
  });
});
