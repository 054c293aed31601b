/*
 * `bun run bench`: throughput and latency of the real service against a bare Bun server, with wrk.
 *
 *   bun bench/run.ts [--runs 3] [--duration 10s] [--connections 64] [--threads 2] [--warmup 2s]
 *                    [--only service|raw] [--scenario id,...] [--workers 1] [--pglite]
 *
 * The service runs as `bun src/index.ts` on a random port against PostgreSQL (BENCH_DATABASE_URL,
 * else DATABASE_URL, else postgresql://postgres@127.0.0.1:5432/camp_bench, created when missing;
 * the in-memory PGlite with --pglite or when PostgreSQL cannot be reached). Each scenario from
 * bench/scenarios.ts runs --runs times per target; the table shows min–max over the runs and the
 * service/raw ratio of median req/s. Results go to bench/results/<date>-<host>.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, hostname, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { type Scenario, scenarios } from "./scenarios";

const REPO = resolve(import.meta.dir, "..");
const DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/camp_bench";
const DEV_TOKEN = process.env.BENCH_TOKEN ?? process.env.DEV_MOCK_TOKEN ?? "mock-access-token-dev-12345";

type Target = "service" | "raw";

type RunResult = {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  non2xx: number;
  socketErrors: number;
};

type Range = { min: number; max: number; median: number };

type ScenarioResult = {
  id: string;
  target: Target;
  method: string;
  path: string;
  status: number | null;
  bodyBytes: number | null;
  runs: RunResult[];
  rps: Range;
  p50Ms: Range;
  p99Ms: Range;
  peakRssMiB: number | null;
  ratioToRaw: number | null;
};

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    duration: { type: "string", default: "10s" },
    connections: { type: "string", default: "64" },
    threads: { type: "string", default: "2" },
    warmup: { type: "string", default: "2s" },
    only: { type: "string" },
    scenario: { type: "string" },
    workers: { type: "string", default: "1" },
    pglite: { type: "boolean", default: false },
  },
});

const runs = Math.max(1, Number(flags.runs));
const onlyScenarios = flags.scenario ? new Set(flags.scenario.split(",")) : null;
const selected = scenarios.filter((s) => !onlyScenarios || onlyScenarios.has(s.id));
const targets: Target[] =
  flags.only === "raw" ? ["raw"] : flags.only === "service" ? ["service"] : ["service", "raw"];

const children: Subprocess[] = [];
function stopChildren() {
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
}
process.on("SIGINT", () => {
  stopChildren();
  process.exit(130);
});

function sh(cmd: string[], env?: Record<string, string | undefined>) {
  const r = Bun.spawnSync(cmd, { env: env ?? process.env, stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: r.stdout.toString().trim(), err: r.stderr.toString().trim() };
}

function ensureWrk(): string {
  const found = Bun.which("wrk");
  if (found) return found;
  console.log("wrk not found; installing it with apt-get");
  if (Bun.which("apt-get")) {
    sh(["apt-get", "update", "-qq"]);
    sh(["apt-get", "install", "-y", "-qq", "wrk"], { ...process.env, DEBIAN_FRONTEND: "noninteractive" });
  }
  const installed = Bun.which("wrk");
  if (!installed) throw new Error("wrk is not installed and apt-get could not install it");
  return installed;
}

/* Creates the benchmark database when missing; false when PostgreSQL cannot be reached. */
function ensureDatabase(url: string): boolean {
  if (!Bun.which("psql")) return false;
  const parsed = new URL(url);
  const name = decodeURIComponent(parsed.pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const exists = sh([
    "psql",
    admin.toString(),
    "-tAc",
    `select 1 from pg_database where datname = '${name}'`,
  ]);
  if (!exists.ok) return false;
  if (exists.out === "1") return true;
  console.log(`creating database ${name}`);
  return sh(["psql", admin.toString(), "-c", `create database "${name.replace(/"/g, '""')}"`]).ok;
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port as number;
  await probe.stop(true);
  return port;
}

function start(name: string, cmd: string[], env: Record<string, string | undefined>) {
  const log = join(tmpdir(), `camp-bench-${name}-${process.pid}.log`);
  const proc = Bun.spawn(cmd, {
    cwd: REPO,
    env,
    stdin: "ignore",
    stdout: Bun.file(log),
    stderr: Bun.file(log),
  });
  children.push(proc);
  return { proc, log };
}

async function waitReady(url: string, proc: Subprocess, log: string, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await Bun.sleep(200);
  }
  let tail = "";
  try {
    tail = readFileSync(log, "utf8").split("\n").slice(-20).join("\n");
  } catch {
    // No log written.
  }
  throw new Error(`${url} did not become ready (exit code ${proc.exitCode})\n${tail}`);
}

function readStatusKb(pid: number, field: "VmRSS" | "VmHWM"): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/* wrk prints durations as 812.00us, 1.20ms, 2.01s or 1.00m. */
function toMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(value.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "ms" ? n : m[2] === "s" ? n * 1000 : n * 60_000;
}

export function parseWrk(output: string): RunResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN);
  const p50 = /^\s+50%\s+(\S+)/m.exec(output)?.[1];
  const p99 = /^\s+99%\s+(\S+)/m.exec(output)?.[1];
  const requests = Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    rps,
    p50Ms: p50 ? toMs(p50) : Number.NaN,
    p99Ms: p99 ? toMs(p99) : Number.NaN,
    requests,
    non2xx,
    socketErrors,
  };
}

function headersFor(s: Scenario): Record<string, string> {
  const h: Record<string, string> = { ...s.headers };
  if (s.auth) h.Authorization = `Bearer ${DEV_TOKEN}`;
  if (s.body !== undefined) h["Content-Type"] = "application/json";
  return h;
}

/* wrk takes a method and body only through a Lua script. */
function wrkScript(s: Scenario): string | null {
  if (!s.method || s.method === "GET") return null;
  const path = join(tmpdir(), `camp-bench-${s.id}-${process.pid}.lua`);
  const body = s.body === undefined ? "" : JSON.stringify(s.body);
  writeFileSync(path, `wrk.method = "${s.method}"\nwrk.body = [==[${body}]==]\n`);
  return path;
}

async function wrk(bin: string, url: string, s: Scenario, duration: string, pid: number | null) {
  const args = [
    bin,
    "-t",
    String(flags.threads),
    "-c",
    String(flags.connections),
    "-d",
    duration,
    "--latency",
  ];
  for (const [k, v] of Object.entries(headersFor(s))) args.push("-H", `${k}: ${v}`);
  const script = wrkScript(s);
  if (script) args.push("-s", script);
  args.push(url);
  let peakRssKb = 0;
  const sampler =
    pid === null
      ? null
      : setInterval(() => {
          peakRssKb = Math.max(peakRssKb, readStatusKb(pid, "VmRSS") ?? 0);
        }, 200);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  if (sampler) clearInterval(sampler);
  if (proc.exitCode !== 0) throw new Error(`wrk failed: ${err || out}`);
  const hwm = pid === null ? null : readStatusKb(pid, "VmHWM");
  return { result: parseWrk(out), peakRssKb: Math.max(peakRssKb, hwm ?? 0) || null };
}

function range(values: number[]): Range {
  const sorted = [...values].filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return { min: Number.NaN, max: Number.NaN, median: Number.NaN };
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { min: sorted[0], max: sorted[sorted.length - 1], median };
}

function fmt(r: Range, digits: number): string {
  if (!Number.isFinite(r.min)) return "–";
  const a = r.min.toFixed(digits);
  const b = r.max.toFixed(digits);
  return a === b ? a : `${a}–${b}`;
}

async function probe(url: string, s: Scenario) {
  try {
    const res = await fetch(url, {
      method: s.method ?? "GET",
      headers: headersFor(s),
      body: s.body === undefined ? undefined : JSON.stringify(s.body),
    });
    const bytes = (await res.arrayBuffer()).byteLength;
    return { status: res.status, bodyBytes: bytes };
  } catch {
    return { status: null, bodyBytes: null };
  }
}

async function main() {
  const wrkBin = ensureWrk();
  const servers: Partial<Record<Target, { base: string; pid: number }>> = {};
  let database: string | null = null;
  let healthBody: string | undefined;

  if (targets.includes("service")) {
    const port = await freePort();
    const env: Record<string, string | undefined> = {
      ...process.env,
      ENVIRONMENT: "development",
      HOST: "127.0.0.1",
      PORT: String(port),
      LOG_LEVEL: "silent",
      WORKERS: String(flags.workers),
      // The limiter would turn a load test into a 429 test.
      RATE_LIMIT_CALLS: "1000000",
    };
    const url = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
    if (!flags.pglite && ensureDatabase(url)) {
      env.DATABASE_URL = url;
      database = url.replace(/\/\/[^@/]*@/, "//");
    } else {
      if (!flags.pglite)
        console.warn(`PostgreSQL at ${url} is not reachable; benchmarking on in-memory PGlite`);
      delete env.DATABASE_URL;
      env.PGLITE_DIR = "memory://";
      database = "pglite (memory)";
    }
    const { proc, log } = start("service", ["bun", "src/index.ts"], env);
    const base = `http://127.0.0.1:${port}`;
    await waitReady(`${base}/health`, proc, log);
    servers.service = { base, pid: proc.pid };
    healthBody = await (await fetch(`${base}/health`)).text();
  }

  if (targets.includes("raw")) {
    const port = await freePort();
    const { proc, log } = start("raw", ["bun", "bench/raw-server.ts"], {
      ...process.env,
      PORT: String(port),
      HOST: "127.0.0.1",
      RAW_HEALTH_BODY: healthBody,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitReady(`${base}/health`, proc, log);
    servers.raw = { base, pid: proc.pid };
  }

  const results: ScenarioResult[] = [];
  for (const s of selected) {
    for (const target of targets) {
      const server = servers[target];
      let path = target === "raw" ? s.raw : s.path;
      if (!server || !path) continue;
      if (target === "service" && s.setup) {
        const vars = await s.setup(server.base, headersFor(s));
        path = path.replace(/\{(\w+)\}/g, (_m, name: string) => vars[name] ?? `{${name}}`);
      }
      const url = `${server.base}${path}`;
      const first = await probe(url, s);
      if (s.expectStatus !== undefined && first.status !== s.expectStatus) {
        console.warn(`${s.id} on ${target}: expected ${s.expectStatus}, got ${first.status}`);
      }
      process.stdout.write(`${s.id} / ${target}: ${url} (${first.bodyBytes ?? "?"} B) `);
      await wrk(wrkBin, url, s, String(flags.warmup), null);
      const runResults: RunResult[] = [];
      let peakRssKb = 0;
      for (let i = 0; i < runs; i++) {
        const { result, peakRssKb: peak } = await wrk(wrkBin, url, s, String(flags.duration), server.pid);
        runResults.push(result);
        peakRssKb = Math.max(peakRssKb, peak ?? 0);
        process.stdout.write(".");
      }
      process.stdout.write("\n");
      results.push({
        id: s.id,
        target,
        method: s.method ?? "GET",
        path,
        status: first.status,
        bodyBytes: first.bodyBytes,
        runs: runResults,
        rps: range(runResults.map((r) => r.rps)),
        p50Ms: range(runResults.map((r) => r.p50Ms)),
        p99Ms: range(runResults.map((r) => r.p99Ms)),
        peakRssMiB: peakRssKb ? Math.round((peakRssKb / 1024) * 10) / 10 : null,
        ratioToRaw: null,
      });
    }
    const service = results.find((r) => r.id === s.id && r.target === "service");
    const raw = results.find((r) => r.id === s.id && r.target === "raw");
    if (service && raw && raw.rps.median > 0) {
      service.ratioToRaw = Math.round((service.rps.median / raw.rps.median) * 1000) / 1000;
    }
  }

  stopChildren();

  const cpu = cpus()[0]?.model ?? "unknown";
  console.log(
    `\nwrk -t${flags.threads} -c${flags.connections} -d${flags.duration} --latency, ${runs} run(s) each; ` +
      `bun ${Bun.version}; ${cpus().length} × ${cpu}; database: ${database ?? "n/a"}; workers: ${flags.workers}\n`,
  );
  console.log(
    "| scenario | target | path | body B | req/s | p50 ms | p99 ms | vs raw | peak RSS MiB | errors |",
  );
  console.log("|---|---|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    const errors = r.runs.reduce((a, x) => a + x.non2xx + x.socketErrors, 0);
    console.log(
      `| ${r.id} | ${r.target} | ${r.method} ${r.path} | ${r.bodyBytes ?? "?"} | ${fmt(r.rps, 0)} | ` +
        `${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${r.ratioToRaw === null ? "" : `${r.ratioToRaw.toFixed(2)}×`} | ` +
        `${r.peakRssMiB ?? "?"} | ${errors} |`,
    );
  }

  const dir = join(REPO, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const date = new Date().toISOString().slice(0, 10);
  const file = join(dir, `${date}-${hostname()}.json`);
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        host: hostname(),
        cpu,
        cpus: cpus().length,
        bun: Bun.version,
        wrk: {
          threads: Number(flags.threads),
          connections: Number(flags.connections),
          duration: flags.duration,
        },
        runs,
        workers: Number(flags.workers),
        database,
        results,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nresults written to ${file}`);
}

try {
  await main();
} catch (error) {
  stopChildren();
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
