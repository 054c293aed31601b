import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Container,
  createStorage,
  LocalStorage,
  type Storage,
  StorageKeyError,
  StorageNotFoundError,
  StorageRangeError,
  StorageTooLargeError,
} from "@/lib/storage";
import { AzureBlobStorage } from "@/lib/storage/azure";
import { type Azurite, hasAzurite, startAzurite } from "./helpers/azurite";

/*
 * One behavioural contract for both storage backends: a local folder and Azure Blob (Azurite,
 * started here). Plus the local backend's containment guarantees.
 */

const sha256 = (data: Uint8Array | string) => new Bun.CryptoHasher("sha256").update(data).digest("hex");
const enc = new TextEncoder();

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
async function text(storage: Storage, c: Container, key: string, range?: { start?: number; end?: number }) {
  const r = await storage.get(c, key, range);
  return new TextDecoder().decode(await readAll(r.stream));
}

/* Deterministic pseudo-random bytes, produced chunk by chunk as the consumer pulls. */
function generated(
  totalBytes: number,
  chunkBytes = 64 * 1024,
  hooks: { onPull?: () => void; onCancel?: () => void; failAt?: number } = {},
) {
  const hasher = new Bun.CryptoHasher("sha256");
  let sent = 0;
  let seed = 0x9e3779b9;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        hooks.onPull?.();
        if (hooks.failAt !== undefined && sent >= hooks.failAt) {
          controller.error(new Error("source broke"));
          return;
        }
        if (sent >= totalBytes) {
          controller.close();
          return;
        }
        const n = Math.min(chunkBytes, totalBytes - sent);
        const chunk = new Uint8Array(n);
        const words = new Uint32Array(chunk.buffer, 0, n >> 2);
        for (let i = 0; i < words.length; i++) {
          seed = (seed * 1664525 + 1013904223) >>> 0;
          words[i] = seed;
        }
        hasher.update(chunk);
        sent += n;
        controller.enqueue(chunk);
      },
      cancel() {
        hooks.onCancel?.();
      },
    },
    { highWaterMark: 0 },
  );
  // CryptoHasher resets on digest(), so the digest is taken once and remembered.
  let digest: string | null = null;
  return { stream, digest: () => (digest ??= hasher.digest("hex")), sent: () => sent };
}

let azurite: Azurite | null = null;
const tmpRoots: string[] = [];
const tmpRoot = () => {
  const d = mkdtempSync(join(tmpdir(), "storage-contract-"));
  tmpRoots.push(d);
  return d;
};

beforeAll(async () => {
  if (hasAzurite) azurite = await startAzurite();
}, 60_000);
afterAll(async () => {
  await azurite?.stop();
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

type Backend = { name: "local" | "azure"; skip: boolean; make: (suffix?: string) => Storage };
const backends: Backend[] = [
  { name: "local", skip: false, make: () => new LocalStorage({ root: tmpRoot() }) },
  {
    name: "azure",
    skip: !hasAzurite,
    make: (suffix = "") =>
      createStorage({
        backend: "azure",
        azureConnectionString: azurite!.connectionString,
        containerNames: suffix
          ? { uploads: `uploads${suffix}`, analysis: `analysis${suffix}`, public: `public${suffix}` }
          : undefined,
      }),
  },
];

for (const b of backends) {
  describe.skipIf(b.skip)(`storage contract: ${b.name}`, () => {
    let s: Storage;
    beforeAll(async () => {
      s = b.make();
      await s.init();
      await s.init();
    });

    test("reports its backend and answers ping", async () => {
      expect(s.backend).toBe(b.name);
      const p = await s.ping();
      expect(p).toMatchObject({ ok: true });
    });

    test("put/get round-trips strings, bytes and streams with size and sha256", async () => {
      const bytes = enc.encode("bytes body ✓");
      const r1 = await s.put("uploads", "rt/string.txt", "hello world");
      expect(r1).toEqual({ size: 11, sha256: sha256("hello world") });
      const r2 = await s.put("uploads", "rt/bytes.bin", bytes);
      expect(r2).toEqual({ size: bytes.byteLength, sha256: sha256(bytes) });
      const g = generated(300_000, 7000);
      const r3 = await s.put("uploads", "rt/stream.bin", g.stream);
      expect(r3).toEqual({ size: 300_000, sha256: g.digest() });

      expect(await text(s, "uploads", "rt/string.txt")).toBe("hello world");
      const got = await s.get("uploads", "rt/bytes.bin");
      expect(got.size).toBe(bytes.byteLength);
      expect(got.length).toBe(bytes.byteLength);
      expect(await readAll(got.stream)).toEqual(bytes);
      const streamed = await s.get("uploads", "rt/stream.bin");
      expect(sha256(await readAll(streamed.stream))).toBe(g.digest());
    });

    test("content type is reported", async () => {
      await s.put("uploads", "ct/doc.json", "{}", { contentType: "application/json" });
      expect((await s.get("uploads", "ct/doc.json")).contentType).toContain("application/json");
      expect((await s.head("uploads", "ct/doc.json"))?.contentType).toContain("application/json");
    });

    test("an empty object", async () => {
      expect(await s.put("uploads", "empty/e.txt", new Uint8Array(0))).toEqual({
        size: 0,
        sha256: sha256(""),
      });
      const g = await s.get("uploads", "empty/e.txt");
      expect(g.size).toBe(0);
      expect((await readAll(g.stream)).byteLength).toBe(0);
      expect(await s.exists("uploads", "empty/e.txt")).toBe(true);
    });

    test("overwriting replaces the content", async () => {
      await s.put("uploads", "ow/k.txt", "first version, longer");
      await s.put("uploads", "ow/k.txt", "second");
      expect(await text(s, "uploads", "ow/k.txt")).toBe("second");
    });

    test("concurrent writers to one key leave one complete object", async () => {
      const bodies = ["a", "b", "c", "d"].map((x) => x.repeat(200_000));
      await Promise.all(bodies.map((body) => s.put("uploads", "race/k.txt", body)));
      const got = await text(s, "uploads", "race/k.txt");
      expect(bodies).toContain(got);
    });

    test("range reads (inclusive, end clamped, total size reported)", async () => {
      await s.put("uploads", "range/abc.txt", "abcdefghij");
      const r = await s.get("uploads", "range/abc.txt", { start: 2, end: 4 });
      expect(r.size).toBe(10);
      expect(r.length).toBe(3);
      expect(r.range).toEqual({ start: 2, end: 4 });
      expect(new TextDecoder().decode(await readAll(r.stream))).toBe("cde");
      expect(await text(s, "uploads", "range/abc.txt", { start: 7 })).toBe("hij");
      expect(await text(s, "uploads", "range/abc.txt", { start: 8, end: 99 })).toBe("ij");
      expect(await text(s, "uploads", "range/abc.txt", { start: 0, end: 0 })).toBe("a");
      expect(await text(s, "uploads", "range/abc.txt", {})).toBe("abcdefghij");
      await expect(s.get("uploads", "range/abc.txt", { start: 10 })).rejects.toBeInstanceOf(
        StorageRangeError,
      );
      await expect(s.get("uploads", "range/abc.txt", { start: 5, end: 3 })).rejects.toBeInstanceOf(
        StorageRangeError,
      );
    });

    test("a range read of a large object streams only the range", async () => {
      const g = generated(5 * 1024 * 1024 + 123);
      await s.put("uploads", "range/big.bin", g.stream);
      const full = await readAll((await s.get("uploads", "range/big.bin")).stream);
      const start = 4 * 1024 * 1024 - 10;
      const end = 5 * 1024 * 1024 + 50;
      const part = await readAll((await s.get("uploads", "range/big.bin", { start, end })).stream);
      expect(part.byteLength).toBe(end - start + 1);
      expect(sha256(part)).toBe(sha256(full.subarray(start, end + 1)));
    });

    test("head, exists, get and delete of missing objects", async () => {
      expect(await s.head("uploads", "missing/x.txt")).toBeNull();
      expect(await s.exists("uploads", "missing/x.txt")).toBe(false);
      await expect(s.get("uploads", "missing/x.txt")).rejects.toBeInstanceOf(StorageNotFoundError);
      await s.delete("uploads", "missing/x.txt");
      await s.delete("uploads", "never/existed/deeply/x.txt");
    });

    test("head reports size and time; delete is idempotent", async () => {
      const before = Date.now();
      await s.put("uploads", "hd/x.txt", "12345");
      const h = await s.head("uploads", "hd/x.txt");
      expect(h?.size).toBe(5);
      expect(h?.lastModified).toBeInstanceOf(Date);
      expect(h!.lastModified!.getTime()).toBeGreaterThan(before - 5000);
      await s.delete("uploads", "hd/x.txt");
      await s.delete("uploads", "hd/x.txt");
      expect(await s.exists("uploads", "hd/x.txt")).toBe(false);
      await expect(s.get("uploads", "hd/x.txt")).rejects.toBeInstanceOf(StorageNotFoundError);
    });

    test("containers are separate namespaces", async () => {
      await s.put("analysis", "analysis/s1/snapshot_1.json", "{}");
      expect(await s.exists("analysis", "analysis/s1/snapshot_1.json")).toBe(true);
      expect(await s.exists("uploads", "analysis/s1/snapshot_1.json")).toBe(false);
      await s.put("public", "logo.png", "png");
      expect(await s.exists("public", "logo.png")).toBe(true);
    });

    test("deleteByPrefix removes exactly the prefixed objects", async () => {
      await s.put("uploads", "projects/p1/f1_a.xlsx", "a");
      await s.put("uploads", "projects/p1/f2_b.xlsx", "b");
      await s.put("uploads", "projects/p1/sub/f3_c.xlsx", "c");
      await s.put("uploads", "projects/p10/f4_d.xlsx", "d");
      await s.put("uploads", "projects/p2/f5_e.xlsx", "e");
      await s.put("analysis", "projects/p1/f6_f.xlsx", "f");
      expect(await s.deleteByPrefix("uploads", "projects/p1/")).toBe(3);
      expect(await s.exists("uploads", "projects/p1/f1_a.xlsx")).toBe(false);
      expect(await s.exists("uploads", "projects/p1/sub/f3_c.xlsx")).toBe(false);
      expect(await s.exists("uploads", "projects/p10/f4_d.xlsx")).toBe(true);
      expect(await s.exists("uploads", "projects/p2/f5_e.xlsx")).toBe(true);
      expect(await s.exists("analysis", "projects/p1/f6_f.xlsx")).toBe(true);
      expect(await s.deleteByPrefix("uploads", "projects/p1/")).toBe(0);
      expect(await s.deleteByPrefix("uploads", "nothing/here/")).toBe(0);
      // A bare string prefix matches across folder boundaries, like Azure's.
      expect(await s.deleteByPrefix("uploads", "projects/p")).toBe(2);
      await s.put("uploads", "projects/p1/again.txt", "writable after prune");
      expect(await text(s, "uploads", "projects/p1/again.txt")).toBe("writable after prune");
    });

    test("list answers exactly the prefixed objects of the container, with size and time", async () => {
      const before = Date.now() - 60_000;
      await s.put("uploads", "listed/a/one.txt", "1");
      await s.put("uploads", "listed/a/sub/two.txt", "22");
      await s.put("uploads", "listed/ab/three.txt", "333");
      await s.put("analysis", "listed/a/other.txt", "4444");
      const seen = async (container: "uploads" | "analysis", prefix: string) => {
        const out: { key: string; size: number; lastModified: Date }[] = [];
        for await (const o of s.list!(container, prefix)) out.push(o);
        return out.sort((x, y) => x.key.localeCompare(y.key));
      };
      const a = await seen("uploads", "listed/a/");
      expect(a.map((o) => [o.key, o.size])).toEqual([
        ["listed/a/one.txt", 1],
        ["listed/a/sub/two.txt", 2],
      ]);
      for (const o of a) expect(o.lastModified.getTime()).toBeGreaterThan(before);
      expect((await seen("uploads", "listed/a")).map((o) => o.key)).toContain("listed/ab/three.txt");
      expect((await seen("analysis", "listed/")).map((o) => o.key)).toEqual(["listed/a/other.txt"]);
      expect(await seen("uploads", "nothing/here/")).toEqual([]);
      await s.deleteByPrefix("uploads", "listed/");
      await s.deleteByPrefix("analysis", "listed/");
    });

    test("deleteByPrefix handles many objects", async () => {
      await Promise.all(Array.from({ length: 120 }, (_, i) => s.put("uploads", `many/m${i}.txt`, String(i))));
      expect(await s.deleteByPrefix("uploads", "many/")).toBe(120);
    });

    test("maxBytes: exactly the limit is accepted", async () => {
      const g = generated(100_000);
      expect((await s.put("uploads", "limit/exact.bin", g.stream, { maxBytes: 100_000 })).size).toBe(100_000);
    });

    test("maxBytes: over the limit aborts, cancels the source and leaves nothing", async () => {
      let cancelled = false;
      const g = generated(12 * 1024 * 1024, 64 * 1024, { onCancel: () => (cancelled = true) });
      await expect(
        s.put("uploads", "limit/over.bin", g.stream, { maxBytes: 5 * 1024 * 1024 }),
      ).rejects.toBeInstanceOf(StorageTooLargeError);
      expect(cancelled).toBe(true);
      expect(g.sent()).toBeLessThan(6 * 1024 * 1024);
      expect(await s.exists("uploads", "limit/over.bin")).toBe(false);
      await expect(
        s.put("uploads", "limit/over2.txt", "x".repeat(11), { maxBytes: 10 }),
      ).rejects.toBeInstanceOf(StorageTooLargeError);
      expect(await s.exists("uploads", "limit/over2.txt")).toBe(false);
    });

    test("maxBytes: a refused replacement keeps the previous object", async () => {
      await s.put("uploads", "limit/keep.txt", "previous");
      await expect(
        s.put("uploads", "limit/keep.txt", generated(2 * 1024 * 1024).stream, { maxBytes: 1024 }),
      ).rejects.toBeInstanceOf(StorageTooLargeError);
      expect(await text(s, "uploads", "limit/keep.txt")).toBe("previous");
    });

    test("a source that fails mid-stream leaves nothing", async () => {
      const g = generated(10 * 1024 * 1024, 64 * 1024, { failAt: 6 * 1024 * 1024 });
      await expect(s.put("uploads", "broken/x.bin", g.stream)).rejects.toThrow("source broke");
      expect(await s.exists("uploads", "broken/x.bin")).toBe(false);
    });

    test("Unicode keys", async () => {
      const key = "projects/p9/0000_売上データ_2024年.xlsx";
      await s.put("uploads", key, "ユニコード");
      expect(await text(s, "uploads", key)).toBe("ユニコード");
      expect(await s.deleteByPrefix("uploads", "projects/p9/")).toBe(1);
    });

    test.each(["../x", "/etc/passwd", "a/../../b", "%2e%2e/x", "..\\x", "a//b", "a\u0000b", ""])(
      "refuses the key %j",
      async (key) => {
        await expect(s.put("uploads", key, "x")).rejects.toBeInstanceOf(StorageKeyError);
        await expect(s.get("uploads", key)).rejects.toBeInstanceOf(StorageKeyError);
        await expect(s.delete("uploads", key)).rejects.toBeInstanceOf(StorageKeyError);
      },
    );

    test("refuses unknown containers", async () => {
      await expect(s.put("secrets" as Container, "k", "x")).rejects.toBeInstanceOf(StorageKeyError);
    });

    test("containers are created on first write without init()", async () => {
      const fresh = b.make(`-${crypto.randomUUID().slice(0, 8)}`);
      await fresh.put("analysis", "analysis/s/graph_g.png", "png");
      expect(await text(fresh, "analysis", "analysis/s/graph_g.png")).toBe("png");
      expect(await fresh.exists("uploads", "anything")).toBe(false);
      expect(await fresh.deleteByPrefix("public", "")).toBe(0);
    });

    test("a 50 MB stream is stored and read back with flat memory", async () => {
      const total = 50 * 1024 * 1024;
      // Each sample follows a full collection, so it measures what the adapter retains (the
      // point: nothing is buffered whole) rather than how far the collector lags behind a
      // fast producer; Bun frees the SDK's network buffers only in full collections.
      let base = 0;
      let peak = 0;
      const phase = () => {
        Bun.gc(true);
        base = process.memoryUsage().rss;
        peak = base;
      };
      const sample = () => {
        Bun.gc(true);
        const rss = process.memoryUsage().rss;
        if (rss > peak) peak = rss;
      };
      const growthMb = () => (peak - base) / 1024 / 1024;

      phase();
      let pulls = 0;
      const g = generated(total, 64 * 1024, {
        onPull: () => {
          if (++pulls % 32 === 0) sample();
        },
      });
      const put = await s.put("uploads", "big/50mb.bin", g.stream);
      sample();
      expect(put).toEqual({ size: total, sha256: g.digest() });
      const putGrowth = growthMb();

      phase();
      const got = await s.get("uploads", "big/50mb.bin");
      expect(got.size).toBe(total);
      const reader = got.stream.getReader();
      const h = new Bun.CryptoHasher("sha256");
      let n = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        h.update(value);
        n += value.byteLength;
        if (n % (2 * 1024 * 1024) < value.byteLength) sample();
      }
      const getGrowth = growthMb();
      expect(n).toBe(total);
      expect(h.digest("hex")).toBe(g.digest());
      expect(putGrowth).toBeLessThan(30);
      expect(getGrowth).toBeLessThan(30);
      await s.delete("uploads", "big/50mb.bin");
    }, 120_000);

    test("signedUrl gives a working read URL where the backend can sign", async () => {
      await s.put("uploads", "sas/x.txt", "signed content");
      const url = await s.signedUrl?.("uploads", "sas/x.txt", 60);
      if (b.name === "local") {
        expect(url).toBeUndefined();
        return;
      }
      expect(url).toBeString();
      const res = await fetch(url!);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("signed content");
    });
  });
}

describe.skipIf(!hasAzurite)("azure specifics", () => {
  test("init creates the three containers; sha256 is kept in metadata", async () => {
    const suffix = `-${crypto.randomUUID().slice(0, 8)}`;
    const s = new AzureBlobStorage({
      connectionString: azurite!.connectionString,
      containerNames: { uploads: `up${suffix}`, analysis: `an${suffix}`, public: `pub${suffix}` },
    });
    await s.init();
    for (const name of [`up${suffix}`, `an${suffix}`, `pub${suffix}`]) {
      expect(await s.service.getContainerClient(name).exists()).toBe(true);
    }
    const r = await s.put("uploads", "m/x.txt", "meta");
    expect((await s.head("uploads", "m/x.txt"))?.sha256).toBe(r.sha256);
    const big = generated(9 * 1024 * 1024 + 1);
    const rb = await s.put("uploads", "m/big.bin", big.stream);
    expect((await s.head("uploads", "m/big.bin"))?.sha256).toBe(rb.sha256);
  }, 60_000);

  test("an unreachable account answers ping with ok=false instead of throwing", async () => {
    const s = new AzureBlobStorage({
      connectionString: azurite!.connectionString.replace(`:${azurite!.port}/`, ":1/"),
      pingTimeoutMs: 1000,
    });
    const p = await s.ping();
    expect(p.ok).toBe(false);
    expect(p.error).toBeString();
  }, 30_000);
});

describe("local storage containment", () => {
  let root: string;
  let outside: string;
  let s: LocalStorage;

  beforeAll(async () => {
    root = tmpRoot();
    outside = tmpRoot();
    writeFileSync(join(outside, "secret.txt"), "top secret");
    s = new LocalStorage({ root, fsync: false });
    await s.init();
    // Keys outside the seed's folders live under `.uploads/` (created on first write).
    mkdirSync(join(root, ".uploads"), { recursive: true });
    symlinkSync(outside, join(root, ".uploads", "link"));
    symlinkSync(join(outside, "secret.txt"), join(root, ".uploads", "secret-link.txt"));
    mkdirSync(join(root, ".uploads", "inner"), { recursive: true });
    symlinkSync(outside, join(root, ".uploads", "inner", "deeper"));
  });

  test.each([
    "../",
    "../escape.txt",
    "/etc/passwd",
    "a/../../b",
    "%2e%2e/",
    "%2e%2e/x",
    "..\\x",
    "..%2fx",
    "%252e%252e/x",
  ])("refuses %j", async (key) => {
    await expect(s.put("uploads", key, "x")).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.get("uploads", key)).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.exists("uploads", key)).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.delete("uploads", key)).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.deleteByPrefix("uploads", key)).rejects.toBeInstanceOf(StorageKeyError);
    expect(existsSync(join(root, "escape.txt"))).toBe(false);
  });

  test("a symlinked folder pointing outside the root is not followed", async () => {
    await expect(s.put("uploads", "link/new.txt", "x")).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.put("uploads", "link/made/dirs.txt", "x")).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.put("uploads", "inner/deeper/x.txt", "x")).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.get("uploads", "link/secret.txt")).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.head("uploads", "link/secret.txt")).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.delete("uploads", "link/secret.txt")).rejects.toBeInstanceOf(StorageKeyError);
    await expect(s.deleteByPrefix("uploads", "link/")).rejects.toBeInstanceOf(StorageKeyError);
    expect(readdirSync(outside).sort()).toEqual(["secret.txt"]);
  });

  test("a symlinked file pointing outside the root is not read", async () => {
    await expect(s.get("uploads", "secret-link.txt")).rejects.toBeInstanceOf(StorageKeyError);
    expect(await Bun.file(join(outside, "secret.txt")).text()).toBe("top secret");
  });

  test("deleting a whole tree removes links, never their targets", async () => {
    await s.put("uploads", "inner/real.txt", "mine");
    const n = await s.deleteByPrefix("uploads", "inner/");
    expect(n).toBe(2);
    expect(existsSync(join(root, ".uploads", "inner"))).toBe(false);
    expect(readdirSync(outside).sort()).toEqual(["secret.txt"]);
  });

  test("objects land in the seed's layout (root/projects, root/analysis, root/temp); no temp files survive", async () => {
    await s.put("uploads", "projects/p/f_x.txt", "x");
    expect(await Bun.file(join(root, "projects", "p", "f_x.txt")).text()).toBe("x");
    await s.put("analysis", "analysis/s/snapshot_1.json", "{}");
    expect(await Bun.file(join(root, "analysis", "s", "snapshot_1.json")).text()).toBe("{}");
    await s.put("uploads", "temp/u_temp.tmp", "t");
    expect(await Bun.file(join(root, "temp", "u_temp.tmp")).text()).toBe("t");
    await s.delete("uploads", "temp/u_temp.tmp");
    // No folder per container doubles the keys' own folders.
    expect(existsSync(join(root, "uploads"))).toBe(false);
    expect(existsSync(join(root, "analysis", "analysis"))).toBe(false);
    await expect(
      s.put("uploads", "projects/p/f_y.txt", generated(3000).stream, { maxBytes: 10 }),
    ).rejects.toThrow();
    expect(readdirSync(join(root, "projects", "p"))).toEqual(["f_x.txt"]);
  });

  test("ping leaves nothing behind", async () => {
    expect((await s.ping()).ok).toBe(true);
    const tempDir = join(root, "temp");
    expect(existsSync(tempDir) ? readdirSync(tempDir) : []).toEqual([]);
  });

  test("ping reports an unusable root instead of throwing", async () => {
    const file = join(tmpRoot(), "not-a-dir");
    writeFileSync(file, "x");
    const broken = new LocalStorage({ root: file });
    const p = await broken.ping();
    expect(p.ok).toBe(false);
    expect(p.error).toBeString();
  });
});
