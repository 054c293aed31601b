import { describe, expect, test } from "bun:test";
import { configFrom } from "@/config";
import { traceToLog } from "./index";

describe("LLM tracing hook", () => {
  test("off by default; with LANGCHAIN_TRACING_V2 each attempt is one log line without secrets", () => {
    const lines: unknown[][] = [];
    const logger = { info: (...args: unknown[]) => lines.push(args) };
    expect(traceToLog(configFrom({ ENVIRONMENT: "development" }), logger)).toBeUndefined();
    const hook = traceToLog(
      configFrom({ ENVIRONMENT: "development", LANGCHAIN_TRACING_V2: "true", LANGCHAIN_PROJECT: "camp" }),
      logger,
    )!;
    hook({
      provider: "anthropic",
      model: "m",
      attempt: 1,
      startedAt: 0,
      durationMs: 12,
      outcome: "ok",
      request: { messages: 1, tools: 14, toolChoice: "auto", maxTokens: 4096 },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0][0]).toMatchObject({
      llmTrace: { provider: "anthropic", attempt: 1 },
      traceProject: "camp",
    });
    expect(JSON.stringify(lines)).not.toContain("sk-");
  });
});
