import type { Logger } from "@/lib/logger";
import type { Metrics } from "@/lib/metrics";
import { type BackoffOptions, isRetryableStatus, kindForStatus, retryDelayMs, sleep } from "./retry";
import {
  LlmError,
  type LlmErrorKind,
  type LlmEvent,
  type LlmProvider,
  type LlmRequest,
  type LlmTraceSpan,
  type StopReason,
} from "./types";

/*
 * The part every adapter shares: one HTTP attempt at a time under a request timeout (until the
 * response headers) and an idle timeout (between chunks), linked to the caller's signal; the
 * retry loop of §5.8; and the per-attempt metrics and trace span.
 */

/** What an adapter's attempt gets: the signal to hand the SDK, and two liveness callbacks. */
export type AttemptIo = {
  signal: AbortSignal;
  /** The response headers arrived: the request timeout ends and the idle timeout starts. */
  responded(): void;
  /** A stream chunk (any event, pings included) arrived. */
  chunk(): void;
};

export type Attempt = (req: LlmRequest, io: AttemptIo) => AsyncGenerator<LlmEvent>;

export type RunnerOptions = {
  name: LlmProvider["name"];
  model: string;
  maxRetries: number;
  requestTimeoutMs: number;
  idleTimeoutMs: number;
  backoff: BackoffOptions;
  metrics: Metrics;
  logger: Logger;
  onTrace?: (span: LlmTraceSpan) => void;
};

/** Raised by adapters when a stream ends without its closing event (a cut connection). */
export class IncompleteStreamError extends Error {
  constructor() {
    super("the stream ended before the response was complete");
    this.name = "IncompleteStreamError";
  }
}

type SdkErrorLike = { status?: unknown; headers?: unknown; name?: unknown; message?: unknown };

function statusOf(error: unknown): number | undefined {
  const status = (error as SdkErrorLike | null)?.status;
  return typeof status === "number" ? status : undefined;
}

function headersOf(error: unknown): { get(name: string): string | null } | undefined {
  const headers = (error as SdkErrorLike | null)?.headers;
  return headers && typeof (headers as Headers).get === "function" ? (headers as Headers) : undefined;
}

function describe(error: unknown): string {
  const message = (error as SdkErrorLike | null)?.message;
  return typeof message === "string" && message ? message : String(error);
}

export function createProvider(options: RunnerOptions, attempt: Attempt): LlmProvider {
  const { name, model } = options;
  return {
    name,
    model,
    stream: (req, signal) => run(options, attempt, req, signal),
  };
}

async function* run(
  options: RunnerOptions,
  attempt: Attempt,
  req: LlmRequest,
  signal: AbortSignal,
): AsyncGenerator<LlmEvent> {
  const { name: provider, model, metrics, logger } = options;
  for (let attemptNo = 1; ; attemptNo++) {
    if (signal.aborted) {
      throw new LlmError("aborted", `${provider} call aborted`, { attempts: attemptNo - 1 });
    }
    const controller = new AbortController();
    const onCallerAbort = () => controller.abort(signal.reason);
    signal.addEventListener("abort", onCallerAbort, { once: true });

    let timedOut: "request" | "idle" | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = (ms: number, which: "request" | "idle") => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = which;
        controller.abort(new Error(`${which} timeout`));
      }, ms);
    };
    let responded = false;
    const io: AttemptIo = {
      signal: controller.signal,
      responded: () => {
        responded = true;
        arm(options.idleTimeoutMs, "idle");
      },
      chunk: () => arm(options.idleTimeoutMs, "idle"),
    };

    const startedAt = Date.now();
    const started = performance.now();
    let emitted = false;
    let finished = false;
    let usage: LlmTraceSpan["usage"];
    let stopReason: StopReason | undefined;
    const observe = (outcome: "ok" | LlmErrorKind, status?: number) => {
      const durationMs = performance.now() - started;
      metrics.observeLlmCall({
        provider,
        model,
        durationS: durationMs / 1000,
        ...(outcome === "ok" ? {} : { error: outcome }),
      });
      if (!options.onTrace) return;
      try {
        options.onTrace({
          provider,
          model,
          attempt: attemptNo,
          startedAt,
          durationMs,
          outcome,
          ...(status === undefined ? {} : { status }),
          ...(stopReason ? { stopReason } : {}),
          ...(usage ? { usage } : {}),
          request: {
            messages: req.messages.length,
            tools: req.tools.length,
            toolChoice: req.toolChoice,
            maxTokens: req.maxTokens,
          },
        });
      } catch (error) {
        logger.warn({ err: error }, "llm trace hook failed");
      }
    };

    let failure: LlmError | null = null;
    let delayMs = 0;
    arm(options.requestTimeoutMs, "request");
    try {
      for await (const event of attempt(req, io)) {
        if (event.type === "text" || event.type === "tool_use") emitted = true;
        else if (event.type === "usage") {
          usage = { input: event.input, output: event.output, cacheRead: event.cacheRead };
          metrics.observeLlmTokens({ provider, model, ...usage });
        } else if (event.type === "stop") stopReason = event.reason;
        // The consumer's own pace must not count as the server being idle.
        clearTimeout(timer);
        yield event;
        arm(options.idleTimeoutMs, "idle");
      }
      finished = true;
      observe("ok");
      return;
    } catch (error) {
      const status = statusOf(error);
      let kind: LlmErrorKind;
      if (signal.aborted) kind = "aborted";
      else if (timedOut) kind = "timeout";
      else if (status !== undefined) kind = kindForStatus(status);
      else if ((error as SdkErrorLike | null)?.name === "APIConnectionTimeoutError") kind = "timeout";
      else kind = "upstream";
      finished = true;
      observe(kind, status);

      const what = timedOut
        ? `no ${timedOut === "request" ? "response" : "stream data"} within ${
            (timedOut === "request" ? options.requestTimeoutMs : options.idleTimeoutMs) / 1000
          } s`
        : describe(error);
      failure = new LlmError(kind, `${provider} call failed (${kind}): ${what}`, {
        status,
        attempts: attemptNo,
        cause: error,
      });
      const retryable =
        kind !== "aborted" &&
        !emitted &&
        attemptNo <= options.maxRetries &&
        (timedOut !== null || isRetryableStatus(status));
      if (!retryable) throw failure;
      delayMs = retryDelayMs(attemptNo, headersOf(error), options.backoff);
      if (req.deadline !== undefined && Date.now() + delayMs > req.deadline) throw failure;
      logger.warn(
        { provider, model, attempt: attemptNo, kind, status, delayMs, responded },
        "llm call failed; retrying",
      );
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onCallerAbort);
      if (!finished) {
        // The consumer stopped reading: close the connection and still account for the attempt.
        controller.abort(new Error("consumer stopped reading"));
        observe("aborted");
      }
    }
    try {
      await sleep(delayMs, signal);
    } catch {
      throw new LlmError("aborted", `${provider} call aborted while waiting to retry`, {
        status: failure.status,
        attempts: attemptNo,
        cause: failure,
      });
    }
  }
}
