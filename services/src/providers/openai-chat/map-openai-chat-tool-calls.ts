import { ev, type StreamEvent } from "@airwave/proto";
import type { OpenAIToolCallDelta } from "./openai-chat-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";

/** One tool call of one choice being streamed. */
export interface OpenAIChatToolCall {
  /** The provider's call id, or a synthesized `call_<ordinal>` (prefixed per choice) when it sent none. */
  readonly id: string;
  /** The function name; set from the first fragment that has one. */
  name: string;
  /** 0-based position among the choice's calls, in start order. */
  readonly ordinal: number;
  /** The argument fragments so far, concatenated. */
  args: string;
  /** True when `id` came from the provider (not synthesized). */
  readonly providerId: boolean;
}

/** The tool calls of one choice. */
export interface OpenAIChatToolCallState {
  /** Every call, in start order. */
  readonly calls: OpenAIChatToolCall[];
  /** The current call at each provider `index`. */
  readonly byIndex: Map<number, OpenAIChatToolCall>;
  /** Calls by provider id. */
  readonly byId: Map<string, OpenAIChatToolCall>;
  /** The call that received the last fragment (for servers that omit `index` on continuations). */
  last: OpenAIChatToolCall | undefined;
  /** The next ordinal, shared with provider-executed tools. */
  nextOrdinal: number;
}

/** Creates the tool-call state of one choice. */
export function createToolCallState(): OpenAIChatToolCallState {
  return { calls: [], byIndex: new Map(), byId: new Map(), last: undefined, nextOrdinal: 0 };
}

/**
 * Maps one `delta.tool_calls[]` fragment: `tool_call_started` for a new
 * call, `tool_call_delta` for non-empty `function.arguments`.
 *
 * Which call a fragment belongs to, keyed by `index` AND `id`:
 * - a known non-empty `id` → that call (servers that repeat the id on every fragment);
 * - a known `index` → the call at that index, unless the fragment brings a
 *   new non-empty `id` different from that call's provider id: then it is a
 *   new call reusing the index (some servers number every parallel call 0);
 * - no `index`: a new non-empty `id` starts a new call (servers that send
 *   each call whole); no id either continues the last call;
 * - otherwise (unknown index) a new call.
 * So ids empty on continuations (OpenAI) are fine, and parallel calls are
 * never merged. A call without an id gets `<idPrefix>call_<ordinal>`.
 *
 * @param idPrefix - prefix of synthesized ids (`""` for choice 0, `choice<N>_` for the others), so ids stay unique across choices.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming#chat-streaming/streaming-choices-delta-tool_calls
 */
export function mapToolCallDelta(s: OpenAIChatToolCallState, tc: OpenAIToolCallDelta, idPrefix: string, out: StreamEvent[]): void {
  const fn = tc.function;
  const id = nonEmpty(tc.id);
  const index = tc.index ?? undefined;

  let call = id !== undefined ? s.byId.get(id) : undefined;
  if (!call && index !== undefined) {
    const atIndex = s.byIndex.get(index);
    if (atIndex && !(id !== undefined && atIndex.providerId && atIndex.id !== id)) call = atIndex;
  }
  if (!call && index === undefined && id === undefined) call = s.last;
  if (!call) {
    const ordinal = s.nextOrdinal++;
    call = { id: id ?? `${idPrefix}call_${ordinal}`, name: nonEmpty(fn?.name) ?? "", ordinal, args: "", providerId: id !== undefined };
    s.calls.push(call);
    if (id !== undefined) s.byId.set(id, call);
    out.push(ev.toolCallStarted(call.id, call.name, ordinal));
  } else if (call.name === "") {
    call.name = nonEmpty(fn?.name) ?? "";
  }
  if (index !== undefined) s.byIndex.set(index, call);
  s.last = call;
  const args = nonEmpty(fn?.arguments);
  if (args) {
    call.args += args;
    out.push(ev.toolCallDelta(call.id, args));
  }
}

/** What {@link closeToolCalls} produced. */
export interface ClosedToolCalls {
  /** `tool_call_completed` events, in start order, up to the first invalid call. */
  readonly events: StreamEvent[];
  /** The first call whose arguments are not JSON when the choice was not cut (the stream must fail). */
  readonly invalid?: OpenAIChatToolCall | undefined;
}

/**
 * Completes every call of a finished choice: empty arguments become `{}`;
 * arguments that parse as JSON are completed as they are; arguments that do
 * not parse are completed with `incomplete: true` and the raw text when
 * `cut` (the choice ended for `length` or `content_filter`: the provider cut
 * the call), and are otherwise returned as `invalid` (never passed on as
 * complete).
 */
export function closeToolCalls(s: OpenAIChatToolCallState, cut: boolean): ClosedToolCalls {
  const events: StreamEvent[] = [];
  for (const call of s.calls) {
    const args = call.args.trim() === "" ? "{}" : call.args;
    if (parses(args)) events.push(ev.toolCallCompleted(call.id, call.name, args));
    else if (cut) events.push(ev.toolCallCompleted(call.id, call.name, call.args, { incomplete: true }));
    else return { events, invalid: call };
  }
  return { events };
}

/** True when `text` is JSON. */
export function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
