import type { Config } from "@/config";
import type { Logger } from "@/lib/logger";
import type { Metrics } from "@/lib/metrics";
import { anthropicAttempt } from "./anthropic";
import { openaiAttempt } from "./openai";
import { type BackoffOptions, DEFAULT_BACKOFF } from "./retry";
import { createProvider, type RunnerOptions } from "./runner";
import type { LlmProvider, LlmTraceSpan } from "./types";

export { tracedLlm } from "./traced";
export * from "./types";

/* claude-sonnet-4-5 is deprecated by the SDK (end of life 2026-11-30); this is the current Sonnet. */
export const DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5";
export const DEFAULT_OPENAI_MODEL = "gpt-4o";

export type LlmProviderDeps = {
  metrics: Metrics;
  logger: Logger;
  /** Called once per HTTP attempt (the LANGCHAIN_TRACING_V2-style hook); off when absent. */
  onTrace?: (span: LlmTraceSpan) => void;
  /** Back-off overrides (tests); `retry-after` headers still win. */
  backoff?: Partial<BackoffOptions>;
};

/**
 * The tracing hook of the seed's LANGCHAIN_* settings: with LANGCHAIN_TRACING_V2 every attempt
 * becomes one structured log line (spans carry no prompt text and no keys); off by default.
 */
export function traceToLog(
  config: Pick<Config, "langchainTracingV2" | "langchainProject">,
  logger: Pick<Logger, "info">,
): ((span: LlmTraceSpan) => void) | undefined {
  if (!config.langchainTracingV2) return undefined;
  return (span) => logger.info({ llmTrace: span, traceProject: config.langchainProject }, "llm attempt");
}

/**
 * The provider `LLM_PROVIDER` selects, or null when it lacks its key or endpoint (the chat then
 * answers 503 LLM_NOT_CONFIGURED). The SDKs never retry: the runner does, per §5.8.
 */
/* One instance, made on first call (and made again after a failed import). */
function lazy<T>(make: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => {
    made ??= make().catch((error) => {
      made = null;
      throw error;
    });
    return made;
  };
}

export function createLlmProvider(config: Config, deps: LlmProviderDeps): LlmProvider | null {
  const runner = (name: LlmProvider["name"], model: string): RunnerOptions => ({
    name,
    model,
    maxRetries: config.llmMaxRetries,
    requestTimeoutMs: config.llmRequestTimeoutS * 1000,
    idleTimeoutMs: config.llmStreamIdleTimeoutS * 1000,
    backoff: { ...DEFAULT_BACKOFF, ...deps.backoff },
    metrics: deps.metrics,
    logger: deps.logger,
    onTrace: deps.onTrace,
  });
  // The runner's own timers are tighter; this only stops the SDK from imposing its 10-minute default.
  const sdkTimeoutMs = config.llmRequestTimeoutS * 1000 + 5000;

  switch (config.llmProvider) {
    case "anthropic": {
      if (!config.anthropicApiKey) return null;
      const model = config.llmModel ?? DEFAULT_ANTHROPIC_MODEL;
      const apiKey = config.anthropicApiKey;
      const client = lazy(async () => {
        const { default: Anthropic } = await import("@anthropic-ai/sdk");
        return new Anthropic({
          apiKey,
          authToken: null,
          ...(config.anthropicBaseUrl ? { baseURL: config.anthropicBaseUrl } : {}),
          maxRetries: 0,
          timeout: sdkTimeoutMs,
        });
      });
      return createProvider(runner("anthropic", model), anthropicAttempt(client, model));
    }
    case "openai": {
      if (!config.openaiApiKey) return null;
      const model = config.llmModel ?? config.openaiModel ?? DEFAULT_OPENAI_MODEL;
      const apiKey = config.openaiApiKey;
      const client = lazy(async () => {
        const { default: OpenAI } = await import("openai");
        return new OpenAI({
          apiKey,
          organization: null,
          project: null,
          ...(config.openaiBaseUrl ? { baseURL: config.openaiBaseUrl } : {}),
          maxRetries: 0,
          timeout: sdkTimeoutMs,
        });
      });
      return createProvider(runner("openai", model), openaiAttempt(client, model, "openai"));
    }
    case "azure_openai": {
      const endpoint = config.azureOpenaiEndpoint;
      const deployment = config.azureOpenaiDeploymentName;
      if (!endpoint || !config.azureOpenaiApiKey || !deployment) return null;
      const apiKey = config.azureOpenaiApiKey;
      const client = lazy(async () => {
        const { AzureOpenAI } = await import("openai");
        return new AzureOpenAI({
          apiKey,
          apiVersion: config.azureOpenaiApiVersion,
          deployment,
          // Given as baseURL rather than endpoint so a stray OPENAI_BASE_URL cannot collide with it.
          baseURL: `${endpoint.replace(/\/+$/, "")}/openai`,
          organization: null,
          project: null,
          maxRetries: 0,
          timeout: sdkTimeoutMs,
        });
      });
      return createProvider(
        runner("azure_openai", deployment),
        openaiAttempt(client, deployment, "azure_openai"),
      );
    }
  }
}
