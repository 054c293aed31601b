/*
 * Upload throughput: a 10 MiB CSV posted N times (multipart) to the real service on PostgreSQL
 * with local storage; reports MB/s per upload and the server's peak RSS.
 *   bun bench/upload.ts [--runs 10] [--mb 10]
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "10" }, mb: { type: "string", default: "10" } },
});
const runs = Number(values.runs);
const mb = Number(values.mb);
const url = process.env.BENCH_DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/camp_bench";
Bun.spawnSync(["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "create database camp_bench"], {
  stderr: "ignore",
});

const port = 20000 + Math.floor(Math.random() * 10000);
const server = Bun.spawn(["bun", "src/index.ts"], {
  env: {
    ...process.env,
    DATABASE_URL: url,
    PORT: String(port),
    LOG_LEVEL: "silent",
    RATE_LIMIT_CALLS: "1000000",
    MAX_FILE_SIZE_MB: String(mb * 2),
    LOCAL_STORAGE_PATH: mkdtempSync(join(tmpdir(), "camp-upload-bench-")),
  },
  stdout: "ignore",
  stderr: "inherit",
});
const base = `http://127.0.0.1:${port}`;
for (let i = 0; i < 200; i++) {
  if (
    await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    )
  )
    break;
  await Bun.sleep(50);
}
const rssKb = (key: string) =>
  Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1] ?? 0);
const auth = { authorization: "Bearer mock-access-token-dev-12345" };
const project = (await (
  await fetch(`${base}/api/v1/project`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ name: "Upload bench", code: `UP-${crypto.randomUUID().slice(0, 8)}` }),
  })
).json()) as { id: string };
const row = "2024,東京,売上,1234567\n";
const bytes = new TextEncoder()
  .encode(row.repeat(Math.ceil((mb * 1024 * 1024) / Buffer.byteLength(row))))
  .slice(0, mb * 1024 * 1024);
const baseline = rssKb("VmRSS");
const speeds: number[] = [];
for (let i = 0; i < runs; i++) {
  const form = new FormData();
  form.append("file", new Blob([bytes]), `bench-${i}.csv`);
  const t = performance.now();
  const res = await fetch(`${base}/api/v1/project/${project.id}/file`, {
    method: "POST",
    body: form,
    headers: auth,
  });
  const ms = performance.now() - t;
  if (res.status !== 201) throw new Error(`upload ${i}: ${res.status} ${await res.text()}`);
  speeds.push(mb / (ms / 1000));
}
const peak = rssKb("VmHWM");
server.kill("SIGTERM");
await server.exited;
speeds.sort((a, b) => a - b);
console.log(
  `| upload ${mb} MiB | runs ${runs} | MB/s median ${speeds[Math.floor(runs / 2)].toFixed(1)} (min ${speeds[0].toFixed(1)}, max ${speeds[runs - 1].toFixed(1)}) | server RSS before ${(baseline / 1024).toFixed(0)} MiB, peak ${(peak / 1024).toFixed(0)} MiB |`,
);
