import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { count, eq } from "drizzle-orm";
import { openDatabase } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import {
  analysisDummyChartMaster,
  analysisDummyFormulaMaster,
  analysisGraphAxisMaster,
  analysisIssueMaster,
  analysisValidationMaster,
  seedState,
} from "@/db/schema";
import {
  type CatalogueSeedReport,
  readAnalysisSeed,
  SeedSetInvalidError,
  seedAnalysisCatalogue,
  seededIssueId,
  seededThemeId,
} from "@/modules/analysis-catalogue/seed";
import { isolatedDatabase, testApp, testConfig } from "./helpers/context";
import { TEST_DATABASE_URL } from "./helpers/env";
import { json } from "./helpers/http";
import { jsonInit, signIn } from "./helpers/users";

const SEED = resolve(import.meta.dir, "../seed/analysis");
const I01 = "exit-loss-products";

const counts = (r: CatalogueSeedReport) => ({
  created: r.created,
  updated: r.updated,
  unchanged: r.unchanged,
  skipped: r.skipped,
  archived: r.archived,
});

/* A scratch copy of the shipped set that a test may break. */
function copySet(): string {
  const dir = join(mkdtempSync(join(tmpdir(), "camp-seed-")), "analysis");
  cpSync(SEED, dir, { recursive: true });
  return dir;
}

function edit(dir: string, file: string, fn: (text: string) => string) {
  const path = join(dir, file);
  writeFileSync(path, fn(readFileSync(path, "utf8")));
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

describe("analysis catalogue seed (analysis.md §6.3–6.4, scenarios 1 and 34)", async () => {
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
  const issueCount = async () => (await db.select({ n: count() }).from(analysisIssueMaster))[0].n;

  test("every shipped issue's preview replays ok with ≥ 1 formula and ≥ 1 chart", () => {
    const set = readAnalysisSeed(SEED);
    expect(set.themes).toHaveLength(10);
    expect(set.issues).toHaveLength(14);
    for (const i of set.issues) {
      expect(i.state.formulas.length).toBeGreaterThan(0);
      expect(i.state.charts.length).toBeGreaterThan(0);
      expect(i.state.axes.length).toBeGreaterThan(0);
      expect(Array.isArray(i.state.dummyInput)).toBe(true);
      for (const f of i.state.formulas) expect(f.value).toMatch(/^-?[\d,.]+(円|個|%)$/);
    }
    const i01 = set.issues.find((i) => i.file === `issues/${I01}.yaml`)!;
    expect(i01.state.formulas.map((f) => [f.name, f.value])).toContainEqual(["利益改善額", "185,000円"]);
  });

  test("an invalid set aborts naming file and field, and writes nothing", async () => {
    const dir = scratchSet();
    // A valid change in another file must not be written either.
    edit(dir, "issues/market-share.yaml", (t) =>
      t.replace("name: 現在の市場シェアはどうなっているか", "name: 変更された名前"),
    );
    edit(dir, `issues/${I01}.yaml`, (t) => t.replace("  ## 確認事項\n", "  ## 確認\n"));
    edit(dir, "issues/cost-trend.yaml", (t) => t.replace("theme: cost-structure", "theme: no-such-theme"));
    edit(dir, "issues/sales-funnel.yaml", (t) =>
      t.replace(
        "xAxis: 科目, yAxis: 値, measureType: absolute",
        "xAxis: 段階, yAxis: 値, measureType: absolute",
      ),
    );
    const e = await invalid(seedAnalysisCatalogue(db, { dir }));
    const at = (file: string) => e.problems.filter((p) => p.file === file);
    expect(at(`issues/${I01}.yaml`)).toContainEqual({
      file: `issues/${I01}.yaml`,
      field: "agentPrompt",
      message: 'missing heading "## 確認事項"',
    });
    expect(at("issues/cost-trend.yaml")[0]).toMatchObject({ field: "theme" });
    expect(at("issues/cost-trend.yaml")[0].message).toContain("no-such-theme");
    const broken = at("issues/sales-funnel.yaml")[0];
    expect(broken.field).toStartWith("preview.steps[1].config");
    expect(broken.message).toContain("段階");
    expect(e.message).toContain("issues/sales-funnel.yaml");
    expect(at("issues/market-share.yaml")).toEqual([]);
    expect(await issueCount()).toBe(0);
    expect((await db.select({ n: count() }).from(seedState))[0].n).toBe(0);

    const dup = scratchSet();
    edit(dup, "issues/promotion-roi.yaml", (t) =>
      t.replace("  - {name: 効果, option: subject", "  - {name: 費用, option: subject"),
    );
    const d = await invalid(seedAnalysisCatalogue(db, { dir: dup }));
    expect(d.problems).toEqual([
      {
        file: "issues/promotion-roi.yaml",
        field: "axisPickers[2].name",
        message: "duplicate picker name 費用",
      },
    ]);
  });

  test("first run creates 10 themes and 14 issues; a second run reports only unchanged", async () => {
    const first = await seedAnalysisCatalogue(db, { dir: SEED });
    expect(first.themes).toEqual({ created: 10, updated: 0, unchanged: 0, skipped: 0, archived: 0 });
    expect(first.issues).toEqual({ created: 14, updated: 0, unchanged: 0, skipped: 0, archived: 0 });
    expect(first.problems).toBeUndefined();
    expect((await db.select({ n: count() }).from(analysisValidationMaster))[0].n).toBe(10);
    expect(await issueCount()).toBe(14);
    const [issue] = await db
      .select()
      .from(analysisIssueMaster)
      .where(eq(analysisIssueMaster.id, seededIssueId(I01)));
    expect(issue.name).toBe("赤字製品から撤退すると利益はどれだけ改善するか");
    expect(issue.initialMsg).toContain("規模を表す科目");
    expect((issue.dummyInput as unknown[])[0]).toEqual({ 製品: "A", 科目: "売上高", 値: 1200000 });
    const formulas = await db
      .select()
      .from(analysisDummyFormulaMaster)
      .where(eq(analysisDummyFormulaMaster.issueId, issue.id));
    expect(formulas.find((f) => f.name === "利益合計")?.value).toBe("540,000円");

    const second = await seedAnalysisCatalogue(db, { dir: SEED });
    expect(counts(second)).toEqual({ created: 0, updated: 0, unchanged: 24, skipped: 0, archived: 0 });
    expect(second.problems).toBeUndefined();
  });

  test("an admin edit is skipped and reported; force restores the seeded row", async () => {
    const id = seededIssueId(I01);
    await db
      .update(analysisIssueMaster)
      .set({ name: "管理者が変えた名前" })
      .where(eq(analysisIssueMaster.id, id));
    const run = await seedAnalysisCatalogue(db, { dir: SEED });
    expect(counts(run)).toEqual({ created: 0, updated: 0, unchanged: 23, skipped: 1, archived: 0 });
    expect(run.problems).toEqual([
      {
        seedKey: `analysis-issue:${I01}`,
        file: `issues/${I01}.yaml`,
        message: expect.stringContaining("edited since the last seed"),
      },
    ]);
    const name = async () =>
      (await db.select().from(analysisIssueMaster).where(eq(analysisIssueMaster.id, id)))[0].name;
    expect(await name()).toBe("管理者が変えた名前");

    // An edited child row (a picker) counts as an edit of its issue too.
    await db
      .update(analysisGraphAxisMaster)
      .set({ multiple: true })
      .where(eq(analysisGraphAxisMaster.issueId, id));
    const forced = await seedAnalysisCatalogue(db, { dir: SEED, force: true });
    expect(counts(forced)).toEqual({ created: 0, updated: 1, unchanged: 23, skipped: 0, archived: 0 });
    expect(await name()).toBe("赤字製品から撤退すると利益はどれだけ改善するか");
    const axes = await db
      .select()
      .from(analysisGraphAxisMaster)
      .where(eq(analysisGraphAxisMaster.issueId, id));
    expect(axes.map((a) => a.multiple)).toEqual([false, false]);
    expect(counts(await seedAnalysisCatalogue(db, { dir: SEED })).unchanged).toBe(24);
  });

  test("a changed source updates rows the loader wrote; a removed issue is archived, never deleted", async () => {
    const dir = scratchSet();
    edit(dir, "issues/promotion-roi.yaml", (t) => t.replace("order: 1", "order: 5"));
    edit(dir, "samples/market-share.csv", (t) => t.replace("G社,売上,490000000", "G社,売上,500000000"));
    const changed = await seedAnalysisCatalogue(db, { dir });
    expect(counts(changed)).toEqual({ created: 0, updated: 2, unchanged: 22, skipped: 0, archived: 0 });
    const ms = await db
      .select()
      .from(analysisDummyFormulaMaster)
      .where(eq(analysisDummyFormulaMaster.issueId, seededIssueId("market-share")));
    expect(ms.find((f) => f.name === "市場全体の売上")?.value).toBe("14,010,000,000円");

    rmSync(join(dir, "issues/reform-effect.yaml"));
    const removed = await seedAnalysisCatalogue(db, { dir });
    expect(counts(removed)).toEqual({ created: 0, updated: 0, unchanged: 23, skipped: 0, archived: 1 });
    const [row] = await db
      .select()
      .from(analysisIssueMaster)
      .where(eq(analysisIssueMaster.id, seededIssueId("reform-effect")));
    expect(row.isActive).toBe(false);
    expect(row.archivedAt).toBeInstanceOf(Date);
    expect(await issueCount()).toBe(14);
    expect(counts(await seedAnalysisCatalogue(db, { dir }))).toEqual({
      created: 0,
      updated: 0,
      unchanged: 23,
      skipped: 0,
      archived: 0,
    });

    // Back to the shipped files: the archived issue returns and the other two revert.
    const back = await seedAnalysisCatalogue(db, { dir: SEED });
    expect(counts(back)).toEqual({ created: 0, updated: 3, unchanged: 21, skipped: 0, archived: 0 });
    const [again] = await db
      .select()
      .from(analysisIssueMaster)
      .where(eq(analysisIssueMaster.id, seededIssueId("reform-effect")));
    expect(again.isActive).toBe(true);
    expect(again.archivedAt).toBeNull();
  });

  test("a theme removed with its issues is archived with them and returns with the files", async () => {
    const dir = scratchSet();
    edit(dir, "themes.yaml", (t) => t.replace(/^- \{key: inventory,.*\n/m, ""));
    rmSync(join(dir, "issues/inventory-gap.yaml"));
    const removed = await seedAnalysisCatalogue(db, { dir });
    expect(removed.themes.archived).toBe(1);
    expect(removed.issues.archived).toBe(1);
    const theme = async () =>
      (
        await db
          .select()
          .from(analysisValidationMaster)
          .where(eq(analysisValidationMaster.id, seededThemeId("inventory")))
      )[0];
    expect((await theme()).isActive).toBe(false);
    expect((await theme()).archivedAt).toBeInstanceOf(Date);
    // Archived once: a second run archives nothing more.
    expect(counts(await seedAnalysisCatalogue(db, { dir })).archived).toBe(0);

    const back = await seedAnalysisCatalogue(db, { dir: SEED });
    expect(back.themes.updated).toBe(1);
    expect(back.issues.updated).toBe(1);
    expect((await theme()).isActive).toBe(true);
    expect((await theme()).archivedAt).toBeNull();
  });

  test("scenario 1: the catalogue over HTTP", async () => {
    const { request, deps } = await testApp({}, {}, iso.handle);
    const manager = await signIn(request, deps.config.secretKey);
    const project = await json(
      await request(
        "/api/v1/project",
        jsonInit("POST", { name: "シード確認", code: `S-${manager.id.slice(-10)}` }, manager.auth),
      ),
    );
    const res = await request(`/api/v1/project/${project.id}/analysis/template?limit=100`, {
      headers: manager.auth,
    });
    expect(res.status).toBe(200);
    const page = await json(res);
    expect(page.items.length).toBeGreaterThanOrEqual(14);
    expect(new Set(page.items.map((i: any) => i.validationId)).size).toBeGreaterThanOrEqual(10);
    for (const item of page.items) {
      expect(typeof item.validationName).toBe("string");
      expect(Number.isInteger(item.validationOrder)).toBe(true);
      expect(typeof item.issueName).toBe("string");
      expect(Number.isInteger(item.issueOrder)).toBe(true);
    }
    expect(page.items[0].validationName).toBe("不採算製品からの撤退");
    expect(page.items[0].issueName).toBe("赤字製品から撤退すると利益はどれだけ改善するか");

    for (const item of page.items) {
      const detail = await json(
        await request(`/api/v1/project/${project.id}/analysis/template/${item.issueId}`, {
          headers: manager.auth,
        }),
      );
      expect(detail.agentPrompt).toContain("## 標準フロー");
      expect(detail.initialAxis.length).toBeGreaterThan(0);
      for (const a of detail.initialAxis) {
        expect(["subject", "column"]).toContain(a.option);
        expect(typeof a.multiple).toBe("boolean");
      }
      expect(detail.dummyInput.length).toBeGreaterThan(0);
      for (const row of detail.dummyInput) {
        expect(typeof row.科目).toBe("string");
        expect("値" in row).toBe(true);
      }
      expect(detail.dummyFormula.length).toBeGreaterThan(0);
      for (const f of detail.dummyFormula) expect(f.value).toMatch(/(円|個|%)$/);
      expect(detail.dummyChart.length).toBeGreaterThan(0);
      for (const c of detail.dummyChart) {
        expect(Array.isArray(c.chart.data)).toBe(true);
        expect(c.chart.data.length).toBeGreaterThan(0);
        expect(typeof c.chart.layout).toBe("object");
        expect(JSON.stringify(c.chart)).not.toContain("bdata");
        for (const trace of c.chart.data) {
          for (const k of ["x", "y", "values", "labels"]) {
            if (k in trace) expect(Array.isArray(trace[k])).toBe(true);
          }
        }
      }
    }
    const scatter = (await db
      .select()
      .from(analysisDummyChartMaster)
      .where(eq(analysisDummyChartMaster.issueId, seededIssueId(I01)))) as any[];
    expect(scatter[0].chart.data[0].type).toBe("scatter");
  });
});

describe("concurrent loaders", () => {
  test("two runs at once: the advisory lock makes one create and the other find everything unchanged", async () => {
    const iso = await isolatedDatabase();
    try {
      await migrateUp(iso.handle, migrationsDir(testConfig()));
      const runs = await Promise.all([
        seedAnalysisCatalogue(iso.handle.db, { dir: SEED }),
        seedAnalysisCatalogue(iso.handle.db, { dir: SEED }),
      ]);
      expect(runs.map(counts).sort((x, y) => x.created - y.created)).toEqual([
        { created: 0, updated: 0, unchanged: 24, skipped: 0, archived: 0 },
        { created: 24, updated: 0, unchanged: 0, skipped: 0, archived: 0 },
      ]);
    } finally {
      await iso.drop();
    }
  });
});

describe("bun run seed (CLI)", () => {
  test("prints counts; a second run reports only unchanged", async () => {
    const root = mkdtempSync(join(tmpdir(), "camp-seed-cli-"));
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? root,
      ENVIRONMENT: "development",
      LOG_LEVEL: "silent",
    };
    let dropDb = async () => {};
    if (TEST_DATABASE_URL) {
      const admin = await openDatabase(testConfig());
      const name = `camp_seed_cli_${crypto.randomUUID().replace(/-/g, "").slice(-10)}`;
      await admin.raw.script(`create database ${name}`);
      const url = new URL(TEST_DATABASE_URL);
      url.pathname = `/${name}`;
      env.DATABASE_URL = url.toString();
      dropDb = async () => {
        await admin.raw.script(`drop database if exists ${name} with (force)`);
        await admin.close(1);
      };
    } else {
      env.PGLITE_DIR = join(root, "pglite");
    }
    const cwd = resolve(import.meta.dir, "..");
    const run = (...args: string[]) => {
      const r = Bun.spawnSync(["bun", "src/cli/db.ts", ...args], { cwd, env });
      return { code: r.exitCode, out: r.stdout.toString(), err: r.stderr.toString() };
    };
    try {
      expect(run("migrate").code).toBe(0);
      const first = run("seed");
      expect(first.err).toBe("");
      expect(first.code).toBe(0);
      expect(first.out).toContain(
        "analysis catalogue: created 24, updated 0, unchanged 0, skipped 0, archived 0",
      );
      expect(first.out).toContain(
        "driver-tree masters: created 52, updated 0, unchanged 0, skipped 0, removed 0",
      );
      const second = run("seed");
      expect(second.code).toBe(0);
      expect(second.out).toContain(
        "analysis catalogue: created 0, updated 0, unchanged 24, skipped 0, archived 0",
      );
      expect(second.out).toContain(
        "driver-tree masters: created 0, updated 0, unchanged 52, skipped 0, removed 0",
      );
      expect(run("seed", "--force").code).toBe(0);
      expect(run("seed", "--bogus").code).toBe(2);
    } finally {
      await dropDb();
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
