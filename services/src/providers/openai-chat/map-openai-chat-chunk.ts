import { ev, FinishReason, type StreamEvent, type UsageInit } from "@airwave/proto";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import type { Mapper } from "../../adapt.js";
import type { ParseResult } from "../../safe-parse-json.js";
import { createThinkTagState, type ThinkTagOptions, type ThinkTagState } from "../../think-tags.js";
import { flushContent, mapContent } from "./map-openai-chat-content.js";
import { fromOpenAIStreamError } from "./map-openai-chat-error.js";
import { type ExecutedToolState, mapExecutedTools } from "./map-openai-chat-executed-tools.js";
import { isOpenAIChatFailureFinish, mapOpenAIFinishReason } from "./map-openai-chat-finish-reason.js";
import { choiceMetadata, chunkMetadata, mergeMetadata, usageMetadata } from "./map-openai-chat-metadata.js";
import { mapReasoning } from "./map-openai-chat-reasoning.js";
import {
  closeToolCalls,
  createToolCallState,
  mapToolCallDelta,
  type OpenAIChatToolCall,
  type OpenAIChatToolCallState,
} from "./map-openai-chat-tool-calls.js";
import { mapOpenAIUsage } from "./map-openai-chat-usage.js";
import type { OpenAIChatChoice, OpenAIChatChunk, OpenAIChatDelta } from "./openai-chat-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";

/** State of one choice (candidate) of the stream. */
export interface OpenAIChatChoiceState {
  readonly index: number;
  /** The raw `finish_reason`, once seen; later deltas of the choice are ignored. */
  finishRaw: string | undefined;
  /** True when the choice streamed refusal text. */
  refused: boolean;
  readonly tools: OpenAIChatToolCallState;
  readonly executed: ExecutedToolState;
  /** The `<think>` splitter, when the endpoint enables `thinkTags`. */
  readonly think: ThinkTagState | undefined;
  /** Metadata of chunks that produced no event yet; attached to the choice's next event. */
  pending: JsonObject | undefined;
  /** Metadata about the finish (`stop_reason`, `native_finish_reason`, metadata still pending): for the terminal. */
  finishMetadata: JsonObject | undefined;
}

/** State of the mapper for one stream. */
export interface OpenAIChatChunkState {
  /** The latest usage reported. */
  usage: UsageInit | undefined;
  /** The last usage event's content, to skip repeats of the same counts. */
  lastUsage: string | undefined;
  /** Choices by index, in the order they appeared. */
  readonly choices: Map<number, OpenAIChatChoiceState>;
  /** Chunk-level extras for the terminal. */
  terminalMetadata: JsonObject | undefined;
  /** The think-tag option of the endpoint; undefined = off. */
  readonly thinkTags: ThinkTagOptions | undefined;
}

/** Options of {@link createOpenAIChatChunkMapper}. */
export interface OpenAIChatChunkMapperOptions {
  /** Extract `<think>…</think>` from content as reasoning (see services/src/think-tags.ts); off when undefined. */
  readonly thinkTags?: ThinkTagOptions | undefined;
}

/**
 * Creates the mapper of OpenAI Chat Completions stream chunks (SSE `data`
 * parsed by `openaiChatChunkSchema`, see `decodeOpenAIChatStream`) to airwave.v1 events.
 * Deterministic, no I/O.
 *
 * Per chunk:
 * - not JSON, or not a JSON object (the schema failed) → `failed` INTERNAL UPSTREAM_MALFORMED;
 * - `{"error": …}` (with or without `event: error`: Groq, OpenRouter, TGI)
 *   → `failed` by `fromOpenAIStreamError`, with the usage so far — the
 *   chunk's own `usage`, when it carries one next to the error;
 * - each entry of `choices` by its `index` (n > 1 choices interleave; the
 *   array position when a server omits it): reasoning (`mapReasoning`),
 *   text and refusal (`mapContent`, with `<think>` extraction when
 *   enabled), `tool_calls` fragments keyed by index and id
 *   (`mapToolCallDelta`), Groq's `executed_tools` (`mapExecutedTools`).
 *   Every event of choice N > 0 carries `choice_index` N. Role-only and
 *   empty deltas give nothing; a choice's chunks after its finish
 *   (duplicated finish chunks, OpenRouter's trailing chunk) are ignored;
 * - the choice's extras (`logprobs`, `content_filter_results`, `token_ids`, …,
 *   see `map-openai-chat-metadata.ts`) → `provider_metadata` of the first
 *   event of that choice from that chunk, or of its next event when the
 *   chunk gave none (`stop_reason` and `native_finish_reason` go to the
 *   terminal); chunk-level extras (`moderation`, `system_fingerprint`, …) → the terminal;
 * - `usage` (on a `choices: []` chunk, on the finish chunk, or on every
 *   chunk; `null` ignored) or Groq's `x_groq.usage` → a `usage` event
 *   when the counts changed, with the usage extras (cost, timings) as
 *   metadata; the last one is the terminal's usage.
 *
 * When a choice finishes (`finish_reason` set): text held by the think-tag
 * splitter is flushed, and its tool calls are completed (`closeToolCalls`):
 * arguments that do not parse are `incomplete` when the finish is LENGTH or
 * CONTENT_FILTER (the provider cut the call), and otherwise end the stream
 * with `failed` INTERNAL UPSTREAM_INVALID_TOOL_ARGUMENTS (retryable). A
 * failure finish (`error`, `insufficient_system_resource`) ends it with
 * `failed` UNAVAILABLE UPSTREAM_ERROR.
 *
 * Terminal marker: a `finish_reason` on every choice that appeared. `[DONE]`
 * is optional (TGI before 3.0 never sends it), so the terminal is emitted
 * when the body ends (a usage chunk may follow the finish):
 * - every choice that appeared finished → `completed` with choice 0's
 *   mapped finish reason (the lowest index when choice 0 never appeared;
 *   STOP becomes TOOL_CALLS when the choice made tool calls, and
 *   CONTENT_FILTER when it refused), its raw reason, the last usage, and
 *   `provider_metadata` = the chunk-level extras + choice 0's finish extras
 *   + for n > 1 `choices: [{index, finish_reason, …finish extras}]` of the others;
 * - otherwise (no finish_reason at all, or a choice left unfinished) →
 *   `failed` UNAVAILABLE UPSTREAM_TRUNCATED (retryable), with the usage so far.
 * Exactly one terminal event, always last.
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-n
 */
export function createOpenAIChatChunkMapper(
  o: OpenAIChatChunkMapperOptions = {},
): Mapper<ParseResult<OpenAIChatChunk>, OpenAIChatChunkState> {
  return {
    init: () => ({
      usage: undefined,
      lastUsage: undefined,
      choices: new Map(),
      terminalMetadata: undefined,
      thinkTags: o.thinkTags,
    }),
    map: mapChunk,
    end: endStream,
  };
}

/** The mapper without `<think>` extraction. */
export const openAIChatChunkMapper = createOpenAIChatChunkMapper();

/** An absent `delta`. */
const noDelta: OpenAIChatDelta = {};

function mapChunk(s: OpenAIChatChunkState, parsed: ParseResult<OpenAIChatChunk>): StreamEvent[] {
  if (!parsed.success) {
    return [ev.failed(Code.Internal, "the inference provider sent a malformed event", "UPSTREAM_MALFORMED", withUsage(s))];
  }
  const chunk = parsed.value;
  if (chunk.error !== undefined && chunk.error !== null) {
    const e = fromOpenAIStreamError(chunk.error, chunk.error_type);
    // OpenAI-compatible servers (vLLM, OpenRouter) may send the usage in the error chunk itself.
    const usage = mapOpenAIUsage(chunk.usage ?? chunk.x_groq?.usage);
    if (usage) s.usage = usage;
    return [
      ...flushUnfinished(s),
      ev.failed(e.code, e.message, e.reason, { ...withUsage(s), ...(e.retryable === undefined ? {} : { retryable: e.retryable }) }),
    ];
  }
  s.terminalMetadata = mergeMetadata(s.terminalMetadata, chunkMetadata(chunk));
  const out: StreamEvent[] = [];
  let failure = false;
  for (const [position, choice] of (chunk.choices ?? []).entries()) {
    if (!choice) continue;
    const c = choiceState(s, choice.index ?? position);
    if (c.finishRaw !== undefined) continue;
    const r = mapChoice(c, choice, out);
    if (typeof r === "object") {
      return [
        ...out,
        ev.failed(
          Code.Internal,
          `the model produced arguments for tool "${r.invalid.name}" that are not valid JSON`,
          "UPSTREAM_INVALID_TOOL_ARGUMENTS",
          {
            retryable: true,
            ...withUsage(s),
          },
        ),
      ];
    }
    if (r === "failure-finish") failure = true;
  }
  const raw = chunk.usage ?? chunk.x_groq?.usage;
  const usage = mapOpenAIUsage(raw);
  if (usage) {
    s.usage = usage;
    const meta = usageMetadata(raw);
    const key = JSON.stringify([usage, meta]);
    if (key !== s.lastUsage) {
      s.lastUsage = key;
      out.push(meta ? withMetadata(ev.usage(usage), meta) : ev.usage(usage));
    }
  }
  if (failure) {
    return [...out, ev.failed(Code.Unavailable, "the inference provider failed during the stream", "UPSTREAM_ERROR", withUsage(s))];
  }
  return out;
}

/** What {@link mapChoice} says about the stream: go on, fail for a failure finish, or fail for a call whose arguments are not JSON. */
type ChoiceResult = "ok" | "failure-finish" | { readonly invalid: OpenAIChatToolCall };

/** Maps one choice entry; says whether the stream must fail. */
function mapChoice(c: OpenAIChatChoiceState, choice: OpenAIChatChoice, out: StreamEvent[]): ChoiceResult {
  const delta = choice.delta ?? noDelta;
  const evs: StreamEvent[] = [];
  mapReasoning(delta, evs);
  if (mapContent(delta, c.think, evs)) c.refused = true;
  const prefix = c.index === 0 ? "" : `choice${c.index}_`;
  for (const tc of delta.tool_calls ?? []) if (tc) mapToolCallDelta(c.tools, tc, prefix, evs);
  mapExecutedTools(c.executed, c.tools, delta.executed_tools, prefix, evs);

  const meta = choiceMetadata(choice, delta);
  const finish = nonEmpty(choice.finish_reason);
  let about: JsonObject | undefined;
  if (finish && meta) {
    for (const k of ["stop_reason", "native_finish_reason"]) {
      if (k in meta) {
        (about ??= {})[k] = meta[k] ?? null;
        delete meta[k];
      }
    }
  }
  const extras = meta && Object.keys(meta).length > 0 ? meta : undefined;
  const first = evs[0];
  if (first) {
    const m = mergeMetadata(c.pending, extras);
    if (m) withMetadata(first, m);
    c.pending = undefined;
  } else {
    c.pending = mergeMetadata(c.pending, extras);
  }

  let result: ChoiceResult = "ok";
  if (finish) {
    c.finishRaw = finish;
    flushContent(c.think, evs);
    c.finishMetadata = mergeMetadata(c.pending, about);
    c.pending = undefined;
    if (isOpenAIChatFailureFinish(finish)) result = "failure-finish";
    else {
      const mapped = mapOpenAIFinishReason(finish);
      const closed = closeToolCalls(c.tools, mapped === FinishReason.LENGTH || mapped === FinishReason.CONTENT_FILTER);
      evs.push(...closed.events);
      if (closed.invalid) result = { invalid: closed.invalid };
    }
  }
  for (const e of evs) {
    if (c.index !== 0) e.choiceIndex = c.index;
    out.push(e);
  }
  return result;
}

function endStream(s: OpenAIChatChunkState): StreamEvent[] {
  const all = [...s.choices.values()];
  const primary = s.choices.get(0) ?? all.reduce<OpenAIChatChoiceState | undefined>((a, c) => (a && a.index < c.index ? a : c), undefined);
  if (!primary || all.some((c) => c.finishRaw === undefined)) {
    return [
      ...flushUnfinished(s),
      ev.failed(
        Code.Unavailable,
        "the inference provider's stream ended before the answer was complete",
        "UPSTREAM_TRUNCATED",
        withUsage(s),
      ),
    ];
  }
  const raw = primary.finishRaw ?? "";
  let finish = mapOpenAIFinishReason(raw);
  if (finish === FinishReason.STOP && primary.tools.calls.length > 0) finish = FinishReason.TOOL_CALLS;
  if (finish === FinishReason.STOP && primary.refused) finish = FinishReason.CONTENT_FILTER;
  const others = all
    .filter((c) => c !== primary)
    .sort((a, b) => a.index - b.index)
    .map((c): JsonObject => ({ index: c.index, finish_reason: c.finishRaw ?? null, ...c.finishMetadata }));
  const meta = mergeMetadata(
    mergeMetadata(s.terminalMetadata, primary.finishMetadata),
    others.length > 0 ? { choices: others } : undefined,
  );
  const done = ev.completed(finish, s.usage, raw);
  return [meta ? withMetadata(done, meta) : done];
}

function choiceState(s: OpenAIChatChunkState, index: number): OpenAIChatChoiceState {
  let c = s.choices.get(index);
  if (!c) {
    c = {
      index,
      finishRaw: undefined,
      refused: false,
      tools: createToolCallState(),
      executed: new Map(),
      think: s.thinkTags ? createThinkTagState(s.thinkTags) : undefined,
      pending: undefined,
      finishMetadata: undefined,
    };
    s.choices.set(index, c);
  }
  return c;
}

/** Emits the text the think-tag splitters of unfinished choices still hold (before a failure: nothing the model said is lost). */
function flushUnfinished(s: OpenAIChatChunkState): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const c of s.choices.values()) {
    if (c.finishRaw !== undefined) continue;
    const evs: StreamEvent[] = [];
    flushContent(c.think, evs);
    for (const e of evs) {
      if (c.index !== 0) e.choiceIndex = c.index;
      out.push(e);
    }
  }
  return out;
}

function withMetadata(e: StreamEvent, m: JsonObject): StreamEvent {
  e.providerMetadata = { ...e.providerMetadata, ...m };
  return e;
}

function withUsage(s: OpenAIChatChunkState): { usage?: UsageInit } {
  return s.usage ? { usage: s.usage } : {};
}
