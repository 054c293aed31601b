import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { invalidTrustedProxyEntries } from "@/lib/client-ip";

/*
 * The one place that reads the process environment. Everything else receives a frozen `Config`.
 * Layering (lowest to highest): built-in defaults < `.env` < `.env.<local|staging|production>`
 * < real environment variables.
 */

export type Environment = "development" | "staging" | "production";
export type AuthMode = "development" | "production";
export type StorageBackend = "local" | "azure";
export type LlmProvider = "anthropic" | "openai" | "azure_openai";
export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

export type Config = Readonly<{
  environment: Environment;
  appName: string;
  version: string;
  debug: boolean;
  authMode: AuthMode;
  authModeExplicit: boolean;
  host: string;
  port: number;
  workers: number;
  allowedOrigins: readonly string[];
  trustedProxies: readonly string[];
  logLevel: LogLevel;
  enableDocs: boolean;
  shutdownTimeoutS: number;
  /** Seconds between SIGTERM and closing the port, with /health/ready at 503 (behind a load balancer). */
  shutdownDrainS: number;
  /** Seconds a connection may stay silent (Bun's default of 10 cuts slow exports and JSON chats). */
  httpIdleTimeoutS: number;
  /** Whole-request deadline: a body not received within it is answered 408 (slow-body clients). */
  requestTimeoutS: number;
  /** Request line plus header fields above this many bytes answer 431 problem+json. */
  maxHeaderBytes: number;
  metricsToken: string | null;

  databaseUrl: string | null;
  dbPoolSize: number;
  dbMaxOverflow: number;
  dbPoolRecycleS: number;
  dbPoolPrePing: boolean;
  /** With pre-ping, a connection idle this long is retired, so the next checkout opens (and so validates) a fresh one. */
  dbPoolPrePingIdleS: number;
  /** SQL statements logged at debug level with masked parameters (seed `echo=DEBUG`); never in production. */
  dbEcho: boolean;
  dbConnectTimeoutS: number;
  dbStatementTimeoutMs: number;
  dbIdleTimeoutS: number;
  dbPrepare: boolean;
  pgliteDir: string;
  migrateOnStart: boolean;
  migrationsDir: string | null;

  redisUrl: string | null;
  upstashRedisRestUrl: string | null;
  upstashRedisRestToken: string | null;
  cacheTtlS: number;

  storageBackend: StorageBackend;
  localStoragePath: string;
  azureStorageAccountName: string | null;
  azureStorageConnectionString: string | null;
  azureStorageContainerName: string;

  llmProvider: LlmProvider;
  llmModel: string | null;
  llmMaxTokens: number;
  llmTemperature: number;
  llmMaxRetries: number;
  llmRequestTimeoutS: number;
  llmStreamIdleTimeoutS: number;
  /** Wall-clock budget of one chat turn (api.md setting `LLM.turn_timeout_seconds`). */
  llmTurnTimeoutS: number;
  /** api.md setting `LLM.max_turns_per_user_per_hour`. */
  llmMaxTurnsPerUserPerHour: number;
  anthropicApiKey: string | null;
  anthropicBaseUrl: string | null;
  openaiApiKey: string | null;
  openaiBaseUrl: string | null;
  openaiModel: string | null;
  azureOpenaiEndpoint: string | null;
  azureOpenaiApiKey: string | null;
  azureOpenaiDeploymentName: string | null;
  azureOpenaiApiVersion: string;

  devMockToken: string | null;
  devMockUserEmail: string;
  secretKey: string;
  rateLimitCalls: number;
  rateLimitPeriodS: number;
  azureTenantId: string | null;
  azureClientId: string | null;
  azureClientSecret: string | null;
  azureOpenapiClientId: string | null;
  azureJwksUrl: string | null;
  authRequiredScope: string;

  maxFileSizeMb: number;
  maxFileSizeBytes: number;

  langchainTracingV2: boolean;
  langchainApiKey: string | null;
  langchainProject: string | null;
  langchainEndpoint: string | null;
  applicationInsightsConnectionString: string | null;
  /** OTLP/HTTP collector base URL (traces go to `/v1/traces`); null = no OTLP export. */
  otelExporterOtlpEndpoint: string | null;
  /** OTEL_EXPORTER_OTLP_HEADERS (`key=value,key2=value2`), e.g. a collector's API key. */
  otelExporterOtlpHeaders: Readonly<Record<string, string>>;
  otelServiceName: string;
  /** Share of new traces recorded (OTEL_TRACES_SAMPLER_ARG, parent-based ratio sampler). */
  otelSampleRatio: number;

  seedOnStart: boolean;
  /** Folder of the seed sets; null = `seed/` beside the executable if present, else `<cwd>/seed`. */
  seedDir: string | null;

  /** Folder holding the chart fonts; null = `assets/fonts` beside the executable or in the working directory. */
  chartFontDir: string | null;
  chartRenderConcurrency: number;
  /** Bun workers that parse analysis files (analysis.md §3.9); default max(1, floor(cores / 2)). */
  analysisWorkers: number;

  agentMaxToolCallsPerTurn: number;
  agentMaxLlmCallsPerTurn: number;
  agentMaxTurnTokens: number;
  agentMaxRepairRounds: number;
  agentToolTimeoutS: number;
  agentContextMaxChars: number;
  agentHistoryTurns: number;
  agentHistoryMaxChars: number;
  agentHistorySummary: "llm" | "truncate";
  agentToolResultMaxChars: number;
}>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

const ENV_FILE: Record<Environment, string> = {
  development: ".env.local",
  staging: ".env.staging",
  production: ".env.production",
};

export const DEV_SECRET_KEY = "dev-secret-key-change-in-production-must-be-32-chars-minimum";

/* Placeholders that appear in examples and must never reach production. */
const PLACEHOLDER_SECRETS = [
  DEV_SECRET_KEY,
  "dev-secret-key",
  "change-me",
  "changeme",
  "your-secret-key",
  "<64文字のランダム文字列>",
  "replace-with-64-random-characters",
];

/** Minimal dotenv parser: KEY=value, optional `export`, quotes, `#` comments. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2];
    const quote = value[0];
    if ((quote === '"' || quote === "'") && value.lastIndexOf(quote) > 0) {
      value = value.slice(1, value.lastIndexOf(quote));
      if (quote === '"') value = value.replace(/\\n/g, "\n");
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash);
      value = value.trim();
    }
    out[m[1]] = value;
  }
  return out;
}

function readEnvFile(dir: string, name: string): Record<string, string> {
  const path = resolve(dir, name);
  return existsSync(path) ? parseEnvFile(readFileSync(path, "utf8")) : {};
}

/** Merge `.env` and the environment's file under the real environment (which wins). */
export function layerEnvironment(
  processEnv: Record<string, string | undefined>,
  dir: string,
): Record<string, string | undefined> {
  const environment = (processEnv.ENVIRONMENT ??
    readEnvFile(dir, ".env").ENVIRONMENT ??
    "development") as Environment;
  const specific = ENV_FILE[environment] ?? ENV_FILE.development;
  return { ...readEnvFile(dir, ".env"), ...readEnvFile(dir, specific), ...processEnv };
}

/** `postgresql+asyncpg://` (SQLAlchemy) and `postgres://` become `postgresql://`. */
export function normaliseDatabaseUrl(url: string): string {
  return url.replace(/^postgres(?:ql)?(?:\+[a-z0-9_]+)?:\/\//i, "postgresql://");
}

function parseList(value: string | undefined): string[] {
  if (value === undefined || value.trim() === "") return [];
  const v = value.trim();
  if (v.startsWith("[")) {
    try {
      const parsed = JSON.parse(v);
      if (Array.isArray(parsed)) return parsed.map((s) => String(s).trim()).filter(Boolean);
    } catch {
      /* fall through to the comma form */
    }
  }
  return v
    .replace(/^\[|\]$/g, "")
    .split(",")
    .map((s) => s.trim().replace(/^["']|["']$/g, ""))
    .filter(Boolean);
}

/* The level LOG_LEVEL names (default: debug when DEBUG, else info); validated where it is parsed. */
function logLevelOf(raw: string | null, debug: boolean): string {
  return raw ?? (debug ? "debug" : "info");
}

/* `key=value,key2=value2` (OTel's header list form; values may be percent-encoded). */
function parseHeaders(raw: string | null, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const part of raw.split(",")) {
    const eq = part.indexOf("=");
    if (eq <= 0) {
      problems.push("OTEL_EXPORTER_OTLP_HEADERS must be key=value pairs separated by commas");
      break;
    }
    try {
      out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      problems.push("OTEL_EXPORTER_OTLP_HEADERS has an invalid percent-encoding");
      break;
    }
  }
  return out;
}

/*
 * TRUSTED_PROXIES_FILE: a maintained list such as deploy/cloudflare/ips.txt (one address or CIDR
 * per line, `#` comments), added to TRUSTED_PROXIES. A missing file is a start-up error: silently
 * trusting nobody would make every client behind the proxy share one rate-limit key.
 */
function readProxyList(path: string | null, problems: string[]): string[] {
  if (!path) return [];
  try {
    return readFileSync(path, "utf8")
      .split(/\r?\n/)
      .map((l) => l.replace(/#.*$/, "").trim())
      .filter(Boolean);
  } catch (error) {
    problems.push(`TRUSTED_PROXIES_FILE cannot be read (${path}): ${(error as Error).message}`);
    return [];
  }
}

/* Shannon entropy in bits per character; a repeated or tiny alphabet is rejected in production. */
function entropyPerChar(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

export function loadConfig(
  rawEnv: Record<string, string | undefined> = process.env,
  options: { dir?: string; layer?: boolean } = {},
): Config {
  const env = options.layer === false ? rawEnv : layerEnvironment(rawEnv, options.dir ?? process.cwd());
  const problems: string[] = [];

  const str = (key: string): string | null => {
    const v = env[key];
    return v === undefined || v.trim() === "" ? null : v.trim();
  };
  const bool = (key: string, def: boolean): boolean => {
    const v = str(key);
    if (v === null) return def;
    const l = v.toLowerCase();
    if (["1", "true", "yes", "on"].includes(l)) return true;
    if (["0", "false", "no", "off"].includes(l)) return false;
    problems.push(`${key} must be a boolean (true/false), got "${v}"`);
    return def;
  };
  const num = (key: string, def: number, min: number, max: number, integer = true): number => {
    const v = str(key);
    if (v === null) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
      problems.push(`${key} must be ${integer ? "an integer" : "a number"} in ${min}..${max}, got "${v}"`);
      return def;
    }
    return n;
  };
  function oneOf<T extends string>(key: string, allowed: readonly T[], def: T): T {
    const v = str(key);
    if (v === null) return def;
    if (!(allowed as readonly string[]).includes(v)) {
      problems.push(`${key} must be one of ${allowed.join(", ")}, got "${v}"`);
      return def;
    }
    return v as T;
  }

  const environment = oneOf<Environment>(
    "ENVIRONMENT",
    ["development", "staging", "production"],
    "development",
  );
  const isProd = environment === "production";
  const authModeRaw = str("AUTH_MODE");
  const authMode = oneOf<AuthMode>(
    "AUTH_MODE",
    ["development", "production"],
    environment === "development" ? "development" : "production",
  );
  const debug = bool("DEBUG", environment === "development");
  const databaseUrlRaw = str("DATABASE_URL");
  const secretKey = str("SECRET_KEY") ?? DEV_SECRET_KEY;
  const allowedOriginsRaw = str("ALLOWED_ORIGINS");
  const allowedOrigins =
    allowedOriginsRaw === null && !isProd
      ? ["http://localhost:3000", "http://localhost:5173"]
      : parseList(allowedOriginsRaw ?? "");
  const maxFileSizeMb = num("MAX_FILE_SIZE_MB", 10, 1, 1024);
  const llmProvider = oneOf<LlmProvider>(
    "LLM_PROVIDER",
    ["anthropic", "openai", "azure_openai"],
    "anthropic",
  );
  const storageBackend = oneOf<StorageBackend>("STORAGE_BACKEND", ["local", "azure"], "local");

  const config: Config = {
    environment,
    appName: str("APP_NAME") ?? "camp-backend",
    version: str("VERSION") ?? "0.1.0",
    debug,
    authMode,
    authModeExplicit: authModeRaw !== null,
    host: str("HOST") ?? (environment === "development" ? "127.0.0.1" : "0.0.0.0"),
    port: num("PORT", 8000, 0, 65535),
    workers: num("WORKERS", 1, 1, 64),
    allowedOrigins,
    trustedProxies: [
      ...parseList(str("TRUSTED_PROXIES") ?? ""),
      ...readProxyList(str("TRUSTED_PROXIES_FILE"), problems),
    ],
    logLevel: oneOf<LogLevel>(
      "LOG_LEVEL",
      ["trace", "debug", "info", "warn", "error", "fatal", "silent"],
      debug ? "debug" : "info",
    ),
    enableDocs: bool("ENABLE_DOCS", !isProd),
    shutdownTimeoutS: num("SHUTDOWN_TIMEOUT_S", 30, 0, 3600),
    shutdownDrainS: num("SHUTDOWN_DRAIN_S", 0, 0, 600),
    // Above nginx's 60 s proxy_read_timeout (seed), at most Bun's limit of 255.
    httpIdleTimeoutS: num("HTTP_IDLE_TIMEOUT_S", 75, 0, 255),
    requestTimeoutS: num("REQUEST_TIMEOUT_S", 120, 1, 3600),
    maxHeaderBytes: num("MAX_HEADER_BYTES", 16 * 1024, 1024, 1024 * 1024),
    metricsToken: str("METRICS_TOKEN"),

    databaseUrl: databaseUrlRaw ? normaliseDatabaseUrl(databaseUrlRaw) : null,
    dbPoolSize: num("DB_POOL_SIZE", 5, 1, 1000),
    dbMaxOverflow: num("DB_MAX_OVERFLOW", 10, 0, 1000),
    dbPoolRecycleS: num("DB_POOL_RECYCLE", 1800, 0, 86400),
    dbPoolPrePing: bool("DB_POOL_PRE_PING", true),
    dbPoolPrePingIdleS: num("DB_POOL_PRE_PING_IDLE_S", 60, 1, 86400),
    // The statements are written at debug level, so a quieter logger would drop them anyway.
    dbEcho:
      !isProd && bool("DB_ECHO", debug) && ["debug", "trace"].includes(logLevelOf(str("LOG_LEVEL"), debug)),
    dbConnectTimeoutS: num("DB_CONNECT_TIMEOUT_S", 5, 1, 300),
    dbStatementTimeoutMs: num("DB_STATEMENT_TIMEOUT_MS", 30000, 0, 3600000),
    dbIdleTimeoutS: num("DB_IDLE_TIMEOUT_S", 300, 0, 86400),
    dbPrepare: bool("DB_PREPARE", true),
    pgliteDir: str("PGLITE_DIR") ?? "./data/pglite",
    migrateOnStart: bool("MIGRATE_ON_START", !isProd),
    migrationsDir: str("MIGRATIONS_DIR"),

    redisUrl: str("REDIS_URL"),
    upstashRedisRestUrl: str("UPSTASH_REDIS_REST_URL"),
    upstashRedisRestToken: str("UPSTASH_REDIS_REST_TOKEN"),
    cacheTtlS: num("CACHE_TTL", 300, 1, 86400 * 30),

    storageBackend,
    localStoragePath: str("LOCAL_STORAGE_PATH") ?? "./uploads",
    azureStorageAccountName: str("AZURE_STORAGE_ACCOUNT_NAME"),
    azureStorageConnectionString: str("AZURE_STORAGE_CONNECTION_STRING"),
    azureStorageContainerName: str("AZURE_STORAGE_CONTAINER_NAME") ?? "uploads",

    llmProvider,
    llmModel: str("LLM_MODEL"),
    llmMaxTokens: num("LLM_MAX_TOKENS", 4096, 1, 200000),
    llmTemperature: num("LLM_TEMPERATURE", 0, 0, 2, false),
    llmMaxRetries: num("LLM_MAX_RETRIES", 3, 0, 10),
    llmRequestTimeoutS: num("LLM_REQUEST_TIMEOUT_S", 90, 1, 3600),
    llmStreamIdleTimeoutS: num("LLM_STREAM_IDLE_TIMEOUT_S", 30, 1, 3600),
    llmTurnTimeoutS: num("LLM_TURN_TIMEOUT_S", 300, 1, 3600, false),
    llmMaxTurnsPerUserPerHour: num("LLM_MAX_TURNS_PER_USER_PER_HOUR", 60, 1, 100_000),
    anthropicApiKey: str("ANTHROPIC_API_KEY"),
    anthropicBaseUrl: str("ANTHROPIC_BASE_URL"),
    openaiApiKey: str("OPENAI_API_KEY"),
    openaiBaseUrl: str("OPENAI_BASE_URL"),
    openaiModel: str("OPENAI_MODEL"),
    azureOpenaiEndpoint: str("AZURE_OPENAI_ENDPOINT"),
    azureOpenaiApiKey: str("AZURE_OPENAI_API_KEY"),
    azureOpenaiDeploymentName: str("AZURE_OPENAI_DEPLOYMENT_NAME"),
    azureOpenaiApiVersion: str("AZURE_OPENAI_API_VERSION") ?? "2024-10-21",

    devMockToken: isProd
      ? null
      : (str("DEV_MOCK_TOKEN") ?? (environment === "development" ? "mock-access-token-dev-12345" : null)),
    devMockUserEmail: str("DEV_MOCK_USER_EMAIL") ?? "dev.user@example.com",
    secretKey,
    rateLimitCalls: num("RATE_LIMIT_CALLS", 100, 1, 1_000_000),
    rateLimitPeriodS: num("RATE_LIMIT_PERIOD", 60, 1, 86400),
    azureTenantId: str("AZURE_TENANT_ID"),
    azureClientId: str("AZURE_CLIENT_ID"),
    azureClientSecret: str("AZURE_CLIENT_SECRET"),
    azureOpenapiClientId: str("AZURE_OPENAPI_CLIENT_ID"),
    azureJwksUrl: str("AZURE_JWKS_URL"),
    authRequiredScope: str("AUTH_REQUIRED_SCOPE") ?? "access_as_user",

    maxFileSizeMb,
    maxFileSizeBytes: maxFileSizeMb * 1024 * 1024,

    langchainTracingV2: bool("LANGCHAIN_TRACING_V2", false),
    langchainApiKey: str("LANGCHAIN_API_KEY"),
    langchainProject: str("LANGCHAIN_PROJECT"),
    langchainEndpoint: str("LANGCHAIN_ENDPOINT"),
    applicationInsightsConnectionString: str("APPLICATIONINSIGHTS_CONNECTION_STRING"),
    otelExporterOtlpEndpoint: str("OTEL_EXPORTER_OTLP_ENDPOINT"),
    otelExporterOtlpHeaders: Object.freeze(parseHeaders(str("OTEL_EXPORTER_OTLP_HEADERS"), problems)),
    otelServiceName: str("OTEL_SERVICE_NAME") ?? str("APP_NAME") ?? "camp-backend",
    otelSampleRatio: num("OTEL_TRACES_SAMPLER_ARG", 1, 0, 1, false),

    seedOnStart: bool("SEED_ON_START", !isProd),
    seedDir: str("SEED_DIR"),

    chartFontDir: str("CHART_FONT_DIR"),
    chartRenderConcurrency: num("CHART_RENDER_CONCURRENCY", 2, 1, 64),
    analysisWorkers: num("ANALYSIS_WORKERS", Math.max(1, Math.floor(availableParallelism() / 2)), 1, 256),

    agentMaxToolCallsPerTurn: num("AGENT_MAX_TOOL_CALLS_PER_TURN", 25, 1, 1000),
    agentMaxLlmCallsPerTurn: num("AGENT_MAX_LLM_CALLS_PER_TURN", 20, 1, 1000),
    agentMaxTurnTokens: num("AGENT_MAX_TURN_TOKENS", 300_000, 1, 100_000_000),
    agentMaxRepairRounds: num("AGENT_MAX_REPAIR_ROUNDS", 2, 0, 20),
    agentToolTimeoutS: num("AGENT_TOOL_TIMEOUT_S", 30, 1, 3600, false),
    agentContextMaxChars: num("AGENT_CONTEXT_MAX_CHARS", 16_000, 1000, 1_000_000),
    agentHistoryTurns: num("AGENT_HISTORY_TURNS", 6, 0, 100),
    agentHistoryMaxChars: num("AGENT_HISTORY_MAX_CHARS", 20_000, 0, 1_000_000),
    agentHistorySummary: oneOf<"llm" | "truncate">("AGENT_HISTORY_SUMMARY", ["llm", "truncate"], "llm"),
    agentToolResultMaxChars: num("AGENT_TOOL_RESULT_MAX_CHARS", 8000, 500, 1_000_000),
  };

  if (storageBackend === "azure" && !config.azureStorageConnectionString && !config.azureStorageAccountName) {
    problems.push(
      "STORAGE_BACKEND=azure needs AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT_NAME",
    );
  }
  if (config.upstashRedisRestUrl && !config.upstashRedisRestToken) {
    problems.push("UPSTASH_REDIS_REST_URL is set but UPSTASH_REDIS_REST_TOKEN is not");
  }
  if (config.redisUrl && !/^rediss?:\/\//.test(config.redisUrl)) {
    problems.push("REDIS_URL must start with redis:// or rediss://");
  }
  if (config.otelExporterOtlpEndpoint && !/^https?:\/\//.test(config.otelExporterOtlpEndpoint)) {
    problems.push("OTEL_EXPORTER_OTLP_ENDPOINT must be an http:// or https:// URL (OTLP/HTTP)");
  }
  if (isProd && bool("DB_ECHO", false)) {
    problems.push("DB_ECHO must be false in production (SQL statement logs are for debugging only)");
  }
  if (config.databaseUrl && !/^postgresql:\/\//.test(config.databaseUrl)) {
    problems.push("DATABASE_URL must be a PostgreSQL URL (postgresql://…)");
  }
  // A mistyped entry would otherwise be ignored, and the client IP silently taken from the peer.
  const badProxies = invalidTrustedProxyEntries(config.trustedProxies);
  if (badProxies.length > 0) {
    problems.push(`TRUSTED_PROXIES entries must be addresses or CIDR blocks, got: ${badProxies.join(", ")}`);
  }

  if (environment !== "development") problems.push(...productionProblems(config, environment));

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}

/* Staging may run development auth only when AUTH_MODE says so explicitly; production never. */
function productionProblems(c: Config, environment: Environment): string[] {
  const p: string[] = [];
  const isProd = environment === "production";
  if (isProd) {
    if (!c.authModeExplicit) p.push("AUTH_MODE must be set explicitly in production");
    if (c.authMode !== "production") p.push("AUTH_MODE must be 'production' in production");
    if (c.debug) p.push("DEBUG must be false in production");
    if (!c.databaseUrl)
      p.push("DATABASE_URL must be set in production (the embedded database is development-only)");
  }
  if (c.authMode === "production" && (!c.azureTenantId || !c.azureClientId)) {
    p.push("AUTH_MODE=production needs AZURE_TENANT_ID and AZURE_CLIENT_ID");
  }
  const key = c.secretKey;
  const lower = key.toLowerCase();
  if (key.length < 64) p.push(`SECRET_KEY must be at least 64 characters (got ${key.length})`);
  if (PLACEHOLDER_SECRETS.some((s) => lower.includes(s.toLowerCase()))) {
    p.push("SECRET_KEY is a known placeholder value");
  } else if (key.length > 0 && (entropyPerChar(key) < 3.5 || new Set(key).size < 16)) {
    p.push("SECRET_KEY has too little entropy (use e.g. `openssl rand -base64 48`)");
  }
  if (c.allowedOrigins.length === 0) p.push(`ALLOWED_ORIGINS must be set in ${environment}`);
  if (c.allowedOrigins.includes("*")) p.push(`ALLOWED_ORIGINS must not contain '*' in ${environment}`);
  return p;
}

let current: Config | null = null;

/** The process-wide configuration, parsed on first use. */
export function getConfig(): Config {
  if (!current) current = loadConfig();
  return current;
}

/** Build a config for tests or tools from explicit variables only (no files, no process.env). */
export function configFrom(vars: Record<string, string | undefined>): Config {
  return loadConfig(vars, { layer: false });
}
