import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runTokenCli } from "@/cli/token";
import { configFrom } from "@/config";
import { devOidForEmail, verifyDevToken } from "@/lib/auth/dev-token";

const SECRET = randomBytes(48).toString("base64");
const SCRIPT = resolve(import.meta.dir, "../src/cli/token.ts");

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const devConfig = () => configFrom({ ENVIRONMENT: "development", SECRET_KEY: SECRET });

describe("bun run token", () => {
  test("prints a dev JWT for the given user", async () => {
    const c = capture();
    const code = await runTokenCli(
      ["--email", "erin@example.com", "--name", "Erin E", "--expires", "120", "--sid", "cli-1"],
      devConfig,
      c.io,
    );
    expect(code).toBe(0);
    expect(c.out).toHaveLength(1);
    const claims = await verifyDevToken(c.out[0], SECRET);
    expect(claims).toMatchObject({ email: "erin@example.com", name: "Erin E", sid: "cli-1" });
    expect(claims.oid).toBe(devOidForEmail("erin@example.com"));
    expect(claims.exp - claims.iat!).toBe(120);
  });

  test("usage errors exit 2", async () => {
    for (const argv of [
      [],
      ["--email", "not-an-email"],
      ["--email", "a@b.c", "--expires", "-5"],
      ["--bogus"],
    ]) {
      const c = capture();
      expect(await runTokenCli(argv, devConfig, c.io)).toBe(2);
      expect(c.out).toHaveLength(0);
      expect(c.err.join("\n")).toContain("usage:");
    }
  });

  test("refuses with exit 2 when ENVIRONMENT=production", async () => {
    const prod = () =>
      configFrom({
        ENVIRONMENT: "production",
        AUTH_MODE: "production",
        SECRET_KEY: SECRET,
        ALLOWED_ORIGINS: "https://app.example.com",
        DATABASE_URL: "postgresql://camp@127.0.0.1/camp",
        AZURE_TENANT_ID: "t",
        AZURE_CLIENT_ID: "c",
      });
    const c = capture();
    expect(await runTokenCli(["--email", "a@b.c"], prod, c.io)).toBe(2);
    expect(c.out).toHaveLength(0);
    expect(c.err.join("\n")).toContain("production");
  });

  test("runs as a script and reads SECRET_KEY from the environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "token-cli-"));
    try {
      const run = (env: Record<string, string>) =>
        Bun.spawnSync(["bun", SCRIPT, "--email", "frank@example.com"], {
          cwd: dir,
          env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? dir, ...env },
        });
      const ok = run({ ENVIRONMENT: "development", SECRET_KEY: SECRET });
      expect(ok.exitCode).toBe(0);
      const token = ok.stdout.toString().trim();
      expect((await verifyDevToken(token, SECRET)).email).toBe("frank@example.com");

      const refused = run({
        ENVIRONMENT: "production",
        AUTH_MODE: "production",
        SECRET_KEY: SECRET,
        ALLOWED_ORIGINS: "https://app.example.com",
        DATABASE_URL: "postgresql://camp@127.0.0.1/camp",
        AZURE_TENANT_ID: "t",
        AZURE_CLIENT_ID: "c",
      });
      expect(refused.exitCode).toBe(2);
      expect(refused.stdout.toString()).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
