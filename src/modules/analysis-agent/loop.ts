import type { Logger } from "pino";
import type { Config } from "@/config";
import { problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { type ContentBlock, LlmError, type LlmProvider, type LlmRequest, type Msg } from "@/lib/llm/types";
import type { Metrics } from "@/lib/metrics";
import { digest, markSummary, readSummary, type splitHistory, stateBlock, systemBlocks } from "./context";
import { capJson, executeTool, TOOL_DEFS, type ToolOutcome, toolError } from "./tools";
import type { StepChange, WorkingCopy } from "./working-copy";

/*
 * The LLM/tool loop of one chat turn (analysis.md §5.1 steps 3–5) over the in-memory working
 * copy. No database here: it reads and changes only the working copy and reports through `emit`;
 * the caller commits what it leaves.
 */

export type TurnUsage = { llmCalls: number; toolCalls: number; inputTokens: number; outputTokens: number };

export type TurnEvent =
  | { event: "delta"; data: { text: string } }
  | { event: "tool.start"; data: { callId: string; tool: string; input: unknown } }
  | {
      event: "tool";
      data: { callId: string; tool: string; ok: boolean; summary: string; durationMs: number };
    }
  | { event: "step"; data: StepChange }
  | { event: "snapshot"; data: { snapshotId: string; order: number } };

export type TraceEntry = { tool: string; input: unknown; ok: boolean; output: string; durationMs: number };

/** What the loop needs from the app, the turn's budget counters and its cancellation. */
export type LoopContext = {
  llm: LlmProvider;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  usage: TurnUsage;
  signal: AbortSignal;
  /** Epoch ms by which every LLM call must end. */
  deadline: number;
  emit: (event: TurnEvent) => void;
};

export type LoopResult = {
  assistantText: string;
  trace: TraceEntry[];
  /** Step keys the tools changed this turn. */
  changed: Set<string>;
  budgetExhausted: boolean;
};

const BUDGET_NOTICE = "(このターンのトークン上限に達したため、ここで終了します。)";
const TRACE_OUTPUT_MAX = 4096;

/**
 * Runs model calls and tools until the model stops, a budget is spent or the repair rounds run
 * out; throws STEP_CONFIG_INVALID when the working copy is left with steps this turn broke.
 */
export async function runLoop(
  ctx: LoopContext,
  copy: WorkingCopy,
  sessionText: string,
  messages: Msg[],
): Promise<LoopResult> {
  const { config, usage, signal, emit } = ctx;
  const texts: string[] = [];
  const trace: TraceEntry[] = [];
  const changed = new Set<string>();
  let budgetExhausted = false;
  let finalCall = false;
  let repairRounds = 0;

  const toolCtx = {
    copy,
    toolCallsLeft: () => Math.max(0, config.agentMaxToolCallsPerTurn - usage.toolCalls),
    maxChars: config.agentToolResultMaxChars,
  };

  for (;;) {
    if (usage.llmCalls >= config.agentMaxLlmCallsPerTurn && !finalCall) {
      budgetExhausted = true;
      finalCall = true;
    }
    const system = systemBlocks(sessionText, stateBlock(copy, config.agentContextMaxChars));
    // LLM calls are separated by a blank line in the stored message, and the deltas must match it.
    const separate = texts.length > 0;
    let started = false;
    const reply = await callModel(
      ctx,
      {
        system,
        messages,
        tools: TOOL_DEFS,
        toolChoice: finalCall ? "none" : "auto",
        maxTokens: config.llmMaxTokens,
        temperature: config.llmTemperature,
        deadline: ctx.deadline,
      },
      (text) => {
        if (!started && separate) emit({ event: "delta", data: { text: "\n\n" } });
        started = true;
        emit({ event: "delta", data: { text } });
      },
    );
    if (reply.text) texts.push(reply.text);
    const blocks: ContentBlock[] = [];
    if (reply.text) blocks.push({ type: "text", text: reply.text });
    for (const call of reply.toolUses) {
      blocks.push({ type: "tool_use", id: call.id, name: call.name, input: call.input ?? {} });
    }
    if (blocks.length > 0) messages.push({ role: "assistant", content: blocks });

    if (usage.inputTokens + usage.outputTokens > config.agentMaxTurnTokens) {
      budgetExhausted = true;
      texts.push(BUDGET_NOTICE);
      emit({ event: "delta", data: { text: `${texts.length > 1 ? "\n\n" : ""}${BUDGET_NOTICE}` } });
      break;
    }
    if (reply.toolUses.length === 0 || finalCall) {
      if (finalCall || budgetExhausted) break;
      const broken = copy.newlyInvalid();
      if (broken.length === 0) break;
      if (repairRounds >= config.agentMaxRepairRounds) break;
      repairRounds++;
      messages.push({ role: "user", content: repairMessage(broken) });
      continue;
    }

    const results: ContentBlock[] = [];
    for (const call of reply.toolUses) {
      signal.throwIfAborted();
      emit({ event: "tool.start", data: { callId: call.id, tool: call.name, input: call.input } });
      const t0 = performance.now();
      let outcome: ToolOutcome;
      if (usage.toolCalls >= config.agentMaxToolCallsPerTurn) {
        budgetExhausted = true;
        outcome = toolError(
          "BUDGET_EXHAUSTED",
          "The tool call budget of this turn is spent; answer with what you have.",
          toolCtx,
          call.name,
        );
      } else {
        usage.toolCalls++;
        if (call.inputError) {
          outcome = toolError(
            call.inputError === "truncated" ? "TOOL_INPUT_TRUNCATED" : "TOOL_INPUT_INVALID",
            call.inputError === "truncated"
              ? "The tool input was cut off by the output token limit; send a smaller input."
              : "The tool input was not valid JSON.",
            toolCtx,
            call.name,
          );
        } else {
          copy.setToolDeadline(performance.now() + config.agentToolTimeoutS * 1000);
          try {
            outcome = runTool(call.name, call.input, toolCtx, ctx.logger);
          } finally {
            copy.setToolDeadline(null);
          }
        }
      }
      const durationMs = Math.round(performance.now() - t0);
      ctx.metrics.recordAgentToolCall(call.name, outcome.ok ? "ok" : "error");
      trace.push({
        tool: call.name,
        input: call.input,
        ok: outcome.ok,
        output: outcome.content.slice(0, TRACE_OUTPUT_MAX),
        durationMs,
      });
      emit({
        event: "tool",
        data: { callId: call.id, tool: call.name, ok: outcome.ok, summary: outcome.summary, durationMs },
      });
      for (const c of outcome.changes) {
        changed.add(c.stepKey);
        emit({ event: "step", data: c });
      }
      results.push({
        type: "tool_result",
        toolUseId: call.id,
        content: outcome.content,
        isError: !outcome.ok,
      });
    }
    messages.push({ role: "user", content: results });
    if (budgetExhausted) finalCall = true;
  }

  const broken = copy.newlyInvalid();
  if (broken.length > 0) {
    throw problem("STEP_CONFIG_INVALID", {
      detail: "the agent left invalid steps",
      errors: broken.map((r) => ({
        path: `/steps/${r.stepKey}`,
        message: `${r.name}: ${r.error?.detail ?? r.status}`,
      })),
      extensions: { steps: broken.map((r) => ({ stepKey: r.stepKey, name: r.name, error: r.error })) },
    });
  }
  signal.throwIfAborted();
  return {
    assistantText: texts.filter((t) => t.length > 0).join("\n\n"),
    trace,
    changed,
    budgetExhausted,
  };
}

/**
 * The conversation summary that stands for the folded older turns (analysis.md §5.2): the stored
 * one while it covers the same turns, else a model summary, or the digest when that fails.
 */
export async function conversationSummary(
  ctx: LoopContext,
  folded: ReturnType<typeof splitHistory>["folded"],
  stored: string | null,
): Promise<string | null> {
  if (folded.length === 0) return stored;
  const previous = readSummary(stored);
  if (previous && previous.count === folded.length) return stored;
  if (ctx.config.agentHistorySummary === "truncate") return markSummary(folded.length, digest(folded));
  try {
    const reply = await callModel(
      ctx,
      {
        system: [{ text: "会話の要約を作成します。事実・数値・決定事項を日本語で簡潔にまとめてください。" }],
        messages: [{ role: "user", content: digest(folded) }],
        tools: [],
        toolChoice: "none",
        maxTokens: 800,
        temperature: 0,
        deadline: ctx.deadline,
      },
      () => {},
    );
    return markSummary(folded.length, reply.text || digest(folded));
  } catch (e) {
    if (ctx.signal.aborted) throw e;
    ctx.logger.warn({ err: e }, "conversation summary fell back to the digest");
    return markSummary(folded.length, digest(folded));
  }
}

function repairMessage(broken: ReturnType<WorkingCopy["newlyInvalid"]>): string {
  const lines = broken.map((r) => `- ${r.name} (stepKey ${r.stepKey}): ${r.error?.detail ?? r.status}`);
  return `[システム] 次のステップがこのターンで無効になりました。ツールで修正してください(不要なら削除してください)。\n${lines.join("\n")}`;
}

function runTool(
  name: string,
  input: unknown,
  ctx: Parameters<typeof executeTool>[2],
  logger: Logger,
): ToolOutcome {
  try {
    return executeTool(name, input, ctx);
  } catch (e) {
    const ref = newId().slice(0, 8);
    logger.error({ err: e, tool: name, ref }, "agent tool failed");
    return {
      ok: false,
      content: capJson(
        {
          ok: false,
          error: { code: "INTERNAL", message: `internal error ${ref}` },
          budget: { toolCallsLeft: ctx.toolCallsLeft() },
        },
        ctx.maxChars,
      ),
      summary: `${name}: internal error ${ref}`,
      changes: [],
    };
  }
}

type Reply = {
  text: string;
  toolUses: { id: string; name: string; input: unknown; inputError?: "invalid_json" | "truncated" }[];
  usage: { input: number; output: number };
  stop: string;
};

/* One streamed model call; its tokens count against the turn's usage. */
async function callModel(ctx: LoopContext, req: LlmRequest, onText: (text: string) => void): Promise<Reply> {
  const reply: Reply = { text: "", toolUses: [], usage: { input: 0, output: 0 }, stop: "other" };
  for await (const ev of ctx.llm.stream(req, ctx.signal)) {
    if (ev.type === "text") {
      if (ev.text.length === 0) continue;
      reply.text += ev.text;
      onText(ev.text);
    } else if (ev.type === "tool_use") {
      reply.toolUses.push({ id: ev.id, name: ev.name, input: ev.input, inputError: ev.inputError });
    } else if (ev.type === "usage") {
      reply.usage.input += ev.input;
      reply.usage.output += ev.output;
    } else if (ev.type === "stop") {
      reply.stop = ev.reason;
    }
  }
  if (reply.stop === "refusal") throw new LlmError("upstream", "The model refused to answer.");
  if (reply.stop === "max_tokens") {
    for (const call of reply.toolUses) call.inputError ??= call.input === null ? "truncated" : undefined;
  }
  ctx.usage.llmCalls++;
  ctx.usage.inputTokens += reply.usage.input;
  ctx.usage.outputTokens += reply.usage.output;
  return reply;
}
