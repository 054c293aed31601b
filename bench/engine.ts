/*
 * Engine benchmark (analysis.md §9): P1 xlsx parse, P1b CP932 CSV parse, P2 cold replay, P2b warm
 * replay, P4 JSON serialisation. Each case runs in its own child process (1 warm-up + 5 runs) so
 * that peak RSS is per case. `bun bench/engine.ts [--case P2] [--pandas] [--check]`: the run is
 * written to bench/results/<date>-<host>-engine.json; --check exits 1 when a §9 target is missed.
 */
import { existsSync, mkdirSync } from "node:fs";
import { cpus, hostname, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import ExcelJS from "exceljs";
import iconv from "iconv-lite";
import { dataHash, materialiseRows } from "@/modules/analysis/engine/frame";
import { parseFileSheet } from "@/modules/analysis/engine/parse/read-file";
import { createResultCache, runPipeline } from "@/modules/analysis/engine/pipeline";
import { p1Grid, p2Steps, replayFrame } from "./engine-data";

const DIR = join(tmpdir(), "camp-engine-bench");
const XLSX = join(DIR, "p1.xlsx");
const CSV = join(DIR, "p1_cp932.csv");

async function ensureFiles(): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  const grid = p1Grid();
  if (!existsSync(XLSX)) {
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("Sheet1");
    grid.forEach((row, r) => {
      if (row.length) ws.getRow(r + 1).values = row as ExcelJS.CellValue[];
    });
    await Bun.write(XLSX, new Uint8Array(await wb.xlsx.writeBuffer()));
  }
  if (!existsSync(CSV)) {
    const text = grid.map((row) => row.map((c) => (c === null ? "" : String(c))).join(",")).join("\r\n");
    await Bun.write(CSV, iconv.encode(text, "cp932"));
  }
}

type Stats = {
  case: string;
  medianMs: number;
  p95Ms: number;
  runsMs: number[];
  peakRssMb: number;
  baselineRssMb: number;
  check?: unknown;
};

const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

async function measure(name: string, setup: () => Promise<() => unknown> | (() => unknown)): Promise<Stats> {
  const baseline = process.memoryUsage().rss;
  const fn = await setup();
  let check = await fn();
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    check = await fn();
    runs.push(performance.now() - t);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  const peak = process.resourceUsage().maxRSS * 1024;
  return {
    case: name,
    medianMs: Math.round(sorted[2] * 10) / 10,
    p95Ms: Math.round(sorted[4] * 10) / 10,
    runsMs: runs.map((r) => Math.round(r * 10) / 10),
    peakRssMb: mb(peak - baseline),
    baselineRssMb: mb(baseline),
    check,
  };
}

const CASES: Record<string, () => Promise<Stats>> = {
  P1: () =>
    measure("P1 xlsx parse 50×1000, 3 header rows", async () => {
      const bytes = new Uint8Array(await Bun.file(XLSX).arrayBuffer());
      return async () => (await parseFileSheet(bytes, "xlsx", "Sheet1", undefined)).rowCount;
    }),
  P1b: () =>
    measure("P1b CP932 CSV parse (same grid)", async () => {
      const bytes = new Uint8Array(await Bun.file(CSV).arrayBuffer());
      return async () => (await parseFileSheet(bytes, "csv", "CSV", undefined)).rowCount;
    }),
  P2: () =>
    measure("P2 cold replay, 6 steps over 1,000,000 rows", () => {
      const frame = replayFrame();
      const hash = dataHash(frame);
      return () => {
        const r = runPipeline(frame, hash, p2Steps(), { cache: createResultCache() });
        const s6 = r.steps[5];
        if (r.steps.some((s) => s.status !== "ok"))
          throw new Error(JSON.stringify(r.steps.map((s) => s.error)));
        return {
          s5Rows: r.steps[4].frame!.rowCount,
          formulas: s6.summary!.resultFormula.map((f) => f.value),
        };
      };
    }),
  P2b: () =>
    measure("P2b warm replay, only step 6 changed", () => {
      const frame = replayFrame();
      const hash = dataHash(frame);
      const cache = createResultCache();
      runPipeline(frame, hash, p2Steps(), { cache });
      let k = 0;
      return () => {
        const r = runPipeline(frame, hash, p2Steps(`title ${k++}`), { cache });
        return r.steps.map((s) => (s.cached ? "hit" : "computed")).join(",");
      };
    }),
  P4: () =>
    measure("P4 JSON: step 3 page (≤ 5,000 rows) + Plotly figure", () => {
      const frame = replayFrame();
      const r = runPipeline(frame, dataHash(frame), p2Steps(), { cache: createResultCache() });
      const s3 = r.steps[2].frame!;
      const fig = r.steps[5].summary!.resultChart;
      return () => {
        const page = JSON.stringify({
          items: materialiseRows(s3, 0, 5000),
          total: s3.rowCount,
          skip: 0,
          limit: 5000,
        });
        const chart = JSON.stringify(fig);
        return page.length + chart.length;
      };
    }),
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = args.includes("--case") ? args[args.indexOf("--case") + 1] : null;
  await ensureFiles();
  if (only) {
    console.log(JSON.stringify(await CASES[only]()));
    return;
  }
  const results: Stats[] = [];
  for (const name of Object.keys(CASES)) {
    const p = Bun.spawnSync(["bun", import.meta.path, "--case", name], { stderr: "inherit" });
    const stats = JSON.parse(p.stdout.toString().trim().split("\n").pop()!) as Stats;
    results.push(stats);
    console.log(
      `${name.padEnd(4)} median ${String(stats.medianMs).padStart(8)} ms  p95 ${String(stats.p95Ms).padStart(8)} ms  peak RSS +${stats.peakRssMb} MB  ${JSON.stringify(stats.check)}`,
    );
  }
  let pandas: Stats[] = [];
  if (args.includes("--pandas")) {
    const py = Bun.spawnSync(["/usr/bin/python3", join(import.meta.dir, "engine_pandas.py"), XLSX, CSV], {
      stderr: "inherit",
    });
    pandas = JSON.parse(py.stdout.toString().trim().split("\n").pop()!) as Stats[];
    console.log("\ncase  bun median / pandas median = ratio   (RSS bun / pandas MB)");
    for (const p of pandas) {
      const b = results.find((r) => r.case.startsWith(`${p.case} `));
      if (!b) continue;
      console.log(
        `${p.case.padEnd(4)}  ${b.medianMs} / ${p.medianMs} ms = ${(b.medianMs / p.medianMs).toFixed(2)}   (${b.peakRssMb} / ${p.peakRssMb})  pandas check ${JSON.stringify(p.check)}`,
      );
    }
  }
  const missed = targetsMissed(results, pandas);
  const out = join(
    import.meta.dir,
    "results",
    `${new Date().toISOString().slice(0, 10)}-${hostname()}-engine.json`,
  );
  await Bun.write(
    out,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        cpu: cpus()[0]?.model,
        cores: cpus().length,
        bun: Bun.version,
        loadAverage: loadavg(),
        results,
        pandas,
        missed,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwritten ${out}`);
  for (const m of missed) console.log(`target missed: ${m}`);
  if (args.includes("--check") && missed.length > 0) process.exit(1);
}

/* The §9 targets: time and (P1, P2) RSS ratios to pandas when measured, P2 RSS ≤ 512 MB, warm replay ≤ 50 ms, JSON ≤ 20 ms. */
function targetsMissed(results: Stats[], pandas: Stats[]): string[] {
  const missed: string[] = [];
  const bun = (id: string) => results.find((r) => r.case.startsWith(`${id} `));
  for (const p of pandas) {
    const b = bun(p.case);
    if (b && b.medianMs > p.medianMs)
      missed.push(`${p.case} median ${b.medianMs} ms > pandas ${p.medianMs} ms`);
    if (b && (p.case === "P1" || p.case === "P2") && b.peakRssMb > p.peakRssMb) {
      missed.push(`${p.case} peak RSS ${b.peakRssMb} MB > pandas ${p.peakRssMb} MB`);
    }
  }
  const p2 = bun("P2");
  if (p2 && p2.peakRssMb > 512) missed.push(`P2 peak RSS ${p2.peakRssMb} MB > 512 MB`);
  const p2b = bun("P2b");
  if (p2b && p2b.medianMs > 50) missed.push(`P2b median ${p2b.medianMs} ms > 50 ms`);
  const p4 = bun("P4");
  if (p4 && p4.medianMs > 20) missed.push(`P4 median ${p4.medianMs} ms > 20 ms`);
  return missed;
}

await main();
