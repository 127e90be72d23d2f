import type { ConnectError } from "@connectrpc/connect";
import { type Cursor, FinishReason, formatCursor, type StreamEvent, type StreamInfo, type Usage } from "@airwave/proto";
import { openaiErrorFrame } from "../errors/openai-error.js";
import { errorOfFailed } from "../errors/public-error.js";
import { type Encoder, sseEncoder } from "../stream/encoder.js";

/**
 * What every chunk and completion of one stream carries. Derived from the
 * stream alone, so a replay or a resume writes the same bytes.
 */
export interface CompletionHeader {
  /** `chatcmpl-<stream id>` ({@link completionIdOf}). */
  readonly id: string;
  /** When the stream was created, in Unix seconds (`StreamInfo.created_at`). */
  readonly created: number;
  /** The model as the request named it (`StreamInfo.model`). */
  readonly model: string;
}

/** The prefix of a completion id: `chatcmpl-<stream id>`. */
const completionIdPrefix = "chatcmpl-";

/** The completion id of a stream: `chatcmpl-<stream id>`. */
export function completionIdOf(streamId: string): string {
  return `${completionIdPrefix}${streamId}`;
}

/** The stream id in a completion id (`chatcmpl-<id>`), or the text itself when it is a bare stream id. */
export function streamIdOfCompletion(id: string): string {
  return id.startsWith(completionIdPrefix) ? id.slice(completionIdPrefix.length) : id;
}

/** The {@link CompletionHeader} of a stream. */
export function completionHeaderOf(info: StreamInfo): CompletionHeader {
  return { id: completionIdOf(info.streamId), created: Number(info.createdAt?.seconds ?? 0n), model: info.model };
}

/** A Chat Completions finish reason (https://platform.openai.com/docs/api-reference/chat/object). */
export type FinishReasonJson = "stop" | "length" | "tool_calls" | "content_filter";

/**
 * The finish reason of a `completed` event: STOP `stop`, LENGTH `length`,
 * TOOL_CALLS `tool_calls` (`stop` when every call was the provider's own),
 * CONTENT_FILTER `content_filter`; CANCELLED `stop` (OpenAI has no
 * cancelled reason; `GET /v1/streams/{id}` says STREAM_STATE_CANCELLED);
 * unspecified `tool_calls` when the answer called tools, else `stop`.
 */
export function finishReasonJson(reason: FinishReason, calledTools: boolean): FinishReasonJson {
  switch (reason) {
    case FinishReason.LENGTH:
      return "length";
    case FinishReason.CONTENT_FILTER:
      return "content_filter";
    case FinishReason.TOOL_CALLS:
    case FinishReason.UNSPECIFIED:
      return calledTools ? "tool_calls" : "stop";
    default:
      return "stop";
  }
}

/** Chat Completions `usage`, in tokens. Counts the provider did not report are 0; the details only when reported. */
export interface UsageJson {
  readonly prompt_tokens: number;
  readonly completion_tokens: number;
  /** prompt_tokens + completion_tokens. */
  readonly total_tokens: number;
  readonly prompt_tokens_details?: { readonly cached_tokens: number };
  readonly completion_tokens_details?: { readonly reasoning_tokens: number };
}

/** The Chat Completions usage of an airwave.v1 Usage (input → prompt, output → completion, cached input, reasoning). */
export function usageJson(u: Usage | undefined): UsageJson {
  const prompt = u?.inputTokens ?? 0;
  const completion = u?.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    ...(u?.cachedInputTokens !== undefined ? { prompt_tokens_details: { cached_tokens: u.cachedInputTokens } } : {}),
    ...(u?.reasoningTokens !== undefined ? { completion_tokens_details: { reasoning_tokens: u.reasoningTokens } } : {}),
  };
}

/** One tool call fragment of a delta: the first one of a call has `id`, `type` and `function.name`; the rest add `function.arguments`. */
export interface ToolCallDeltaJson {
  /** The call's position among the choice's tool calls, 0-based. */
  readonly index: number;
  readonly id?: string;
  readonly type?: "function";
  readonly function: { readonly name?: string; readonly arguments: string };
}

/**
 * `choices[].delta` of a chunk: `role` in a choice's first chunk, then
 * `content`, `reasoning_content` (the DeepSeek / vLLM dialect, which the AI
 * SDK and most OpenAI-compatible clients read) or `tool_calls`.
 */
export interface DeltaJson {
  readonly role?: "assistant";
  readonly content?: string;
  readonly reasoning_content?: string;
  readonly tool_calls?: readonly ToolCallDeltaJson[];
}

/** What one event adds to one choice. */
export interface ChoiceDelta {
  /** `StreamEvent.choice_index`. */
  readonly index: number;
  readonly delta: DeltaJson;
}

/** What {@link ChatCompletionFold.step} makes of one event; undefined: nothing a Chat Completions client sees. */
export type FoldStep =
  | { readonly kind: "deltas"; readonly deltas: readonly ChoiceDelta[] }
  | {
      readonly kind: "finish";
      /** Every choice that produced anything (at least choice 0), with its finish reason. */
      readonly choices: readonly { readonly index: number; readonly finishReason: FinishReasonJson }[];
      readonly usage: UsageJson;
    }
  | {
      readonly kind: "failed";
      /** The `failed` event as an error: its code, message, `airwave-reason` and `retry-after-ms`. */
      readonly error: ConnectError;
    }
  | undefined;

/** A client-visible tool call as the fold tracks it. */
interface CallState {
  readonly index: number;
  /** False while only deltas of a call whose `tool_call_started` was never seen arrived. */
  named: boolean;
  /** The arguments text sent so far. */
  sent: string;
}

/**
 * The one fold from airwave.v1 events to Chat Completions deltas, used by
 * the streaming encoder ({@link chatCompletionChunkEncoder}) and the
 * non-streaming answer (`chatCompletionOf`), so both say the same thing.
 * Feed it every event of a stream in log order, from the first.
 *
 * - `started` opens choice 0 (`role: "assistant"`, `content: ""`); any
 *   other choice opens with its first delta;
 * - `text_delta` → `content`; `reasoning_delta` → `reasoning_content`
 *   (empty and redacted ones are dropped);
 * - `tool_call_started` → a tool call with the next `index` of its choice,
 *   its `id` (the call id), `type: "function"`, `function.name`, `arguments: ""`;
 *   `tool_call_delta` → `function.arguments` fragments;
 *   `tool_call_completed` → whatever part of `arguments_json` was not yet
 *   sent. Calls the provider runs itself (`provider_executed`) and their
 *   `tool_result` are not shown: the client must not run them;
 * - `usage` is kept; `completed` finishes every open choice
 *   ({@link finishReasonJson}) with its usage, or the last `usage`;
 * - `failed` becomes its error;
 * - `status`, input requests and answers, `resumed` and heartbeats add
 *   nothing.
 */
export class ChatCompletionFold {
  readonly #opened = new Set<number>();
  readonly #calls = new Map<string, CallState | "hidden">();
  readonly #nextIndex = new Map<number, number>();
  readonly #calledTools = new Set<number>();
  #usage: Usage | undefined;

  /** Applies one event; returns what it adds. */
  step(e: StreamEvent): FoldStep {
    const ev = e.event;
    const choice = e.choiceIndex;
    switch (ev.case) {
      case "started":
        this.#opened.add(0);
        return { kind: "deltas", deltas: [{ index: 0, delta: { role: "assistant", content: "" } }] };
      case "textDelta":
        return ev.value.text === "" ? undefined : this.#delta(choice, { content: ev.value.text });
      case "reasoningDelta":
        return ev.value.text === "" ? undefined : this.#delta(choice, { reasoning_content: ev.value.text });
      case "toolCallStarted": {
        const v = ev.value;
        if (v.providerExecuted) {
          this.#calls.set(v.callId, "hidden");
          return undefined;
        }
        const call = this.#call(v.callId, choice, true);
        if (call === undefined) return undefined;
        return this.#delta(choice, {
          tool_calls: [{ index: call.index, id: v.callId, type: "function", function: { name: v.name, arguments: "" } }],
        });
      }
      case "toolCallDelta": {
        const v = ev.value;
        const known = this.#calls.has(v.callId);
        const call = this.#call(v.callId, choice, false);
        if (call === undefined || v.argumentsDelta === "") return undefined;
        call.sent += v.argumentsDelta;
        const head = known ? {} : { id: v.callId, type: "function" as const };
        return this.#delta(choice, { tool_calls: [{ index: call.index, ...head, function: { arguments: v.argumentsDelta } }] });
      }
      case "toolCallCompleted": {
        const v = ev.value;
        if (v.providerExecuted) {
          this.#calls.set(v.callId, "hidden");
          return undefined;
        }
        const known = this.#calls.has(v.callId);
        const call = this.#call(v.callId, choice, false);
        if (call === undefined) return undefined;
        const rest = v.argumentsJson.startsWith(call.sent) ? v.argumentsJson.slice(call.sent.length) : "";
        call.sent += rest;
        if (known && call.named && rest === "") return undefined;
        const head = known ? {} : { id: v.callId, type: "function" as const };
        const name = call.named ? {} : { name: v.name };
        call.named = true;
        return this.#delta(choice, { tool_calls: [{ index: call.index, ...head, function: { ...name, arguments: rest } }] });
      }
      case "usage":
        this.#usage = ev.value;
        return undefined;
      case "completed": {
        const reason = ev.value.finishReason;
        const open = this.#opened.size > 0 ? [...this.#opened].sort((a, b) => a - b) : [0];
        return {
          kind: "finish",
          choices: open.map((index) => ({ index, finishReason: finishReasonJson(reason, this.#calledTools.has(index)) })),
          usage: usageJson(ev.value.usage ?? this.#usage),
        };
      }
      case "failed": {
        return { kind: "failed", error: errorOfFailed(ev.value) };
      }
      default:
        return undefined;
    }
  }

  /** A delta of `choice`, with `role` when it is the choice's first. */
  #delta(choice: number, delta: DeltaJson): FoldStep {
    if (delta.tool_calls) this.#calledTools.add(choice);
    if (this.#opened.has(choice)) return { kind: "deltas", deltas: [{ index: choice, delta }] };
    this.#opened.add(choice);
    return { kind: "deltas", deltas: [{ index: choice, delta: { role: "assistant", ...delta } }] };
  }

  /** The call `callId` (created with the next index of its choice when new); undefined when hidden. */
  #call(callId: string, choice: number, named: boolean): CallState | undefined {
    const known = this.#calls.get(callId);
    if (known === "hidden") return undefined;
    if (known !== undefined) return known;
    const index = this.#nextIndex.get(choice) ?? 0;
    this.#nextIndex.set(choice, index + 1);
    const call: CallState = { index, named, sent: "" };
    this.#calls.set(callId, call);
    return call;
  }
}

/** Options of {@link chatCompletionChunkEncoder}. */
export interface ChunkEncoderOptions extends CompletionHeader {
  /** `stream_options.include_usage`: every chunk has `"usage": null`, and a last chunk with empty `choices` carries the usage. */
  readonly includeUsage: boolean;
  /**
   * A resume: events at or before this cursor (same epoch) go through the
   * fold but write nothing, so the chunks after it are exactly those the
   * first response wrote there. A cursor of another epoch writes everything.
   */
  readonly after?: Cursor | undefined;
}

/**
 * The streaming encoder of `POST /v1/chat/completions` (and its resume),
 * for the gateway's one serve loop (`serveStream`): Server-Sent Events in
 * the Chat Completions chunk format
 * (https://platform.openai.com/docs/api-reference/chat-streaming), one
 * encoder per response (it folds the stream, {@link ChatCompletionFold}).
 *
 * Each SSE message is `id: <cursor>` and `data: <chunk JSON>`:
 * `{"id":"chatcmpl-…","object":"chat.completion.chunk","created":…,"model":…,"choices":[{"index":0,"delta":{…},"logprobs":null,"finish_reason":null}]}`
 * (plus `"usage":null` with include_usage). The `id:` is the cursor of the
 * event the chunk comes from, so `Last-Event-ID` resumes after it. The
 * terminal event writes the finish chunk (`delta: {}`, `finish_reason`),
 * with include_usage the usage chunk (`choices: []`), then `data: [DONE]`;
 * the messages before `[DONE]` carry the cursor before the terminal event
 * (a resume from them repeats that last group rather than lose any of it),
 * `[DONE]` the terminal's own. A `failed` event writes
 * `data: {"error":{…}}` (OpenAI's error object of its code, `openaiError`)
 * and `data: [DONE]`. Events that add nothing write nothing (an empty
 * frame). Heartbeats are the gateway's SSE comment (`: heartbeat`), which
 * OpenAI clients ignore; an error of the watch itself (ABORTED for a
 * watcher left too far behind, UNAVAILABLE at shutdown: the stream goes
 * on, resume it) is `data: {"error":{…}}` without `[DONE]`.
 */
export function chatCompletionChunkEncoder(o: ChunkEncoderOptions): Encoder {
  const fold = new ChatCompletionFold();
  const head = `{"id":${JSON.stringify(o.id)},"object":"chat.completion.chunk","created":${o.created},"model":${JSON.stringify(o.model)},`;
  const usageNull = o.includeUsage ? `,"usage":null` : "";
  const chunk = (choices: string) => `${head}"choices":${choices}${usageNull}}`;
  const after = o.after;
  return {
    contentType: "text/event-stream; charset=utf-8",
    event(e) {
      const step = fold.step(e);
      if (step === undefined) return "";
      if (after !== undefined && e.seq > 0 && e.epoch === after.epoch && e.seq <= after.seq) return "";
      const id = e.seq > 0 ? formatCursor(e) : undefined;
      const before = e.seq > 0 ? formatCursor({ epoch: e.epoch, seq: e.seq - 1 }) : undefined;
      switch (step.kind) {
        case "deltas":
          return message(
            id,
            chunk(JSON.stringify(step.deltas.map((d) => ({ index: d.index, delta: d.delta, logprobs: null, finish_reason: null })))),
          );
        case "finish": {
          const finish = step.choices.map((c) => ({ index: c.index, delta: {}, logprobs: null, finish_reason: c.finishReason }));
          let out = message(before, chunk(JSON.stringify(finish)));
          if (o.includeUsage) out += message(before, `${head}"choices":[],"usage":${JSON.stringify(step.usage)}}`);
          return out + message(id, "[DONE]");
        }
        case "failed":
          return (before === undefined ? "" : `id: ${before}\n`) + openaiErrorFrame(step.error) + message(id, "[DONE]");
      }
    },
    heartbeat: () => sseEncoder.heartbeat(),
    error: openaiErrorFrame,
  };
}

/** One SSE message: an optional `id:` line and one `data:` line. */
function message(id: string | undefined, data: string): string {
  return `${id === undefined ? "" : `id: ${id}\n`}data: ${data}\n\n`;
}
