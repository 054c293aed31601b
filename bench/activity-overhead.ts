/*
 * What the activity log (api.md §4.1 stage 8) adds per request: the same app built twice over one
 * set of dependencies, with and without the recorder, measured in alternating rounds on `GET /`
 * (a public route as cheap as `/health`, which itself is never logged) and on an authenticated
 * `GET /api/v1/project/{id}`. The "with" side includes the batch inserts running in the background.
 *
 * Two figures per case: process CPU per request when the app is driven flat out (the batch
 * inserts' encoding included — what the log costs at saturation), and the latency of each
 * request at a paced rate of `--rate` requests/s (what a user sees: the recorder only appends to
 * a queue, so the question is whether the background flushes disturb requests in flight).
 *
 *   DATABASE_URL=… REDIS_URL=… bun bench/activity-overhead.ts [--n 5000] [--rounds 5] [--rate 400] [--out file.md]
 */
import { parseArgs } from "node:util";
import pino from "pino";
import { buildApp } from "@/app";
import { configFrom } from "@/config";
import { migrationsDir } from "@/db/migrations-dir";
import { migrateUp } from "@/db/migrator";
import { signDevToken } from "@/lib/auth/dev-token";
import { createLogger } from "@/lib/logger";
import { createDeps } from "@/server";

const { values: flags } = parseArgs({
  options: {
    n: { type: "string", default: "5000" },
    rounds: { type: "string", default: "5" },
    rate: { type: "string", default: "400" },
    out: { type: "string" },
  },
});
const N = Number(flags.n);
const ROUNDS = Number(flags.rounds);
const RATE = Number(flags.rate);
const SECRET_KEY = "hb7Qz2Lp9Xw4Rt6Yv1Nc8Mk3Jd5Fg0Sa2Zx7Cv4Bn6Hm9Kl1Pq3We5Rt8Yu0Io2As4Df6Gh8Jk0Lz";
const config = configFrom({
  ENVIRONMENT: "staging",
  AUTH_MODE: "development",
  DEBUG: "false",
  SECRET_KEY,
  ALLOWED_ORIGINS: "https://app.example.com",
  DATABASE_URL: process.env.DATABASE_URL,
  REDIS_URL: process.env.REDIS_URL,
  PGLITE_DIR: "memory://",
  LOG_LEVEL: "info",
  RATE_LIMIT_CALLS: "1000000",
});
const deps = await createDeps(config);
deps.logger = createLogger({
  level: "info",
  base: { app: config.appName },
  destination: pino.destination({ dest: "/dev/null", sync: true }),
});
await migrateUp(deps.database, migrationsDir(config));
const withLog = buildApp(deps);
const withoutLog = buildApp({ ...deps, activity: undefined });

const token = await signDevToken({ secretKey: SECRET_KEY, email: `act.${Date.now()}@example.com` });
const auth = { authorization: `Bearer ${token}`, "user-agent": "bench/1" };
const created = await withoutLog.handle(
  new Request("http://localhost/api/v1/project", {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "Act bench", code: `ACTB-${Date.now() % 1e9}` }),
  }),
);
const projectId = ((await created.json()) as { id: string }).id;

type App = typeof withLog;
const cases: [string, (app: App) => Promise<Response>][] = [
  ["GET /", (app) => app.handle(new Request("http://localhost/", { headers: { "user-agent": "bench/1" } }))],
  [
    "GET /api/v1/project/{id}",
    (app) => app.handle(new Request(`http://localhost/api/v1/project/${projectId}`, { headers: auth })),
  ],
];

async function measure(app: App, run: (app: App) => Promise<Response>): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) await (await run(app)).arrayBuffer();
  await Bun.sleep(1100); // let the recorder's one-second flush land inside the measurement
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / N;
}

/* Latency at a paced rate: a request is started every 1/RATE s whether or not the last finished. */
async function paced(app: App, run: (app: App) => Promise<Response>): Promise<number[]> {
  const count = Math.min(N, RATE * 5);
  const gap = 1000 / RATE;
  const latencies: number[] = [];
  const inflight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const due = t0 + i * gap;
    const wait = due - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    inflight.push(
      (async () => {
        const s = performance.now();
        await (await run(app)).arrayBuffer();
        latencies.push((performance.now() - s) * 1000);
      })(),
    );
  }
  await Promise.all(inflight);
  return latencies.sort((a, b) => a - b);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}`;
const lines: string[] = [];
const say = (line: string) => {
  console.log(line);
  lines.push(line);
};
say(`# bench: activity log overhead ${new Date().toISOString()}`);
say("");
say(
  `${ROUNDS} rounds A B A B (without, with); ${N} requests per CPU round; paced ${RATE} req/s for ${Math.min(N, RATE * 5)} requests per latency round; machine ${navigator.hardwareConcurrency} cores, load ${(
    await import("node:os")
  )
    .loadavg()
    .map((x) => x.toFixed(1))
    .join("/")} at start.`,
);
say("");
say(
  "| case | CPU µs/req without | with | Δ CPU | p50 µs without | with | Δ p50 | p99 µs without | with | Δ p99 |",
);
say("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const [name, run] of cases) {
  await measure(withLog, run);
  await measure(withoutLog, run);
  const on: number[] = [];
  const off: number[] = [];
  const p50on: number[] = [];
  const p50off: number[] = [];
  const p99on: number[] = [];
  const p99off: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    Bun.gc(true);
    off.push(await measure(withoutLog, run));
    Bun.gc(true);
    on.push(await measure(withLog, run));
    const lo = await paced(withoutLog, run);
    const lw = await paced(withLog, run);
    p50off.push(pct(lo, 50));
    p50on.push(pct(lw, 50));
    p99off.push(pct(lo, 99));
    p99on.push(pct(lw, 99));
  }
  const d = (a: number, b: number) => `${b >= a ? "+" : ""}${(((b - a) / a) * 100).toFixed(1)} %`;
  const [a, b] = [median(off), median(on)];
  const [c, e] = [median(p50off), median(p50on)];
  const [f, g] = [median(p99off), median(p99on)];
  say(
    `| ${name} | ${a.toFixed(1)} (${spread(off)}) | ${b.toFixed(1)} (${spread(on)}) | ${d(a, b)} | ${c.toFixed(0)} (${spread(p50off)}) | ${e.toFixed(0)} (${spread(p50on)}) | ${d(c, e)} | ${f.toFixed(0)} (${spread(p99off)}) | ${g.toFixed(0)} (${spread(p99on)}) | ${d(f, g)} |`,
  );
}
say("");
say(
  `Rows written ${deps.activity?.stats.written}, dropped ${deps.activity?.stats.dropped}. Ranges in parentheses are min–max over rounds.`,
);
if (flags.out) await Bun.write(flags.out, `${lines.join("\n")}\n`);
await deps.activity?.close();
await deps.database.close(1);
process.exit(0);
