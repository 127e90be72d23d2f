import type { JsonObject } from "@bufbuild/protobuf";
import { ev, type StreamEvent, type UsageInit, withExtras } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import type { Mapper } from "../../adapt.js";
import type { ParseResult } from "../../safe-parse-json.js";
import { createThinkTagState, flushThinkTags, splitThinkTags, type ThinkPiece, type ThinkTagState } from "../../think-tags.js";
import { mapOllamaError } from "./map-ollama-error.js";
import { mapOllamaFinishReason } from "./map-ollama-finish-reason.js";
import { mapOllamaUsage } from "./map-ollama-usage.js";
import type { OllamaChunk, OllamaToolCall } from "./ollama-chunk.js";
import { parsesAsJson } from "../../json-shape.js";

/** Options of {@link createOllamaChunkMapper}. */
export interface OllamaChunkMapperOptions {
  /**
   * Extract `<think>…</think>` from the answer text as reasoning (models
   * that reason inside their text, e.g. deepseek-r1 on older Ollama
   * versions or with `think` unset). Default false: the text is passed on as is.
   */
  readonly thinkTags?: boolean | undefined;
}

/** State of the mapper for one stream. */
export interface OllamaChunkState {
  /** Tool calls started so far (their ids are `call_<n>` when Ollama sends none). */
  calls: number;
  /** The `<think>` splitter, when `thinkTags` is on. */
  readonly think: ThinkTagState | undefined;
}

/** The duration fields of the last line kept in the terminal's metadata, in nanoseconds as Ollama reports them. */
const durations = ["total_duration", "load_duration", "prompt_eval_duration", "eval_duration"] as const;

/**
 * Creates the mapper of Ollama's native NDJSON streams, `/api/chat` and
 * `/api/generate` alike (lines parsed as JSON and checked against
 * `ollamaChunkSchema`). Deterministic, no I/O.
 *
 * Per line:
 * - not JSON, or not a JSON object → `failed` INTERNAL, reason UPSTREAM_MALFORMED;
 * - `{"error": "…"}` → `failed` by `mapOllamaError` (runner failures →
 *   UNAVAILABLE retryable; unknown model → NOT_FOUND; …);
 * - `thinking` (generate) or `message.thinking` (chat) → `reasoning_delta`;
 * - `response` (generate) or `message.content` (chat) → `text_delta`; with
 *   `thinkTags`, text inside `<think>…</think>` becomes `reasoning_delta`
 *   instead (tags split across lines are recognised; Ollama writes them
 *   JSON-escaped as `\u003cthink\u003e`, which JSON parsing undoes);
 * - each entry of `message.tool_calls` (Ollama sends calls whole, with
 *   `arguments` as a JSON object) → `tool_call_started`, one
 *   `tool_call_delta` with `JSON.stringify(arguments)` (`{}` when absent),
 *   `tool_call_completed`. The id is Ollama's `id` when it sends one, else
 *   the deterministic `call_<n>` (n = 0, 1, … in the stream); `index` is n.
 *   Arguments sent as text are passed on when they parse as JSON; otherwise
 *   the stream ends with `failed` INTERNAL, reason
 *   UPSTREAM_INVALID_TOOL_ARGUMENTS (retryable);
 * - `done: true` is the last line (Ollama's terminal marker): held
 *   `<think>` text is flushed, then `usage` (when counts were reported, see
 *   `mapOllamaUsage`) and `completed` with `done_reason` mapped by
 *   `mapOllamaFinishReason` and kept raw. The terminal's metadata holds the
 *   durations Ollama reported (`total_duration`, `load_duration`,
 *   `prompt_eval_duration`, `eval_duration`, in nanoseconds). The
 *   deprecated `context` token array of `/api/generate` is dropped: it can
 *   be thousands of numbers, and Airwave resends the conversation instead.
 *   `model` and `created_at` are dropped (the model is in `started`).
 *
 * A stream that ends without `done: true` is `failed` UNAVAILABLE, reason
 * UPSTREAM_TRUNCATED (retryable), after any held `<think>` text. Exactly
 * one terminal event, always last.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md
 * @see https://docs.ollama.com/api/errors
 */
export function createOllamaChunkMapper(o: OllamaChunkMapperOptions = {}): Mapper<ParseResult<OllamaChunk>, OllamaChunkState> {
  return {
    init: () => ({ calls: 0, think: o.thinkTags ? createThinkTagState() : undefined }),

    map(s, parsed) {
      if (!parsed.success) {
        return [ev.failed(Code.Internal, "the inference provider sent a malformed line", "UPSTREAM_MALFORMED")];
      }
      const chunk = parsed.value;
      if (chunk.error !== undefined && chunk.error !== null) {
        const e = mapOllamaError(chunk.error);
        return [...flush(s), ev.failed(e.code, e.message, e.reason)];
      }
      const out: StreamEvent[] = [];
      const message = chunk.message;
      const thinking = message?.thinking || chunk.thinking;
      if (thinking) out.push(ev.reasoningDelta(thinking));
      const text = message?.content || chunk.response;
      if (text) out.push(...answer(s, text));
      for (const tc of message?.tool_calls ?? []) out.push(...toolCall(s, tc ?? {}));
      if (chunk.done === true) out.push(...finish(s, chunk));
      return out;
    },

    end(s) {
      return [
        ...flush(s),
        ev.failed(Code.Unavailable, "the inference provider's stream ended before the answer was complete", "UPSTREAM_TRUNCATED"),
      ];
    },
  };
}

function answer(s: OllamaChunkState, text: string): StreamEvent[] {
  return s.think ? splitThinkTags(s.think, text).map(toEvent) : [ev.textDelta(text)];
}

function flush(s: OllamaChunkState): StreamEvent[] {
  return s.think ? flushThinkTags(s.think).map(toEvent) : [];
}

function toEvent(p: ThinkPiece): StreamEvent {
  return p.reasoning ? ev.reasoningDelta(p.text) : ev.textDelta(p.text);
}

function toolCall(s: OllamaChunkState, tc: OllamaToolCall): StreamEvent[] {
  const n = s.calls++;
  const id = tc.id || `call_${n}`;
  const name = tc.function?.name ?? "";
  const raw = tc.function?.arguments;
  const args = raw === undefined || raw === null ? "{}" : typeof raw === "string" ? (raw.trim() === "" ? "{}" : raw) : JSON.stringify(raw);
  const started = [ev.toolCallStarted(id, name, n), ev.toolCallDelta(id, args)];
  if (typeof raw === "string" && !parsesAsJson(args)) {
    return [
      ...started,
      ev.failed(
        Code.Internal,
        `the model produced arguments for tool "${name}" that are not valid JSON`,
        "UPSTREAM_INVALID_TOOL_ARGUMENTS",
        {
          retryable: true,
        },
      ),
    ];
  }
  return [...started, ev.toolCallCompleted(id, name, args)];
}

function finish(s: OllamaChunkState, chunk: OllamaChunk): StreamEvent[] {
  const usage: UsageInit | undefined = mapOllamaUsage(chunk);
  const raw = chunk.done_reason ?? "";
  const metadata: JsonObject = {};
  for (const k of durations) {
    const v = chunk[k];
    if (v != null && Number.isFinite(v)) metadata[k] = v;
  }
  return [
    ...flush(s),
    ...(usage ? [ev.usage(usage)] : []),
    withExtras(ev.completed(mapOllamaFinishReason(raw, s.calls > 0), usage, raw), { metadata }),
  ];
}
