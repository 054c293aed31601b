import type OpenAI from "openai";
import type { Attempt } from "./runner";
import { IncompleteStreamError } from "./runner";
import { toolUseFrom } from "./tool-input";
import type { LlmEvent, LlmRequest, Msg, StopReason } from "./types";

type Params = OpenAI.Chat.ChatCompletionCreateParamsStreaming;
type MessageParam = OpenAI.Chat.ChatCompletionMessageParam;

/*
 * Chat Completions for OpenAI and Azure OpenAI. A neutral user message that carries tool results
 * becomes `role: "tool"` messages (which must directly follow the assistant's tool calls) and
 * then one user message for any text beside them.
 */
function messageParams(msg: Msg): MessageParam[] {
  if (typeof msg.content === "string") return [{ role: msg.role, content: msg.content }];
  const text = msg.content
    .filter((b) => b.type === "text")
    .map((b) => b.text)
    .join("");
  if (msg.role === "assistant") {
    const calls = msg.content.flatMap((b) =>
      b.type === "tool_use"
        ? [
            {
              id: b.id,
              type: "function" as const,
              function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
            },
          ]
        : [],
    );
    return [
      {
        role: "assistant",
        content: text === "" && calls.length > 0 ? null : text,
        ...(calls.length > 0 ? { tool_calls: calls } : {}),
      },
    ];
  }
  const out: MessageParam[] = msg.content.flatMap((b) =>
    b.type === "tool_result"
      ? [{ role: "tool" as const, tool_call_id: b.toolUseId, content: b.content }]
      : [],
  );
  if (text !== "") out.push({ role: "user", content: text });
  return out;
}

export function openaiParams(req: LlmRequest, model: string, flavour: "openai" | "azure_openai"): Params {
  const tools = req.tools.map((tool) => ({
    type: "function" as const,
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  }));
  return {
    model,
    // Current OpenAI models take only `max_completion_tokens`; older Azure API versions only `max_tokens`.
    ...(flavour === "openai" ? { max_completion_tokens: req.maxTokens } : { max_tokens: req.maxTokens }),
    temperature: req.temperature,
    stream: true,
    stream_options: { include_usage: true },
    messages: [
      ...req.system.map((block): MessageParam => ({ role: "system", content: block.text })),
      ...req.messages.flatMap(messageParams),
    ],
    ...(tools.length > 0 ? { tools, tool_choice: req.toolChoice } : {}),
  };
}

export function openaiStopReason(reason: string | null | undefined): StopReason {
  switch (reason) {
    case "stop":
      return "end_turn";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "length":
      return "max_tokens";
    case "content_filter":
      return "refusal";
    default:
      return "other";
  }
}

/* `client` is built on first use: the SDK is loaded only by a deployment that chats. */
export function openaiAttempt(
  client: () => Promise<OpenAI>,
  model: string,
  flavour: "openai" | "azure_openai",
): Attempt {
  return async function* attempt(req, io): AsyncGenerator<LlmEvent> {
    const stream = await (await client()).chat.completions.create(openaiParams(req, model, flavour), {
      signal: io.signal,
    });
    io.responded();

    const calls = new Map<number, { id: string; name: string; json: string }>();
    let usage: OpenAI.CompletionUsage | null = null;
    let finish: string | null = null;
    let refused = false;
    let toolsSent = false;
    const flushTools = function* (): Generator<LlmEvent> {
      if (toolsSent) return;
      toolsSent = true;
      const indexes = [...calls.keys()].sort((a, b) => a - b);
      const last = indexes[indexes.length - 1];
      for (const index of indexes) {
        const call = calls.get(index)!;
        yield toolUseFrom(call.id, call.name, call.json, finish === "length" && index === last);
      }
    };

    for await (const chunk of stream) {
      io.chunk();
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const delta = choice.delta;
      if (delta?.content) yield { type: "text", text: delta.content };
      if (delta?.refusal) refused = true;
      for (const part of delta?.tool_calls ?? []) {
        let call = calls.get(part.index);
        if (!call) {
          call = { id: part.id ?? `call_${part.index}`, name: "", json: "" };
          calls.set(part.index, call);
        }
        if (part.id) call.id = part.id;
        if (part.function?.name) call.name += part.function.name;
        if (part.function?.arguments) call.json += part.function.arguments;
      }
      if (choice.finish_reason) {
        finish = choice.finish_reason;
        yield* flushTools();
      }
    }
    if (finish === null) throw new IncompleteStreamError();
    const cacheRead = usage?.prompt_tokens_details?.cached_tokens ?? 0;
    yield {
      type: "usage",
      input: usage?.prompt_tokens ?? 0,
      output: usage?.completion_tokens ?? 0,
      ...(cacheRead > 0 ? { cacheRead } : {}),
    };
    yield { type: "stop", reason: refused ? "refusal" : openaiStopReason(finish) };
  };
}
