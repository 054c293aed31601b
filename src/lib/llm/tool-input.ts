import type { LlmEvent } from "./types";

type ToolUseEvent = Extract<LlmEvent, { type: "tool_use" }>;

/**
 * Turns the argument text assembled from stream fragments into a `tool_use` event. `cut` says
 * the response stopped at max_tokens while this block was the last one open, so unparsable
 * text is reported as truncated rather than malformed.
 */
export function toolUseFrom(id: string, name: string, json: string, cut: boolean): ToolUseEvent {
  if (json.trim() === "") {
    return cut
      ? { type: "tool_use", id, name, input: null, inputError: "truncated" }
      : { type: "tool_use", id, name, input: {} };
  }
  try {
    return { type: "tool_use", id, name, input: JSON.parse(json) };
  } catch {
    return { type: "tool_use", id, name, input: null, inputError: cut ? "truncated" : "invalid_json" };
  }
}
