/*
 * Agent overhead (everything in a chat turn except the model): the app built in-process like the
 * tests build it, the scripted fake LLM on loopback answering instantly, and `POST …/chat` (JSON).
 *
 *   bun bench/agent.ts [--turns 50] [--health-turns 50]
 *
 * PostgreSQL: DATABASE_URL when set, else a throwaway `camp_bench_<random>` on BENCH_PG_URL
 * (default postgresql://postgres@127.0.0.1:5432), dropped at the end. Each turn runs on a fresh
 * session on F1 (setup not timed), so every turn sees the same context size. Reports:
 *   - 5-tool turn wall time p50/p99 (add_step aggregate, set_aggregation, add_step summary,
 *     set_summary, step_overview, final text: 6 model exchanges);
 *   - a no-tool single-text turn (1 exchange) and the bare fake round trip (fetch → fake, SSE read
 *     to the end), to estimate the share of the turn spent in the fake and the SDK's HTTP;
 *   - event-loop lag during turns (setInterval 10 ms drift: p99 and max);
 *   - in-process GET /health latency, idle and while turns run back to back.
 * Writes bench/results/<date>-agent.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, hostname, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: flags } = parseArgs({
  options: {
    turns: { type: "string", default: "50" },
    "health-turns": { type: "string", default: "50" },
  },
});
const TURNS = Number(flags.turns);
const HEALTH_TURNS = Number(flags["health-turns"]);

const r2 = (n: number) => Math.round(n * 100) / 100;
function q(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
}
const summary = (v: number[]) => ({
  n: v.length,
  p50Ms: r2(q(v, 0.5)),
  p99Ms: r2(q(v, 0.99)),
  maxMs: r2(Math.max(...v)),
  meanMs: r2(v.reduce((a, b) => a + b, 0) / v.length),
});

/* A throwaway database unless DATABASE_URL names one; set before the test helpers read the env. */
let dropDb: (() => void) | null = null;
if (!process.env.DATABASE_URL) {
  const server = new URL(process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432");
  const name = `camp_bench_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const admin = new URL(server);
  admin.pathname = "/postgres";
  const psql = (sql: string) => {
    const r = Bun.spawnSync(["psql", admin.toString(), "-qc", sql], { stderr: "pipe" });
    if (r.exitCode !== 0) throw new Error(`psql: ${r.stderr.toString()}`);
  };
  psql(`create database ${name}`);
  dropDb = () => psql(`drop database if exists ${name} with (force)`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  process.env.DATABASE_URL = url.toString();
}

const { seedIssue, sessionOnF1 } = await import("../tests/helpers/analysis");
const { testApp } = await import("../tests/helpers/context");
const { startFakeLlm } = await import("../tests/helpers/fake-llm");
const { jsonInit } = await import("../tests/helpers/users");
type Script = import("../tests/helpers/fake-llm").Script;

/* The fake's placeholder for the stepKey returned by this turn's i-th tool call. */
const stepKeyOf = (i: number) => `$\{result[${i}].stepKey}`;
const FINAL = "年度別の売上合計を集計し、棒グラフを作成しました。";
const fiveTools: Script = {
  name: "bench-five-tools",
  exchanges: [
    {
      reply: {
        toolCalls: [
          { name: "add_step", input: { name: "年度別集計", type: "aggregate", input: "original" } },
        ],
      },
    },
    {
      expect: { toolResultOk: true },
      reply: {
        toolCalls: [
          {
            name: "set_aggregation",
            input: {
              stepKey: stepKeyOf(0),
              config: {
                groupByAxis: ["年度"],
                aggregationConfig: [{ name: "売上合計", method: "sum", subject: "売上" }],
              },
            },
          },
        ],
      },
    },
    {
      expect: { toolResultOk: true },
      reply: {
        toolCalls: [
          {
            name: "add_step",
            input: { name: "年度別グラフ", type: "summary", input: stepKeyOf(0) },
          },
        ],
      },
    },
    {
      expect: { toolResultOk: true },
      reply: {
        toolCalls: [
          {
            name: "set_summary",
            input: {
              stepKey: stepKeyOf(2),
              config: {
                formulas: [{ name: "総売上", method: "sum", subject: "売上合計", unit: "円" }],
                chartConfig: { graphType: "bar", xAxis: "年度", yAxis: "値" },
              },
            },
          },
        ],
      },
    },
    { expect: { toolResultOk: true }, reply: { toolCalls: [{ name: "step_overview", input: {} }] } },
    { expect: { toolResultOk: true }, reply: { text: FINAL, chunks: 4 } },
  ],
};
const textOnly: Script = { name: "bench-text-only", exchanges: [{ reply: { text: FINAL, chunks: 4 } }] };

const fake = await startFakeLlm();
const { request, deps } = await testApp({
  LLM_PROVIDER: "anthropic",
  ANTHROPIC_API_KEY: "sk-test",
  ANTHROPIC_BASE_URL: fake.baseUrl,
});
const issue = await seedIssue(deps.database.db);

type World = Awaited<ReturnType<typeof sessionOnF1>>;
const freshSession = () => sessionOnF1(request, deps.config.secretKey, issue.id);

/* Drift of a 10 ms interval; samples are kept only while `recording`. */
let recording = false;
const lag: number[] = [];
let last = performance.now();
const monitor = setInterval(() => {
  const now = performance.now();
  if (recording) lag.push(Math.max(0, now - last - 10));
  last = now;
}, 10);

async function turn(w: World, script: Script, expectSteps: number): Promise<number> {
  fake.load(script);
  const t = performance.now();
  const res = await request(
    `${w.sbase}/chat`,
    jsonInit("POST", { message: "年度ごとの売上合計を棒グラフで" }, w.user.auth),
  );
  const body = (await res.json()) as any;
  const ms = performance.now() - t;
  if (res.status !== 200 || res.headers.get("x-turn-outcome") !== "completed" || fake.errors.length) {
    throw new Error(
      `turn failed: ${res.status} ${JSON.stringify(fake.errors)} ${JSON.stringify(body).slice(0, 500)}`,
    );
  }
  const snap = body.snapshotList.find((s: any) => s.order === body.currentSnapshot);
  if (snap.step.length !== expectSteps || snap.step.some((s: any) => s.status !== "ok")) {
    throw new Error(`unexpected steps: ${JSON.stringify(snap.step.map((s: any) => [s.name, s.status]))}`);
  }
  return ms;
}

type Kind = { script: Script; steps: number; times: number[]; lag: number[]; cpu: number[] };

/* Both kinds interleaved, so drift over the run (database growth, GC) hits them alike. */
async function turns(n: number, kinds: Kind[], warmup = 3) {
  const worlds: World[] = [];
  for (let i = 0; i < (n + warmup) * kinds.length; i++) worlds.push(await freshSession());
  for (let i = 0; i < n + warmup; i++) {
    for (const [j, k] of kinds.entries()) {
      const w = worlds[i * kinds.length + j];
      if (i < warmup) {
        await turn(w, k.script, k.steps);
        continue;
      }
      lag.length = 0;
      last = performance.now();
      recording = true;
      const cpu = process.cpuUsage();
      k.times.push(await turn(w, k.script, k.steps));
      const used = process.cpuUsage(cpu);
      recording = false;
      k.cpu.push((used.user + used.system) / 1000);
      k.lag.push(...lag);
    }
  }
}

/*
 * The fake alone: the request bodies a real turn sent (captured from the fake), replayed with
 * fetch in the same order against the same script, each streamed reply read to the end. This is
 * the fake's parsing, checking and SSE rendering plus loopback HTTP; the SDK's side is not in it.
 */
async function fakeReplay(script: Script, steps: number, n: number) {
  const w = await freshSession();
  await turn(w, script, steps);
  const bodies = fake.requests.map((r) => JSON.stringify(r.body));
  const times: number[] = [];
  for (let i = 0; i < n + 3; i++) {
    fake.load(script);
    const t = performance.now();
    for (const body of bodies) {
      const res = await fetch(`${fake.baseUrl}/v1/messages`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-api-key": "sk-test",
          "anthropic-version": "2023-06-01",
        },
        body,
      });
      await res.text();
      if (res.status !== 200) throw new Error(`fake answered ${res.status}: ${JSON.stringify(fake.errors)}`);
    }
    if (i >= 3) times.push(performance.now() - t);
  }
  return {
    times,
    requests: bodies.length,
    requestKb: bodies.map((b) => Math.round(Buffer.byteLength(b) / 102.4) / 10),
  };
}

async function healthLatency(durationOf: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    // Timed from when the request was due (1 ms after the previous one), so time the request
    // spends waiting for a busy event loop counts, as it would for a request queued on a socket.
    while (running) {
      const due = performance.now() + 1;
      await Bun.sleep(1);
      const res = await request("/health");
      await res.arrayBuffer();
      times.push(Math.max(0, performance.now() - due));
    }
  })();
  await durationOf();
  running = false;
  await loop;
  return times;
}

const loadBefore = loadavg();
try {
  const five: Kind = { script: fiveTools, steps: 2, times: [], lag: [], cpu: [] };
  const text: Kind = { script: textOnly, steps: 0, times: [], lag: [], cpu: [] };
  await turns(TURNS, [five, text]);
  const fakeFive = await fakeReplay(fiveTools, 2, TURNS);
  const fakeText = await fakeReplay(textOnly, 0, TURNS);
  const healthIdle = await healthLatency(() => Bun.sleep(2000));
  const healthWorlds: World[] = [];
  for (let i = 0; i < HEALTH_TURNS; i++) healthWorlds.push(await freshSession());
  const busyTurns: number[] = [];
  const healthBusy = await healthLatency(async () => {
    for (const w of healthWorlds) busyTurns.push(await turn(w, fiveTools, 2));
  });
  clearInterval(monitor);

  const fiveS = summary(five.times);
  const textS = summary(text.times);
  const fakeFiveS = summary(fakeFive.times);
  const fakeTextS = summary(fakeText.times);
  const exchanges = fiveTools.exchanges.length;
  const result = {
    date: new Date().toISOString(),
    host: hostname(),
    cpu: cpus()[0]?.model.trim(),
    cpus: cpus().length,
    bun: Bun.version,
    database: deps.database.kind,
    loadAverage: { before: loadBefore.map(r2), after: loadavg().map(r2) },
    turns: TURNS,
    fiveToolTurn: {
      ...fiveS,
      exchanges,
      cpuP50Ms: r2(q(five.cpu, 0.5)),
      lagP99Ms: r2(q(five.lag, 0.99)),
      lagMaxMs: r2(Math.max(...five.lag)),
    },
    textOnlyTurn: {
      ...textS,
      exchanges: 1,
      cpuP50Ms: r2(q(text.cpu, 0.5)),
      lagP99Ms: r2(q(text.lag, 0.99)),
      lagMaxMs: r2(Math.max(...text.lag)),
    },
    fakeFiveToolReplay: { ...fakeFiveS, requests: fakeFive.requests, requestKb: fakeFive.requestKb },
    fakeTextOnlyReplay: { ...fakeTextS, requests: fakeText.requests, requestKb: fakeText.requestKb },
    fakeSharePctOfFiveToolTurn: r2((100 * fakeFiveS.p50Ms) / fiveS.p50Ms),
    fakeSharePctOfTextOnlyTurn: r2((100 * fakeTextS.p50Ms) / textS.p50Ms),
    perExtraExchangeMs: r2((fiveS.p50Ms - textS.p50Ms) / (exchanges - 1)),
    healthIdle: summary(healthIdle),
    healthDuringTurns: { ...summary(healthBusy), turns: busyTurns.length, turnP50Ms: r2(q(busyTurns, 0.5)) },
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
  };

  const row = (name: string, s: { p50Ms: number; p99Ms: number; maxMs: number; n: number }, extra = "") =>
    `${name.padEnd(34)} ${String(s.p50Ms).padStart(8)} ${String(s.p99Ms).padStart(8)} ${String(s.maxMs).padStart(8)} ${String(s.n).padStart(5)}  ${extra}`;
  console.log(
    `${"case".padEnd(34)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)} ${"n".padStart(5)}`,
  );
  console.log(
    row(
      "5-tool turn (6 exchanges)",
      fiveS,
      `cpu p50 ${result.fiveToolTurn.cpuP50Ms}  loop lag p99 ${result.fiveToolTurn.lagP99Ms} max ${result.fiveToolTurn.lagMaxMs}`,
    ),
  );
  console.log(
    row(
      "text-only turn (1 exchange)",
      textS,
      `cpu p50 ${result.textOnlyTurn.cpuP50Ms}  loop lag p99 ${result.textOnlyTurn.lagP99Ms} max ${result.textOnlyTurn.lagMaxMs}`,
    ),
  );
  console.log(
    row("fake alone, 5-tool turn's 6 requests", fakeFiveS, `request KB ${fakeFive.requestKb.join(" ")}`),
  );
  console.log(
    row("fake alone, text-only turn's request", fakeTextS, `request KB ${fakeText.requestKb.join(" ")}`),
  );
  console.log(row("/health idle", result.healthIdle));
  console.log(
    row(
      "/health during back-to-back turns",
      result.healthDuringTurns,
      `turn p50 ${result.healthDuringTurns.turnP50Ms}`,
    ),
  );
  console.log(
    `fake share (p50/p50): 5-tool turn ${result.fakeSharePctOfFiveToolTurn}%, text-only turn ${result.fakeSharePctOfTextOnlyTurn}%; each extra exchange + tool ≈ ${result.perExtraExchangeMs} ms; peak RSS ${result.peakRssMb} MB; load ${result.loadAverage.before.join(" ")} → ${result.loadAverage.after.join(" ")}`,
  );
  const dir = join(import.meta.dir, "results");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${result.date.slice(0, 10)}-agent.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${file}`);
} finally {
  clearInterval(monitor);
  await fake.close();
  await deps.database.close(1);
  dropDb?.();
}
process.exit(0);
