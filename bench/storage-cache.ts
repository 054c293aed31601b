/*
 * Storage and cache adapter benchmark: `bun bench/storage-cache.ts`.
 *   - storage put/get throughput (MB/s) and peak RSS growth for 10 MB and 100 MB objects on the
 *     local backend (temp folder) and Azure Blob (Azurite, started here);
 *   - cache get latency p50/p99 on memory, and on Redis and Upstash-over-a-local-REST-bridge when
 *     REDIS_URL is set.
 * Bodies are generated chunk by chunk (64 KiB) so the producer itself holds no whole object.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Cache, createCache } from "@/lib/cache";
import { LocalStorage, type Storage } from "@/lib/storage";
import { AzureBlobStorage } from "@/lib/storage/azure";
import { startAzurite } from "../tests/helpers/azurite";
import { startUpstashBridge } from "../tests/helpers/upstash-bridge";

const MB = 1024 * 1024;
const redisUrl = process.env.REDIS_URL?.trim() || null;
const quiet = { warn() {}, info() {}, error() {} };

let peakRss = 0;
const sampleRss = () => {
  const rss = process.memoryUsage().rss;
  if (rss > peakRss) peakRss = rss;
};

function generated(total: number, chunk = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  let seed = 12345;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) {
          controller.close();
          return;
        }
        const n = Math.min(chunk, total - sent);
        const bytes = new Uint8Array(n);
        const words = new Uint32Array(bytes.buffer, 0, n >> 2);
        for (let i = 0; i < words.length; i += 64) {
          seed = (seed * 1664525 + 1013904223) >>> 0;
          words[i] = seed;
        }
        sent += n;
        if ((sent / chunk) % 8 === 0) sampleRss();
        controller.enqueue(bytes);
      },
    },
    { highWaterMark: 0 },
  );
}

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader();
  let n = 0;
  let i = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return n;
    n += value.byteLength;
    if (++i % 8 === 0) sampleRss();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (n: number, d = 1) => n.toFixed(d);

type StorageRow = {
  backend: string;
  size: string;
  "put MB/s": string;
  "get MB/s": string;
  "put peak ΔRSS MB": string;
  "get peak ΔRSS MB": string;
  "peak RSS MB": string;
};

async function benchStorage(
  name: string,
  storage: Storage,
  sizeMb: number,
  runs: number,
): Promise<StorageRow> {
  const bytes = sizeMb * MB;
  const putRates: number[] = [];
  const getRates: number[] = [];
  let putDelta = 0;
  let getDelta = 0;
  let absolutePeak = 0;
  for (let r = 0; r < runs; r++) {
    const key = `bench/obj-${sizeMb}-${r}.bin`;
    Bun.gc(true);
    let base = process.memoryUsage().rss;
    peakRss = base;
    let t0 = performance.now();
    await storage.put("uploads", key, generated(bytes));
    putRates.push(bytes / MB / ((performance.now() - t0) / 1000));
    sampleRss();
    putDelta = Math.max(putDelta, peakRss - base);
    absolutePeak = Math.max(absolutePeak, peakRss);

    Bun.gc(true);
    base = process.memoryUsage().rss;
    peakRss = base;
    t0 = performance.now();
    const got = await storage.get("uploads", key);
    const n = await drain(got.stream);
    if (n !== bytes) throw new Error(`short read: ${n} of ${bytes}`);
    getRates.push(bytes / MB / ((performance.now() - t0) / 1000));
    sampleRss();
    getDelta = Math.max(getDelta, peakRss - base);
    absolutePeak = Math.max(absolutePeak, peakRss);
    await storage.delete("uploads", key);
  }
  return {
    backend: name,
    size: `${sizeMb} MB`,
    "put MB/s": fmt(median(putRates)),
    "get MB/s": fmt(median(getRates)),
    "put peak ΔRSS MB": fmt(putDelta / MB),
    "get peak ΔRSS MB": fmt(getDelta / MB),
    "peak RSS MB": fmt(absolutePeak / MB),
  };
}

type CacheRow = { backend: string; ops: number; "p50 µs": string; "p99 µs": string; "mean µs": string };

async function benchCache(name: string, cache: Cache, ops: number): Promise<CacheRow> {
  const value = {
    id: "0b9f3c1e-1111-4222-8333-944455556666",
    email: "someone@example.com",
    displayName: "Some One",
    roles: ["user"],
    isActive: true,
    tokensValidAfter: null,
  };
  for (let i = 0; i < 100; i++) await cache.set(`bench:user:${i}`, value, 300);
  for (let i = 0; i < 500; i++) await cache.get(`bench:user:${i % 100}`);
  const samples = new Float64Array(ops);
  for (let i = 0; i < ops; i++) {
    const t0 = performance.now();
    const v = await cache.get(`bench:user:${i % 100}`);
    samples[i] = (performance.now() - t0) * 1000;
    if (v === undefined) throw new Error(`${name}: unexpected miss`);
  }
  samples.sort();
  const mean = samples.reduce((a, b) => a + b, 0) / ops;
  await cache.deleteByPrefix("bench:");
  return {
    backend: name,
    ops,
    "p50 µs": fmt(samples[Math.floor(ops * 0.5)]),
    "p99 µs": fmt(samples[Math.floor(ops * 0.99)]),
    "mean µs": fmt(mean),
  };
}

const storageRows: StorageRow[] = [];
const root = mkdtempSync(join(tmpdir(), "bench-storage-"));
const azurite = await startAzurite();
try {
  const local = new LocalStorage({ root });
  await local.init();
  const azure = new AzureBlobStorage({ connectionString: azurite.connectionString });
  await azure.init();
  for (const [name, s] of [
    ["local", local],
    ["azure (Azurite)", azure],
  ] as const) {
    storageRows.push(await benchStorage(name, s, 10, 5));
    storageRows.push(await benchStorage(name, s, 100, 3));
  }
} finally {
  await azurite.stop();
  rmSync(root, { recursive: true, force: true });
}

const cacheRows: CacheRow[] = [];
const appName = `bench-${crypto.randomUUID().slice(0, 8)}`;
const memory = createCache({ appName, environment: "bench", logger: quiet });
cacheRows.push(await benchCache("memory", memory, 20_000));
await memory.close();
if (redisUrl) {
  const redis = createCache({ appName, environment: "bench", logger: quiet, redisUrl });
  cacheRows.push(await benchCache("redis", redis, 20_000));
  await redis.close();
  const bridge = await startUpstashBridge(redisUrl);
  const upstash = createCache({
    appName,
    environment: "bench",
    logger: quiet,
    upstashUrl: bridge.url,
    upstashToken: bridge.token,
  });
  cacheRows.push(await benchCache("upstash (local REST bridge)", upstash, 5_000));
  await upstash.close();
  await bridge.close();
}

console.log(`\nBun ${Bun.version} on ${process.platform}/${process.arch}`);
console.log("\nStorage (median of runs; ΔRSS = peak growth over the run, GC not forced mid-run)");
console.table(storageRows);
console.log(
  `\nCache get latency (hits, sequential)${redisUrl ? "" : " — set REDIS_URL for Redis/Upstash rows"}`,
);
console.table(cacheRows);
