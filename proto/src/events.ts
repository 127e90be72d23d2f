import { create, type JsonObject } from "@bufbuild/protobuf";
import type { Code as ConnectCode } from "@connectrpc/connect";
import {
  type FinishReason,
  type InputKind,
  type StreamEvent,
  StreamEventSchema,
  type Usage,
  UsageSchema,
} from "../gen/airwave/v1/event_pb.js";
import { retryableCodes, toProtoCode } from "./codes.js";

/** The event kinds of `StreamEvent.event`, as their camelCase oneof case. */
export type EventKind = NonNullable<StreamEvent["event"]["case"]>;

/**
 * The snake_case name of an event's kind, as in the proto and the SSE
 * `event:` field: `"text_delta"`, `"completed"`, …; `"unknown"` when unset.
 */
export function eventKindName(e: StreamEvent): string {
  const k = e.event.case;
  return k === undefined ? "unknown" : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** True for the terminal kinds: `completed` and `failed`. */
export function isTerminal(e: StreamEvent): boolean {
  return e.event.case === "completed" || e.event.case === "failed";
}

/**
 * Constructors for unpositioned events (stream id, epoch and seq unset), as
 * inference services emit them; the gateway's log positions them.
 */
export const ev = {
  /** `started`: the model and provider serving the request, and the provider's request id. */
  started(model: string, provider: string, requestId = ""): StreamEvent {
    return create(StreamEventSchema, { event: { case: "started", value: { model, provider, requestId } } });
  },
  /** `text_delta`: a fragment of the answer text in content block `blockIndex` (0-based). */
  textDelta(text: string, blockIndex = 0): StreamEvent {
    return create(StreamEventSchema, { event: { case: "textDelta", value: { text, blockIndex } } });
  },
  /** `reasoning_delta`: a fragment of reasoning text, with the provider's signature or redaction flag when it has them. */
  reasoningDelta(text: string, blockIndex = 0, signature = "", redacted = false): StreamEvent {
    return create(StreamEventSchema, {
      event: { case: "reasoningDelta", value: { text, blockIndex, signature, redacted } },
    });
  },
  /**
   * `tool_call_started`: call `callId` of tool `name`, the `index`-th call of
   * the turn (0-based); `providerExecuted` when the provider runs the tool itself.
   */
  toolCallStarted(callId: string, name: string, index: number, o: { providerExecuted?: boolean } = {}): StreamEvent {
    return create(StreamEventSchema, {
      event: { case: "toolCallStarted", value: { callId, name, index, providerExecuted: o.providerExecuted ?? false } },
    });
  },
  /** `tool_call_delta`: a fragment of the call's arguments JSON text. */
  toolCallDelta(callId: string, argumentsDelta: string): StreamEvent {
    return create(StreamEventSchema, { event: { case: "toolCallDelta", value: { callId, argumentsDelta } } });
  },
  /**
   * `tool_call_completed`: the call's full arguments as JSON text (the caller
   * validates it parses), or with `incomplete` the raw partial text of a call
   * the provider cut; `providerExecuted` as on `tool_call_started`.
   */
  toolCallCompleted(
    callId: string,
    name: string,
    argumentsJson: string,
    o: { incomplete?: boolean; providerExecuted?: boolean } = {},
  ): StreamEvent {
    return create(StreamEventSchema, {
      event: {
        case: "toolCallCompleted",
        value: {
          callId,
          name,
          argumentsJson,
          incomplete: o.incomplete ?? false,
          providerExecuted: o.providerExecuted ?? false,
        },
      },
    });
  },
  /** `tool_result`: the result (JSON or text) of call `callId`, an error description when `isError`. */
  toolResult(callId: string, result: string, o: { isError?: boolean; name?: string } = {}): StreamEvent {
    return create(StreamEventSchema, {
      event: { case: "toolResult", value: { callId, result, isError: o.isError ?? false, name: o.name ?? "" } },
    });
  },
  /** `status`: progress text of an agent, with progress in [0, 1] when known. */
  status(text: string, progress?: number): StreamEvent {
    return create(StreamEventSchema, {
      event: { case: "status", value: { text, ...(progress !== undefined ? { progress } : {}) } },
    });
  },
  /** `input_requested`: the agent waits for the answer to `prompt` (kind CONFIRM, TEXT or CHOICE with `choices`). */
  inputRequested(inputId: string, prompt: string, kind: InputKind, choices: readonly string[] = []): StreamEvent {
    return create(StreamEventSchema, {
      event: { case: "inputRequested", value: { inputId, prompt, kind, choices: [...choices] } },
    });
  },
  /** `input_answered`: the agent received `text` for `inputId` and goes on. */
  inputAnswered(inputId: string, text: string): StreamEvent {
    return create(StreamEventSchema, { event: { case: "inputAnswered", value: { inputId, text } } });
  },
  /** Sets `agent_id` (multi-agent streams; "" is the main agent). Mutates and returns `e`. */
  byAgent(agentId: string, e: StreamEvent): StreamEvent {
    e.agentId = agentId;
    return e;
  },
  /** `usage`: token counts so far; unknown counts stay unset. */
  usage(u: UsageInit): StreamEvent {
    return create(StreamEventSchema, { event: { case: "usage", value: usage(u) } });
  },
  /** Terminal `completed`: why it ended, final usage when known, and the provider's raw finish reason. */
  completed(finishReason: FinishReason, u?: UsageInit, rawFinishReason = ""): StreamEvent {
    return create(StreamEventSchema, {
      event: {
        case: "completed",
        value: { finishReason, rawFinishReason, ...(u ? { usage: usage(u) } : {}) },
      },
    });
  },
  /**
   * A terminal failure. `message` must be safe to show to clients; `reason`
   * is UPPER_SNAKE_CASE. `retryable` defaults from the code.
   */
  failed(
    code: ConnectCode,
    message: string,
    reason: string,
    o: { retryable?: boolean; usage?: UsageInit | undefined; retryAfterMs?: number } = {},
  ): StreamEvent {
    return create(StreamEventSchema, {
      event: {
        case: "failed",
        value: {
          code: toProtoCode(code),
          message,
          reason,
          retryable: o.retryable ?? retryableCodes.has(code),
          retryAfterMs: o.retryAfterMs ?? 0,
          ...(o.usage ? { usage: usage(o.usage) } : {}),
        },
      },
    });
  },
  /** `heartbeat`: keep-alive after an idle period; never logged. */
  heartbeat(): StreamEvent {
    return create(StreamEventSchema, { event: { case: "heartbeat", value: {} } });
  },
};

/**
 * Returns `e` with `provider_metadata` set to `metadata` (provider extras,
 * keyed by the provider's own field names) and `choice_index` to `choice`
 * when given. Mutates and returns `e`.
 */
export function withExtras(e: StreamEvent, o: { metadata?: JsonObject | undefined; choice?: number | undefined }): StreamEvent {
  if (o.metadata !== undefined && Object.keys(o.metadata).length > 0) e.providerMetadata = o.metadata;
  if (o.choice !== undefined) e.choiceIndex = o.choice;
  return e;
}

/** Token counts; an unknown count is left out, never 0. */
export interface UsageInit {
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  reasoningTokens?: number | undefined;
  cachedInputTokens?: number | undefined;
  cacheWriteInputTokens?: number | undefined;
}

function usage(u: UsageInit): Usage {
  const m = create(UsageSchema);
  if (u.inputTokens !== undefined) m.inputTokens = u.inputTokens;
  if (u.outputTokens !== undefined) m.outputTokens = u.outputTokens;
  if (u.reasoningTokens !== undefined) m.reasoningTokens = u.reasoningTokens;
  if (u.cachedInputTokens !== undefined) m.cachedInputTokens = u.cachedInputTokens;
  if (u.cacheWriteInputTokens !== undefined) m.cacheWriteInputTokens = u.cacheWriteInputTokens;
  return m;
}
