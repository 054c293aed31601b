import { afterAll, describe, expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { loadConfig } from "@/config";
import { EngineError } from "@/engine/errors";
import { AppError } from "@/lib/errors";
import { WorkerPool, WorkerPoolError } from "@/lib/worker-pool";
import { EnginePool, inProcessParser, workerEntry } from "@/modules/analysis/engine-pool";
import { decodeError } from "@/modules/analysis/engine-pool/protocol";
import { F3_CSV, F4A_CSV, f1Xlsx } from "../../../../tests/fixtures/analysis/fixtures";

const pool = new EnginePool({ size: 1 });
afterAll(() => pool.close());

/** A long-format CSV of `rows` records and five columns (about 40 bytes a row). */
function bigCsv(rows: number): Uint8Array {
  const parts = ["年度,部門,地域,科目,値\n"];
  for (let i = 0; i < rows; i++) {
    parts.push(`${2000 + (i % 25)},部門${i % 37},地域${i % 11},科目${Math.floor(i / 1000)},${i * 1.5}\n`);
  }
  return new TextEncoder().encode(parts.join(""));
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected a rejection");
}

/** Runs `work` while a 5 ms interval measures how late the event loop runs it. */
async function maxLag(work: () => Promise<unknown>): Promise<number> {
  let max = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - 5);
    last = now;
  }, 5);
  await Bun.sleep(20);
  await work();
  await Bun.sleep(20);
  clearInterval(timer);
  return max;
}

describe("parsing in the worker pool", () => {
  test("F1 parses exactly as in process: registration and the selected sheet", async () => {
    const f1 = await f1Xlsx();
    expect(await pool.registerFile(f1.slice(), "xlsx")).toEqual(
      await inProcessParser.registerFile(f1, "xlsx"),
    );
    const viaPool = await pool.parseFileSheet(f1.slice(), "xlsx", "Sheet1", ["年度", "部門"]);
    const local = await inProcessParser.parseFileSheet(f1, "xlsx", "Sheet1", ["年度", "部門"]);
    expect(viaPool).toEqual(local);
    expect(viaPool.frame.values).toBeInstanceOf(Float64Array);
    expect(viaPool.frame.text).toBeInstanceOf(Map);
    expect(viaPool.dataHash).toBe(local.dataHash);
  });

  test("a long-format CSV with a BOM reports the same encoding, delimiter and rows", async () => {
    const viaPool = await pool.parseFileSheet(F4A_CSV.slice(), "csv", "CSV", undefined);
    expect(viaPool).toEqual(await inProcessParser.parseFileSheet(F4A_CSV, "csv", "CSV", undefined));
  });

  test("the bytes move to the worker instead of being copied", async () => {
    const bytes = F4A_CSV.slice();
    await pool.registerFile(bytes, "csv");
    expect(bytes.byteLength).toBe(0);
  });

  test("an EngineError thrown in the worker arrives as the same EngineError", async () => {
    const local = await rejection(inProcessParser.parseFileSheet(F3_CSV, "csv", "CSV", undefined));
    const remote = await rejection(pool.parseFileSheet(F3_CSV.slice(), "csv", "CSV", undefined));
    expect(remote).toBeInstanceOf(EngineError);
    expect((remote as EngineError).toJSON()).toEqual((local as EngineError).toJSON());
    expect((remote as EngineError).extensions.reason).toBe("NO_SEPARATOR_ROW");

    const reg = await rejection(pool.registerFile(F3_CSV.slice(), "csv"));
    expect((reg as EngineError).toJSON()).toEqual(
      ((await rejection(inProcessParser.registerFile(F3_CSV, "csv"))) as EngineError).toJSON(),
    );
    expect((reg as EngineError).code).toBe("NO_PARSEABLE_SHEET");

    const unknown = await rejection(pool.parseFileSheet((await f1Xlsx()).slice(), "xlsx", "Nope", undefined));
    expect((unknown as EngineError).code).toBe("UNKNOWN_SHEET");
    expect((unknown as EngineError).extensions.availableSheets).toEqual(["Sheet1"]);
  });

  test("other errors keep their message and are not EngineErrors", async () => {
    const e = await rejection(pool.workers.run("no-such-task", {}));
    expect(e).not.toBeInstanceOf(EngineError);
    expect(e.message).toContain("Unknown worker task no-such-task");
    expect(decodeError({ name: "TypeError", message: "x" }).name).toBe("TypeError");
  });
});

describe("worker failures", () => {
  test("a worker that exits fails its task and is replaced", async () => {
    const before = pool.workers.spawned;
    const e = await rejection(pool.workers.run("test:exit", {}));
    expect(e).toBeInstanceOf(WorkerPoolError);
    expect((e as WorkerPoolError).reason).toBe("crashed");
    expect(e.message).toContain("exited");
    const after = await pool.parseFileSheet(F4A_CSV.slice(), "csv", "CSV", undefined);
    expect(after.rowCount).toBe(8);
    expect(pool.workers.spawned).toBe(before + 1);
  });

  test("an uncaught exception in the worker fails the task with its message", async () => {
    const e = await rejection(pool.workers.run("test:uncaught", {}));
    expect((e as WorkerPoolError).reason).toBe("crashed");
    expect(e.message).toContain("uncaught in worker");
    expect((await pool.registerFile(F4A_CSV.slice(), "csv")).configList).toHaveLength(1);
  });

  test("a task over its timeout is stopped and the pool carries on", async () => {
    const started = performance.now();
    const e = await rejection(pool.workers.run("test:spin", { ms: 5000 }, { timeoutMs: 100 }));
    expect((e as WorkerPoolError).reason).toBe("timeout");
    expect(performance.now() - started).toBeLessThan(2000);
    expect((await pool.registerFile(F4A_CSV.slice(), "csv")).configList).toHaveLength(1);
  });

  test("an AbortSignal stops a running task and drops a queued one", async () => {
    const running = new AbortController();
    const queued = new AbortController();
    const first = rejection(pool.workers.run("test:spin", { ms: 5000 }, { signal: running.signal }));
    const second = rejection(pool.workers.run("test:spin", { ms: 10 }, { signal: queued.signal }));
    expect(pool.workers.stats.queued).toBe(1);
    queued.abort(new Error("client went away"));
    const dropped = await second;
    expect((dropped as WorkerPoolError).reason).toBe("aborted");
    expect(dropped.message).toContain("client went away");
    const started = performance.now();
    running.abort();
    expect(((await first) as WorkerPoolError).reason).toBe("aborted");
    expect(performance.now() - started).toBeLessThan(1000);
    const pre = new AbortController();
    pre.abort();
    const refused = await rejection(
      pool.parseFileSheet(F4A_CSV.slice(), "csv", "CSV", undefined, {}, pre.signal),
    );
    expect((refused as WorkerPoolError).reason).toBe("aborted");
  });

  test("the queue is bounded; a full queue answers 503 through the engine pool", async () => {
    const small = new EnginePool({ size: 1, maxQueue: 1 });
    try {
      const spin = small.workers.run("test:spin", { ms: 300 });
      const waiting = small.registerFile(F4A_CSV.slice(), "csv");
      const e = await rejection(small.registerFile(F4A_CSV.slice(), "csv"));
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).status).toBe(503);
      expect(((e as AppError).cause as WorkerPoolError).reason).toBe("busy");
      await spin;
      expect((await waiting).configList).toHaveLength(1);
    } finally {
      await small.close();
    }
    const closed = await rejection(small.workers.run("test:spin", { ms: 1 }));
    expect((closed as WorkerPoolError).reason).toBe("closed");
  });

  test("a worker entry that cannot load fails the task instead of hanging", async () => {
    const broken = new WorkerPool({ url: "/nonexistent/worker.ts", size: 1, timeoutMs: 5000 });
    try {
      const e = await rejection(broken.run("register", {}));
      expect((e as WorkerPoolError).reason).toBe("crashed");
    } finally {
      await broken.close();
    }
  });
});

describe("event loop responsiveness", () => {
  test("a 6 MB CSV parsed in the pool leaves the event loop free", async () => {
    const csv = bigCsv(150_000);
    expect(csv.byteLength).toBeGreaterThan(5_000_000);
    await pool.registerFile(F4A_CSV.slice(), "csv");
    let rows = 0;
    const lag = await maxLag(async () => {
      rows = (await pool.parseFileSheet(csv.slice(), "csv", "CSV", undefined)).rowCount;
    });
    expect(rows).toBe(150_000);
    expect(lag).toBeLessThan(50);
  }, 30_000);

  test("the pool size comes from the configuration", () => {
    const defaults = loadConfig({}, { layer: false });
    expect(defaults.analysisWorkers).toBe(Math.max(1, Math.floor(availableParallelism() / 2)));
    expect(loadConfig({ ANALYSIS_WORKERS: "3" }, { layer: false }).analysisWorkers).toBe(3);
  });

  test("the worker entry resolves beside this module when run from source", () => {
    expect(String(workerEntry())).toEndWith("/engine-pool/worker.ts");
  });
});
