import { describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./helpers/free-port";

/*
 * The binary's entry (src/cli/main.ts) run as a subprocess, as an operator runs it. The database is
 * an embedded PGlite in a temporary directory, so "did nothing" is checkable: the directory must
 * not appear. The compiled binary's missing-DATABASE_URL message is checked in .ci/run against the
 * real build (PGlite is only absent there).
 */
const MAIN = resolve(import.meta.dir, "../src/cli/main.ts");

async function cli(args: string[], timeoutMs = 15_000) {
  const dir = mkdtempSync(join(tmpdir(), "camp-cli-"));
  const pglite = join(dir, "pglite");
  const port = await freePort();
  const proc = Bun.spawn(["bun", MAIN, ...args], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      ENVIRONMENT: "development",
      PGLITE_DIR: pglite,
      PORT: String(port),
      LOG_LEVEL: "silent",
    },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  clearTimeout(timer);
  const touchedDatabase = existsSync(pglite);
  rmSync(dir, { recursive: true, force: true });
  return { code, stdout, stderr, touchedDatabase };
}

describe("camp-backend CLI", () => {
  test("--help and -h print the usage with every command and exit 0", async () => {
    for (const flag of ["--help", "-h"]) {
      const r = await cli([flag]);
      expect({ flag, code: r.code, stderr: r.stderr }).toEqual({ flag, code: 0, stderr: "" });
      expect(r.stdout).toStartWith("usage: camp-backend [command] [options]");
      for (const command of ["serve", "migrate", "status", "rollback", "seed", "healthcheck"])
        expect(r.stdout).toContain(`  ${command}`);
    }
  });

  test("<command> --help prints that command's usage and does nothing else", async () => {
    const runs = await Promise.all(
      ["migrate", "status", "rollback", "seed", "serve", "healthcheck"].map(async (command) => ({
        command,
        ...(await cli([command, command === "seed" ? "-h" : "--help"])),
      })),
    );
    for (const r of runs) {
      // serve would listen and never exit, migrate would create and migrate the database.
      expect({
        command: r.command,
        code: r.code,
        stderr: r.stderr,
        touchedDatabase: r.touchedDatabase,
      }).toEqual({
        command: r.command,
        code: 0,
        stderr: "",
        touchedDatabase: false,
      });
      expect(r.stdout).toStartWith(`usage: camp-backend ${r.command}`);
    }
  }, 60_000);

  test("unknown commands, options and extra arguments exit 2 with the usage on stderr", async () => {
    const cases: [string[], string][] = [
      [["bogus"], "unknown command 'bogus'"],
      [["--bogus"], "unknown option '--bogus'"],
      [["migrate", "--bogus"], "Unknown option '--bogus'"],
      [["serve", "--port", "1"], "Unknown option '--port'"],
      [["rollback", "1", "2"], "unexpected argument '2'"],
      [["seed", "now"], "unexpected argument 'now'"],
      [["serve", "--worker", "x"], "--worker needs a worker number"],
    ];
    const runs = await Promise.all(cases.map(([args]) => cli(args)));
    cases.forEach(([args, message], i) => {
      const r = runs[i];
      expect({ args, code: r.code, stdout: r.stdout, touchedDatabase: r.touchedDatabase }).toEqual({
        args,
        code: 2,
        stdout: "",
        touchedDatabase: false,
      });
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("usage: camp-backend");
    });
  }, 60_000);
});
