/*
 * `bun run bench:hot` (issue 14): the product against a hand-written Bun.serve + postgres.js
 * server (bench/hot-baseline.ts) on the same PostgreSQL, side by side in one run, A B A B.
 *
 *   bun bench/hot-path.ts [--rounds 2] [--duration 10s] [--connections 64] [--threads 2]
 *                         [--case health,read1,read50,list] [--binary dist/camp-backend] [--out name]
 *                         [--no-baseline] [--profile dir]
 *
 * Seed (bench/hot-seed.ts): 1,000 users, 200 projects × 10 members × 20 files. The product runs
 * in staging mode with JSON logs at info (to a file, counted afterwards), Redis on, rate limit on
 * with a high budget. Peak RSS is sampled from /proc every 100 ms during each run. Results go to
 * bench/results/<date>-hot-path.{json,md}.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Subprocess } from "bun";
import { seedHot } from "./hot-seed";

const REPO = resolve(import.meta.dir, "..");
const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "2" },
    duration: { type: "string", default: "10s" },
    warmup: { type: "string", default: "3s" },
    connections: { type: "string", default: "64" },
    threads: { type: "string", default: "2" },
    case: { type: "string" },
    binary: { type: "string" },
    out: { type: "string" },
    /* Directory for a CPU profile of the product (`--cpu-prof --cpu-prof-md`), written at exit. */
    profile: { type: "string" },
    "no-baseline": { type: "boolean", default: false },
  },
});

const DATABASE_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.DATABASE_URL ??
  "postgresql://postgres@127.0.0.1:5432/camp_bench";
const REDIS_URL = process.env.BENCH_REDIS_URL ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379/0";
const SECRET_KEY = "hb7Qz2Lp9Xw4Rt6Yv1Nc8Mk3Jd5Fg0Sa2Zx7Cv4Bn6Hm9Kl1Pq3We5Rt8Yu0Io2As4Df6Gh8Jk0Lz";

type Case = { id: string; description: string; product: string[]; baseline: string[]; tokens: string[] };
type Run = {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  peakRssMiB: number;
  load1: number;
  /* Server CPU time per request (user + system), microseconds. */
  cpuUsPerRequest: number | null;
};

function sh(cmd: string[]) {
  const r = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return { ok: r.exitCode === 0, out: r.stdout.toString().trim() };
}

function ensureDatabase(url: string) {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const exists = sh([
    "psql",
    admin.toString(),
    "-tAc",
    `select 1 from pg_database where datname = '${name}'`,
  ]);
  if (exists.out !== "1") sh(["psql", admin.toString(), "-c", `create database "${name}"`]);
}

async function freePort(): Promise<number> {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port as number;
  probe.stop(true);
  return port;
}

const rssMiB = (pid: number): number => {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
};
/* CPU seconds the process has used (user + system), from /proc/<pid>/stat. */
const cpuS = (pid: number): number => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
};
const load1 = () => Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);

async function waitReady(url: string, child: Subprocess, ms = 60_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: process exited ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await Bun.sleep(200);
  }
  throw new Error(`${url} not ready`);
}

/* Random path and token per request; wrk reports latency percentiles in `done`. */
function luaScript(paths: string[], tokens: string[]): string {
  const file = join(tmpdir(), `hot-${process.pid}-${Math.random().toString(36).slice(2)}.lua`);
  const list = (xs: string[]) => `{${xs.map((x) => `"${x}"`).join(",")}}`;
  writeFileSync(
    file,
    `local paths = ${list(paths)}
local tokens = ${list(tokens)}
local paired = #tokens == #paths and #tokens > 1
math.randomseed(os.time())
request = function()
  local i = math.random(#paths)
  local headers = {}
  if #tokens > 0 then headers["Authorization"] = "Bearer " .. tokens[paired and i or math.random(#tokens)] end
  return wrk.format("GET", paths[i], headers)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %f %f %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`,
  );
  return file;
}

async function wrk(base: string, paths: string[], tokens: string[], duration: string, pid: number | null) {
  const script = luaScript(paths, tokens);
  let peak = 0;
  const cpu0 = pid ? cpuS(pid) : 0;
  const timer = pid
    ? setInterval(() => {
        peak = Math.max(peak, rssMiB(pid));
      }, 100)
    : null;
  const proc = Bun.spawn(
    ["wrk", `-t${flags.threads}`, `-c${flags.connections}`, `-d${duration}`, "-s", script, base],
    { stdout: "pipe", stderr: "pipe" },
  );
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  if (timer) clearInterval(timer);
  const cpu = pid ? cpuS(pid) - cpu0 : null;
  const m = /RESULT (\d+) (\d+) ([\d.]+) ([\d.]+) (\d+)/.exec(out);
  if (!m) throw new Error(`wrk output: ${out}`);
  const requests = Number(m[1]);
  return {
    rps: Math.round(requests / (Number(m[2]) / 1e6)),
    p50Ms: Number(m[3]) / 1000,
    p99Ms: Number(m[4]) / 1000,
    requests,
    errors: Number(m[5]),
    peakRssMiB: Math.round(peak * 10) / 10,
    load1: load1(),
    cpuUsPerRequest: cpu === null || requests === 0 ? null : Math.round((cpu / requests) * 1e7) / 10,
  } satisfies Run;
}

async function main() {
  ensureDatabase(DATABASE_URL);
  const productPort = await freePort();
  const baselinePort = await freePort();
  const logFile = join(tmpdir(), `hot-product-${process.pid}.log`);
  const env = {
    ...process.env,
    ENVIRONMENT: "staging",
    AUTH_MODE: "development",
    DEBUG: "false",
    SECRET_KEY,
    ALLOWED_ORIGINS: "https://app.example.com",
    DATABASE_URL,
    REDIS_URL,
    LOG_LEVEL: "info",
    RATE_LIMIT_CALLS: "1000000",
    RATE_LIMIT_PERIOD: "60",
    HOST: "127.0.0.1",
    PORT: String(productPort),
    MIGRATE_ON_START: "true",
    SEED_ON_START: "true",
    LOCAL_STORAGE_PATH: join(tmpdir(), "hot-bench-uploads"),
    // As the Dockerfile and the systemd unit deploy it (heap sizing for a 512 MiB machine).
    BUN_JSC_forceRAMSize: process.env.BUN_JSC_forceRAMSize ?? "536870912",
  };
  // Migrate (the product does it at start), then seed.
  const profileArgs = flags.profile
    ? ["--cpu-prof", "--cpu-prof-md", "--cpu-prof-dir", resolve(flags.profile)]
    : [];
  const productCmd = flags.binary
    ? [resolve(flags.binary), "serve"]
    : ["bun", ...profileArgs, "src/index.ts"];
  const product = Bun.spawn(productCmd, { cwd: REPO, env, stdout: Bun.file(logFile), stderr: "inherit" });
  const children: Subprocess[] = [product];
  const stop = () => {
    for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  };
  process.on("SIGINT", () => {
    stop();
    process.exit(130);
  });
  try {
    await waitReady(`http://127.0.0.1:${productPort}/health`, product);
    await Bun.sleep(2000);
    const idleRssMiB = Math.round(rssMiB(product.pid) * 10) / 10;
    const seed = await seedHot(DATABASE_URL, SECRET_KEY);
    const health = await (await fetch(`http://127.0.0.1:${productPort}/health`)).text();
    const baseline = Bun.spawn(["bun", "bench/hot-baseline.ts"], {
      cwd: REPO,
      env: { ...process.env, DATABASE_URL, PORT: String(baselinePort), RAW_HEALTH_BODY: health },
      stdout: "ignore",
      stderr: "inherit",
    });
    children.push(baseline);
    await waitReady(`http://127.0.0.1:${baselinePort}/health`, baseline);

    const read1 = seed.projectIds.map((id) => `/api/v1/project/${id}`);
    const cases: Case[] = [
      {
        id: "health",
        description: "GET /health (product vs plain Bun.serve)",
        product: ["/health"],
        baseline: ["/health"],
        tokens: [],
      },
      {
        id: "read1",
        description: "GET /api/v1/project/{id}, 1 user, random of 200 projects",
        product: read1,
        baseline: read1,
        tokens: [seed.devToken],
      },
      {
        id: "read50",
        description: "GET /api/v1/project/{id}, 50 users, each one of its projects",
        product: seed.pairs.map((p) => `/api/v1/project/${p.projectId}`),
        baseline: seed.pairs.map((p) => `/api/v1/project/${p.projectId}`),
        tokens: seed.pairs.map((p) => p.token),
      },
      {
        id: "list",
        description: "GET /api/v1/project?limit=20 (user in 200 projects)",
        product: ["/api/v1/project?limit=20"],
        baseline: ["/api/v1/project?limit=20"],
        tokens: [seed.devToken],
      },
    ];
    const wanted = flags.case ? new Set(flags.case.split(",")) : null;
    // Correctness first: both servers answer 200 with the same stats.
    for (const c of cases) {
      const h = c.tokens.length ? { Authorization: `Bearer ${c.tokens[0]}` } : undefined;
      const a = await fetch(`http://127.0.0.1:${productPort}${c.product[0]}`, { headers: h });
      const b = await fetch(`http://127.0.0.1:${baselinePort}${c.baseline[0]}`, { headers: h });
      const ja = (await a.json()) as any;
      const jb = (await b.json()) as any;
      if (a.status !== 200 || b.status !== 200)
        throw new Error(`${c.id}: ${a.status}/${b.status} ${JSON.stringify(ja)}`);
      const stats = (j: any) => JSON.stringify(j.stats ?? j.items?.[0]?.stats ?? j.status);
      if (stats(ja) !== stats(jb)) throw new Error(`${c.id}: stats differ ${stats(ja)} vs ${stats(jb)}`);
    }
    const logLinesBefore = readFileSync(logFile, "utf8").split("\n").length;
    const results: Record<string, { description: string; product: Run[]; baseline: Run[] }> = {};
    const rounds = Math.max(1, Number(flags.rounds));
    let productRequests = 0;
    for (const c of cases) {
      if (wanted && !wanted.has(c.id)) continue;
      const r = { description: c.description, product: [] as Run[], baseline: [] as Run[] };
      results[c.id] = r;
      const P = `http://127.0.0.1:${productPort}`;
      const B = `http://127.0.0.1:${baselinePort}`;
      const warm = await wrk(P, c.product, c.tokens, String(flags.warmup), null);
      if (c.id !== "health") productRequests += warm.requests;
      if (!flags["no-baseline"]) await wrk(B, c.baseline, c.tokens, String(flags.warmup), null);
      for (let i = 0; i < rounds; i++) {
        const a = await wrk(P, c.product, c.tokens, String(flags.duration), product.pid);
        r.product.push(a);
        if (c.id !== "health") productRequests += a.requests;
        console.log(`${c.id} product  #${i + 1}: ${JSON.stringify(a)}`);
        if (!flags["no-baseline"]) {
          const b = await wrk(B, c.baseline, c.tokens, String(flags.duration), baseline.pid);
          r.baseline.push(b);
          console.log(`${c.id} baseline #${i + 1}: ${JSON.stringify(b)}`);
        }
      }
    }
    await Bun.sleep(500);
    const logLines = readFileSync(logFile, "utf8").split("\n").length - logLinesBefore;
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b);
      return s.length
        ? s.length % 2
          ? s[(s.length - 1) / 2]
          : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
        : 0;
    };
    const summary = Object.fromEntries(
      Object.entries(results).map(([id, r]) => {
        const p = {
          rps: Math.round(median(r.product.map((x) => x.rps))),
          p50Ms: median(r.product.map((x) => x.p50Ms)),
          p99Ms: median(r.product.map((x) => x.p99Ms)),
          peakRssMiB: Math.max(...r.product.map((x) => x.peakRssMiB)),
          cpuUs: Math.round(median(r.product.map((x) => x.cpuUsPerRequest ?? 0)) * 10) / 10,
        };
        const b = {
          rps: Math.round(median(r.baseline.map((x) => x.rps))),
          p50Ms: median(r.baseline.map((x) => x.p50Ms)),
          p99Ms: median(r.baseline.map((x) => x.p99Ms)),
          peakRssMiB: Math.max(0, ...r.baseline.map((x) => x.peakRssMiB)),
          cpuUs: Math.round(median(r.baseline.map((x) => x.cpuUsPerRequest ?? 0)) * 10) / 10,
        };
        return [
          id,
          {
            product: p,
            baseline: b,
            ratio: b.rps ? Math.round((p.rps / b.rps) * 100) / 100 : null,
            p99Ratio: b.p99Ms ? Math.round((p.p99Ms / b.p99Ms) * 100) / 100 : null,
          },
        ];
      }),
    );
    const out = {
      date: new Date().toISOString(),
      commit: sh(["git", "-C", REPO, "rev-parse", "--short", "HEAD"]).out,
      machine: { cpus: cpus().length, model: cpus()[0]?.model },
      product: flags.binary ? `binary ${flags.binary}` : "bun src/index.ts",
      wrk: `-t${flags.threads} -c${flags.connections} -d${flags.duration}, ${rounds} round(s) A B A B`,
      idleRssMiB,
      logLinesPerRequest: productRequests ? Math.round((logLines / productRequests) * 1000) / 1000 : null,
      summary,
      listVsRead1:
        summary.list && summary.read1
          ? Math.round((summary.list.product.rps / summary.read1.product.rps) * 100) / 100
          : null,
      results,
    };
    const date = new Date().toISOString().slice(0, 10);
    const name = flags.out ?? `${date}-hot-path`;
    mkdirSync(join(REPO, "bench/results"), { recursive: true });
    writeFileSync(join(REPO, `bench/results/${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
    const md = [
      `# bench:hot ${out.date} (${out.commit}) — ${out.product}`,
      "",
      `wrk ${out.wrk}; machine ${out.machine.cpus} cores. Idle RSS ${idleRssMiB} MiB. Log lines per product request: ${out.logLinesPerRequest}.`,
      "",
      "| case | product req/s | p50 ms | p99 ms | peak RSS MiB | CPU µs/req | baseline req/s | p50 ms | p99 ms | peak RSS MiB | CPU µs/req | ratio | p99 ratio | load1 |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
      ...Object.entries(summary).map(([id, s]) => {
        const loads = [...results[id].product, ...results[id].baseline]
          .map((x) => x.load1.toFixed(1))
          .join("/");
        return `| ${id} | ${s.product.rps} | ${s.product.p50Ms.toFixed(2)} | ${s.product.p99Ms.toFixed(1)} | ${s.product.peakRssMiB} | ${s.product.cpuUs} | ${s.baseline.rps} | ${s.baseline.p50Ms.toFixed(2)} | ${s.baseline.p99Ms.toFixed(1)} | ${s.baseline.peakRssMiB} | ${s.baseline.cpuUs} | ${s.ratio} | ${s.p99Ratio} | ${loads} |`;
      }),
      "",
      out.listVsRead1 !== null ? `Product list / product read1: ${out.listVsRead1}×` : "",
      "",
      ...Object.entries(results).flatMap(([id, r]) => [
        `- ${id}: ${r.description}. product ${r.product.map((x) => x.rps).join(", ")} req/s; baseline ${r.baseline.map((x) => x.rps).join(", ")} req/s`,
      ]),
      "",
    ].join("\n");
    writeFileSync(join(REPO, `bench/results/${name}.md`), md);
    console.log(md);
    void statSync;
  } finally {
    stop();
    // The profile is written when the product exits.
    if (flags.profile) await product.exited;
  }
}

await main();
