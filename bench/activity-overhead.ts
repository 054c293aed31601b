/*
 * What the activity log (api.md §4.1 stage 8) adds per request: the same app built twice over one
 * set of dependencies, with and without the recorder, measured in alternating rounds on `GET /`
 * (a public route as cheap as `/health`, which itself is never logged) and on an authenticated
 * `GET /api/v1/project/{id}`. The "with" side includes the batch inserts running in the background.
 *
 *   DATABASE_URL=… REDIS_URL=… bun bench/activity-overhead.ts [--n 5000] [--rounds 5]
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
  options: { n: { type: "string", default: "5000" }, rounds: { type: "string", default: "5" } },
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [name, run] of cases) {
  await measure(withLog, run);
  await measure(withoutLog, run);
  const on: number[] = [];
  const off: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    Bun.gc(true);
    off.push(await measure(withoutLog, run));
    Bun.gc(true);
    on.push(await measure(withLog, run));
  }
  const a = median(off);
  const b = median(on);
  console.log(
    `${name.padEnd(26)} cpu µs/req without ${a.toFixed(1)}  with ${b.toFixed(1)}  (+${(((b - a) / a) * 100).toFixed(1)} %)  rows written ${deps.activity?.stats.written}, dropped ${deps.activity?.stats.dropped}`,
  );
}
await deps.activity?.close();
await deps.database.close(1);
process.exit(0);
