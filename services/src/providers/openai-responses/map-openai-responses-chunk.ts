import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { ev, FinishReason, type StreamEvent, withExtras } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import type { Mapper } from "../../adapt.js";
import type { ParseResult } from "../../safe-parse-json.js";
import { fromOpenAIResponsesError } from "./map-openai-responses-error.js";
import { mapOpenAIResponsesFinishReason } from "./map-openai-responses-finish-reason.js";
import {
  catchUp,
  emitText,
  messageDone,
  reasoningDone,
  reasoningEvent,
  summaryEvent,
  textDelta,
  textEvent,
} from "./map-openai-responses-text.js";
import {
  argsDelta,
  closeIncomplete,
  completeCall,
  customInputDelta,
  finishToolItem,
  inputDelta,
  jsonArgsDelta,
  startCall,
} from "./map-openai-responses-tool-calls.js";
import { mapOpenAIResponsesUsage } from "./map-openai-responses-usage.js";
import type { OpenAIResponsesChunk, OpenAIResponsesItem, OpenAIResponsesResponse } from "./openai-responses-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";
import { findItem, freeIndex, initialState, item, type OpenAIResponsesState, register, withUsage } from "./openai-responses-state.js";

export type { OpenAIResponsesState } from "./openai-responses-state.js";

const malformed = "the inference provider sent a malformed event";

/**
 * Maps OpenAI Responses API streaming events (SSE `data` parsed by
 * `openaiResponsesChunkSchema`; the JSON `type` is authoritative, the SSE `event:` line is ignored) to
 * airwave.v1 events. Deterministic, no I/O.
 *
 * Ordering: an event whose `sequence_number` is not greater than the highest
 * seen so far (a duplicate or older event, e.g. after a resume overlap) is
 * ignored; events without one (older servers) are always used.
 *
 * Per event:
 * - not JSON, not an object, no string `type` (and no `error`), or a `*.delta` whose `delta`
 *   is not a string → `failed` INTERNAL UPSTREAM_MALFORMED;
 * - `response.created` / `queued` / `in_progress`, `*.in_progress|searching|interpreting|generating|completed`
 *   progress events, `content_part.*`, `output_text.annotation.added`, unknown types → nothing;
 * - `response.output_text.delta` → `text_delta` with block index = `output_index` (the message
 *   item's position: items are the Responses API's content blocks; several content parts of
 *   one message share it); its non-empty `logprobs` go to `provider_metadata.logprobs`, and the
 *   message's `phase` (e.g. `commentary`) to the item's first text delta as `provider_metadata.phase`;
 * - `response.refusal.delta` → `text_delta` too (the refusal is what the user sees); the
 *   completed response is then CONTENT_FILTER (raw `completed` kept);
 * - `response.reasoning_summary_text.delta` and `response.reasoning_text.delta` →
 *   `reasoning_delta` at block `output_index`; the first delta of each summary part
 *   carries `provider_metadata.summary_index`; the parts are not joined with separators;
 * - `output_item.done` of a `reasoning` item with `encrypted_content` → an empty `reasoning_delta`
 *   whose `signature` is the encrypted content (what a later request must send back), with the
 *   item `id` in `provider_metadata.id`;
 * - `*.done` events and `output_item.done` carry the whole text: what was not streamed yet (a
 *   server that skips deltas) is emitted then; a conflicting whole text is ignored (the deltas win);
 * - `output_item.added` of a `function_call` → `tool_call_started` (call id = `call_id`, index =
 *   its position among the response's calls); `function_call_arguments.delta` → `tool_call_delta`,
 *   keyed by `output_index` (else `item_id`), so parallel calls never merge;
 *   `function_call_arguments.done` or the item's `output_item.done` → `tool_call_completed`
 *   (empty arguments become `{}`);
 * - `custom_tool_call` (free-text input): the input is streamed JSON-escaped inside
 *   `{"input":"…"}`, so the deltas still concatenate to the JSON arguments;
 * - built-in and other tool items (see `toolItemKinds`): `tool_call_started` at
 *   `output_item.added`, and at `output_item.done` one `tool_call_delta` with the whole arguments,
 *   `tool_call_completed`, and for provider-executed ones a `tool_result` (`mcp_call` streams its
 *   arguments from `mcp_call_arguments.delta`);
 * - `error` (or `{"error": …}`) → `failed` at once, by `fromOpenAIResponsesError`, with the usage
 *   so far; the `response.failed` that follows is then ignored;
 * - `response.failed` → `failed` from `response.error`;
 * - `response.incomplete` → `completed` LENGTH (`max_output_tokens`) or CONTENT_FILTER
 *   (`content_filter`), raw reason kept; open or unparsable tool calls are closed with
 *   `incomplete: true` and their raw partial arguments;
 * - `response.completed` → a `usage` event (from `response.usage`), then `completed`: TOOL_CALLS when
 *   the response has client tool calls, CONTENT_FILTER after a refusal, else STOP; raw reason
 *   `completed`. A client call whose arguments never parsed → `failed` INTERNAL
 *   UPSTREAM_INVALID_TOOL_ARGUMENTS (retryable) instead. The terminal's `provider_metadata` has the
 *   response `id` and, when present, `annotations` (of the answer's text parts), `moderation` and
 *   `content_filters` (Azure).
 *
 * A stream that ends without `response.completed`, `response.incomplete`, `response.failed` or
 * `error` → `failed` UNAVAILABLE UPSTREAM_TRUNCATED (retryable). Exactly one terminal event, last.
 *
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 * @see https://platform.openai.com/docs/guides/reasoning#reasoning-summaries
 * @see https://platform.openai.com/docs/guides/function-calling#custom-tools
 */
export const openAIResponsesMapper: Mapper<ParseResult<OpenAIResponsesChunk>, OpenAIResponsesState> = {
  init: initialState,

  map(s, parsed) {
    if (!parsed.success) return [ev.failed(Code.Internal, malformed, "UPSTREAM_MALFORMED")];
    const e = parsed.value;
    const seq = e.sequence_number;
    if (seq !== undefined) {
      if (s.lastSeq !== undefined && seq <= s.lastSeq) return [];
      s.lastSeq = seq;
    }
    const type = e.type;
    if (type === "error" || (type === undefined && e.error !== undefined && e.error !== null)) {
      const m = fromOpenAIResponsesError(e);
      return [ev.failed(m.code, m.message, m.reason, { ...withUsage(s), ...(m.retryable === false ? { retryable: false } : {}) })];
    }
    if (typeof type !== "string") return [ev.failed(Code.Internal, malformed, "UPSTREAM_MALFORMED")];
    if (type.endsWith(".delta") && deltaTypes.has(type) && typeof e.delta !== "string") {
      return [ev.failed(Code.Internal, malformed, "UPSTREAM_MALFORMED")];
    }
    const out: StreamEvent[] = [];
    switch (type) {
      case "response.output_item.added":
        itemAdded(s, e, out);
        break;
      case "response.output_item.done":
        itemDone(s, e, out);
        break;
      case "response.output_text.delta":
        textDelta(s, e, out);
        break;
      case "response.output_text.done":
        catchUp(item(s, e, "message"), `t:${e.content_index ?? 0}`, e.text, out, textEvent);
        break;
      case "response.refusal.delta":
        s.refused = true;
        emitText(item(s, e, "message"), `r:${e.content_index ?? 0}`, e.delta as string, out, textEvent);
        break;
      case "response.refusal.done":
        if (nonEmpty(e.refusal)) s.refused = true;
        catchUp(item(s, e, "message"), `r:${e.content_index ?? 0}`, e.refusal, out, textEvent);
        break;
      case "response.reasoning_summary_text.delta":
        emitText(item(s, e, "reasoning"), `s:${e.summary_index ?? 0}`, e.delta as string, out, summaryEvent(e));
        break;
      case "response.reasoning_summary_text.done":
        catchUp(item(s, e, "reasoning"), `s:${e.summary_index ?? 0}`, e.text, out, summaryEvent(e));
        break;
      case "response.reasoning_text.delta":
        emitText(item(s, e, "reasoning"), `c:${e.content_index ?? 0}`, e.delta as string, out, reasoningEvent);
        break;
      case "response.reasoning_text.done":
        catchUp(item(s, e, "reasoning"), `c:${e.content_index ?? 0}`, e.text, out, reasoningEvent);
        break;
      case "response.function_call_arguments.delta":
      case "response.mcp_call_arguments.delta":
        jsonArgsDelta(s, e, out);
        break;
      case "response.custom_tool_call_input.delta":
        customInputDelta(s, e, out);
        break;
      case "response.function_call_arguments.done":
      case "response.custom_tool_call_input.done": {
        const call = findItem(s, e)?.call;
        if (call && (call.kind === "function" || call.kind === "custom")) {
          completeCall(call, type.startsWith("response.custom") ? e.input : e.arguments, false, out);
        }
        break;
      }
      case "response.completed":
        return [...out, ...finish(s, e, "completed")];
      case "response.incomplete":
        return [...out, ...finish(s, e, "incomplete")];
      case "response.failed": {
        const m = fromOpenAIResponsesError(e.response?.error ?? {});
        const usage = withUsage(s, mapOpenAIResponsesUsage(e.response?.usage));
        return [ev.failed(m.code, m.message, m.reason, { ...usage, ...(m.retryable === false ? { retryable: false } : {}) })];
      }
      default:
        break;
    }
    return out;
  },

  end(s) {
    return [
      ev.failed(
        Code.Unavailable,
        "the inference provider's stream ended before the response was complete",
        "UPSTREAM_TRUNCATED",
        withUsage(s),
      ),
    ];
  },
};

/** The `*.delta` events whose `delta` must be a string. */
const deltaTypes = new Set([
  "response.output_text.delta",
  "response.refusal.delta",
  "response.reasoning_summary_text.delta",
  "response.reasoning_text.delta",
  "response.function_call_arguments.delta",
  "response.mcp_call_arguments.delta",
  "response.custom_tool_call_input.delta",
]);

/** An absent `item`. */
const noItem: OpenAIResponsesItem = {};

/** An absent `response`. */
const noResponse: OpenAIResponsesResponse = {};

function itemAdded(s: OpenAIResponsesState, e: OpenAIResponsesChunk, out: StreamEvent[]): void {
  const item = e.item ?? noItem;
  const outputIndex = e.output_index ?? freeIndex(s);
  const id = nonEmpty(item.id);
  if (s.items.has(outputIndex) || (id !== undefined && s.byId.has(id))) return; // a repeated announcement
  const type = item.type ?? "";
  const call = startCall(s, item, type, out);
  register(s, outputIndex, id, { type, call, phase: nonEmpty(item.phase) });
  if (call?.kind === "function" || call?.kind === "mcp") argsDelta(call, nonEmpty(item.arguments) ?? "", out);
  if (call?.kind === "custom") inputDelta(call, nonEmpty(item.input) ?? "", out);
}

function itemDone(s: OpenAIResponsesState, e: OpenAIResponsesChunk, out: StreamEvent[]): void {
  const item = e.item ?? noItem;
  let it = findItem(s, { output_index: e.output_index, item_id: item.id });
  if (!it) {
    // Announced only now (a server that skips output_item.added).
    itemAdded(s, e, out);
    it = findItem(s, { output_index: e.output_index, item_id: item.id });
  }
  if (!it || it.done) return;
  it.done = true;
  const cut = item.status === "incomplete";
  const call = it.call;
  if (call) {
    if (call.kind === "function") completeCall(call, item.arguments, cut, out);
    else if (call.kind === "custom") completeCall(call, item.input, cut, out);
    else finishToolItem(call, it.type, item, cut, out);
    return;
  }
  if (it.type === "message") messageDone(s, it, item, out);
  if (it.type === "reasoning") reasoningDone(it, item, out);
}

/** The terminal of `response.completed` / `response.incomplete`. */
function finish(s: OpenAIResponsesState, e: OpenAIResponsesChunk, status: "completed" | "incomplete"): StreamEvent[] {
  const response = e.response ?? noResponse;
  const out: StreamEvent[] = [];
  settleOutput(s, response, out);
  const usage = mapOpenAIResponsesUsage(response.usage);
  if (usage) {
    s.usage = usage;
    out.push(ev.usage(usage));
  }
  const calls = [...s.items.values()].flatMap((it) => (it.call && !it.call.done ? [it.call] : []));
  if (status === "incomplete") {
    for (const call of calls) closeIncomplete(call, out);
    const reason = nonEmpty(response.incomplete_details?.reason);
    const terminal = ev.completed(mapOpenAIResponsesFinishReason("incomplete", reason), s.usage, reason ?? "incomplete");
    return [...out, withExtras(terminal, { metadata: terminalMetadata(s, response) })];
  }
  for (const call of calls) {
    if (call.invalid === undefined) completeCall(call, undefined, false, out);
    if (!call.done && !call.providerExecuted) {
      return [
        ...out,
        ev.failed(
          Code.Internal,
          `the model produced arguments for tool "${call.name}" that are not valid JSON`,
          "UPSTREAM_INVALID_TOOL_ARGUMENTS",
          { retryable: true, ...withUsage(s) },
        ),
      ];
    }
  }
  let reason = mapOpenAIResponsesFinishReason("completed");
  if (s.clientCalls > 0) reason = FinishReason.TOOL_CALLS;
  else if (s.refused) reason = FinishReason.CONTENT_FILTER;
  const terminal = ev.completed(reason, s.usage, "completed");
  return [...out, withExtras(terminal, { metadata: terminalMetadata(s, response) })];
}

/**
 * Finishes, from the terminal response's `output`, the announced items whose
 * `output_item.done` never came (text not streamed, calls not closed).
 * Items the stream never announced are not invented from it.
 */
function settleOutput(s: OpenAIResponsesState, response: OpenAIResponsesResponse, out: StreamEvent[]): void {
  for (const item of response.output ?? []) {
    const id = nonEmpty(item?.id);
    const it = id === undefined ? undefined : s.byId.get(id);
    if (it && !it.done) itemDone(s, { output_index: it.outputIndex, item }, out);
  }
}

function terminalMetadata(s: OpenAIResponsesState, response: OpenAIResponsesResponse): JsonObject {
  const md: JsonObject = {};
  const id = nonEmpty(response.id);
  if (id) md["id"] = id;
  if (s.annotations.length > 0) md["annotations"] = s.annotations;
  for (const k of ["moderation", "content_filters"] as const) {
    const v = response[k];
    if (v !== undefined && v !== null) md[k] = v as JsonValue;
  }
  return md;
}
