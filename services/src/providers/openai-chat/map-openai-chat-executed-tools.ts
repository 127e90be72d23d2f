import { ev, type StreamEvent } from "@airwave/proto";
import type { OpenAIChatExecutedTool } from "./openai-chat-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";
import { type OpenAIChatToolCallState, parses } from "./map-openai-chat-tool-calls.js";

/** Tools the provider ran itself, by their `index`: the call id given and whether the result was passed on. */
export type ExecutedToolState = Map<number, { readonly id: string; resultSent: boolean }>;

/**
 * Maps Groq's `delta.executed_tools[]` (compound models run web search and
 * code execution themselves): the first time an `index` appears →
 * `tool_call_started`, `tool_call_delta` and `tool_call_completed`, all with
 * `providerExecuted`, named by the entry's `type` (`search`, `python`, …),
 * with the entry's `arguments` (`{}` when none; `incomplete` when not
 * JSON); once the entry carries an `output` → `tool_result` (the string, or
 * the JSON text of a structured output). Groq sends no call id: the id is
 * `<idPrefix>executed_<ordinal>`, the ordinal shared with the choice's
 * client tool calls.
 *
 * @see https://console.groq.com/docs/compound
 */
export function mapExecutedTools(
  executed: ExecutedToolState,
  calls: OpenAIChatToolCallState,
  list: readonly (OpenAIChatExecutedTool | undefined)[] | null | undefined,
  idPrefix: string,
  out: StreamEvent[],
): void {
  list?.forEach((t, position) => {
    if (!t) return;
    const key = t.index ?? position;
    const name = nonEmpty(t.type) ?? nonEmpty(t.name) ?? "tool";
    let known = executed.get(key);
    if (!known) {
      const ordinal = calls.nextOrdinal++;
      known = { id: `${idPrefix}executed_${ordinal}`, resultSent: false };
      executed.set(key, known);
      const args = nonEmpty(t.arguments) ?? "";
      out.push(ev.toolCallStarted(known.id, name, ordinal, { providerExecuted: true }));
      if (args !== "") out.push(ev.toolCallDelta(known.id, args));
      const whole = args.trim() === "" ? "{}" : args;
      const ok = parses(whole);
      out.push(ev.toolCallCompleted(known.id, name, ok ? whole : args, { providerExecuted: true, incomplete: !ok }));
    }
    const output = t.output;
    if (!known.resultSent && output !== undefined && output !== null) {
      known.resultSent = true;
      out.push(ev.toolResult(known.id, typeof output === "string" ? output : JSON.stringify(output), { name }));
    }
  });
}
