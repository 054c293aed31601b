import { endSpan, type Tracing } from "@/lib/tracing";
import type { LlmEvent, LlmProvider, LlmRequest } from "./types";

/*
 * One client span per model call (the whole stream, retries included), with the token usage the
 * provider reported. Prompt and answer text stay out of the span: they are customer data.
 */
export function tracedLlm(provider: LlmProvider, tracing: Tracing): LlmProvider {
  if (!tracing.enabled) return provider;
  return {
    name: provider.name,
    model: provider.model,
    async *stream(req: LlmRequest, signal: AbortSignal): AsyncIterable<LlmEvent> {
      const span = tracing.child(`chat ${provider.model}`, {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": provider.name,
        "gen_ai.request.model": provider.model,
        "gen_ai.request.max_tokens": req.maxTokens,
      });
      let failure: unknown;
      try {
        for await (const event of provider.stream(req, signal)) {
          if (event.type === "usage") {
            span?.setAttributes({
              "gen_ai.usage.input_tokens": event.input,
              "gen_ai.usage.output_tokens": event.output,
            });
          } else if (event.type === "stop") {
            span?.setAttribute("gen_ai.response.finish_reasons", [event.reason]);
          }
          yield event;
        }
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        endSpan(span, failure);
      }
    },
  };
}
