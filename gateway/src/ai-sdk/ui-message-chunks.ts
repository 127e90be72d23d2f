import type { ConnectError } from "@connectrpc/connect";
import { FinishReason, type StreamEvent } from "@airwave/proto";
import { errorJson, errorOfFailed, publicError } from "../errors/public-error.js";
import { type Encoder, sseEncoder } from "../stream/encoder.js";

/**
 * The response header of the AI SDK's UI message stream protocol, version 1
 * (ai-sdk.dev "Stream Protocols", Data Stream Protocol; the `ai` package's
 * `UI_MESSAGE_STREAM_HEADERS`).
 */
export const uiMessageStreamHeader = { "x-vercel-ai-ui-message-stream": "v1" } as const;

/** A `finish` chunk's `finishReason` (the `ai` package's `uiMessageChunkSchema`). */
export type UIFinishReason = "stop" | "length" | "content-filter" | "tool-calls" | "error" | "other";

/** The UI finish reason of a `completed` event (CANCELLED is an `abort` chunk, not a finish). */
export function uiFinishReason(reason: FinishReason): UIFinishReason {
  switch (reason) {
    case FinishReason.STOP:
      return "stop";
    case FinishReason.LENGTH:
      return "length";
    case FinishReason.TOOL_CALLS:
      return "tool-calls";
    case FinishReason.CONTENT_FILTER:
      return "content-filter";
    default:
      return "other";
  }
}

/**
 * The `errorText` of an `error` chunk: the Connect JSON error
 * (`{"code":"unavailable","message":"…"}`, `errorJson` of the public
 * error), the same text as the body of an error answered before the stream
 * started, which the AI SDK makes the `message` of its `APICallError`. So
 * one parse gives the code of either.
 */
export function errorTextOf(err: ConnectError): string {
  return errorJson(publicError(err));
}

/** The text or reasoning part an agent is writing. */
interface OpenPart {
  readonly kind: "text" | "reasoning";
  readonly blockIndex: number;
  readonly id: string;
}

/** Options of {@link uiMessageChunkEncoder}. */
export interface UIMessageChunkOptions {
  /**
   * The `messageId` of the `start` chunk: the same for every response of the
   * turn (the first and each reconnect), so the AI SDK rebuilds the same
   * message on a replay (`resumeStreamIsReplay`, its default).
   */
  readonly messageId: string;
}

/**
 * The encoder of the AI SDK routes for the gateway's one serve loop
 * (`serveStream`): a stream's events as the AI SDK's UI message stream
 * (ai-sdk.dev "Stream Protocols", Data Stream Protocol, the chunks of the
 * `ai` package's `uiMessageChunkSchema`): Server-Sent Events `data: <chunk
 * JSON>\n\n`, ending with `data: [DONE]`. One encoder per response (it
 * tracks the open parts); fed from the stream's first event, it writes the
 * same chunks for the first response and for every replay.
 *
 * - the first event (normally `started`) writes `start` (with
 *   {@link UIMessageChunkOptions.messageId}) and `start-step`;
 * - `text_delta` → `text-start` (when a part opens), `text-delta`;
 *   `reasoning_delta` → `reasoning-start`, `reasoning-delta` (redacted and
 *   empty ones are dropped). A part stays open while the same agent goes on
 *   with the same kind and block; anything else of that agent ends it
 *   (`text-end`, `reasoning-end`). Part ids are `text-<n>` and
 *   `reasoning-<n>`, numbered in stream order;
 * - `tool_call_started` → `tool-input-start` (the call id, the tool name,
 *   `providerExecuted` for a tool the provider or agent runs itself);
 *   `tool_call_delta` → `tool-input-delta`; `tool_call_completed` →
 *   `tool-input-available` with the parsed arguments as `input`, or
 *   `tool-input-error` when the call was cut (`incomplete`);
 * - `tool_result` (a tool run server-side) → `tool-output-available` (the
 *   result, parsed when it is JSON) or `tool-output-error`, both
 *   `providerExecuted`;
 * - `completed` ends the open parts, then `finish-step`, `finish` with
 *   {@link uiFinishReason}; a cancelled stream (FINISH_REASON_CANCELLED) gets
 *   `abort` instead of `finish`; then `data: [DONE]`;
 * - `failed` ends the open parts, then `error` ({@link errorTextOf}),
 *   `finish-step`, `finish` with `finishReason: "error"`, `data: [DONE]`;
 * - events of other choices than 0, `status`, input requests and answers,
 *   `usage` and `resumed` write nothing (an empty frame). A replay whose
 *   first events were trimmed from the log (`resumed` TRIMMED) still opens
 *   with `start`, and parts open at their first remaining delta.
 *
 * Heartbeats are the gateway's SSE comment (`: heartbeat`), which the AI
 * SDK's parser (eventsource-parser) skips. An error of the watch itself
 * after the start (ABORTED for a reader left too far behind, UNAVAILABLE at
 * shutdown; the generation goes on) is one `error` chunk without
 * `[DONE]`: the client may reconnect.
 */
export function uiMessageChunkEncoder(o: UIMessageChunkOptions): Encoder {
  let started = false;
  let parts = 0;
  const open = new Map<string, OpenPart>();
  /** Calls the client saw a `tool-input-start` or `tool-input-available` of. */
  const calls = new Map<string, { readonly providerExecuted: boolean; started: boolean }>();

  const start = (): string => {
    if (started) return "";
    started = true;
    return chunk({ type: "start", messageId: o.messageId }) + chunk({ type: "start-step" });
  };
  const end = (agentId: string): string => {
    const p = open.get(agentId);
    if (p === undefined) return "";
    open.delete(agentId);
    return chunk({ type: `${p.kind}-end`, id: p.id });
  };
  const endAll = (): string => {
    let out = "";
    for (const agentId of [...open.keys()]) out += end(agentId);
    return out;
  };
  const delta = (agentId: string, kind: OpenPart["kind"], blockIndex: number, text: string): string => {
    let out = "";
    let p = open.get(agentId);
    if (p === undefined || p.kind !== kind || p.blockIndex !== blockIndex) {
      out += end(agentId);
      p = { kind, blockIndex, id: `${kind}-${parts++}` };
      open.set(agentId, p);
      out += chunk({ type: `${kind}-start`, id: p.id });
    }
    return out + chunk({ type: `${kind}-delta`, id: p.id, delta: text });
  };

  return {
    contentType: "text/event-stream; charset=utf-8",
    event(e: StreamEvent) {
      if (e.choiceIndex !== 0) return "";
      const ev = e.event;
      const agent = e.agentId;
      switch (ev.case) {
        case "started":
          return start();
        case "textDelta":
          return ev.value.text === "" ? "" : start() + delta(agent, "text", ev.value.blockIndex, ev.value.text);
        case "reasoningDelta":
          return ev.value.text === "" || ev.value.redacted ? "" : start() + delta(agent, "reasoning", ev.value.blockIndex, ev.value.text);
        case "toolCallStarted": {
          const v = ev.value;
          calls.set(v.callId, { providerExecuted: v.providerExecuted, started: true });
          return (
            start() +
            end(agent) +
            chunk({
              type: "tool-input-start",
              toolCallId: v.callId,
              toolName: v.name,
              ...(v.providerExecuted ? { providerExecuted: true } : {}),
            })
          );
        }
        case "toolCallDelta": {
          const v = ev.value;
          // A call whose start was trimmed from the log: its input comes whole with tool-input-available.
          if (!calls.get(v.callId)?.started || v.argumentsDelta === "") return "";
          return chunk({ type: "tool-input-delta", toolCallId: v.callId, inputTextDelta: v.argumentsDelta });
        }
        case "toolCallCompleted": {
          const v = ev.value;
          const providerExecuted = v.providerExecuted || (calls.get(v.callId)?.providerExecuted ?? false);
          calls.set(v.callId, { providerExecuted, started: true });
          const head = { toolCallId: v.callId, toolName: v.name, ...(providerExecuted ? { providerExecuted: true } : {}) };
          const input = v.incomplete ? undefined : parseJson(v.argumentsJson);
          if (input === undefined) {
            return (
              start() +
              end(agent) +
              chunk({
                type: "tool-input-error",
                ...head,
                input: v.argumentsJson,
                errorText: "the tool call was cut before its arguments were complete",
              })
            );
          }
          return start() + end(agent) + chunk({ type: "tool-input-available", ...head, input: input.value });
        }
        case "toolResult": {
          const v = ev.value;
          let out = start() + end(agent);
          if (!calls.has(v.callId)) {
            // Its call was trimmed from the log: the output needs a tool part to land in.
            calls.set(v.callId, { providerExecuted: true, started: true });
            out += chunk({
              type: "tool-input-available",
              toolCallId: v.callId,
              toolName: v.name || "tool",
              input: null,
              providerExecuted: true,
            });
          }
          if (v.isError)
            return out + chunk({ type: "tool-output-error", toolCallId: v.callId, errorText: v.result, providerExecuted: true });
          const output = parseJson(v.result);
          return (
            out +
            chunk({ type: "tool-output-available", toolCallId: v.callId, output: output ? output.value : v.result, providerExecuted: true })
          );
        }
        case "completed": {
          const close = start() + endAll() + chunk({ type: "finish-step" });
          if (ev.value.finishReason === FinishReason.CANCELLED) return `${close}${chunk({ type: "abort", reason: "cancelled" })}${done}`;
          return `${close}${chunk({ type: "finish", finishReason: uiFinishReason(ev.value.finishReason) })}${done}`;
        }
        case "failed":
          return (
            start() +
            endAll() +
            chunk({ type: "error", errorText: errorTextOf(errorOfFailed(ev.value)) }) +
            chunk({ type: "finish-step" }) +
            chunk({ type: "finish", finishReason: "error" }) +
            done
          );
        default:
          return "";
      }
    },
    heartbeat: () => sseEncoder.heartbeat(),
    error: (err) => chunk({ type: "error", errorText: errorTextOf(err) }),
  };
}

/** The stream's end marker (ai-sdk.dev "Stream Protocols", Stream Termination). */
const done = "data: [DONE]\n\n";

/** One UI message chunk as an SSE message. */
function chunk(c: Record<string, unknown>): string {
  return `data: ${JSON.stringify(c)}\n\n`;
}

/** The JSON value of `text`, or undefined when it is not JSON. */
function parseJson(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}
