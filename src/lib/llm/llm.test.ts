import { describe, expect, test } from "bun:test";
import pino from "pino";
import { createMetrics } from "@/lib/metrics";
import { anthropicParams, anthropicStopReason } from "./anthropic";
import { openaiParams, openaiStopReason } from "./openai";
import {
  DEFAULT_BACKOFF,
  isRetryableStatus,
  kindForStatus,
  retryAfterMs,
  retryDelayMs,
  sleep,
} from "./retry";
import { createProvider } from "./runner";
import { toolUseFrom } from "./tool-input";
import { LlmError, type LlmEvent, type LlmRequest } from "./types";

const req: LlmRequest = {
  system: [{ text: "base", cache: true }, { text: "state" }],
  messages: [
    { role: "user", content: "hi" },
    {
      role: "assistant",
      content: [
        { type: "text", text: "checking" },
        { type: "tool_use", id: "t1", name: "add_step", input: { a: 1 } },
      ],
    },
    {
      role: "user",
      content: [{ type: "tool_result", toolUseId: "t1", content: '{"ok":false}', isError: true }],
    },
  ],
  tools: [{ name: "add_step", description: "d", inputSchema: { type: "object" } }],
  toolChoice: "none",
  maxTokens: 100,
  temperature: 0.2,
};

describe("retry policy", () => {
  test("retry-after-ms wins over retry-after; seconds and HTTP dates are understood", () => {
    expect(retryAfterMs(new Headers({ "retry-after-ms": "250", "retry-after": "9" }))).toBe(250);
    expect(retryAfterMs(new Headers({ "retry-after": "2" }))).toBe(2000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(retryAfterMs({ "Retry-After": "Thu, 01 Jan 2026 00:00:05 GMT" }, now)).toBe(5000);
    expect(retryAfterMs(new Headers({ "retry-after": "soon" }))).toBeNull();
    expect(retryAfterMs(undefined)).toBeNull();
  });

  test("full-jitter exponential back-off, capped; hints are clamped", () => {
    const top = { ...DEFAULT_BACKOFF, random: () => 0.999999 };
    expect(retryDelayMs(1, null, top)).toBe(999);
    expect(retryDelayMs(3, null, top)).toBe(3999);
    expect(retryDelayMs(10, null, top)).toBe(19_999);
    expect(retryDelayMs(2, null, { ...DEFAULT_BACKOFF, random: () => 0 })).toBe(0);
    expect(retryDelayMs(1, new Headers({ "retry-after": "3600" }))).toBe(DEFAULT_BACKOFF.maxHintMs);
  });

  test("status classification", () => {
    for (const s of [408, 409, 429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [400, 401, 403, 404, 422, 501]) expect(isRetryableStatus(s)).toBe(false);
    expect(isRetryableStatus(undefined)).toBe(true);
    expect([401, 403, 429, 408, 500, 529, 400, 422].map(kindForStatus)).toEqual([
      "auth",
      "auth",
      "rate_limited",
      "timeout",
      "upstream",
      "upstream",
      "bad_request",
      "bad_request",
    ]);
  });

  test("sleep rejects as soon as the signal aborts", async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = sleep(10_000, controller.signal);
    controller.abort(new Error("stop"));
    await expect(pending).rejects.toThrow("stop");
    expect(performance.now() - started).toBeLessThan(100);
  });
});

describe("tool input", () => {
  test("parses, flags malformed and truncated arguments", () => {
    expect(toolUseFrom("i", "n", '{"a":[1]}', false)).toEqual({
      type: "tool_use",
      id: "i",
      name: "n",
      input: { a: [1] },
    });
    expect(toolUseFrom("i", "n", "", false).input).toEqual({});
    expect(toolUseFrom("i", "n", "{", false)).toMatchObject({ input: null, inputError: "invalid_json" });
    expect(toolUseFrom("i", "n", '{"a":', true)).toMatchObject({ input: null, inputError: "truncated" });
  });
});

describe("request rendering", () => {
  test("anthropic: cached first system block and tool list, native blocks, tool_choice", () => {
    const p = anthropicParams(req, "m") as unknown as Record<string, unknown>;
    expect(p.system).toEqual([
      { type: "text", text: "base", cache_control: { type: "ephemeral" } },
      { type: "text", text: "state" },
    ]);
    expect(p.tools).toEqual([
      {
        name: "add_step",
        description: "d",
        input_schema: { type: "object" },
        cache_control: { type: "ephemeral" },
      },
    ]);
    expect(p.tool_choice).toEqual({ type: "none" });
    expect((p.messages as { content: unknown }[])[2].content).toEqual([
      { type: "tool_result", tool_use_id: "t1", content: '{"ok":false}', is_error: true },
    ]);
    const bare = anthropicParams({ ...req, tools: [], system: [] }, "m") as unknown as Record<
      string,
      unknown
    >;
    expect("tools" in bare || "tool_choice" in bare || "system" in bare).toBe(false);
  });

  test("openai: system messages, tool_calls, tool messages; azure uses max_tokens", () => {
    const p = openaiParams(req, "gpt", "openai");
    expect(p.messages).toEqual([
      { role: "system", content: "base" },
      { role: "system", content: "state" },
      { role: "user", content: "hi" },
      {
        role: "assistant",
        content: "checking",
        tool_calls: [{ id: "t1", type: "function", function: { name: "add_step", arguments: '{"a":1}' } }],
      },
      { role: "tool", tool_call_id: "t1", content: '{"ok":false}' },
    ]);
    expect(p.tool_choice).toBe("none");
    expect(p.max_completion_tokens).toBe(100);
    expect(openaiParams(req, "dep", "azure_openai").max_tokens).toBe(100);
  });

  test("stop reasons map onto the neutral set", () => {
    expect(
      ["end_turn", "stop_sequence", "tool_use", "max_tokens", "refusal", "pause_turn"].map(
        anthropicStopReason,
      ),
    ).toEqual(["end_turn", "end_turn", "tool_use", "max_tokens", "refusal", "other"]);
    expect(["stop", "tool_calls", "length", "content_filter", null].map(openaiStopReason)).toEqual([
      "end_turn",
      "tool_use",
      "max_tokens",
      "refusal",
      "other",
    ]);
  });
});

describe("runner", () => {
  const logger = pino({ level: "silent" });
  const base = {
    name: "anthropic" as const,
    model: "m",
    maxRetries: 3,
    requestTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    backoff: { ...DEFAULT_BACKOFF, baseDelayMs: 1, maxDelayMs: 2 },
    logger,
  };
  const statusError = (status: number) => Object.assign(new Error(`status ${status}`), { status });

  test("a failure after output is not retried; before output it is", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let attempts = 0;
    const provider = createProvider({ ...base, metrics }, async function* () {
      attempts++;
      if (attempts === 1) throw statusError(503);
      yield { type: "text", text: "partial" } satisfies LlmEvent;
      throw statusError(503);
    });
    const events: LlmEvent[] = [];
    const error = await (async () => {
      try {
        for await (const e of provider.stream(req, new AbortController().signal)) events.push(e);
      } catch (e) {
        return e as LlmError;
      }
    })();
    expect(error).toBeInstanceOf(LlmError);
    expect([error?.kind, error?.attempts, attempts]).toEqual(["upstream", 2, 2]);
    expect(events).toEqual([{ type: "text", text: "partial" }]);
  });

  test("a consumer that stops reading closes the attempt and it is still counted", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    let closedSignal: AbortSignal | null = null;
    const provider = createProvider({ ...base, metrics }, async function* (_req, io) {
      closedSignal = io.signal;
      yield { type: "text", text: "a" } satisfies LlmEvent;
      yield { type: "text", text: "b" } satisfies LlmEvent;
    });
    for await (const _ of provider.stream(req, new AbortController().signal)) break;
    expect((closedSignal as AbortSignal | null)?.aborted).toBe(true);
    const text = await metrics.render();
    expect(text).toContain('llm_api_calls_total{provider="anthropic",model="m"} 1');
    expect(text).toContain('llm_api_errors_total{provider="anthropic",model="m",kind="aborted"} 1');
  });
});
