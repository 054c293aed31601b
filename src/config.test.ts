import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, configFrom, loadConfig, normaliseDatabaseUrl, parseEnvFile } from "@/config";

const GOOD_SECRET = "k3J9x!Qz7Lp2Vw8Rt5Yb1Nm4Hc6Gd0Fs-Ae_Uo9Ij3Kl7Mn2Bv5Cx8Zq1Wr4Ty6Pu0Sd";

const prod = (over: Record<string, string | undefined> = {}) => ({
  ENVIRONMENT: "production",
  AUTH_MODE: "production",
  DEBUG: "false",
  SECRET_KEY: GOOD_SECRET,
  ALLOWED_ORIGINS: '["https://app.example.com"]',
  DATABASE_URL: "postgresql+asyncpg://u:p@db.example.com:5432/app?sslmode=require",
  AZURE_TENANT_ID: "tenant",
  AZURE_CLIENT_ID: "client",
  ...over,
});

function problems(vars: Record<string, string | undefined>): string[] {
  try {
    configFrom(vars);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe("configuration", () => {
  test("a TRUSTED_PROXIES entry that is neither an address nor a CIDR block is refused", () => {
    expect(problems({ TRUSTED_PROXIES: "10.0.0.0/8, 10.0.0.300, cloudflare" })).toEqual([
      "TRUSTED_PROXIES entries must be addresses or CIDR blocks, got: 10.0.0.300, cloudflare",
    ]);
    expect(configFrom({ TRUSTED_PROXIES: "10.0.0.0/8,::1,173.245.48.0/20" }).trustedProxies).toHaveLength(3);
  });
  test("TRUSTED_PROXIES_FILE adds the maintained CloudFlare list (deploy/cloudflare/ips.txt)", () => {
    const file = join(import.meta.dir, "../deploy/cloudflare/ips.txt");
    const proxies = configFrom({ TRUSTED_PROXIES: "127.0.0.1", TRUSTED_PROXIES_FILE: file }).trustedProxies;
    expect(proxies[0]).toBe("127.0.0.1");
    expect(proxies).toContain("173.245.48.0/20");
    expect(proxies).toContain("2606:4700::/32");
    expect(proxies.some((p) => p.includes("#"))).toBe(false);
    expect(problems({ TRUSTED_PROXIES_FILE: "/nonexistent/ips.txt" })[0]).toStartWith(
      "TRUSTED_PROXIES_FILE cannot be read",
    );
  });
  test("OTLP, SQL echo and pre-ping settings", () => {
    const c = configFrom({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "api-key=abc%3D,x-tenant=t1",
    });
    expect(c.otelExporterOtlpHeaders).toEqual({ "api-key": "abc=", "x-tenant": "t1" });
    expect(c.otelSampleRatio).toBe(1);
    expect(c.dbPoolPrePing).toBe(true);
    expect(problems({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" })).toEqual([
      "OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (OTLP/HTTP)",
    ]);
  });
  test("development defaults follow the seed's .env.local", () => {
    const c = configFrom({});
    expect(c.environment).toBe("development");
    expect(c.authMode).toBe("development");
    expect(c.port).toBe(8000);
    expect(c.host).toBe("127.0.0.1");
    expect(c.dbPoolSize).toBe(5);
    expect(c.dbMaxOverflow).toBe(10);
    expect(c.cacheTtlS).toBe(300);
    expect(c.maxFileSizeBytes).toBe(10 * 1024 * 1024);
    expect(c.devMockToken).toBe("mock-access-token-dev-12345");
    expect(c.allowedOrigins).toEqual(["http://localhost:3000", "http://localhost:5173"]);
    expect(c.databaseUrl).toBeNull();
    expect(Object.isFrozen(c)).toBe(true);
  });

  test("a valid production configuration loads and never keeps the dev token", () => {
    const c = configFrom(prod({ DEV_MOCK_TOKEN: "mock-access-token-dev-12345" }));
    expect(c.environment).toBe("production");
    expect(c.devMockToken).toBeNull();
    expect(c.databaseUrl).toBe("postgresql://u:p@db.example.com:5432/app?sslmode=require");
    expect(c.enableDocs).toBe(false);
    expect(c.migrateOnStart).toBe(false);
  });

  test.each([
    ["AUTH_MODE unset", { AUTH_MODE: undefined }, "AUTH_MODE must be set explicitly"],
    ["AUTH_MODE development", { AUTH_MODE: "development" }, "AUTH_MODE must be 'production'"],
    ["DEBUG true", { DEBUG: "true" }, "DEBUG must be false"],
    ["short SECRET_KEY", { SECRET_KEY: "abc" }, "at least 64 characters"],
    [
      "placeholder SECRET_KEY",
      { SECRET_KEY: "dev-secret-key-change-in-production-must-be-32-chars-minimum-and-padding-xyz" },
      "known placeholder",
    ],
    ["low-entropy SECRET_KEY", { SECRET_KEY: "ab".repeat(40) }, "too little entropy"],
    ["ALLOWED_ORIGINS unset", { ALLOWED_ORIGINS: undefined }, "ALLOWED_ORIGINS must be set"],
    ["ALLOWED_ORIGINS wildcard", { ALLOWED_ORIGINS: "*" }, "must not contain '*'"],
    ["DATABASE_URL unset", { DATABASE_URL: undefined }, "DATABASE_URL must be set"],
    ["no tenant", { AZURE_TENANT_ID: undefined }, "AZURE_TENANT_ID and AZURE_CLIENT_ID"],
  ])("production refuses %s", (_name, over, message) => {
    const found = problems(prod(over));
    expect(found.some((p) => p.includes(message))).toBe(true);
  });

  test("every production problem is reported at once", () => {
    const found = problems({
      ENVIRONMENT: "production",
      DEBUG: "true",
      SECRET_KEY: "x",
      ALLOWED_ORIGINS: "*",
    });
    expect(found.length).toBeGreaterThanOrEqual(5);
  });

  test("staging may use development auth only when it says so", () => {
    const base = prod({ ENVIRONMENT: "staging", AZURE_TENANT_ID: undefined, AZURE_CLIENT_ID: undefined });
    expect(problems({ ...base, AUTH_MODE: undefined })).toContain(
      "AUTH_MODE=production needs AZURE_TENANT_ID and AZURE_CLIENT_ID",
    );
    const c = configFrom({ ...base, AUTH_MODE: "development", DEV_MOCK_TOKEN: "staging-token" });
    expect(c.authMode).toBe("development");
    expect(c.devMockToken).toBe("staging-token");
  });

  test("malformed values are rejected with their variable name", () => {
    expect(problems({ PORT: "eighty" })[0]).toContain("PORT");
    expect(problems({ DEBUG: "maybe" })[0]).toContain("DEBUG");
    expect(problems({ STORAGE_BACKEND: "s3" })[0]).toContain("STORAGE_BACKEND");
    expect(problems({ STORAGE_BACKEND: "azure" })[0]).toContain("AZURE_STORAGE");
    expect(problems({ REDIS_URL: "http://x" })[0]).toContain("REDIS_URL");
    // Bun refuses idle timeouts above 255 s; the config says so at start-up instead.
    expect(problems({ HTTP_IDLE_TIMEOUT_S: "600" })[0]).toContain("HTTP_IDLE_TIMEOUT_S");
    expect(problems({ AGENT_HISTORY_SUMMARY: "rewrite" })[0]).toContain("AGENT_HISTORY_SUMMARY");
  });

  test.each([
    ["postgresql+asyncpg://u:p@h:5432/db", "postgresql://u:p@h:5432/db"],
    ["postgres://u@h/db", "postgresql://u@h/db"],
    ["postgresql+psycopg://h/db?sslmode=require", "postgresql://h/db?sslmode=require"],
    ["postgresql://h/db", "postgresql://h/db"],
  ])("normalises %s", (input, expected) => {
    expect(normaliseDatabaseUrl(input)).toBe(expected);
  });

  test("ALLOWED_ORIGINS accepts the seed's JSON list and a comma list", () => {
    expect(
      configFrom({ ALLOWED_ORIGINS: '["https://a.example", "https://b.example"]' }).allowedOrigins,
    ).toEqual(["https://a.example", "https://b.example"]);
    expect(configFrom({ ALLOWED_ORIGINS: "https://a.example, https://b.example" }).allowedOrigins).toEqual([
      "https://a.example",
      "https://b.example",
    ]);
  });
});

describe("environment files", () => {
  const dir = mkdtempSync(join(tmpdir(), "camp-env-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("parses quotes, comments and export", () => {
    expect(parseEnvFile("export A=1\nB=\"two words\" \n# c\nC=3 # trailing\nD='x#y'")).toEqual({
      A: "1",
      B: "two words",
      C: "3",
      D: "x#y",
    });
  });

  test("layering: .env < .env.<environment> < real environment", () => {
    writeFileSync(join(dir, ".env"), "APP_NAME=from-dotenv\nPORT=9000\nCACHE_TTL=11\n");
    writeFileSync(join(dir, ".env.local"), "PORT=9100\nCACHE_TTL=22\n");
    writeFileSync(join(dir, ".env.staging"), `PORT=9200\nENVIRONMENT=staging\n`);
    const dev = loadConfig({ CACHE_TTL: "33" }, { dir });
    expect(dev.appName).toBe("from-dotenv");
    expect(dev.port).toBe(9100);
    expect(dev.cacheTtlS).toBe(33);
    const staging = loadConfig(
      {
        ENVIRONMENT: "staging",
        AUTH_MODE: "development",
        SECRET_KEY: GOOD_SECRET,
        ALLOWED_ORIGINS: "https://s.example",
      },
      { dir },
    );
    expect(staging.port).toBe(9200);
    expect(staging.cacheTtlS).toBe(11);
  });
});
