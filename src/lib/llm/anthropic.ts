import type Anthropic from "@anthropic-ai/sdk";
import type { Attempt } from "./runner";
import { IncompleteStreamError } from "./runner";
import { toolUseFrom } from "./tool-input";
import type { ContentBlock, LlmEvent, LlmRequest, Msg, StopReason } from "./types";

type Params = Anthropic.MessageCreateParamsStreaming;

const EPHEMERAL = { type: "ephemeral" } as const;

/* Anthropic allows four cache breakpoints; one goes to the tool list. */
const MAX_SYSTEM_BREAKPOINTS = 3;

function blockParam(block: ContentBlock): Anthropic.ContentBlockParam {
  switch (block.type) {
    case "text":
      return { type: "text", text: block.text };
    case "tool_use":
      return { type: "tool_use", id: block.id, name: block.name, input: block.input ?? {} };
    case "tool_result":
      return {
        type: "tool_result",
        tool_use_id: block.toolUseId,
        content: block.content,
        is_error: block.isError,
      };
  }
}

function messageParam(msg: Msg): Anthropic.MessageParam {
  const content = typeof msg.content === "string" ? msg.content : msg.content.map(blockParam);
  return { role: msg.role, content } as Anthropic.MessageParam;
}

export function anthropicParams(req: LlmRequest, model: string): Params {
  let breakpoints = 0;
  const system = req.system.map((block) => {
    const cached = block.cache === true && breakpoints < MAX_SYSTEM_BREAKPOINTS;
    if (cached) breakpoints++;
    return { type: "text" as const, text: block.text, ...(cached ? { cache_control: EPHEMERAL } : {}) };
  });
  const tools = req.tools.map((tool, i) => ({
    name: tool.name,
    description: tool.description,
    input_schema: tool.inputSchema as Anthropic.Tool.InputSchema,
    ...(breakpoints > 0 && i === req.tools.length - 1 ? { cache_control: EPHEMERAL } : {}),
  }));
  return {
    model,
    max_tokens: req.maxTokens,
    temperature: req.temperature,
    stream: true,
    ...(system.length > 0 ? { system } : {}),
    messages: req.messages.map(messageParam),
    // A tool-less request may not name a tool choice.
    ...(tools.length > 0 ? { tools, tool_choice: { type: req.toolChoice } } : {}),
  } as Params;
}

export function anthropicStopReason(reason: string | null | undefined): StopReason {
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
      return "end_turn";
    case "tool_use":
      return "tool_use";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "max_tokens";
    case "refusal":
      return "refusal";
    default:
      return "other";
  }
}

type Usage = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
};

/* `client` is built on first use: the SDK is loaded only by a deployment that chats. */
export function anthropicAttempt(client: () => Promise<Anthropic>, model: string): Attempt {
  return async function* attempt(req, io): AsyncGenerator<LlmEvent> {
    const stream = await (await client()).messages.create(anthropicParams(req, model), { signal: io.signal });
    io.responded();

    const usage = { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    const takeUsage = (u: Usage | null | undefined) => {
      if (!u) return;
      // message_delta repeats the counts cumulatively, so the latest value wins.
      if (typeof u.input_tokens === "number") usage.input = u.input_tokens;
      if (typeof u.output_tokens === "number") usage.output = u.output_tokens;
      if (typeof u.cache_read_input_tokens === "number") usage.cacheRead = u.cache_read_input_tokens;
      if (typeof u.cache_creation_input_tokens === "number") usage.cacheWrite = u.cache_creation_input_tokens;
    };
    const tools = new Map<number, { id: string; name: string; json: string; closed: boolean }>();
    const order: number[] = [];
    let stopReason: StopReason | null = null;
    let stopped = false;

    for await (const event of stream) {
      io.chunk();
      switch (event.type) {
        case "message_start":
          takeUsage(event.message.usage);
          break;
        case "content_block_start": {
          const block = event.content_block;
          if (block.type === "text" && block.text) yield { type: "text", text: block.text };
          else if (block.type === "tool_use") {
            tools.set(event.index, { id: block.id, name: block.name, json: "", closed: false });
            order.push(event.index);
          }
          break;
        }
        case "content_block_delta": {
          const delta = event.delta;
          if (delta.type === "text_delta") {
            if (delta.text) yield { type: "text", text: delta.text };
          } else if (delta.type === "input_json_delta") {
            const tool = tools.get(event.index);
            if (tool) tool.json += delta.partial_json;
          }
          break;
        }
        case "content_block_stop": {
          const tool = tools.get(event.index);
          if (tool) tool.closed = true;
          break;
        }
        case "message_delta": {
          takeUsage(event.usage);
          stopReason = anthropicStopReason(event.delta.stop_reason);
          // Tool calls go out once the stop reason tells a cut block from a malformed one.
          const last = order[order.length - 1];
          for (const index of order) {
            const tool = tools.get(index);
            if (!tool) continue;
            const cut = stopReason === "max_tokens" && (index === last || !tool.closed);
            yield toolUseFrom(tool.id, tool.name, tool.json, cut);
          }
          tools.clear();
          break;
        }
        case "message_stop":
          stopped = true;
          break;
      }
    }
    if (!stopped || stopReason === null) throw new IncompleteStreamError();
    const input = usage.input + usage.cacheRead + usage.cacheWrite;
    yield {
      type: "usage",
      input,
      output: usage.output,
      ...(usage.cacheRead > 0 ? { cacheRead: usage.cacheRead } : {}),
    };
    yield { type: "stop", reason: stopReason };
  };
}
