/*
 * P2c load (analysis.md §9): the 1,000,000-row replay dataset stored as `analysis_file.data`
 * (columnar-v1, §1.10) in a throwaway PostgreSQL database, read back through the app's own client
 * and `inputOf` into a columnar frame. 1 warm-up + 5 runs, median, p95, peak RSS above the
 * measuring process's baseline, plus the split query / JSON.parse / fromColumnarJson.
 *
 *   bun bench/engine-load.ts [--check]      (BENCH_PG_URL, default postgresql://postgres@127.0.0.1:5432)
 *
 * Writes bench/results/<date>-engine-load.json.
 *
 * The parent generates and stores the data; the measurement runs in a child process so that its
 * peak RSS is not inflated by the generation and the insert.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { configFrom } from "@/config";
import { type DatabaseHandle, openDatabase } from "@/db/client";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import { analysisFile, analysisSession, project } from "@/db/schema";
import { type ColumnarJson, fromColumnarJson, toColumnarJson } from "@/engine";
import { newId } from "@/lib/ids";
import { createAnalysisCaches } from "@/modules/analysis-session/caches";
import { inputOf } from "@/modules/analysis-session/results";
import { seedIssue } from "../tests/helpers/analysis";
import { replayFrame } from "./engine-data";

const SERVER = process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432";
const TARGET_MS = 500;
const RUNS = 5;
const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const r1 = (ms: number) => Math.round(ms * 10) / 10;

const urlOf = (db: string) => {
  const u = new URL(SERVER);
  u.pathname = `/${db}`;
  return u.toString();
};
const config = (url: string) =>
  configFrom({ ENVIRONMENT: "development", DATABASE_URL: url, LOG_LEVEL: "silent" });

type Timing = { medianMs: number; p95Ms: number; runsMs: number[] };
function stats(runs: number[]): Timing {
  const s = [...runs].sort((a, b) => a - b);
  return { medianMs: r1(s[Math.floor(s.length / 2)]), p95Ms: r1(s[s.length - 1]), runsMs: runs.map(r1) };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ timing: Timing; last: T }> {
  let last = await fn();
  const runs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    last = await fn();
    runs.push(performance.now() - t);
  }
  return { timing: stats(runs), last };
}

/* Child: everything measured here; the parent only prepared the row. */
async function measure(url: string, sessionId: string) {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  const handle = await openDatabase(config(url));
  const [session] = await handle.db.select().from(analysisSession).where(eq(analysisSession.id, sessionId));

  // The app's path: drizzle select (postgres.js + json mapping) then fromColumnarJson.
  const full = await timed(async () => {
    const { frame, hash } = await inputOf(handle.db, session, createAnalysisCaches());
    return { rows: frame.rowCount, hash: hash.slice(0, 12) };
  });
  peak = Math.max(peak, process.memoryUsage.rss(), process.resourceUsage().maxRSS * 1024);
  const fullPeak = peak;

  // The split: drizzle select alone; raw text fetch; JSON.parse of that text; fromColumnarJson.
  const fileId = session.inputFileId!;
  const selectOnly = await timed(async () => {
    const [f] = await handle.db.select().from(analysisFile).where(eq(analysisFile.id, fileId));
    return (f.data as ColumnarJson).rowCount;
  });
  const rawText = await timed(async () => {
    const [r] = await handle.raw.query<{ t: string }>(
      "select data::text as t from analysis_file where id = $1",
      [fileId],
    );
    return r.t;
  });
  const text = rawText.last;
  const parse = await timed(async () => JSON.parse(text) as ColumnarJson);
  const json = parse.last;
  const convert = await timed(async () => fromColumnarJson(json).rowCount);
  const serverSide = await timed(async () => {
    const [r] = await handle.raw.query<{ n: number }>(
      "select length(data::text) as n from analysis_file where id = $1",
      [fileId],
    );
    return r.n;
  });
  // Not the app's layout: the same document in a plain `json` column, whose output is the stored
  // text, to show how much of the fetch is jsonb's text rendering.
  await handle.raw.script(
    `create temp table load_json as select data::json as d from analysis_file where id = '${fileId}'`,
  );
  const jsonColumn = await timed(async () => {
    const [r] = await handle.raw.query<{ t: string }>("select d::text as t from load_json");
    return r.t.length;
  });
  clearInterval(sampler);
  await handle.close(1);
  return {
    case: "P2c load 1,000,000 rows (PostgreSQL json column → frame)",
    ...full.timing,
    peakRssMb: mb(fullPeak - baseline),
    baselineRssMb: mb(baseline),
    check: full.last,
    jsonBytes: text.length,
    split: {
      drizzleSelectMs: selectOnly.timing.medianMs,
      rawTextFetchMs: rawText.timing.medianMs,
      serverJsonbToTextMs: serverSide.timing.medianMs,
      jsonParseMs: parse.timing.medianMs,
      fromColumnarJsonMs: convert.timing.medianMs,
    },
    alternative: { jsonColumnTextFetchMs: jsonColumn.timing.medianMs },
  };
}

async function setup(handle: DatabaseHandle): Promise<string> {
  await migrateUp(handle, migrationsDir(config(SERVER)));
  const db = handle.db;
  const issue = await seedIssue(db);
  const [p] = await db
    .insert(project)
    .values({ id: newId(), name: "bench", code: `BENCH-${crypto.randomUUID().slice(0, 8)}` })
    .returning();
  const [s] = await db
    .insert(analysisSession)
    .values({ id: newId(), projectId: p.id, issueId: issue.id })
    .returning();
  const frame = replayFrame();
  const data = toColumnarJson(frame);
  const [f] = await db
    .insert(analysisFile)
    .values({
      id: newId(),
      sessionId: s.id,
      sourceFilename: "replay.xlsx",
      sheetName: "Sheet1",
      data,
      rowCount: frame.rowCount,
    })
    .returning({ id: analysisFile.id });
  await db.update(analysisSession).set({ inputFileId: f.id }).where(eq(analysisSession.id, s.id));
  return s.id;
}

async function main() {
  const args = process.argv.slice(2);
  if (args[0] === "--measure") {
    console.log(JSON.stringify(await measure(args[1], args[2])));
    return;
  }
  const name = `camp_bench_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const admin = await openDatabase(config(urlOf("postgres")));
  await admin.raw.script(`create database ${name}`);
  let result: Awaited<ReturnType<typeof measure>> | null = null;
  try {
    const handle = await openDatabase(config(urlOf(name)));
    const t = performance.now();
    const sessionId = await setup(handle);
    const setupMs = performance.now() - t;
    await handle.close(1);
    const child = Bun.spawnSync(["bun", import.meta.path, "--measure", urlOf(name), sessionId], {
      stderr: "inherit",
    });
    if (child.exitCode !== 0) throw new Error(`measurement failed (exit ${child.exitCode})`);
    result = JSON.parse(child.stdout.toString().trim().split("\n").pop()!);
    const out = {
      ...result,
      date: new Date().toISOString(),
      host: hostname(),
      cpu: cpus()[0]?.model.trim(),
      cpus: cpus().length,
      bun: Bun.version,
      loadAverage: loadavg().map(r1),
      setupMs: r1(setupMs),
      targetMs: TARGET_MS,
    };
    console.log(JSON.stringify(out, null, 2));
    const dir = join(import.meta.dir, "results");
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, `${out.date.slice(0, 10)}-engine-load.json`),
      `${JSON.stringify(out, null, 2)}\n`,
    );
  } finally {
    await admin.raw.script(`drop database if exists ${name} with (force)`);
    await admin.close(1);
  }
  if (args.includes("--check") && result && result.medianMs > TARGET_MS) process.exit(1);
}

await main();
