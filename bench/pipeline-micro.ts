/*
 * In-process cost of the global request pipeline (issue 14): `app.handle` on `/health` and on an
 * authenticated `GET /api/v1/project/{id}`, no sockets, so what is left is the app's own work.
 *
 *   DATABASE_URL=… REDIS_URL=… bun bench/pipeline-micro.ts [--n 20000] [--rounds 3]
 *   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 … (the same with tracing on)
 *
 * Staging mode, JSON logs at info written to /dev/null, rate limit on with a high budget.
 * Without DATABASE_URL it runs on in-memory PGlite; without REDIS_URL on the in-memory cache.
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
    n: { type: "string", default: "20000" },
    rounds: { type: "string", default: "3" },
    /* Only the cases whose name contains this text (e.g. `health`, for a profile of one route). */
    case: { type: "string" },
  },
});
const N = Number(flags.n);
const ROUNDS = Number(flags.rounds);
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
  RATE_LIMIT_PERIOD: "60",
  // Set to measure the pipeline with tracing on (spans exported to that OTLP/HTTP collector).
  OTEL_EXPORTER_OTLP_ENDPOINT: process.env.OTEL_EXPORTER_OTLP_ENDPOINT,
});
const deps = await createDeps(config);
deps.logger = createLogger({
  level: "info",
  base: { app: config.appName, version: config.version, env: config.environment },
  destination: pino.destination({ dest: "/dev/null", sync: true }),
});
await migrateUp(deps.database, migrationsDir(config));
const app = buildApp(deps);

const token = await signDevToken({ secretKey: SECRET_KEY, email: `micro.${Date.now()}@example.com` });
const auth = { authorization: `Bearer ${token}`, "user-agent": "bench/1", accept: "application/json" };
const call = (path: string, init: RequestInit = {}) =>
  app.handle(new Request(`http://localhost${path}`, init));

const created = await call("/api/v1/project", {
  method: "POST",
  headers: { ...auth, "content-type": "application/json" },
  body: JSON.stringify({ name: "Micro bench", code: `MICRO-${Date.now() % 1e9}` }),
});
if (created.status !== 201) throw new Error(`project create: ${created.status} ${await created.text()}`);
const projectId = ((await created.json()) as { id: string }).id;

const cases: [string, () => Promise<Response>][] = [
  ["GET /health", () => call("/health", { headers: { "user-agent": "bench/1", accept: "*/*" } })],
  ["GET /api/v1/project/{id}", () => call(`/api/v1/project/${projectId}`, { headers: auth })],
];

/* Wall and CPU (user + system) microseconds per request; CPU is the steadier under a busy machine. */
async function measure(run: () => Promise<Response>, n: number): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const res = await run();
    if (res.status !== 200) throw new Error(`status ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  }
  const wall = ((performance.now() - t0) * 1000) / n;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / n };
}

if (flags.case) cases.splice(0, cases.length, ...cases.filter(([name]) => name.includes(flags.case!)));
for (const [, run] of cases) await measure(run, Math.min(N, 2000));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(" ");
for (const [name, run] of cases) {
  const runs: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    Bun.gc(true);
    runs.push(await measure(run, N));
  }
  const wall = runs.map((r) => r.wall);
  const cpu = runs.map((r) => r.cpu);
  console.log(
    `${name.padEnd(26)} wall µs/req median ${median(wall).toFixed(1)} [${fmt(wall)}]  cpu µs/req median ${median(cpu).toFixed(1)} [${fmt(cpu)}]`,
  );
}
console.log(`load ${(await Bun.file("/proc/loadavg").text()).split(" ").slice(0, 3).join(" ")}`);
await deps.database.close(1);
process.exit(0);
