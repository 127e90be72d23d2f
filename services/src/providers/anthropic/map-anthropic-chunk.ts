import { ev, FinishReason, type StreamEvent, withExtras } from "@airwave/proto";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Mapper } from "../../adapt.js";
import {
  type AnthropicError,
  type AnthropicKnownStreamEvent,
  type AnthropicSseEvent,
  isKnownContentBlock,
  isKnownContentDelta,
  isKnownStreamEvent,
} from "./anthropic-chunk.js";
import { type Block, definedJson, extras, isErrorResult, json, parses, type ToolBlock } from "./anthropic-blocks.js";
import { mapAnthropicError } from "./map-anthropic-error.js";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.js";
import { type AnthropicUsageCounts, foldAnthropicUsage, mapAnthropicUsage } from "./map-anthropic-usage.js";

/** State of {@link anthropicChunkMapper} for one stream. */
export interface AnthropicChunkState {
  /** True once `message_start` was seen. */
  started: boolean;
  /** The raw token counts so far. */
  readonly counts: AnthropicUsageCounts;
  /** The raw `stop_reason`, once a `message_delta` carried one. */
  stopReason: string | undefined;
  /** `stop_sequence`, `stop_details`, `container`, `context_management` of `message_delta`, for the terminal's metadata. */
  stopExtras: JsonObject;
  /** Content blocks by their `index`. */
  readonly blocks: Map<number, Block>;
  /** Tool names by call id, to name results. */
  readonly toolNames: Map<string, string>;
  /** How many tool calls started (the next call's `index`). */
  calls: number;
}

const malformed = "the inference provider sent a malformed event";

/**
 * Maps Anthropic Messages stream events (SSE event name + `data` parsed
 * by `anthropicStreamEventSchema`, see `anthropic-chunk.ts`) to airwave.v1
 * events. Deterministic, no I/O.
 *
 * - `message_start` → a `usage` event with the input counts, with the
 *   message's `id` and `model` (and usage extras such as `service_tier`) in
 *   its `provider_metadata`.
 * - `content_block_start` / `_delta` / `_stop`, by the block's `index`
 *   (which is the `block_index` of text and reasoning deltas):
 *   - `text`: `text_delta` → `text_delta`; `citations_delta` → the
 *     citation is attached as `provider_metadata.citations` to the block's
 *     next `text_delta` (or to an empty `text_delta` at the block's stop);
 *   - `thinking`: `thinking_delta` → `reasoning_delta`; `signature_delta` →
 *     `reasoning_delta` with empty text and the `signature`;
 *   - `redacted_thinking` → one `reasoning_delta` with empty text,
 *     `redacted: true` and the encrypted `data` as its `signature` (like a
 *     signature, it must be sent back unchanged in later turns);
 *   - `tool_use` (client tool), `server_tool_use` and `mcp_tool_use` (run by
 *     Anthropic: `provider_executed`) → `tool_call_started` (index = the
 *     call's position among the turn's calls; block extras such as MCP's
 *     `server_name` in metadata), each non-empty `input_json_delta` →
 *     `tool_call_delta`, and `tool_call_completed` once the input parses (an
 *     empty input is `{}`); see below for inputs that do not parse;
 *   - `*_tool_result` (web search, web fetch, code execution, tool search,
 *     MCP, …) → `tool_result` with the block's `content` as JSON text, the
 *     name of the call it answers, and `is_error` when the block says
 *     `is_error: true` or its content is an `*_error` object;
 *   - any other block type (e.g. `compaction`) → one empty `text_delta` at
 *     its stop whose `provider_metadata` holds `content_block` (the block as
 *     started) and `deltas` (its deltas, in order); an unknown delta type on
 *     a known block → an empty `text_delta` with `provider_metadata.delta`.
 *     Never a crash, never dropped.
 * - `message_delta` → the stop reason; then a `usage` event (its counts
 *   overwrite earlier ones: they are cumulative), with usage extras
 *   (`server_tool_use`, `iterations`, …) in metadata.
 * - `message_stop` → `completed` with the mapped stop reason (see
 *   `mapAnthropicStopReason`), the last usage, the raw reason, and
 *   `stop_sequence` / `stop_details` / `container` / `context_management`
 *   in `provider_metadata` when set. It is the stream's terminal marker.
 * - `error` (event name or data type) → `failed` by `mapAnthropicError`,
 *   with the usage so far. `ping` and unknown event types give nothing.
 *
 * Tool inputs that do not parse: when the stop reason is `max_tokens` or
 * `model_context_window_exceeded` (the model was cut) the call completes
 * with `incomplete: true` and the raw partial text (an empty input is then
 * incomplete too); otherwise the stream ends with `failed` INTERNAL,
 * reason UPSTREAM_INVALID_TOOL_ARGUMENTS (retryable). Since Anthropic closes
 * a cut block before it sends the stop reason, such calls wait for
 * `message_delta`.
 *
 * Data that is not JSON, not an object, without a string `type`, a block
 * event without a valid `index`, a delta for a block that never started or
 * of another block's kind, or a second `message_start` → `failed` INTERNAL,
 * reason UPSTREAM_MALFORMED. A stream that ends before `message_stop` →
 * `failed` UNAVAILABLE, reason UPSTREAM_TRUNCATED (retryable), usage so far
 * attached. Exactly one terminal event, always last.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 * @see https://docs.anthropic.com/en/api/messages
 */
export const anthropicChunkMapper: Mapper<AnthropicSseEvent, AnthropicChunkState> = {
  init: () => ({
    started: false,
    counts: {},
    stopReason: undefined,
    stopExtras: {},
    blocks: new Map(),
    toolNames: new Map(),
    calls: 0,
  }),

  map(s, { event, data }) {
    if (!data.success) return event === "error" ? failWith(s, undefined) : fail(s);
    const e = data.value;
    if (!isKnownStreamEvent(e)) return e.type === undefined ? fail(s) : []; // event types added later are ignored
    switch (e.type) {
      case "error":
        return failWith(s, e.error);
      case "message_start":
        return messageStart(s, e);
      case "content_block_start":
        return blockStart(s, e);
      case "content_block_delta":
        return blockDelta(s, e);
      case "content_block_stop":
        return blockStop(s, e);
      case "message_delta":
        return messageDelta(s, e);
      case "message_stop":
        return messageStop(s);
      case "ping":
        return [];
    }
  },

  end(s) {
    return [
      ev.failed(Code.Unavailable, "the inference provider's stream ended before the answer was complete", "UPSTREAM_TRUNCATED", {
        usage: mapAnthropicUsage(s.counts),
      }),
    ];
  },
};

/** The known event of type `T`. */
type EventOf<T extends AnthropicKnownStreamEvent["type"]> = Extract<AnthropicKnownStreamEvent, { type: T }>;

const usageKeys = ["input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens", "output_tokens_details"];

function messageStart(s: AnthropicChunkState, e: EventOf<"message_start">): StreamEvent[] {
  if (s.started) return fail(s);
  s.started = true;
  const u = e.message?.usage;
  if (!foldAnthropicUsage(s.counts, u)) return [];
  const usage = mapAnthropicUsage(s.counts);
  if (!usage) return [];
  const metadata: JsonObject = { ...(u ? extras(u, usageKeys) : {}) };
  if (e.message?.id) metadata["id"] = e.message.id;
  if (e.message?.model) metadata["model"] = e.message.model;
  return [withExtras(ev.usage(usage), { metadata })];
}

function blockStart(s: AnthropicChunkState, { index, content_block: cb }: EventOf<"content_block_start">): StreamEvent[] {
  if (s.blocks.has(index)) return fail(s);
  if (!isKnownContentBlock(cb)) {
    s.blocks.set(index, { kind: "other", block: json(cb) as JsonObject, deltas: [], flushed: false });
    return [];
  }
  switch (cb.type) {
    case "text":
      s.blocks.set(index, { kind: "text", citations: cb.citations ?? [] });
      return cb.text ? [text(s, index, cb.text)] : [];
    case "thinking": {
      s.blocks.set(index, { kind: "thinking" });
      const out: StreamEvent[] = [];
      if (cb.thinking) out.push(ev.reasoningDelta(cb.thinking, index));
      if (cb.signature) out.push(ev.reasoningDelta("", index, cb.signature));
      return out;
    }
    case "redacted_thinking":
      s.blocks.set(index, { kind: "thinking" });
      return [ev.reasoningDelta("", index, cb.data ?? "", true)];
    case "tool_use":
    case "server_tool_use":
    case "mcp_tool_use": {
      const block: ToolBlock = {
        kind: "tool",
        id: cb.id || `toolu_${index}`,
        name: cb.name ?? "",
        providerExecuted: cb.type !== "tool_use",
        json: "",
        startInput: cb.input && Object.keys(cb.input).length > 0 ? JSON.stringify(cb.input) : undefined,
        done: false,
      };
      s.blocks.set(index, block);
      s.toolNames.set(block.id, block.name);
      const started = ev.toolCallStarted(block.id, block.name, s.calls++, { providerExecuted: block.providerExecuted });
      return [withExtras(started, { metadata: extras(cb, ["type", "id", "name", "input"]) })];
    }
    default: {
      // A server tool's result (`*_tool_result`).
      s.blocks.set(index, { kind: "result" });
      const callId = cb.tool_use_id ?? "";
      const result = ev.toolResult(callId, JSON.stringify(cb.content ?? null), {
        name: s.toolNames.get(callId) ?? "",
        isError: isErrorResult(cb),
      });
      return [withExtras(result, { metadata: extras(cb, ["type", "tool_use_id", "content", "is_error"]) })];
    }
  }
}

function blockDelta(s: AnthropicChunkState, { index, delta: d }: EventOf<"content_block_delta">): StreamEvent[] {
  const block = s.blocks.get(index);
  if (!block) return fail(s);
  if (block.kind === "other") {
    block.deltas.push(definedJson(d));
    return [];
  }
  if (!isKnownContentDelta(d)) return [withExtras(ev.textDelta("", index), { metadata: { delta: json(d) } })];
  switch (d.type) {
    case "text_delta":
      if (block.kind !== "text") return fail(s);
      return d.text ? [text(s, index, d.text)] : [];
    case "citations_delta":
      if (block.kind !== "text") return fail(s);
      if (d.citation !== undefined) block.citations.push(d.citation);
      return [];
    case "thinking_delta":
      if (block.kind !== "thinking") return fail(s);
      return d.thinking ? [ev.reasoningDelta(d.thinking, index)] : [];
    case "signature_delta":
      if (block.kind !== "thinking") return fail(s);
      return d.signature ? [ev.reasoningDelta("", index, d.signature)] : [];
    case "input_json_delta": {
      if (block.kind !== "tool") return fail(s);
      const partial = d.partial_json;
      if (!partial || block.done) return [];
      block.json += partial;
      return [ev.toolCallDelta(block.id, partial)];
    }
  }
}

function blockStop(s: AnthropicChunkState, { index }: EventOf<"content_block_stop">): StreamEvent[] {
  const block = s.blocks.get(index);
  if (block?.kind === "tool" && !block.done) {
    const args = block.json !== "" ? block.json : block.startInput;
    // A cut input is closed before the stop reason arrives: what does not parse yet waits for message_delta.
    return args !== undefined && parses(args) ? closeTool(s, block, false) : [];
  }
  return block ? flush(index, block) : [];
}

function messageDelta(s: AnthropicChunkState, e: EventOf<"message_delta">): StreamEvent[] {
  const d = e.delta;
  const out: StreamEvent[] = [];
  if (d?.stop_reason) {
    s.stopReason = d.stop_reason;
    out.push(...closeAll(s));
  }
  if (d) Object.assign(s.stopExtras, extras(d, ["stop_reason"]));
  if (e.context_management !== undefined && e.context_management !== null) s.stopExtras["context_management"] = e.context_management;
  const u = e.usage;
  if (foldAnthropicUsage(s.counts, u)) {
    const usage = mapAnthropicUsage(s.counts);
    if (usage) out.push(withExtras(ev.usage(usage), { metadata: u ? extras(u, usageKeys) : undefined }));
  }
  return out;
}

function messageStop(s: AnthropicChunkState): StreamEvent[] {
  const out = closeAll(s);
  const raw = s.stopReason ?? "";
  const done = ev.completed(mapAnthropicStopReason(raw), mapAnthropicUsage(s.counts), raw);
  out.push(withExtras(done, { metadata: s.stopExtras }));
  return out;
}

/** Closes every open tool call (cut when the stop reason is a length limit) and flushes held citations and unknown blocks. */
function closeAll(s: AnthropicChunkState): StreamEvent[] {
  const cut = mapAnthropicStopReason(s.stopReason ?? "") === FinishReason.LENGTH;
  const out: StreamEvent[] = [];
  for (const [index, block] of s.blocks) {
    if (block.kind === "tool") {
      if (!block.done) out.push(...closeTool(s, block, cut));
    } else {
      out.push(...flush(index, block));
    }
  }
  return out;
}

function closeTool(s: AnthropicChunkState, block: ToolBlock, cut: boolean): StreamEvent[] {
  const out: StreamEvent[] = [];
  let args = block.json;
  if (args === "" && block.startInput !== undefined) {
    args = block.startInput; // the input came whole with the block: pass it on as its one fragment
    out.push(ev.toolCallDelta(block.id, args));
  }
  const o = { providerExecuted: block.providerExecuted };
  block.done = true;
  if (args.trim() === "" && !cut) {
    out.push(ev.toolCallCompleted(block.id, block.name, "{}", o));
  } else if (parses(args)) {
    out.push(ev.toolCallCompleted(block.id, block.name, args, o));
  } else if (cut) {
    out.push(ev.toolCallCompleted(block.id, block.name, args, { ...o, incomplete: true }));
  } else {
    out.push(
      ev.failed(
        Code.Internal,
        `the model produced input for tool "${block.name}" that is not valid JSON`,
        "UPSTREAM_INVALID_TOOL_ARGUMENTS",
        {
          retryable: true,
          usage: mapAnthropicUsage(s.counts),
        },
      ),
    );
  }
  return out;
}

/** Emits what a text or unknown block still holds: citations not yet attached, or the unknown block itself. */
function flush(index: number, block: Block): StreamEvent[] {
  if (block.kind === "text" && block.citations.length > 0) {
    const citations = block.citations.splice(0);
    return [withExtras(ev.textDelta("", index), { metadata: { citations } })];
  }
  if (block.kind === "other" && !block.flushed) {
    block.flushed = true;
    return [withExtras(ev.textDelta("", index), { metadata: { content_block: block.block, deltas: block.deltas } })];
  }
  return [];
}

/** A `text_delta` carrying the block's held citations, if any. */
function text(s: AnthropicChunkState, index: number, t: string): StreamEvent {
  const block = s.blocks.get(index);
  const citations = block?.kind === "text" ? block.citations.splice(0) : [];
  return withExtras(ev.textDelta(t, index), { metadata: citations.length > 0 ? { citations } : undefined });
}

function fail(s: AnthropicChunkState): StreamEvent[] {
  return [ev.failed(Code.Internal, malformed, "UPSTREAM_MALFORMED", { usage: mapAnthropicUsage(s.counts) })];
}

/** The `failed` event of an `error` event, by `mapAnthropicError`, with the usage so far. */
function failWith(s: AnthropicChunkState, error: AnthropicError | undefined): StreamEvent[] {
  const m = mapAnthropicError(error);
  return [ev.failed(m.code, m.message, m.reason, { retryable: m.retryable, usage: mapAnthropicUsage(s.counts) })];
}
