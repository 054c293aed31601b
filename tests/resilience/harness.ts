import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { IN_CI, usingPostgres } from "../helpers/env";
import { freePort, waitForPort } from "../helpers/free-port";

/*
 * The fault-injection suite's tools (issue 13). Everything runs on loopback, bounded in requests
 * and time. Faults hit only services this suite starts itself: a private PostgreSQL cluster
 * (initdb + pg_ctl on another port, never the shared 5432), a private redis-server, a private
 * tmpfs for storage, and the app as a child process.
 *
 * The suite runs with the PostgreSQL + Redis pass of .ci/run and skips on PGlite. Outside CI a
 * missing tool (initdb, redis-server, mount rights) skips; with CI=true it fails, so CI never
 * reports a fault test as passed that did not run.
 */

export const SERVER_SCRIPT = resolve(import.meta.dir, "../fixtures/slow-server.ts");

/** Why a fault test cannot run here, or null. Throws in CI when the reason is a missing tool. */
export function cannotRun(tool: string | null): string | null {
  if (!usingPostgres) return "resilience suite runs on PostgreSQL + Redis only (PGlite run)";
  if (tool === null) return null;
  if (IN_CI) throw new Error(`resilience suite: ${tool} is required in CI`);
  return tool;
}

/* ---------- private PostgreSQL cluster ---------- */

export function pgBinDir(): string | null {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, "bin/initdb")) && existsSync(join(root, v, "bin/pg_ctl")))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], "bin") : null;
}

const isRoot = () => process.getuid?.() === 0;

/* initdb refuses to run as root: as root, run the cluster as the `postgres` user. */
function asPostgres(cmd: string, args: string[]) {
  const [file, argv] = isRoot() ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  const r = spawnSync(file, argv, { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/* The same, without blocking the event loop (the load keeps running while pg_ctl works). */
async function asPostgresAsync(cmd: string, args: string[]) {
  const argv = isRoot() ? ["runuser", "-u", "postgres", "--", cmd, ...args] : [cmd, ...args];
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([
    proc.exited,
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
  ]);
  if (code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${err || out}`);
}

export type PrivateCluster = {
  port: number;
  url: string;
  start(): Promise<void>;
  /** `pg_ctl stop -m fast`: backends are terminated (57P01), the port closes. */
  stop(): Promise<void>;
  destroy(): void;
};

export async function privateCluster(): Promise<PrivateCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error("no PostgreSQL server binaries (initdb, pg_ctl)");
  const dir = mkdtempSync(join(tmpdir(), "camp-resilience-pg-"));
  if (isRoot()) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  asPostgres(join(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-k ${dir}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=60",
    "-c shared_buffers=32MB",
  ].join(" ");
  const ctl = (...args: string[]) => asPostgresAsync(join(bin, "pg_ctl"), ["-D", data, ...args]);
  let running = false;
  const cluster: PrivateCluster = {
    port,
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      await ctl("-l", join(dir, "log"), "-o", options, "-w", "-t", "30", "start");
      running = true;
    },
    async stop() {
      await ctl("-m", "fast", "-w", "-t", "30", "stop");
      running = false;
    },
    destroy() {
      if (running) {
        try {
          asPostgres(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
        } catch {
          /* already gone */
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // A cluster left running by a failed test is stopped when the test process exits.
  process.on("exit", () => cluster.destroy());
  await cluster.start();
  await waitForPort(port);
  return cluster;
}

/* ---------- load ---------- */

export type Sample = { at: number; status: number; ms: number; code?: string; type?: string | null };

/**
 * Runs `concurrency` loops of `one()` until `stop()` says so (checked between requests) or
 * `maxRequests` is reached. A network failure is recorded as status 0.
 */
export async function runLoad(
  one: (i: number) => Promise<Response>,
  {
    concurrency,
    stop,
    maxRequests = 20_000,
  }: { concurrency: number; stop: () => boolean; maxRequests?: number },
): Promise<Sample[]> {
  const samples: Sample[] = [];
  let n = 0;
  const loop = async () => {
    while (!stop() && n < maxRequests) {
      const i = n++;
      const t0 = performance.now();
      try {
        const res = await one(i);
        const type = res.headers.get("content-type");
        let code: string | undefined;
        if (res.status >= 400 && type?.includes("json"))
          code = ((await res.json()) as { code?: string }).code;
        else await res.arrayBuffer();
        samples.push({ at: t0, status: res.status, ms: performance.now() - t0, code, type });
      } catch {
        samples.push({ at: t0, status: 0, ms: performance.now() - t0 });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return samples;
}

export function tally(samples: Sample[]) {
  const byStatus: Record<string, number> = {};
  for (const s of samples) byStatus[s.status] = (byStatus[s.status] ?? 0) + 1;
  return {
    requests: samples.length,
    byStatus,
    x5xx: samples.filter((s) => s.status >= 500).length,
    x500: samples.filter((s) => s.status === 500).length,
    networkErrors: samples.filter((s) => s.status === 0).length,
  };
}

/** One line the CI log keeps: what the fault cost. */
export function report(name: string, figures: Record<string, unknown>) {
  console.log(`RESILIENCE ${name} ${JSON.stringify(figures)}`);
}

export const loadAverage = () => {
  try {
    return execFileSync("cat", ["/proc/loadavg"]).toString().split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
};
