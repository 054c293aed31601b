/* The only place tests read the environment: which real services this run may use. */
export const TEST_DATABASE_URL = process.env.DATABASE_URL?.trim() || null;
export const TEST_REDIS_URL = process.env.REDIS_URL?.trim() || null;
export const usingPostgres = TEST_DATABASE_URL !== null;

/* Opt-in live-model smoke test (analysis.md §5.9): LLM_SMOKE=1 plus the provider's own variables. */
const LLM_VARS = [
  "LLM_PROVIDER",
  "LLM_MODEL",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
  "OPENAI_MODEL",
  "AZURE_OPENAI_ENDPOINT",
  "AZURE_OPENAI_API_KEY",
  "AZURE_OPENAI_DEPLOYMENT_NAME",
  "AZURE_OPENAI_API_VERSION",
];
export const LLM_SMOKE = process.env.LLM_SMOKE === "1";
export const liveLlmVars = (): Record<string, string | undefined> =>
  Object.fromEntries(LLM_VARS.map((k) => [k, process.env[k]]));

/* Browser tests: headless Chromium from Debian. CI must have it (.ci/run installs it). */
export const IN_CI = process.env.CI === "true" || process.env.CI === "1";
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH?.trim() || Bun.which("chromium") || null;
