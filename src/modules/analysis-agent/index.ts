import { Elysia } from "elysia";
import type { AppDeps } from "@/deps";
import { problem, problemBody } from "@/lib/errors";
import { docSchema } from "@/lib/schema";
import { SessionDetail, SessionParams } from "@/modules/analysis-session/model";
import { mapError } from "@/plugins/error-handler";
import { projectAccessPlugin, requireProjectRole } from "@/plugins/project-access";
import { pathOf, requestContext } from "@/plugins/request-context";
import { ChatBody } from "./model";
import { runTurn, type TurnEvent, type TurnResult } from "./service";

/*
 * `POST …/session/{sid}/chat` (api.md §2.7, analysis.md §5.7): JSON waits for the end of the turn;
 * `Accept: text/event-stream` streams it. Problems found before the turn starts are ordinary
 * problem responses; after that they arrive as an `error` event. A client that goes away does not
 * cancel the turn: it commits, and the next read shows it.
 */

const PING_MS = 15_000;

export function analysisAgentController(deps: AppDeps) {
  const agentDeps = (actor: Parameters<typeof runTurn>[0]["actor"]) => ({
    db: deps.database.db,
    actor,
    caches: deps.analysisCaches,
    llm: deps.llm ?? null,
    config: deps.config,
    logger: deps.logger,
    metrics: deps.metrics,
    shutdown: deps.shutdown?.signal,
    llmLimits: () => deps.settings.llmLimits(),
  });

  return new Elysia({ name: "analysis-agent", prefix: "/project/:projectId/analysis/session" })
    .use(projectAccessPlugin(deps))
    .post(
      "/:sessionId/chat",
      async ({ caller, auth, access, params, body, request, set }) => {
        const message = body.message.trim();
        if (message.length === 0) {
          throw problem("VALIDATION_FAILED", {
            detail: "The message is empty.",
            errors: [{ path: "/body/message", message: "must contain text other than spaces" }],
          });
        }
        const wantsStream = (request.headers.get("accept") ?? "").includes("text/event-stream");
        if (!wantsStream) {
          const result = await runTurn(
            agentDeps(auth.actor),
            caller,
            access,
            params.sessionId,
            message,
            () => {},
          );
          set.headers["X-Turn-Outcome"] = result.outcome;
          return result.detail;
        }
        const toProblem = (error: unknown) => {
          const m = mapError("UNKNOWN", error, deps.config, deps.logger, { sessionId: params.sessionId });
          const { requestId } = requestContext(request);
          return problemBody(m.status, m.code, m.detail, pathOf(request), requestId, m.errors, m.extensions);
        };
        return streamTurn(
          (emit, onStarted) =>
            runTurn(agentDeps(auth.actor), caller, access, params.sessionId, message, emit, onStarted),
          toProblem,
        );
      },
      {
        project: requireProjectRole("member"),
        params: SessionParams,
        body: ChatBody,
        detail: {
          tags: ["analysis"],
          responses: {
            200: {
              description:
                "JSON: SessionDetail with header X-Turn-Outcome. SSE: events delta, tool.start, tool, step, snapshot, done (SessionDetail + turn) or error (Problem).",
              content: {
                "application/json": {
                  schema: docSchema(SessionDetail),
                },
                "text/event-stream": { schema: { type: "string" } },
              },
            },
          },
          operationId: "session.chat.create",
          description:
            "Runs one turn of the analysis agent on the session. Answers JSON after the turn, or streams Server-Sent Events with Accept: text/event-stream.",
          summary:
            "One agent turn: JSON after the turn, or Server-Sent Events with Accept: text/event-stream (Own|Mod+)",
          "x-problem-codes": [
            "SESSION_NOT_FOUND",
            "NOT_OWNER",
            "SESSION_ARCHIVED",
            "CHAT_IN_PROGRESS",
            "INPUT_FILE_REQUIRED",
            "STEP_CONFIG_INVALID",
            "LLM_QUOTA_EXCEEDED",
            "LLM_NOT_CONFIGURED",
            "LLM_UNAVAILABLE",
            "LLM_TIMEOUT",
          ],
        },
      },
    );
}

type Runner = (emit: (e: TurnEvent) => void, onStarted: () => void) => Promise<TurnResult>;

/** Starts the turn; resolves to an SSE response once the lease is held, or rejects with its problem. */
async function streamTurn(run: Runner, toProblem: (error: unknown) => unknown): Promise<Response> {
  const encoder = new TextEncoder();
  let seq = 0;
  let closed = false;
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  const pending: string[] = [];
  const write = (chunk: string) => {
    if (closed) return;
    if (!controller) {
      pending.push(chunk);
      return;
    }
    try {
      controller.enqueue(encoder.encode(chunk));
    } catch {
      closed = true;
    }
  };
  const send = (event: string, data: unknown) =>
    write(`id: ${++seq}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

  let markStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    markStarted = resolve;
  });
  const turn = run((e) => send(e.event, e.data), markStarted);
  await Promise.race([started, turn]);

  const ping = setInterval(() => write(": ping\n\n"), PING_MS);
  const finish = () => {
    clearInterval(ping);
    if (closed) return;
    closed = true;
    try {
      controller?.close();
    } catch {
      // Already closed by the client.
    }
  };
  turn.then(
    (result) => {
      send("done", { ...result.detail, turn: { outcome: result.outcome, usage: result.usage } });
      finish();
    },
    (error) => {
      send("error", toProblem(error));
      finish();
    },
  );

  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      for (const chunk of pending.splice(0)) c.enqueue(encoder.encode(chunk));
    },
    cancel() {
      closed = true;
      clearInterval(ping);
    },
  });
  return new Response(stream, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      "X-Accel-Buffering": "no",
    },
  });
}
