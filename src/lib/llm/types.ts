/*
 * The provider-neutral shape the analysis agent talks to (analysis.md §5.8). Each adapter
 * renders it in its own protocol; everything the agent sees comes back as `LlmEvent`s.
 */

/** `cache` → Anthropic `cache_control: ephemeral` on this block (and on the tool list); ignored elsewhere. */
export type SystemBlock = { text: string; cache?: boolean };

export type ToolDef = { name: string; description: string; inputSchema: Record<string, unknown> };

export type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: unknown }
  | { type: "tool_result"; toolUseId: string; content: string; isError: boolean };

export type Msg = { role: "user" | "assistant"; content: string | ContentBlock[] };

export type LlmRequest = {
  system: SystemBlock[];
  messages: Msg[];
  tools: ToolDef[];
  toolChoice: "auto" | "none";
  maxTokens: number;
  temperature: number;
  /** epoch ms; retries never sleep past it */
  deadline?: number;
};

export type StopReason = "end_turn" | "tool_use" | "max_tokens" | "refusal" | "other";

export type LlmEvent =
  | { type: "text"; text: string }
  | {
      type: "tool_use";
      id: string;
      name: string;
      input: unknown;
      /** set when the arguments were not valid JSON or were cut by max_tokens; input is then null */
      inputError?: "invalid_json" | "truncated";
    }
  /** `input` counts every prompt token, cache reads included; `cacheRead` is that cached share. */
  | { type: "usage"; input: number; output: number; cacheRead?: number }
  | { type: "stop"; reason: StopReason };

export interface LlmProvider {
  readonly name: "anthropic" | "openai" | "azure_openai";
  readonly model: string;
  stream(req: LlmRequest, signal: AbortSignal): AsyncIterable<LlmEvent>;
}

export type LlmErrorKind = "timeout" | "rate_limited" | "upstream" | "auth" | "bad_request" | "aborted";

export class LlmError extends Error {
  kind: LlmErrorKind;
  status?: number;
  /** HTTP attempts made for this call, the failed one included. */
  attempts: number;

  constructor(
    kind: LlmErrorKind,
    message: string,
    options: { status?: number; attempts?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "LlmError";
    this.kind = kind;
    if (options.status !== undefined) this.status = options.status;
    this.attempts = options.attempts ?? 1;
  }
}

/** One HTTP attempt as the optional tracing hook sees it; carries no prompt text and no secrets. */
export type LlmTraceSpan = {
  provider: LlmProvider["name"];
  model: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  outcome: "ok" | LlmErrorKind;
  status?: number;
  stopReason?: StopReason;
  usage?: { input: number; output: number; cacheRead?: number };
  request: { messages: number; tools: number; toolChoice: "auto" | "none"; maxTokens: number };
};
