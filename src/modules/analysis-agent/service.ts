import type { Logger } from "pino";
import type { Config } from "@/config";
import type { Database } from "@/db/client";
import { type AuditActor, writeAudit } from "@/db/queries/audit";
import { AppError, problem } from "@/lib/errors";
import { LlmError, type LlmProvider, type Msg } from "@/lib/llm/types";
import type { Metrics } from "@/lib/metrics";
import type { AnalysisCaches } from "@/modules/analysis-session/caches";
import type { SessionDetail } from "@/modules/analysis-session/model";
import * as sessionQueries from "@/modules/analysis-session/queries";
import * as repo from "@/modules/analysis-session/repository";
import { inputOf, toDef } from "@/modules/analysis-session/results";
import { getSessionDetail, loadSession } from "@/modules/analysis-session/service";
import type { Caller } from "@/modules/auth/service";
import { assertOwnerOrModerator, type ProjectAccess } from "@/modules/project/access";
import {
  historyMessages,
  PROMPT_HASH,
  PROMPT_VERSION,
  pairsOf,
  readSummary,
  sessionBlock,
  splitHistory,
} from "./context";
import { conversationSummary, type LoopContext, runLoop, type TurnEvent, type TurnUsage } from "./loop";
import { countTurnsSince, oldestTurnSince } from "./queries";
import { WorkingCopy } from "./working-copy";

/*
 * One chat turn (analysis.md §5.1) in three parts: preflight (checks, quota, lease), the LLM/tool
 * loop over an in-memory working copy (`loop.ts`, no database), then one all-or-nothing commit of a
 * new snapshot with the transcript through the session repository. No database transaction is
 * open while the model runs; a failed turn writes nothing but its audit record.
 */

export type { TurnEvent, TurnUsage };

export type AgentDeps = {
  db: Database;
  actor: AuditActor;
  caches: AnalysisCaches;
  llm: LlmProvider | null;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** Fires at process shutdown: the turn ends `timed_out` and writes nothing. */
  shutdown?: AbortSignal;
  /** The runtime LLM settings (api.md §2.12.4); absent → the environment's values. */
  llmLimits?: () => Promise<LlmLimits>;
};

export type LlmLimits = { maxTurnsPerUserPerHour: number; turnTimeoutS: number };

const limitsOf = async (deps: AgentDeps): Promise<LlmLimits> =>
  (await deps.llmLimits?.()) ?? {
    maxTurnsPerUserPerHour: deps.config.llmMaxTurnsPerUserPerHour,
    turnTimeoutS: deps.config.llmTurnTimeoutS,
  };

export type TurnOutcome = "completed" | "budget_exhausted" | "failed" | "timed_out";

export type TurnResult = {
  outcome: "completed" | "budget_exhausted";
  detail: SessionDetail;
  usage: TurnUsage;
};

const inProgress = () => problem("CHAT_IN_PROGRESS");

/** Checks that answer before anything runs (§5.1): the caller, the session state, quota, provider. */
async function preflight(
  deps: AgentDeps,
  limits: LlmLimits,
  caller: Caller,
  access: ProjectAccess,
  sessionId: string,
) {
  const session = await loadSession(deps.db, access.project.id, sessionId);
  assertOwnerOrModerator(access, caller.user.id, session.creatorId);
  if (!session.inputFileId || !session.currentSnapshotId) {
    throw problem("INPUT_FILE_REQUIRED");
  }
  if (session.status === "archived") {
    throw problem("SESSION_ARCHIVED");
  }
  const hourAgo = new Date(Date.now() - 3600_000);
  const n = await countTurnsSince(deps.db, caller.user.id, hourAgo);
  if (n >= limits.maxTurnsPerUserPerHour) {
    const oldest = await oldestTurnSince(deps.db, caller.user.id, hourAgo);
    const retryAfter = Math.max(
      1,
      Math.ceil(((oldest?.getTime() ?? Date.now()) + 3600_000 - Date.now()) / 1000),
    );
    throw problem("LLM_QUOTA_EXCEEDED", {
      headers: { "Retry-After": String(retryAfter) },
      extensions: { limit: limits.maxTurnsPerUserPerHour },
    });
  }
  if (!deps.llm) {
    throw problem("LLM_NOT_CONFIGURED");
  }
  return { session, llm: deps.llm };
}

/** Takes the session lease; the lease value is this turn's token. */
async function takeLease(deps: AgentDeps, limits: LlmLimits, sessionId: string): Promise<Date> {
  const until = new Date(Date.now() + (limits.turnTimeoutS + 30) * 1000);
  if (!(await repo.takeChatLease(deps.db, sessionId, until))) throw inProgress();
  return until;
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
  const limits = await limitsOf(deps);
  const { session, llm } = await preflight(deps, limits, caller, access, sessionId);
  const lease = await takeLease(deps, limits, sessionId);
  onStarted?.();
  const started = performance.now();
  const usage: TurnUsage = { llmCalls: 0, toolCalls: 0, inputTokens: 0, outputTokens: 0 };
  const deadline = Date.now() + limits.turnTimeoutS * 1000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("turn deadline")), deadline - Date.now());
  const onShutdown = () => controller.abort(new Error("shutdown"));
  if (deps.shutdown?.aborted) onShutdown();
  deps.shutdown?.addEventListener("abort", onShutdown);
  const ctx: LoopContext = { ...deps, llm, usage, signal: controller.signal, deadline, emit };
  let outcome: TurnOutcome = "failed";
  let statusCode = 500;
  try {
    const result = await turn(deps, ctx, { caller, access, session, message, lease });
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
      await repo.releaseChatLease(deps.db, sessionId, lease).catch(() => {});
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
}

type TurnArgs = {
  caller: Caller;
  access: ProjectAccess;
  session: repo.SessionRow;
  message: string;
  lease: Date;
};

/* Load the base snapshot, run the loop, commit. */
async function turn(deps: AgentDeps, ctx: LoopContext, args: TurnArgs): Promise<TurnResult> {
  const { session, message } = args;
  const baseId = session.currentSnapshotId!;
  const [base, chats, rows, issueName] = await Promise.all([
    sessionQueries.findSnapshot(deps.db, baseId),
    repo.chatsOf(deps.db, baseId),
    repo.stepsOf(deps.db, baseId),
    sessionQueries.issueName(deps.db, session.issueId),
  ]);
  const { frame, hash } = await inputOf(deps.db, session, deps.caches);
  const copy = new WorkingCopy(
    frame,
    hash,
    rows.map((r) => ({ ...toDef(r), config: r.config })),
    { cache: deps.caches.results, signal: ctx.signal },
  );

  const { kept, folded } = splitHistory(
    pairsOf(chats),
    deps.config.agentHistoryTurns,
    deps.config.agentHistoryMaxChars,
  );
  const summary = await conversationSummary(ctx, folded, base?.conversationSummary ?? null);
  const sessionText = sessionBlock({
    issueName: issueName ?? "",
    recipe: chats.find((c) => c.role === "system")?.message ?? null,
    customSystemPrompt: session.customSystemPrompt,
    initialMessage: session.initialMessage,
    conversationSummary: summary ? readSummary(summary)!.text : null,
  });
  const messages: Msg[] = [...historyMessages(kept), { role: "user", content: message }];
  const loop = await runLoop(ctx, copy, sessionText, messages);

  const outcome = loop.budgetExhausted ? "budget_exhausted" : "completed";
  const { usage } = ctx;
  const snapshot = await deps.db.transaction(async (tx) => {
    const committed = await repo.commitTurn(tx, {
      sessionId: session.id,
      baseId,
      lease: args.lease,
      userId: args.caller.user.id,
      message,
      reply: {
        text: loop.assistantText,
        toolTrace: loop.trace,
        tokenUsage: {
          input: usage.inputTokens,
          output: usage.outputTokens,
          llmCalls: usage.llmCalls,
          toolCalls: usage.toolCalls,
        },
      },
      steps: copy.steps,
      changed: loop.changed,
      conversationSummary: summary,
    });
    await writeAudit(tx, deps.actor, {
      eventType: "DATA_CHANGE",
      action: "CHAT_TURN",
      resourceType: "analysis_session",
      resourceId: session.id,
      projectId: args.access.project.id,
      newValue: { outcome, snapshotOrder: committed.order, ...usage },
    });
    return committed;
  });
  ctx.emit({ event: "snapshot", data: snapshot });
  const detail = await getSessionDetail(deps.db, args.access.project.id, session.id, deps.caches);
  return { outcome, detail, usage };
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
