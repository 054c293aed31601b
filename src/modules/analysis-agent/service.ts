import { and, asc, count, eq, gt, isNull, lt, or, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Config } from "@/config";
import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import {
  analysisChat,
  analysisIssueMaster,
  analysisSession,
  analysisSnapshot,
  analysisStep,
  auditLog,
} from "@/db/schema";
import { AppError, problem } from "@/lib/errors";
import { newId } from "@/lib/ids";
import { type ContentBlock, LlmError, type LlmProvider, type LlmRequest, type Msg } from "@/lib/llm/types";
import type { Metrics } from "@/lib/metrics";
import type { SessionDetail } from "@/modules/analysis-session/model";
import { getSessionDetail, loadSession } from "@/modules/analysis-session/service";
import { inputOf, jsonConfig, resultCache, stepsOf, toDef } from "@/modules/analysis-session/steps";
import type { Caller } from "@/modules/auth/service";
import { assertOwnerOrModerator, type ProjectAccess } from "@/modules/project/access";
import {
  digest,
  historyMessages,
  markSummary,
  PROMPT_HASH,
  PROMPT_VERSION,
  pairsOf,
  readSummary,
  sessionBlock,
  splitHistory,
  stateBlock,
  systemBlocks,
} from "./context";
import { capJson, executeTool, TOOL_DEFS, type ToolOutcome, toolError } from "./tools";
import { type StepChange, WorkingCopy } from "./working-copy";

/*
 * One chat turn (analysis.md §5.1): lease, load, an LLM/tool loop over an in-memory working copy,
 * a repair gate, then one all-or-nothing commit of a new snapshot with the transcript. No database
 * transaction is open while the model runs; a failed turn writes nothing but its audit record.
 */

export type AgentDeps = {
  db: Database;
  actor: AuditActor;
  llm: LlmProvider | null;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Fires at process shutdown: the turn ends `timed_out` and writes nothing. */
  shutdown?: AbortSignal;
};

export type TurnOutcome = "completed" | "budget_exhausted" | "failed" | "timed_out";
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

export type TurnResult = {
  outcome: "completed" | "budget_exhausted";
  detail: SessionDetail;
  usage: TurnUsage;
};

type TraceEntry = { tool: string; input: unknown; ok: boolean; output: string; durationMs: number };

const BUDGET_NOTICE = "(このターンのトークン上限に達したため、ここで終了します。)";
const TRACE_OUTPUT_MAX = 4096;

const inProgress = () => problem("CHAT_IN_PROGRESS");

/** Checks that answer before anything runs (§5.1): the caller, the session state, quota, provider. */
async function preflight(deps: AgentDeps, caller: Caller, access: ProjectAccess, sessionId: string) {
  const session = await loadSession(deps.db, access.project.id, sessionId);
  assertOwnerOrModerator(access, caller.user.id, session.creatorId);
  if (!session.inputFileId || !session.currentSnapshotId) {
    throw problem("INPUT_FILE_REQUIRED");
  }
  if (session.status === "archived") {
    throw problem("SESSION_ARCHIVED");
  }
  const hourAgo = new Date(Date.now() - 3600_000);
  const [{ n }] = await deps.db
    .select({ n: count() })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.userId, caller.user.id),
        eq(auditLog.action, "CHAT_TURN"),
        gt(auditLog.createdAt, hourAgo),
      ),
    );
  if (n >= deps.config.llmMaxTurnsPerUserPerHour) {
    const [oldest] = await deps.db
      .select({ at: auditLog.createdAt })
      .from(auditLog)
      .where(
        and(
          eq(auditLog.userId, caller.user.id),
          eq(auditLog.action, "CHAT_TURN"),
          gt(auditLog.createdAt, hourAgo),
        ),
      )
      .orderBy(asc(auditLog.createdAt))
      .limit(1);
    const retryAfter = Math.max(
      1,
      Math.ceil(((oldest?.at.getTime() ?? Date.now()) + 3600_000 - Date.now()) / 1000),
    );
    throw problem("LLM_QUOTA_EXCEEDED", {
      headers: { "Retry-After": String(retryAfter) },
      extensions: { limit: deps.config.llmMaxTurnsPerUserPerHour },
    });
  }
  if (!deps.llm) {
    throw problem("LLM_NOT_CONFIGURED");
  }
  return { session, llm: deps.llm };
}

/** Takes the session lease with a conditional update; the lease value is this turn's token. */
async function takeLease(deps: AgentDeps, sessionId: string): Promise<Date> {
  const until = new Date(Date.now() + (deps.config.llmTurnTimeoutS + 30) * 1000);
  const taken = await deps.db
    .update(analysisSession)
    .set({ chatLeaseUntil: until })
    .where(
      and(
        eq(analysisSession.id, sessionId),
        or(isNull(analysisSession.chatLeaseUntil), lt(analysisSession.chatLeaseUntil, new Date())),
      ),
    )
    .returning({ id: analysisSession.id });
  if (taken.length === 0) throw inProgress();
  return until;
}

async function releaseLease(db: Database, sessionId: string, lease: Date) {
  await db
    .update(analysisSession)
    .set({ chatLeaseUntil: null })
    .where(and(eq(analysisSession.id, sessionId), eq(analysisSession.chatLeaseUntil, lease)));
}

export async function runTurn(
  deps: AgentDeps,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
  message: string,
  emit: (event: TurnEvent) => void,
  /** Called once the lease is held: later failures belong to the turn, not to the request. */
  onStarted?: () => void,
): Promise<TurnResult> {
  const { session, llm } = await preflight(deps, caller, access, sessionId);
  const lease = await takeLease(deps, sessionId);
  onStarted?.();
  const started = performance.now();
  const usage: TurnUsage = { llmCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0 };
  const deadline = Date.now() + deps.config.llmTurnTimeoutS * 1000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("turn deadline")), deadline - Date.now());
  const onShutdown = () => controller.abort(new Error("shutdown"));
  if (deps.shutdown?.aborted) onShutdown();
  deps.shutdown?.addEventListener("abort", onShutdown);
  let outcome: TurnOutcome = "failed";
  let statusCode = 500;
  try {
    const result = await turnBody();
    outcome = result.outcome;
    statusCode = 200;
    return result;
  } catch (e) {
    const mapped = mapFailure(e, controller.signal);
    outcome = mapped.status === 504 ? "timed_out" : "failed";
    statusCode = mapped.status;
    throw mapped;
  } finally {
    clearTimeout(timer);
    deps.shutdown?.removeEventListener("abort", onShutdown);
    deps.metrics.recordAgentTurn(outcome);
    deps.logger.info(
      {
        sessionId,
        outcome,
        durationMs: Math.round(performance.now() - started),
        prompt: PROMPT_VERSION,
        promptHash: PROMPT_HASH,
        ...usage,
      },
      "chat turn",
    );
    if (outcome !== "completed" && outcome !== "budget_exhausted") {
      await releaseLease(deps.db, sessionId, lease).catch(() => {});
      await writeAudit(deps.db, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "CHAT_TURN",
        resourceType: "analysis_session",
        resourceId: sessionId,
        projectId: access.project.id,
        outcome: "failed",
        statusCode,
        newValue: { outcome, ...usage },
      }).catch((err) => deps.logger.error({ err }, "audit of a failed chat turn"));
    }
  }

  async function turnBody(): Promise<TurnResult> {
    const signal = controller.signal;
    const baseId = session.currentSnapshotId!;
    const [[base], chats, rows, [issue]] = await Promise.all([
      deps.db.select().from(analysisSnapshot).where(eq(analysisSnapshot.id, baseId)),
      deps.db
        .select()
        .from(analysisChat)
        .where(eq(analysisChat.snapshotId, baseId))
        .orderBy(asc(analysisChat.chatOrder)),
      stepsOf(deps.db, baseId),
      deps.db
        .select({ name: analysisIssueMaster.name })
        .from(analysisIssueMaster)
        .where(eq(analysisIssueMaster.id, session.issueId)),
    ]);
    const { frame, hash } = await inputOf(deps.db, session);
    const copy = new WorkingCopy(
      frame,
      hash,
      rows.map((r) => ({ ...toDef(r), config: r.config })),
      { cache: resultCache, signal },
    );

    const recipe = chats.find((c) => c.role === "system")?.message ?? null;
    const { kept, folded } = splitHistory(
      pairsOf(chats),
      deps.config.agentHistoryTurns,
      deps.config.agentHistoryMaxChars,
    );
    const summary = await conversationSummary(folded, base?.conversationSummary ?? null);
    const session_ = sessionBlock({
      issueName: issue?.name ?? "",
      recipe,
      customSystemPrompt: session.customSystemPrompt,
      initialMessage: session.initialMessage,
      conversationSummary: summary ? readSummary(summary)!.text : null,
    });
    const messages: Msg[] = [...historyMessages(kept), { role: "user", content: message }];

    const texts: string[] = [];
    const trace: TraceEntry[] = [];
    const changed = new Set<string>();
    let budgetExhausted = false;
    let finalCall = false;
    let repairRounds = 0;

    const toolCtx = {
      copy,
      toolCallsLeft: () => Math.max(0, deps.config.agentMaxToolCallsPerTurn - usage.toolCalls),
      maxChars: deps.config.agentToolResultMaxChars,
    };

    for (;;) {
      if (usage.llmCalls >= deps.config.agentMaxLlmCallsPerTurn && !finalCall) {
        budgetExhausted = true;
        finalCall = true;
      }
      const system = systemBlocks(session_, stateBlock(copy, deps.config.agentContextMaxChars));
      // LLM calls are separated by a blank line in the stored message, and the deltas must match it.
      const separate = texts.length > 0;
      let started = false;
      const reply = await callModel(
        llm,
        {
          system,
          messages,
          tools: TOOL_DEFS,
          toolChoice: finalCall ? "none" : "auto",
          maxTokens: deps.config.llmMaxTokens,
          temperature: deps.config.llmTemperature,
          deadline,
        },
        signal,
        (text) => {
          if (!started && separate) emit({ event: "delta", data: { text: "\n\n" } });
          started = true;
          emit({ event: "delta", data: { text } });
        },
      );
      usage.llmCalls++;
      usage.inputTokens += reply.usage.input;
      usage.outputTokens += reply.usage.output;
      if (reply.text) texts.push(reply.text);
      const blocks: ContentBlock[] = [];
      if (reply.text) blocks.push({ type: "text", text: reply.text });
      for (const call of reply.toolUses) {
        blocks.push({ type: "tool_use", id: call.id, name: call.name, input: call.input ?? {} });
      }
      if (blocks.length > 0) messages.push({ role: "assistant", content: blocks });

      if (usage.inputTokens + usage.outputTokens > deps.config.agentMaxTurnTokens) {
        budgetExhausted = true;
        texts.push(BUDGET_NOTICE);
        emit({ event: "delta", data: { text: `${texts.length > 1 ? "\n\n" : ""}${BUDGET_NOTICE}` } });
        break;
      }
      if (reply.toolUses.length === 0 || finalCall) {
        if (finalCall || budgetExhausted) break;
        const broken = copy.newlyInvalid();
        if (broken.length === 0) break;
        if (repairRounds >= deps.config.agentMaxRepairRounds) break;
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
        if (usage.toolCalls >= deps.config.agentMaxToolCallsPerTurn) {
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
            copy.setToolDeadline(performance.now() + deps.config.agentToolTimeoutS * 1000);
            try {
              outcome = runTool(call.name, call.input, toolCtx, deps.logger);
            } finally {
              copy.setToolDeadline(null);
            }
          }
        }
        const durationMs = Math.round(performance.now() - t0);
        deps.metrics.recordAgentToolCall(call.name, outcome.ok ? "ok" : "error");
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
    const outcome = budgetExhausted ? "budget_exhausted" : "completed";
    const assistantText = texts.filter((t) => t.length > 0).join("\n\n");
    const snapshot = await commit({
      baseId,
      copy,
      chats,
      rowsBefore: rows,
      changed,
      message,
      assistantText,
      trace,
      usage,
      outcome,
      summary: summary !== base?.conversationSummary ? summary : (base?.conversationSummary ?? null),
    });
    emit({ event: "snapshot", data: snapshot });
    const detail = await getSessionDetail(deps.db, access.project.id, sessionId);
    return { outcome, detail, usage };
  }

  async function conversationSummary(
    folded: ReturnType<typeof splitHistory>["folded"],
    stored: string | null,
  ) {
    if (folded.length === 0) return stored;
    const previous = readSummary(stored);
    if (previous && previous.count === folded.length) return stored;
    if (deps.config.agentHistorySummary === "truncate") return markSummary(folded.length, digest(folded));
    try {
      const reply = await callModel(
        llm,
        {
          system: [
            { text: "会話の要約を作成します。事実・数値・決定事項を日本語で簡潔にまとめてください。" },
          ],
          messages: [{ role: "user", content: digest(folded) }],
          tools: [],
          toolChoice: "none",
          maxTokens: 800,
          temperature: 0,
          deadline,
        },
        controller.signal,
        () => {},
      );
      usage.llmCalls++;
      usage.inputTokens += reply.usage.input;
      usage.outputTokens += reply.usage.output;
      return markSummary(folded.length, reply.text || digest(folded));
    } catch (e) {
      if (controller.signal.aborted) throw e;
      deps.logger.warn({ err: e }, "conversation summary fell back to the digest");
      return markSummary(folded.length, digest(folded));
    }
  }

  async function commit(input: {
    baseId: string;
    copy: WorkingCopy;
    chats: (typeof analysisChat.$inferSelect)[];
    rowsBefore: (typeof analysisStep.$inferSelect)[];
    changed: Set<string>;
    message: string;
    assistantText: string;
    trace: TraceEntry[];
    usage: TurnUsage;
    outcome: "completed" | "budget_exhausted";
    summary: string | null;
  }): Promise<{ snapshotId: string; order: number }> {
    const snapshotId = newId();
    return deps.db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(analysisSession)
        .where(eq(analysisSession.id, sessionId))
        .for("update");
      if (
        !row ||
        row.currentSnapshotId !== input.baseId ||
        row.chatLeaseUntil?.getTime() !== lease.getTime()
      ) {
        throw inProgress();
      }
      const [{ top }] = await tx
        .select({ top: sql<number>`max(${analysisSnapshot.snapshotOrder})` })
        .from(analysisSnapshot)
        .where(eq(analysisSnapshot.sessionId, sessionId));
      const order = Number(top) + 1;
      await tx.insert(analysisSnapshot).values({
        id: snapshotId,
        sessionId,
        parentSnapshotId: input.baseId,
        snapshotOrder: order,
        trigger: "chat",
        conversationSummary: input.summary,
        createdBy: caller.user.id,
      });
      const chatIds = new Map(input.chats.map((c) => [c.id, newId()]));
      const nextOrder = (input.chats.at(-1)?.chatOrder ?? -1) + 1;
      const assistantId = newId();
      await tx.insert(analysisChat).values([
        ...input.chats.map((c) => ({ ...c, id: chatIds.get(c.id)!, snapshotId, createdAt: undefined })),
        {
          id: newId(),
          snapshotId,
          chatOrder: nextOrder,
          role: "user",
          message: input.message,
          authorId: caller.user.id,
        },
        {
          id: assistantId,
          snapshotId,
          chatOrder: nextOrder + 1,
          role: "assistant",
          message: input.assistantText,
          toolTrace: input.trace,
          tokenUsage: {
            input: input.usage.inputTokens,
            output: input.usage.outputTokens,
            llmCalls: input.usage.llmCalls,
            toolCalls: input.usage.toolCalls,
          },
        },
      ]);
      const before = new Map(input.rowsBefore.map((r) => [r.stepKey, r]));
      const steps = input.copy.steps;
      if (steps.length > 0) {
        await tx.insert(analysisStep).values(
          steps.map((s, i) => {
            const prior = before.get(s.stepKey);
            const trigger = input.changed.has(s.stepKey)
              ? assistantId
              : prior?.triggeredByChatId
                ? (chatIds.get(prior.triggeredByChatId) ?? null)
                : null;
            return {
              id: newId(),
              snapshotId,
              stepKey: s.stepKey,
              stepOrder: i,
              name: s.name,
              type: s.type,
              input: s.input,
              config: jsonConfig(s.config),
              triggeredByChatId: trigger,
            };
          }),
        );
      }
      await tx
        .update(analysisSession)
        .set({
          currentSnapshotId: snapshotId,
          status: row.status === "completed" || row.status === "draft" ? "active" : row.status,
          completedAt: row.status === "completed" ? null : undefined,
          chatLeaseUntil: null,
          updatedAt: new Date(),
        })
        .where(eq(analysisSession.id, sessionId));
      await writeAudit(tx, deps.actor, {
        eventType: "DATA_CHANGE",
        action: "CHAT_TURN",
        resourceType: "analysis_session",
        resourceId: sessionId,
        projectId: access.project.id,
        newValue: { outcome: input.outcome, snapshotOrder: order, ...input.usage },
      });
      return { snapshotId, order };
    });
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

async function callModel(
  llm: LlmProvider,
  req: LlmRequest,
  signal: AbortSignal,
  onText: (text: string) => void,
): Promise<Reply> {
  const reply: Reply = { text: "", toolUses: [], usage: { input: 0, output: 0 }, stop: "other" };
  for await (const ev of llm.stream(req, signal)) {
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
  return reply;
}

function mapFailure(e: unknown, signal: AbortSignal): AppError {
  if (e instanceof AppError) return e;
  if (signal.aborted) {
    return problem("LLM_TIMEOUT");
  }
  if (e instanceof LlmError) {
    if (e.kind === "aborted") {
      return problem("LLM_TIMEOUT");
    }
    return problem("LLM_UNAVAILABLE", {
      detail: `The LLM provider failed: ${e.message}`.slice(0, 300),
      extensions: { attempts: e.attempts },
    });
  }
  if (e instanceof Error && e.name === "AbortError") {
    return problem("LLM_TIMEOUT");
  }
  throw e;
}
