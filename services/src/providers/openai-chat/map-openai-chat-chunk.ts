import { ev, FinishReason, type StreamEvent, type UsageInit } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import type { Mapper } from "../../adapt.js";
import type { ParseResult } from "../../safe-parse-json.js";
import { mapOpenAIFinishReason } from "./map-openai-finish-reason.js";
import { fromOpenAIStreamError } from "./map-openai-error.js";
import { mapOpenAIUsage } from "./map-openai-usage.js";
import { asRecord, type OpenAIChatChoice, type OpenAIChatDelta, type OpenAIToolCallDelta } from "./openai-chat-chunk.js";

/** One tool call being streamed. @private */
interface ToolCallState {
  readonly id: string;
  readonly name: string;
  readonly index: number;
  args: string;
}

/** State of {@link openAIChatChunkMapper} for one stream. */
export interface OpenAIChatChunkState {
  /** True once the terminal event was emitted; later chunks are ignored. */
  ended: boolean;
  /** The raw `finish_reason` of choice 0, once seen. */
  finishRaw: string | undefined;
  /** True when choice 0 streamed refusal text. */
  refused: boolean;
  /** The latest usage reported. */
  usage: UsageInit | undefined;
  /** Tool calls of choice 0 by their `index`. */
  readonly calls: Map<number, ToolCallState>;
  /** The index of the call that received the last fragment (for servers that omit `index`). */
  lastCall: number | undefined;
}

/**
 * Maps OpenAI Chat Completions stream chunks (JSON-parsed SSE `data`) to
 * airwave.v1 events. Deterministic, no I/O. Only choice 0 is used: with
 * `n > 1` the chunks of other choices are ignored.
 *
 * Per chunk:
 * - a chunk that is not JSON, or not a JSON object → `failed` INTERNAL, reason UPSTREAM_MALFORMED;
 * - `{"error": …}` → `failed` (see `fromOpenAIStreamError`), with the usage seen so far;
 * - `usage` (or Groq's `x_groq.usage`) → a `usage` event; it also becomes the terminal's usage;
 * - `delta.reasoning_content` (vLLM, DeepSeek, xAI) or else `delta.reasoning`
 *   (Groq, OpenRouter; vLLM sends both with the same text) → `reasoning_delta`;
 * - `delta.content` → `text_delta`; an array of parts (Mistral) gives
 *   `text_delta` for `text` parts and `reasoning_delta` for `thinking` parts;
 * - `delta.refusal` → `text_delta` too (the refusal is the answer the user
 *   sees), and a `stop` finish then becomes CONTENT_FILTER (raw reason kept);
 * - `delta.tool_calls[]` by `index`: the first fragment of a call (with `id`
 *   and `function.name`) → `tool_call_started`, each non-empty
 *   `function.arguments` → `tool_call_delta`;
 * - role-only and empty deltas give nothing; so does everything after
 *   choice 0 finished (duplicated finish chunks, OpenRouter's trailing chunk),
 *   except usage.
 *
 * When choice 0 finishes (`finish_reason` set) each open tool call is
 * closed with `tool_call_completed`: empty arguments become `{}`; arguments
 * that do not parse as JSON are never passed on as complete — when the finish
 * is `length` (the call was cut off) the call stays open and the stream ends
 * with `completed(LENGTH)`; otherwise the stream ends with `failed` INTERNAL,
 * reason UPSTREAM_INVALID_TOOL_ARGUMENTS (retryable). A `stop` finish with
 * tool calls becomes TOOL_CALLS (OpenAI sends `stop` when `tool_choice` names
 * a function). The raw reason `error` (OpenRouter) → `failed` UNAVAILABLE,
 * reason UPSTREAM_ERROR.
 *
 * At the end of the stream: `completed` with the finish reason and the last
 * usage, or — when no `finish_reason` ever came (the stream was cut) —
 * `failed` UNAVAILABLE, reason UPSTREAM_TRUNCATED (retryable). Exactly one
 * terminal event, always last.
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 * @see https://docs.vllm.ai/en/latest/features/reasoning_outputs.html
 * @see https://console.groq.com/docs/reasoning
 */
export const openAIChatChunkMapper: Mapper<ParseResult<unknown>, OpenAIChatChunkState> = {
  init: () => ({
    ended: false,
    finishRaw: undefined,
    refused: false,
    usage: undefined,
    calls: new Map(),
    lastCall: undefined,
  }),

  map(s, parsed) {
    if (s.ended) return [];
    const chunk = parsed.success ? asRecord(parsed.value) : undefined;
    if (!chunk) {
      return end(s, ev.failed(Code.Internal, "the inference provider sent a malformed event", "UPSTREAM_MALFORMED"));
    }
    if (chunk["error"] !== undefined && chunk["error"] !== null) {
      const e = fromOpenAIStreamError(chunk["error"]);
      return end(s, ev.failed(e.code, e.message, e.reason, withUsage(s)));
    }
    const out: StreamEvent[] = [];
    const choices = Array.isArray(chunk["choices"]) ? (chunk["choices"] as unknown[]) : [];
    const choice = choices.map(asRecord).find((c, i) => c !== undefined && (c["index"] ?? i) === 0);
    if (choice && s.finishRaw === undefined) mapChoice(s, choice, out);
    if (s.ended) return out;
    const usage = mapOpenAIUsage(chunk["usage"] ?? asRecord(chunk["x_groq"])?.["usage"]);
    if (usage) {
      s.usage = usage;
      out.push(ev.usage(usage));
    }
    if (s.finishRaw === "error") {
      out.push(...end(s, ev.failed(Code.Unavailable, "the inference provider failed during the stream", "UPSTREAM_ERROR", withUsage(s))));
    }
    return out;
  },

  end(s) {
    if (s.ended) return [];
    if (s.finishRaw === undefined) {
      return end(
        s,
        ev.failed(Code.Unavailable, "the inference provider's stream ended before the answer was complete", "UPSTREAM_TRUNCATED", withUsage(s)),
      );
    }
    let finish = mapOpenAIFinishReason(s.finishRaw);
    if (finish === FinishReason.STOP && s.calls.size > 0) finish = FinishReason.TOOL_CALLS;
    if (finish === FinishReason.STOP && s.refused) finish = FinishReason.CONTENT_FILTER;
    return end(s, ev.completed(finish, s.usage, s.finishRaw));
  },
};

function mapChoice(s: OpenAIChatChunkState, choice: OpenAIChatChoice, out: StreamEvent[]): void {
  const delta: OpenAIChatDelta = asRecord(choice.delta) ?? {};
  const reasoning = nonEmpty(delta.reasoning_content) ?? nonEmpty(delta.reasoning);
  if (reasoning) out.push(ev.reasoningDelta(reasoning));
  if (typeof delta.content === "string" && delta.content !== "") out.push(ev.textDelta(delta.content));
  if (Array.isArray(delta.content)) out.push(...contentParts(delta.content));
  const refusal = nonEmpty(delta.refusal);
  if (refusal) {
    s.refused = true;
    out.push(ev.textDelta(refusal));
  }
  if (Array.isArray(delta.tool_calls)) {
    for (const tc of delta.tool_calls) mapToolCall(s, asRecord(tc) ?? {}, out);
  }
  const finish = choice.finish_reason;
  if (typeof finish === "string" && finish !== "") {
    s.finishRaw = finish;
    closeToolCalls(s, out);
  }
}

function mapToolCall(s: OpenAIChatChunkState, tc: OpenAIToolCallDelta, out: StreamEvent[]): void {
  const fn = asRecord(tc.function) ?? {};
  const id = nonEmpty(tc.id);
  let index = typeof tc.index === "number" ? tc.index : undefined;
  if (index === undefined) {
    // Servers that omit `index` send each call whole, or continue the last call without an id.
    const known = [...s.calls.values()].find((c) => c.id === id);
    index = known?.index ?? (id !== undefined || s.lastCall === undefined ? s.calls.size : s.lastCall);
  }
  let call = s.calls.get(index);
  if (!call) {
    call = { id: id ?? `call_${index}`, name: nonEmpty(fn["name"]) ?? "", index, args: "" };
    s.calls.set(index, call);
    out.push(ev.toolCallStarted(call.id, call.name, index));
  }
  s.lastCall = index;
  const args = nonEmpty(fn["arguments"]);
  if (args) {
    call.args += args;
    out.push(ev.toolCallDelta(call.id, args));
  }
}

function closeToolCalls(s: OpenAIChatChunkState, out: StreamEvent[]): void {
  for (const call of s.calls.values()) {
    const args = call.args.trim() === "" ? "{}" : call.args;
    if (parses(args)) {
      out.push(ev.toolCallCompleted(call.id, call.name, args));
    } else if (mapOpenAIFinishReason(s.finishRaw ?? "") !== FinishReason.LENGTH) {
      out.push(
        ...end(
          s,
          ev.failed(
            Code.Internal,
            `the model produced arguments for tool "${call.name}" that are not valid JSON`,
            "UPSTREAM_INVALID_TOOL_ARGUMENTS",
            { retryable: true, ...withUsage(s) },
          ),
        ),
      );
      return;
    }
  }
}

function contentParts(parts: readonly unknown[]): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const p of parts.map(asRecord)) {
    if (p?.["type"] === "text" && nonEmpty(p["text"])) out.push(ev.textDelta(p["text"] as string));
    if (p?.["type"] === "thinking") {
      const t = p["thinking"];
      const text = typeof t === "string" ? t : Array.isArray(t) ? t.map((x) => asRecord(x)?.["text"] ?? "").join("") : "";
      if (text !== "") out.push(ev.reasoningDelta(text));
    }
  }
  return out;
}

function end(s: OpenAIChatChunkState, terminal: StreamEvent): StreamEvent[] {
  s.ended = true;
  return [terminal];
}

function withUsage(s: OpenAIChatChunkState): { usage?: UsageInit } {
  return s.usage ? { usage: s.usage } : {};
}

function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
