import { readFileSync } from "node:fs";
import { join } from "node:path";

/*
 * A scripted LLM on loopback (analysis.md §5.9). The real Anthropic and OpenAI SDKs talk to it
 * over HTTP, so the product's provider code runs end to end. Scripts are provider-neutral; each
 * protocol renders them (SSE or one JSON body) and checks requests the way the real APIs do.
 * Anything a test should fail on (protocol violations, `expect` mismatches, a request past the
 * end of the script) is answered with an error status AND recorded in `errors`.
 */

export type FakeToolCall = { name: string; input: unknown } | { name: string; rawArguments: string };

export type ExchangeExpect = {
  /** Substring of the last user message's text (the engine may wrap the user's words). */
  lastUserText?: string;
  /** Every tool result answering the previous assistant message has `ok` equal to this. */
  toolResultOk?: boolean;
  /** true: at least one of those results is an error (is_error / `ok: false`); false: none is. */
  toolResultIsError?: boolean;
  /** Each string occurs in one of those results. */
  toolResultContains?: string[];
  toolsInclude?: string[];
  toolChoice?: "auto" | "none";
  systemContains?: string | string[];
};

export type Exchange = {
  expect?: ExchangeExpect;
  reply?: {
    text?: string;
    /** How many deltas the text is split into (default 1). */
    chunks?: number;
    toolCalls?: FakeToolCall[];
    stopReason?: "end_turn" | "tool_use" | "max_tokens" | "refusal";
    usage?: { input: number; output: number; cacheRead?: number };
  };
  /** Answer `times` attempts (every attempt when omitted) with this error before serving the exchange. */
  fault?: { status: number; headers?: Record<string, string>; times?: number };
  /** Wait before the response headers (every attempt at this exchange). */
  delayMs?: number;
  /** Reset the connection after this many stream events. */
  dropAfterChunks?: number;
  /** Pause between stream events. */
  chunkDelayMs?: number;
  /** Go silent for `stallMs` after this many stream events. */
  stallAfterChunks?: number;
  stallMs?: number;
};

export type Script = { name: string; exchanges: Exchange[] };

export type FakeProtocol = "anthropic" | "openai" | "azure_openai";

export type FakeRequest = {
  protocol: FakeProtocol;
  path: string;
  /** Query string included. */
  url: string;
  headers: Record<string, string>;
  body: any;
  /** Index of the exchange this request was matched against (null when none). */
  exchange: number | null;
  status: number;
  /** The client went away before the response was complete. */
  aborted: boolean;
};

export type FakeLlm = {
  baseUrl: string;
  requests: FakeRequest[];
  errors: string[];
  /** Replaces the script and clears `requests` and `errors`. */
  load(script: Script | string): void;
  /** Exchanges not served yet. */
  pending(): number;
  close(): Promise<void>;
};

const SCRIPTS_DIR = join(import.meta.dir, "..", "fixtures", "llm-scripts");

export function loadScript(name: string): Script {
  return JSON.parse(readFileSync(join(SCRIPTS_DIR, `${name}.json`), "utf8")) as Script;
}

/* ---------- the neutral view of a request ---------- */

type NBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; toolUseId: string; content: string; isError: boolean };
type NMessage = { role: "user" | "assistant"; blocks: NBlock[] };
type Neutral = {
  model: string;
  stream: boolean;
  system: string[];
  messages: NMessage[];
  tools: string[];
  toolChoice: string;
};

class ProtocolError extends Error {}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((p) => (p && typeof p === "object" && "text" in p ? String(p.text) : "")).join("");
  }
  return "";
}

function fromAnthropic(body: any): Neutral {
  if (typeof body?.model !== "string") throw new ProtocolError("model: required");
  if (typeof body.max_tokens !== "number") throw new ProtocolError("max_tokens: required");
  if (!Array.isArray(body.messages)) throw new ProtocolError("messages: required");
  const system =
    body.system === undefined
      ? []
      : typeof body.system === "string"
        ? [body.system]
        : body.system.map((b: any) => String(b.text));
  const messages: NMessage[] = body.messages.map((m: any, i: number): NMessage => {
    if (m.role !== "user" && m.role !== "assistant") {
      throw new ProtocolError(`messages.${i}.role: unexpected role "${m.role}"`);
    }
    if (typeof m.content === "string") {
      if (m.content === "") throw new ProtocolError(`messages.${i}: content must be non-empty`);
      return { role: m.role, blocks: [{ type: "text", text: m.content }] };
    }
    const blocks: NBlock[] = m.content.map((b: any, j: number): NBlock => {
      if (b.type === "text") {
        if (!b.text)
          throw new ProtocolError(`messages.${i}.content.${j}: text content blocks must be non-empty`);
        return { type: "text", text: b.text };
      }
      if (b.type === "tool_use") return { type: "tool_use", id: b.id, name: b.name, input: b.input };
      if (b.type === "tool_result") {
        return {
          type: "tool_result",
          toolUseId: b.tool_use_id,
          content: textOf(b.content),
          isError: b.is_error === true,
        };
      }
      throw new ProtocolError(`messages.${i}.content.${j}: unsupported block type ${b.type}`);
    });
    const firstOther = blocks.findIndex((b) => b.type !== "tool_result");
    if (firstOther >= 0 && blocks.slice(firstOther).some((b) => b.type === "tool_result")) {
      throw new ProtocolError(`messages.${i}: tool_result blocks must come first in the content`);
    }
    return { role: m.role, blocks };
  });
  const tools: string[] = (body.tools ?? []).map((t: any) => String(t.name));
  const choice = body.tool_choice?.type ?? (tools.length > 0 ? "auto" : "none");
  return { model: body.model, stream: body.stream === true, system, messages, tools, toolChoice: choice };
}

function fromOpenai(body: any, azure: boolean): Neutral {
  if (!azure && typeof body?.model !== "string") throw new ProtocolError("model: required");
  if (!Array.isArray(body?.messages)) throw new ProtocolError("messages: required");
  const system: string[] = [];
  const messages: NMessage[] = [];
  let previousCalls: Set<string> | null = null;
  body.messages.forEach((m: any, i: number) => {
    if (m.role === "system" || m.role === "developer") {
      if (messages.length > 0) throw new ProtocolError(`messages.${i}: system messages must come first here`);
      system.push(textOf(m.content));
      return;
    }
    if (m.role === "tool") {
      if (!previousCalls?.has(m.tool_call_id)) {
        throw new ProtocolError(
          `messages.${i}: tool message answers "${m.tool_call_id}", which is not a tool_call of the preceding assistant message`,
        );
      }
      const last = messages[messages.length - 1];
      const block: NBlock = {
        type: "tool_result",
        toolUseId: m.tool_call_id,
        content: textOf(m.content),
        isError: false,
      };
      try {
        block.isError = (JSON.parse(block.content) as { ok?: unknown })?.ok === false;
      } catch {
        /* a non-JSON result is not an error result */
      }
      if (last?.role === "user" && last.blocks.every((b) => b.type === "tool_result"))
        last.blocks.push(block);
      else messages.push({ role: "user", blocks: [block] });
      return;
    }
    if (m.role === "assistant") {
      const blocks: NBlock[] = [];
      const text = textOf(m.content);
      if (text) blocks.push({ type: "text", text });
      previousCalls = new Set();
      for (const call of m.tool_calls ?? []) {
        let input: unknown = null;
        try {
          input = JSON.parse(call.function.arguments);
        } catch {
          throw new ProtocolError(`messages.${i}: tool_call ${call.id} arguments are not JSON`);
        }
        previousCalls.add(call.id);
        blocks.push({ type: "tool_use", id: call.id, name: call.function.name, input });
      }
      messages.push({ role: "assistant", blocks });
      return;
    }
    if (m.role === "user") {
      if (previousCalls && previousCalls.size > 0) {
        const last = messages[messages.length - 1];
        const answered = new Set(
          last?.role === "user"
            ? last.blocks.flatMap((b) => (b.type === "tool_result" ? [b.toolUseId] : []))
            : [],
        );
        for (const id of previousCalls) {
          if (!answered.has(id))
            throw new ProtocolError(`messages.${i}: tool_call ${id} has no tool message`);
        }
      }
      previousCalls = null;
      messages.push({ role: "user", blocks: [{ type: "text", text: textOf(m.content) }] });
      return;
    }
    throw new ProtocolError(`messages.${i}.role: unexpected role "${m.role}"`);
  });
  const tools: string[] = (body.tools ?? []).map((t: any) => String(t.function?.name));
  const rawChoice = body.tool_choice;
  const toolChoice =
    rawChoice === undefined
      ? tools.length > 0
        ? "auto"
        : "none"
      : typeof rawChoice === "string"
        ? rawChoice
        : "function";
  return {
    model: body.model ?? "",
    stream: body.stream === true,
    system,
    messages,
    tools,
    toolChoice,
  };
}

/* The checks the real APIs make on every conversation. */
function checkConversation(n: Neutral, protocol: FakeProtocol): void {
  if (n.messages.length === 0) throw new ProtocolError("messages: at least one message is required");
  if (n.messages[0].role !== "user")
    throw new ProtocolError("messages.0.role: the first message must be from the user");
  n.messages.forEach((m, i) => {
    const previous = n.messages[i - 1];
    if (protocol === "anthropic" && previous && previous.role === m.role) {
      throw new ProtocolError(`messages.${i}: roles must alternate between "user" and "assistant"`);
    }
    const uses = previous?.role === "assistant" ? previous.blocks.filter((b) => b.type === "tool_use") : [];
    const useIds = new Set(uses.map((b) => (b as { id: string }).id));
    for (const b of m.blocks) {
      if (b.type === "tool_result" && !useIds.has(b.toolUseId)) {
        throw new ProtocolError(
          `messages.${i}: tool_result "${b.toolUseId}" does not answer a tool_use of the previous assistant message`,
        );
      }
      if (b.type === "tool_use" && !n.tools.includes(b.name)) {
        throw new ProtocolError(`messages.${i}: tool_use names "${b.name}", which is not in tools`);
      }
    }
    if (m.role === "user" && uses.length > 0) {
      const answered = new Set(m.blocks.flatMap((b) => (b.type === "tool_result" ? [b.toolUseId] : [])));
      for (const id of useIds) {
        if (!answered.has(id)) throw new ProtocolError(`messages.${i}: tool_use "${id}" has no tool_result`);
      }
    }
  });
}

/* ---------- expectations and substitution ---------- */

function hasText(m: NMessage): boolean {
  return m.blocks.some((b) => b.type === "text");
}

/** Tool results of the current turn (since the last user message with text), in order. */
function turnResults(n: Neutral): Extract<NBlock, { type: "tool_result" }>[] {
  let start = 0;
  n.messages.forEach((m, i) => {
    if (m.role === "user" && hasText(m)) start = i;
  });
  return n.messages
    .slice(start)
    .flatMap((m) =>
      m.blocks.filter((b): b is Extract<NBlock, { type: "tool_result" }> => b.type === "tool_result"),
    );
}

function latestResults(n: Neutral): Extract<NBlock, { type: "tool_result" }>[] {
  const last = n.messages[n.messages.length - 1];
  return last?.role === "user"
    ? last.blocks.filter((b): b is Extract<NBlock, { type: "tool_result" }> => b.type === "tool_result")
    : [];
}

function parsed(content: string): unknown {
  try {
    return JSON.parse(content);
  } catch {
    return undefined;
  }
}

function checkExpect(expect: ExchangeExpect | undefined, n: Neutral): string[] {
  if (!expect) return [];
  const diffs: string[] = [];
  const latest = latestResults(n);
  if (expect.lastUserText !== undefined) {
    const last = [...n.messages].reverse().find((m) => m.role === "user" && hasText(m));
    const text = last ? last.blocks.map((b) => (b.type === "text" ? b.text : "")).join("") : "";
    if (!text.includes(expect.lastUserText)) {
      diffs.push(
        `lastUserText: expected to contain ${JSON.stringify(expect.lastUserText)}, got ${JSON.stringify(text)}`,
      );
    }
  }
  if (expect.toolResultOk !== undefined) {
    const oks = latest.map((r) => (parsed(r.content) as { ok?: unknown } | undefined)?.ok);
    const pass =
      latest.length > 0 &&
      (expect.toolResultOk ? oks.every((ok) => ok === true) : oks.some((ok) => ok === false));
    if (!pass)
      diffs.push(
        `toolResultOk: expected ${expect.toolResultOk}, got ${JSON.stringify(latest.map((r) => r.content))}`,
      );
  }
  if (expect.toolResultIsError !== undefined) {
    const isError = latest.some((r) => r.isError);
    if (isError !== expect.toolResultIsError || latest.length === 0) {
      diffs.push(`toolResultIsError: expected ${expect.toolResultIsError}, got ${JSON.stringify(latest)}`);
    }
  }
  for (const needle of expect.toolResultContains ?? []) {
    if (!latest.some((r) => r.content.includes(needle))) {
      diffs.push(
        `toolResultContains: ${JSON.stringify(needle)} not in ${JSON.stringify(latest.map((r) => r.content))}`,
      );
    }
  }
  for (const tool of expect.toolsInclude ?? []) {
    if (!n.tools.includes(tool)) diffs.push(`toolsInclude: ${tool} missing from ${JSON.stringify(n.tools)}`);
  }
  if (expect.toolChoice !== undefined && expect.toolChoice !== n.toolChoice) {
    diffs.push(`toolChoice: expected ${expect.toolChoice}, got ${n.toolChoice}`);
  }
  const system = n.system.join("\n");
  const wanted = expect.systemContains === undefined ? [] : [expect.systemContains].flat();
  for (const needle of wanted) {
    if (!system.includes(needle))
      diffs.push(`systemContains: ${JSON.stringify(needle)} not in the system prompt`);
  }
  return diffs;
}

function pathValue(root: unknown, path: string): unknown {
  let value = root;
  for (const part of path.match(/[^.[\]]+/g) ?? []) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

const PLACEHOLDER = /\$\{result\[(\d+)\]\.([^}]+)\}/g;

/** Replaces `${result[N].path}` in every string of `value`; a string that is only a placeholder takes the value's type. */
function substitute(value: unknown, results: unknown[]): unknown {
  if (typeof value === "string") {
    const lookup = (index: string, path: string): unknown => {
      const i = Number(index);
      if (i >= results.length)
        throw new ProtocolError(`\${result[${i}].${path}}: only ${results.length} tool results this turn`);
      const v = pathValue(results[i], path);
      if (v === undefined)
        throw new ProtocolError(`\${result[${i}].${path}}: no such path in ${JSON.stringify(results[i])}`);
      return v;
    };
    const whole = /^\$\{result\[(\d+)\]\.([^}]+)\}$/.exec(value);
    if (whole) return lookup(whole[1], whole[2]);
    return value.replace(PLACEHOLDER, (_, i: string, p: string) => {
      const v = lookup(i, p);
      return typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, results));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, results)]));
  }
  return value;
}

/* ---------- rendering ---------- */

type Rendered = {
  text: string;
  textChunks: string[];
  calls: { id: string; name: string; args: string; input: unknown }[];
  stop: "end_turn" | "tool_use" | "max_tokens" | "refusal";
  usage: { input: number; output: number; cacheRead: number };
};

/** Splits by code points so no multi-byte character is torn. */
function split(text: string, parts: number): string[] {
  const chars = Array.from(text);
  const n = Math.max(1, Math.min(parts, chars.length || 1));
  const size = Math.ceil(chars.length / n);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out.length > 0 ? out : [""];
}

let idSeq = 0;

function render(
  exchange: Exchange,
  results: unknown[],
  protocol: FakeProtocol,
  requestChars: number,
): Rendered {
  const reply = exchange.reply ?? {};
  const text = reply.text ?? "";
  const calls = (reply.toolCalls ?? []).map((call) => {
    idSeq++;
    const id = protocol === "anthropic" ? `toolu_fake_${idSeq}` : `call_fake_${idSeq}`;
    if ("rawArguments" in call)
      return { id, name: call.name, args: call.rawArguments, input: call.rawArguments };
    const input = substitute(call.input, results);
    return { id, name: call.name, args: JSON.stringify(input), input };
  });
  const stop = reply.stopReason ?? (calls.length > 0 ? "tool_use" : "end_turn");
  const usage = {
    input: reply.usage?.input ?? Math.ceil(requestChars / 4),
    output:
      reply.usage?.output ?? Math.ceil((text.length + calls.reduce((s, c) => s + c.args.length, 0)) / 4) + 1,
    cacheRead: reply.usage?.cacheRead ?? 0,
  };
  return { text, textChunks: text ? split(text, reply.chunks ?? 1) : [], calls, stop, usage };
}

function anthropicEvents(r: Rendered, model: string): { event: string; data: unknown }[] {
  const events: { event: string; data: unknown }[] = [];
  const id = `msg_fake_${++idSeq}`;
  events.push({
    event: "message_start",
    data: {
      type: "message_start",
      message: {
        id,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: r.usage.input - r.usage.cacheRead,
          output_tokens: 1,
          cache_read_input_tokens: r.usage.cacheRead,
          cache_creation_input_tokens: 0,
        },
      },
    },
  });
  let index = 0;
  if (r.textChunks.length > 0) {
    events.push({
      event: "content_block_start",
      data: { type: "content_block_start", index, content_block: { type: "text", text: "" } },
    });
    events.push({ event: "ping", data: { type: "ping" } });
    for (const chunk of r.textChunks) {
      events.push({
        event: "content_block_delta",
        data: { type: "content_block_delta", index, delta: { type: "text_delta", text: chunk } },
      });
    }
    events.push({ event: "content_block_stop", data: { type: "content_block_stop", index } });
    index++;
  }
  for (const call of r.calls) {
    events.push({
      event: "content_block_start",
      data: {
        type: "content_block_start",
        index,
        content_block: { type: "tool_use", id: call.id, name: call.name, input: {} },
      },
    });
    for (const part of ["", ...split(call.args, 3)]) {
      events.push({
        event: "content_block_delta",
        data: { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: part } },
      });
    }
    events.push({ event: "content_block_stop", data: { type: "content_block_stop", index } });
    index++;
  }
  events.push({
    event: "message_delta",
    data: {
      type: "message_delta",
      delta: { stop_reason: r.stop, stop_sequence: null },
      usage: { output_tokens: r.usage.output },
    },
  });
  events.push({ event: "message_stop", data: { type: "message_stop" } });
  return events;
}

function anthropicMessage(r: Rendered, model: string): unknown {
  return {
    id: `msg_fake_${++idSeq}`,
    type: "message",
    role: "assistant",
    model,
    content: [
      ...(r.text ? [{ type: "text", text: r.text }] : []),
      ...r.calls.map((c) => ({ type: "tool_use", id: c.id, name: c.name, input: c.input })),
    ],
    stop_reason: r.stop,
    stop_sequence: null,
    usage: {
      input_tokens: r.usage.input - r.usage.cacheRead,
      output_tokens: r.usage.output,
      cache_read_input_tokens: r.usage.cacheRead,
      cache_creation_input_tokens: 0,
    },
  };
}

const OPENAI_FINISH = {
  end_turn: "stop",
  tool_use: "tool_calls",
  max_tokens: "length",
  refusal: "content_filter",
} as const;

function openaiUsage(r: Rendered) {
  return {
    prompt_tokens: r.usage.input,
    completion_tokens: r.usage.output,
    total_tokens: r.usage.input + r.usage.output,
    prompt_tokens_details: { cached_tokens: r.usage.cacheRead },
  };
}

function openaiChunks(r: Rendered, model: string, includeUsage: boolean): unknown[] {
  const id = `chatcmpl-fake-${++idSeq}`;
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: unknown, finish: string | null = null) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const out: unknown[] = [chunk({ role: "assistant", content: "" })];
  for (const part of r.textChunks) out.push(chunk({ content: part }));
  r.calls.forEach((call, i) => {
    out.push(
      chunk({
        tool_calls: [
          { index: i, id: call.id, type: "function", function: { name: call.name, arguments: "" } },
        ],
      }),
    );
    for (const part of split(call.args, 3))
      out.push(chunk({ tool_calls: [{ index: i, function: { arguments: part } }] }));
  });
  out.push(chunk({}, OPENAI_FINISH[r.stop]));
  if (includeUsage)
    out.push({ id, object: "chat.completion.chunk", created, model, choices: [], usage: openaiUsage(r) });
  return out;
}

function openaiCompletion(r: Rendered, model: string): unknown {
  return {
    id: `chatcmpl-fake-${++idSeq}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: r.text || null,
          ...(r.calls.length > 0
            ? {
                tool_calls: r.calls.map((c) => ({
                  id: c.id,
                  type: "function",
                  function: { name: c.name, arguments: c.args },
                })),
              }
            : {}),
        },
        finish_reason: OPENAI_FINISH[r.stop],
      },
    ],
    usage: openaiUsage(r),
  };
}

function errorBody(protocol: FakeProtocol, status: number, message: string): unknown {
  if (protocol === "anthropic") {
    const type =
      status === 429
        ? "rate_limit_error"
        : status === 529
          ? "overloaded_error"
          : status === 401
            ? "authentication_error"
            : status >= 500
              ? "api_error"
              : "invalid_request_error";
    return { type: "error", error: { type, message } };
  }
  return { error: { message, type: status >= 500 ? "server_error" : "invalid_request_error", code: null } };
}

/* ---------- the server ---------- */

export async function startFakeLlm(): Promise<FakeLlm> {
  const requests: FakeRequest[] = [];
  const errors: string[] = [];
  let script: Script = { name: "(none)", exchanges: [] };
  let cursor = 0;
  let faults = 0;

  const fail = (record: FakeRequest, status: number, message: string, recordError: boolean): Response => {
    record.status = status;
    if (recordError) errors.push(`${script.name}#${record.exchange ?? cursor}: ${message}`);
    return Response.json(errorBody(record.protocol, status, message), { status });
  };

  const stream = (
    record: FakeRequest,
    exchange: Exchange,
    events: string[],
    signal: AbortSignal,
    state: { complete: boolean },
  ): Response => {
    let cancelled = false;
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (let i = 0; i < events.length; i++) {
          if (cancelled || signal.aborted) return;
          if (exchange.dropAfterChunks !== undefined && i >= exchange.dropAfterChunks) {
            // Let the events already queued reach the client before the connection is torn down.
            await Bun.sleep(50);
            // No reason given: Bun then resets the socket without logging a stack.
            controller.error();
            return;
          }
          if (exchange.stallAfterChunks !== undefined && i === exchange.stallAfterChunks) {
            await Bun.sleep(exchange.stallMs ?? 60_000);
          } else if (i > 0 && exchange.chunkDelayMs) {
            await Bun.sleep(exchange.chunkDelayMs);
          }
          if (cancelled || signal.aborted) return;
          try {
            controller.enqueue(encoder.encode(events[i]));
          } catch {
            return;
          }
        }
        state.complete = true;
        controller.close();
      },
      cancel() {
        cancelled = true;
        record.aborted = true;
      },
    });
    return new Response(body, {
      status: 200,
      headers: { "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  };

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const azure = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(url.pathname);
    const protocol: FakeProtocol | null =
      url.pathname === "/v1/messages"
        ? "anthropic"
        : url.pathname === "/v1/chat/completions"
          ? "openai"
          : azure
            ? "azure_openai"
            : null;
    if (req.method !== "POST" || !protocol) {
      errors.push(`unexpected ${req.method} ${url.pathname}`);
      return new Response("not found", { status: 404 });
    }
    const headers = Object.fromEntries(req.headers.entries());
    const raw = await req.text();
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
    const record: FakeRequest = {
      protocol,
      path: url.pathname,
      url: url.pathname + url.search,
      headers,
      body,
      exchange: null,
      status: 0,
      aborted: false,
    };
    requests.push(record);
    // Streams flip this when their last event is out; every other answer is complete once returned.
    const state = { complete: false, streaming: false };
    req.signal.addEventListener("abort", () => {
      if (!state.complete && (state.streaming || record.status === 0)) record.aborted = true;
    });

    // @anthropic-ai/sdk 1.x sends the API key as a bearer token; older clients use x-api-key.
    const anthropicKey = headers["x-api-key"] || /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1];
    if (protocol === "anthropic" && (!anthropicKey || !headers["anthropic-version"])) {
      return fail(
        record,
        401,
        "an API key (x-api-key or Authorization: Bearer) and anthropic-version are required",
        true,
      );
    }
    if (protocol === "openai" && !headers.authorization?.startsWith("Bearer ")) {
      return fail(record, 401, "an Authorization: Bearer header is required", true);
    }
    if (protocol === "azure_openai") {
      if (!headers["api-key"]) return fail(record, 401, "the api-key header is required", true);
      if (!url.searchParams.get("api-version"))
        return fail(record, 404, "api-version query parameter missing", true);
    }

    let neutral: Neutral;
    try {
      neutral =
        protocol === "anthropic" ? fromAnthropic(body) : fromOpenai(body, protocol === "azure_openai");
      checkConversation(neutral, protocol);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return fail(record, 400, `protocol: ${error.message}`, true);
    }

    if (cursor >= script.exchanges.length) return fail(record, 500, "script exhausted", true);
    const exchange = script.exchanges[cursor];
    record.exchange = cursor;

    if (exchange.delayMs) {
      await Bun.sleep(exchange.delayMs);
      if (req.signal.aborted) {
        record.aborted = true;
        return new Response(null, { status: 499 });
      }
    }
    if (exchange.fault && (exchange.fault.times === undefined || faults < exchange.fault.times)) {
      faults++;
      record.status = exchange.fault.status;
      return Response.json(errorBody(protocol, exchange.fault.status, "scripted fault"), {
        status: exchange.fault.status,
        headers: exchange.fault.headers,
      });
    }
    const diffs = checkExpect(exchange.expect, neutral);
    if (diffs.length > 0) return fail(record, 400, `expectation mismatch:\n  ${diffs.join("\n  ")}`, true);

    let rendered: Rendered;
    try {
      const results = turnResults(neutral).map((r) => parsed(r.content));
      rendered = render(exchange, results, protocol, raw.length);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      return fail(record, 400, `substitution: ${error.message}`, true);
    }
    cursor++;
    faults = 0;
    record.status = 200;

    const model = neutral.model || (azure ? decodeURIComponent(azure[1]) : "fake");
    if (protocol === "anthropic") {
      if (!neutral.stream) return Response.json(anthropicMessage(rendered, model));
      const events = anthropicEvents(rendered, model).map(
        (e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`,
      );
      state.streaming = true;
      return stream(record, exchange, events, req.signal, state);
    }
    if (!neutral.stream) return Response.json(openaiCompletion(rendered, model));
    const includeUsage = (body as any)?.stream_options?.include_usage === true;
    const events = [
      ...openaiChunks(rendered, model, includeUsage).map((c) => `data: ${JSON.stringify(c)}\n\n`),
      "data: [DONE]\n\n",
    ];
    state.streaming = true;
    return stream(record, exchange, events, req.signal, state);
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: (req) =>
      handle(req).catch((error) => {
        errors.push(`fake-llm crashed: ${error instanceof Error ? error.stack : String(error)}`);
        return new Response("fake-llm crashed", { status: 500 });
      }),
  });

  return {
    baseUrl: `http://127.0.0.1:${server.port}`,
    requests,
    errors,
    load(next) {
      script = typeof next === "string" ? loadScript(next) : next;
      cursor = 0;
      faults = 0;
      requests.length = 0;
      errors.length = 0;
    },
    pending: () => script.exchanges.length - cursor,
    close: () => server.stop(true),
  };
}
