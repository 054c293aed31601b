import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Config } from "@/config";
import {
  createLlmProvider,
  DEFAULT_ANTHROPIC_MODEL,
  LlmError,
  type LlmEvent,
  type LlmProvider,
  type LlmRequest,
  type Msg,
  type ToolDef,
} from "@/lib/llm";
import { createMetrics, type Metrics } from "@/lib/metrics";
import { silentLogger, testConfig } from "./helpers/context";
import { type FakeLlm, type Script, startFakeLlm } from "./helpers/fake-llm";

/*
 * The three providers through the real SDKs against the scripted fake (analysis.md §5.8, §5.9):
 * streaming, tool calls, usage, retries, timeouts, cancellation and the metrics of each attempt.
 */

let fake: FakeLlm;
beforeAll(async () => {
  fake = await startFakeLlm();
});
afterAll(async () => {
  await fake.close();
});

type Case = { name: LlmProvider["name"]; model: string; vars: (baseUrl: string) => Record<string, string> };

const CASES: Case[] = [
  {
    name: "anthropic",
    model: "claude-test",
    vars: (u) => ({
      LLM_PROVIDER: "anthropic",
      ANTHROPIC_API_KEY: "sk-ant-test",
      ANTHROPIC_BASE_URL: u,
      LLM_MODEL: "claude-test",
    }),
  },
  {
    name: "openai",
    model: "gpt-test",
    vars: (u) => ({
      LLM_PROVIDER: "openai",
      OPENAI_API_KEY: "sk-openai-test",
      OPENAI_BASE_URL: `${u}/v1`,
      OPENAI_MODEL: "gpt-test",
    }),
  },
  {
    name: "azure_openai",
    model: "dep-test",
    vars: (u) => ({
      LLM_PROVIDER: "azure_openai",
      AZURE_OPENAI_ENDPOINT: `${u}/`,
      AZURE_OPENAI_API_KEY: "az-key-test",
      AZURE_OPENAI_DEPLOYMENT_NAME: "dep-test",
      AZURE_OPENAI_API_VERSION: "2024-10-21",
    }),
  },
];

const TOOLS: ToolDef[] = [
  {
    name: "add_step",
    description: "Append a pipeline step",
    inputSchema: {
      type: "object",
      properties: { name: { type: "string" }, type: { type: "string" }, input: { type: "string" } },
    },
  },
  { name: "set_aggregation", description: "Configure an aggregate step", inputSchema: { type: "object" } },
  { name: "set_summary", description: "Configure a summary step", inputSchema: { type: "object" } },
];

function request(messages: Msg[], extra: Partial<LlmRequest> = {}): LlmRequest {
  return {
    system: [{ text: "あなたは分析アシスタントです。", cache: true }, { text: "現在の状態: 空" }],
    messages,
    tools: TOOLS,
    toolChoice: "auto",
    maxTokens: 1024,
    temperature: 0,
    ...extra,
  };
}

function setup(
  c: Case,
  vars: Record<string, string> = {},
): { provider: LlmProvider; metrics: Metrics; config: Config } {
  const metrics = createMetrics({ defaultMetrics: false });
  const config = testConfig({ ...c.vars(fake.baseUrl), LLM_MAX_RETRIES: "2", ...vars });
  const provider = createLlmProvider(config, {
    metrics,
    logger: silentLogger,
    backoff: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  if (!provider) throw new Error("provider not configured");
  return { provider, metrics, config };
}

async function collect(
  provider: LlmProvider,
  req: LlmRequest,
  signal = new AbortController().signal,
): Promise<LlmEvent[]> {
  const events: LlmEvent[] = [];
  for await (const event of provider.stream(req, signal)) events.push(event);
  return events;
}

async function failure(
  provider: LlmProvider,
  req: LlmRequest,
  signal?: AbortSignal,
): Promise<{ error: LlmError; events: LlmEvent[] }> {
  const events: LlmEvent[] = [];
  try {
    for await (const event of provider.stream(req, signal ?? new AbortController().signal))
      events.push(event);
  } catch (error) {
    expect(error).toBeInstanceOf(LlmError);
    return { error: error as LlmError, events };
  }
  throw new Error("expected the call to fail");
}

async function value(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  return values
    .filter((v) => !("le" in v.labels) && Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

const user = (text: string): Msg => ({ role: "user", content: text });

function script(exchanges: Script["exchanges"], name = "inline"): Script {
  return { name, exchanges };
}

function noScriptErrors() {
  expect(fake.errors).toEqual([]);
}

describe.each(CASES.map((c) => [c.name, c] as const))("%s", (_, c) => {
  test("streams text deltas in order, then one usage event and the stop reason", async () => {
    const { provider, metrics } = setup(c);
    expect(provider.name).toBe(c.name);
    expect(provider.model).toBe(c.model);
    const text = "年度別の売上合計を集計しました。増加傾向です。";
    fake.load(
      script([
        {
          expect: { lastUserText: "売上", systemContains: "分析アシスタント" },
          reply: { text, chunks: 4, usage: { input: 120, output: 30, cacheRead: 20 } },
        },
      ]),
    );
    const events = await collect(provider, request([user("年度ごとの売上合計を棒グラフで")]));
    noScriptErrors();
    const texts = events.filter((e) => e.type === "text");
    expect(texts.length).toBe(4);
    expect(texts.map((e) => (e as { text: string }).text).join("")).toBe(text);
    expect(events.slice(texts.length)).toEqual([
      { type: "usage", input: 120, output: 30, cacheRead: 20 },
      { type: "stop", reason: "end_turn" },
    ]);
    const labels = { provider: c.name, model: c.model };
    expect(await value(metrics, "llm_api_calls_total", labels)).toBe(1);
    expect(await value(metrics, "llm_api_duration_seconds", labels)).toBeGreaterThan(0);
    expect(await value(metrics, "llm_tokens_total", { ...labels, direction: "input" })).toBe(100);
    expect(await value(metrics, "llm_tokens_total", { ...labels, direction: "output" })).toBe(30);
    expect(await value(metrics, "llm_tokens_total", { ...labels, direction: "cache_read" })).toBe(20);
    expect(fake.requests.length).toBe(1);
    expect(fake.requests[0].body.stream).toBe(true);
    expect(fake.requests[0].body.temperature).toBe(0);
  });

  test("assembles tool calls from split JSON and runs a scripted turn with result[N] substitution", async () => {
    const { provider } = setup(c);
    fake.load("bar-by-year");
    const messages: Msg[] = [user("年度ごとの売上合計を棒グラフで")];
    const calls: { name: string; input: unknown }[] = [];
    let finalText = "";
    for (let round = 0; round < 6; round++) {
      const events = await collect(provider, request(messages));
      expect(fake.errors).toEqual([]);
      const uses = events.filter((e): e is Extract<LlmEvent, { type: "tool_use" }> => e.type === "tool_use");
      const stop = events.find((e) => e.type === "stop");
      if (uses.length === 0) {
        expect(stop).toEqual({ type: "stop", reason: "end_turn" });
        finalText = events.map((e) => (e.type === "text" ? e.text : "")).join("");
        expect(events.filter((e) => e.type === "text").length).toBe(4);
        break;
      }
      expect(stop).toEqual({ type: "stop", reason: "tool_use" });
      expect(events.filter((e) => e.type === "usage").length).toBe(1);
      messages.push({
        role: "assistant",
        content: uses.map((u) => ({ type: "tool_use", id: u.id, name: u.name, input: u.input })),
      });
      messages.push({
        role: "user",
        content: uses.map((u) => {
          calls.push({ name: u.name, input: u.input });
          const result = u.name === "add_step" ? { ok: true, stepKey: `step_${calls.length}` } : { ok: true };
          return { type: "tool_result", toolUseId: u.id, content: JSON.stringify(result), isError: false };
        }),
      });
    }
    expect(finalText).toBe(
      "年度別の売上合計を集計し、棒グラフを作成しました。売上は年度ごとに増加しています。",
    );
    expect(calls).toEqual([
      { name: "add_step", input: { name: "年度別集計", type: "aggregate", input: "original" } },
      {
        name: "set_aggregation",
        input: {
          stepKey: "step_1",
          config: {
            groupByAxis: ["年度"],
            aggregationConfig: [{ name: "売上合計", method: "sum", subject: "売上" }],
          },
        },
      },
      { name: "add_step", input: { name: "年度別グラフ", type: "summary", input: "step_1" } },
      {
        name: "set_summary",
        input: {
          stepKey: "step_3",
          config: { chartConfig: { graphType: "bar", xAxis: "年度", yAxis: "値" } },
        },
      },
    ]);
    expect(fake.pending()).toBe(0);
  });

  test("self-correct script: an error result is sent as an error and the retry follows", async () => {
    const { provider } = setup(c);
    fake.load("self-correct");
    const messages: Msg[] = [user("年度ごとの売上合計")];
    const subjects: string[] = [];
    for (let round = 0; round < 5; round++) {
      const events = await collect(provider, request(messages));
      expect(fake.errors).toEqual([]);
      const uses = events.filter((e): e is Extract<LlmEvent, { type: "tool_use" }> => e.type === "tool_use");
      if (uses.length === 0) break;
      messages.push({
        role: "assistant",
        content: uses.map((u) => ({ type: "tool_use", id: u.id, name: u.name, input: u.input })),
      });
      messages.push({
        role: "user",
        content: uses.map((u) => {
          if (u.name === "add_step")
            return {
              type: "tool_result",
              toolUseId: u.id,
              content: JSON.stringify({ ok: true, stepKey: "agg1" }),
              isError: false,
            };
          const subject = (u.input as { config: { aggregationConfig: { subject: string }[] } }).config
            .aggregationConfig[0].subject;
          subjects.push(subject);
          const bad = subject !== "売上";
          const result = bad
            ? {
                ok: false,
                error: {
                  code: "UNKNOWN_SUBJECT",
                  message: `unknown subject ${subject}`,
                  available: ["売上", "コスト"],
                },
              }
            : { ok: true };
          return { type: "tool_result", toolUseId: u.id, content: JSON.stringify(result), isError: bad };
        }),
      });
    }
    expect(subjects).toEqual(["売り上げ", "売上"]);
    expect(fake.pending()).toBe(0);
    if (c.name === "anthropic") {
      const third = fake.requests[2].body.messages.at(-1).content[0];
      expect(third.is_error).toBe(true);
    }
  });

  test("malformed tool arguments → inputError invalid_json; arguments cut by max_tokens → truncated", async () => {
    const { provider } = setup(c);
    fake.load(
      script([
        {
          reply: {
            toolCalls: [
              { name: "add_step", rawArguments: '{"name": "x", "type": ' + "}" },
              { name: "set_summary", input: { stepKey: "a" } },
            ],
          },
        },
        {
          reply: {
            toolCalls: [{ name: "add_step", rawArguments: '{"name": "年度別' }],
            stopReason: "max_tokens",
          },
        },
      ]),
    );
    const first = await collect(provider, request([user("go")]));
    const uses = first.filter((e) => e.type === "tool_use");
    expect(uses).toEqual([
      { type: "tool_use", id: expect.any(String), name: "add_step", input: null, inputError: "invalid_json" },
      { type: "tool_use", id: expect.any(String), name: "set_summary", input: { stepKey: "a" } },
    ]);
    const second = await collect(provider, request([user("go")]));
    expect(second.find((e) => e.type === "tool_use")).toMatchObject({
      name: "add_step",
      input: null,
      inputError: "truncated",
    });
    expect(second.at(-1)).toEqual({ type: "stop", reason: "max_tokens" });
    noScriptErrors();
  });

  test("toolChoice none is sent in the protocol's form", async () => {
    const { provider } = setup(c);
    fake.load(script([{ expect: { toolChoice: "none" }, reply: { text: "まとめです。" } }]));
    const events = await collect(provider, request([user("まとめて")], { toolChoice: "none" }));
    noScriptErrors();
    expect(events.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
  });

  test("429 with retry-after: 1 twice, then success → 3 attempts, each measured", async () => {
    const { provider, metrics } = setup(c);
    fake.load(
      script([{ fault: { status: 429, headers: { "retry-after": "1" }, times: 2 }, reply: { text: "ok" } }]),
    );
    const started = performance.now();
    const events = await collect(provider, request([user("hi")]));
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
    expect(events.at(-1)).toEqual({ type: "stop", reason: "end_turn" });
    expect(fake.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    const labels = { provider: c.name, model: c.model };
    expect(await value(metrics, "llm_api_calls_total", labels)).toBe(3);
    expect(await value(metrics, "llm_api_errors_total", { ...labels, kind: "rate_limited" })).toBe(2);
    noScriptErrors();
  }, 15_000);

  test("500 on every attempt → LlmError upstream after exactly 1 + LLM_MAX_RETRIES attempts", async () => {
    const { provider, metrics } = setup(c, { LLM_MAX_RETRIES: "2" });
    fake.load(script([{ fault: { status: 500, headers: { "retry-after-ms": "10" } } }]));
    const { error } = await failure(provider, request([user("hi")]));
    expect(error.kind).toBe("upstream");
    expect(error.status).toBe(500);
    expect(error.attempts).toBe(3);
    expect(fake.requests.length).toBe(3);
    expect(await value(metrics, "llm_api_calls_total", { provider: c.name, model: c.model })).toBe(3);
    expect(
      await value(metrics, "llm_api_errors_total", { provider: c.name, model: c.model, kind: "upstream" }),
    ).toBe(3);
  });

  test("400 and 401 are attempted once", async () => {
    const { provider } = setup(c);
    fake.load(script([{ fault: { status: 400 } }]));
    const bad = await failure(provider, request([user("hi")]));
    expect([bad.error.kind, bad.error.status, bad.error.attempts, fake.requests.length]).toEqual([
      "bad_request",
      400,
      1,
      1,
    ]);
    fake.load(script([{ fault: { status: 401 } }]));
    const auth = await failure(provider, request([user("hi")]));
    expect([auth.error.kind, auth.error.attempts, fake.requests.length]).toEqual(["auth", 1, 1]);
  });

  test("the caller's signal aborts the in-flight stream → LlmError aborted; the fake sees the disconnect", async () => {
    const { provider, metrics } = setup(c);
    fake.load(script([{ reply: { text: "一二三四五六七八", chunks: 8 }, chunkDelayMs: 150 }]));
    const controller = new AbortController();
    const events: LlmEvent[] = [];
    let caught: unknown;
    try {
      for await (const event of provider.stream(request([user("hi")]), controller.signal)) {
        events.push(event);
        if (event.type === "text") controller.abort();
      }
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LlmError);
    expect((caught as LlmError).kind).toBe("aborted");
    expect(events.filter((e) => e.type === "text").length).toBe(1);
    await Bun.sleep(300);
    expect(fake.requests.length).toBe(1);
    expect(fake.requests[0].aborted).toBe(true);
    expect(
      await value(metrics, "llm_api_errors_total", { provider: c.name, model: c.model, kind: "aborted" }),
    ).toBe(1);
  });

  test("no response within LLM_REQUEST_TIMEOUT_S → timeout (retried, then given up)", async () => {
    const { provider } = setup(c, { LLM_REQUEST_TIMEOUT_S: "1", LLM_MAX_RETRIES: "1" });
    fake.load(script([{ delayMs: 1500, reply: { text: "late" } }]));
    const started = performance.now();
    const { error } = await failure(provider, request([user("hi")]));
    expect(error.kind).toBe("timeout");
    expect(error.attempts).toBe(2);
    expect(fake.requests.length).toBe(2);
    expect(performance.now() - started).toBeLessThan(3500);
  }, 10_000);

  test("a stream that goes silent past LLM_STREAM_IDLE_TIMEOUT_S before any output is retried", async () => {
    const { provider, metrics } = setup(c, { LLM_STREAM_IDLE_TIMEOUT_S: "1" });
    fake.load(
      script([
        { stallAfterChunks: 1, stallMs: 3000, reply: { text: "stalled" } },
        { reply: { text: "second" } },
      ]),
    );
    const events = await collect(provider, request([user("hi")]));
    expect(
      events
        .filter((e) => e.type === "text")
        .map((e) => (e as { text: string }).text)
        .join(""),
    ).toBe("second");
    expect(fake.requests.length).toBe(2);
    expect(
      await value(metrics, "llm_api_errors_total", { provider: c.name, model: c.model, kind: "timeout" }),
    ).toBe(1);
    noScriptErrors();
  }, 10_000);

  test("a connection cut before output is retried; after output it is not", async () => {
    const { provider } = setup(c);
    fake.load(script([{ dropAfterChunks: 1, reply: { text: "x" } }, { reply: { text: "whole answer" } }]));
    const events = await collect(provider, request([user("hi")]));
    expect(events.find((e) => e.type === "text")).toEqual({ type: "text", text: "whole answer" });
    expect(fake.requests.length).toBe(2);

    // Text is already out at event 4 (Anthropic: start, block start, ping, delta; OpenAI: role, delta…).
    fake.load(
      script([{ dropAfterChunks: 4, reply: { text: "abcdef", chunks: 6 } }, { reply: { text: "never" } }]),
    );
    const { error, events: partial } = await failure(provider, request([user("hi")]));
    expect(partial.some((e) => e.type === "text")).toBe(true);
    expect(error.kind).toBe("upstream");
    expect(error.attempts).toBe(1);
    expect(fake.requests.length).toBe(1);
  });

  test("a retry that would sleep past the deadline is not attempted", async () => {
    const { provider } = setup(c);
    fake.load(
      script([{ fault: { status: 529, headers: { "retry-after": "30" }, times: 1 }, reply: { text: "ok" } }]),
    );
    const started = performance.now();
    const { error } = await failure(provider, request([user("hi")], { deadline: Date.now() + 2000 }));
    expect(performance.now() - started).toBeLessThan(1000);
    expect(error.attempts).toBe(1);
    expect(fake.requests.length).toBe(1);
  });
});

describe("protocol details", () => {
  test("anthropic: headers, system blocks with cache_control, tools, tool_result is_error", async () => {
    const { provider } = setup(CASES[0]);
    fake.load(script([{ reply: { text: "ok" } }]));
    await collect(
      provider,
      request([
        user("a"),
        {
          role: "assistant",
          content: [
            { type: "text", text: "calling" },
            { type: "tool_use", id: "toolu_1", name: "add_step", input: { name: "s" } },
          ],
        },
        {
          role: "user",
          content: [{ type: "tool_result", toolUseId: "toolu_1", content: '{"ok":false}', isError: true }],
        },
      ]),
    );
    noScriptErrors();
    const { headers, body, path } = fake.requests[0];
    expect(path).toBe("/v1/messages");
    expect(headers["x-api-key"] ?? headers.authorization?.replace(/^Bearer /, "")).toBe("sk-ant-test");
    expect(headers["anthropic-version"]).toBeTruthy();
    expect(body.model).toBe("claude-test");
    expect(body.max_tokens).toBe(1024);
    expect(body.system).toEqual([
      { type: "text", text: "あなたは分析アシスタントです。", cache_control: { type: "ephemeral" } },
      { type: "text", text: "現在の状態: 空" },
    ]);
    expect(body.tools.at(-1).cache_control).toEqual({ type: "ephemeral" });
    expect(body.tools[0].input_schema.type).toBe("object");
    expect(body.tool_choice).toEqual({ type: "auto" });
    expect(body.messages[2].content[0]).toEqual({
      type: "tool_result",
      tool_use_id: "toolu_1",
      content: '{"ok":false}',
      is_error: true,
    });
  });

  test("openai: bearer auth, system messages, tool messages, include_usage", async () => {
    const { provider } = setup(CASES[1]);
    fake.load(script([{ reply: { text: "ok" } }]));
    await collect(
      provider,
      request([
        user("a"),
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "call_1", name: "add_step", input: { name: "s" } }],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", toolUseId: "call_1", content: '{"ok":true}', isError: false },
            { type: "text", text: "続けて" },
          ],
        },
      ]),
    );
    noScriptErrors();
    const { headers, body, path } = fake.requests[0];
    expect(path).toBe("/v1/chat/completions");
    expect(headers.authorization).toBe("Bearer sk-openai-test");
    expect(body.model).toBe("gpt-test");
    expect(body.stream_options).toEqual({ include_usage: true });
    expect(body.tool_choice).toBe("auto");
    expect(body.messages.map((m: { role: string }) => m.role)).toEqual([
      "system",
      "system",
      "user",
      "assistant",
      "tool",
      "user",
    ]);
    expect(body.messages[3].tool_calls[0]).toEqual({
      id: "call_1",
      type: "function",
      function: { name: "add_step", arguments: '{"name":"s"}' },
    });
    expect(body.messages[4]).toEqual({ role: "tool", tool_call_id: "call_1", content: '{"ok":true}' });
    expect(body.tools[0]).toEqual({
      type: "function",
      function: { name: "add_step", description: "Append a pipeline step", parameters: TOOLS[0].inputSchema },
    });
  });

  test("azure_openai: deployment path, api-version, api-key header, model label = deployment", async () => {
    const { provider, metrics } = setup(CASES[2]);
    fake.load(script([{ reply: { text: "ok" } }]));
    await collect(provider, request([user("a")]));
    noScriptErrors();
    const { headers, url, path, protocol } = fake.requests[0];
    expect(protocol).toBe("azure_openai");
    expect(path).toBe("/openai/deployments/dep-test/chat/completions");
    expect(url).toContain("api-version=2024-10-21");
    expect(headers["api-key"]).toBe("az-key-test");
    expect(headers.authorization).toBeUndefined();
    expect(await value(metrics, "llm_api_calls_total", { provider: "azure_openai", model: "dep-test" })).toBe(
      1,
    );
  });

  test("the fake rejects protocol violations and records them", async () => {
    const { provider } = setup(CASES[0]);
    fake.load(script([{ reply: { text: "ok" } }]));
    const { error } = await failure(
      provider,
      request([
        user("a"),
        {
          role: "assistant",
          content: [{ type: "tool_use", id: "toolu_9", name: "no_such_tool", input: {} }],
        },
        {
          role: "user",
          content: [{ type: "tool_result", toolUseId: "toolu_other", content: "{}", isError: false }],
        },
      ]),
    );
    expect(error.kind).toBe("bad_request");
    expect(fake.errors.length).toBe(1);
    expect(fake.errors[0]).toContain("protocol");
    fake.load(script([]));
    const exhausted = await failure(provider, request([user("a")]));
    expect(exhausted.error.status).toBe(500);
    expect(fake.errors.some((e) => e.includes("script exhausted"))).toBe(true);
  });

  test("the trace hook sees each attempt without secrets", async () => {
    const spans: unknown[] = [];
    const metrics = createMetrics({ defaultMetrics: false });
    const provider = createLlmProvider(testConfig(CASES[0].vars(fake.baseUrl)), {
      metrics,
      logger: silentLogger,
      onTrace: (span) => spans.push(span),
    })!;
    fake.load(
      script([
        { fault: { status: 503, headers: { "retry-after-ms": "5" }, times: 1 }, reply: { text: "ok" } },
      ]),
    );
    await collect(provider, request([user("a")]));
    expect(spans).toMatchObject([
      { provider: "anthropic", model: "claude-test", attempt: 1, outcome: "upstream", status: 503 },
      { provider: "anthropic", model: "claude-test", attempt: 2, outcome: "ok", stopReason: "end_turn" },
    ]);
    expect(JSON.stringify(spans)).not.toContain("sk-ant-test");
  });
});

describe("createLlmProvider", () => {
  const deps = { metrics: createMetrics({ defaultMetrics: false }), logger: silentLogger };

  test("returns null when the selected provider has no key or endpoint", () => {
    expect(createLlmProvider(testConfig({ LLM_PROVIDER: "anthropic" }), deps)).toBeNull();
    expect(
      createLlmProvider(testConfig({ LLM_PROVIDER: "openai", ANTHROPIC_API_KEY: "k" }), deps),
    ).toBeNull();
    expect(
      createLlmProvider(
        testConfig({
          LLM_PROVIDER: "azure_openai",
          AZURE_OPENAI_API_KEY: "k",
          AZURE_OPENAI_ENDPOINT: "http://127.0.0.1:1",
        }),
        deps,
      ),
    ).toBeNull();
  });

  test("default models", () => {
    expect(createLlmProvider(testConfig({ ANTHROPIC_API_KEY: "k" }), deps)?.model).toBe(
      DEFAULT_ANTHROPIC_MODEL,
    );
    expect(createLlmProvider(testConfig({ LLM_PROVIDER: "openai", OPENAI_API_KEY: "k" }), deps)?.model).toBe(
      "gpt-4o",
    );
    expect(
      createLlmProvider(
        testConfig({ LLM_PROVIDER: "openai", OPENAI_API_KEY: "k", OPENAI_MODEL: "gpt-x" }),
        deps,
      )?.model,
    ).toBe("gpt-x");
  });
});
