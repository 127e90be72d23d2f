import { FinishReason, fromProtoCode, type StreamEvent } from "@airwave/proto";
import { Code } from "@connectrpc/connect";

/** A tool call as Airwave's events accumulate it. */
export interface AccumulatedToolCall {
  id: string;
  name: string;
  /** The concatenated `tool_call_delta` fragments. */
  streamedArguments: string;
  /** `tool_call_completed.arguments_json`, once completed. */
  arguments?: string;
  incomplete: boolean;
  providerExecuted: boolean;
}

/** What a whole stream of Airwave events adds up to, for comparing with an official SDK. */
export interface Accumulated {
  /** Answer text of candidate 0. */
  text: string;
  /** Reasoning text of candidate 0. */
  reasoning: string;
  /** Answer text per candidate index (for `n > 1`). */
  textByChoice: Map<number, string>;
  /** Client and provider-executed tool calls, in start order. */
  toolCalls: AccumulatedToolCall[];
  /** Tool results by call id. */
  toolResults: Map<string, string>;
  /** The last `usage` event's counts (the terminal's usage wins when present). */
  usage:
    | { inputTokens?: number; outputTokens?: number; reasoningTokens?: number; cachedInputTokens?: number; cacheWriteInputTokens?: number }
    | undefined;
  /** Set when the stream ended with `completed`. */
  finishReason?: FinishReason;
  rawFinishReason?: string;
  /** Set when the stream ended with `failed`. */
  failed?: { code: Code; reason: string; message: string; retryable: boolean };
  /** How many terminal events the stream had (must be 1). */
  terminals: number;
  /** Kinds of the events, in order. */
  kinds: string[];
}

/** Accumulates a stream's events the way a client renders them. @private test support */
export function accumulate(events: Iterable<StreamEvent>): Accumulated {
  const a: Accumulated = {
    text: "",
    reasoning: "",
    textByChoice: new Map(),
    toolCalls: [],
    toolResults: new Map(),
    usage: undefined,
    terminals: 0,
    kinds: [],
  };
  const calls = new Map<string, AccumulatedToolCall>();
  for (const e of events) {
    const k = e.event;
    if (k.case) a.kinds.push(k.case);
    switch (k.case) {
      case "textDelta":
        a.textByChoice.set(e.choiceIndex, (a.textByChoice.get(e.choiceIndex) ?? "") + k.value.text);
        if (e.choiceIndex === 0) a.text += k.value.text;
        break;
      case "reasoningDelta":
        if (e.choiceIndex === 0) a.reasoning += k.value.text;
        break;
      case "toolCallStarted": {
        const c: AccumulatedToolCall = {
          id: k.value.callId,
          name: k.value.name,
          streamedArguments: "",
          incomplete: false,
          providerExecuted: k.value.providerExecuted,
        };
        calls.set(c.id, c);
        a.toolCalls.push(c);
        break;
      }
      case "toolCallDelta": {
        const c = calls.get(k.value.callId);
        if (c) c.streamedArguments += k.value.argumentsDelta;
        break;
      }
      case "toolCallCompleted": {
        const c = calls.get(k.value.callId);
        if (c) {
          c.arguments = k.value.argumentsJson;
          c.incomplete = k.value.incomplete;
        }
        break;
      }
      case "toolResult":
        a.toolResults.set(k.value.callId, k.value.result);
        break;
      case "usage":
        a.usage = counts(k.value);
        break;
      case "completed":
        a.terminals++;
        a.finishReason = k.value.finishReason;
        a.rawFinishReason = k.value.rawFinishReason;
        if (k.value.usage) a.usage = counts(k.value.usage);
        break;
      case "failed":
        a.terminals++;
        a.failed = {
          code: fromProtoCode(k.value.code),
          reason: k.value.reason,
          message: k.value.message,
          retryable: k.value.retryable,
        };
        if (k.value.usage) a.usage = counts(k.value.usage);
        break;
      default:
        break;
    }
  }
  if (a.usage)
    for (const key of Object.keys(a.usage) as (keyof NonNullable<Accumulated["usage"]>)[]) {
      if (a.usage[key] === undefined) delete a.usage[key];
    }
  return a;
}

/** The token counts of a Usage message as a plain object (no `$typeName`), unset counts left out. */
function counts(u: {
  inputTokens?: number;
  outputTokens?: number;
  reasoningTokens?: number;
  cachedInputTokens?: number;
  cacheWriteInputTokens?: number;
}): Accumulated["usage"] {
  const { inputTokens, outputTokens, reasoningTokens, cachedInputTokens, cacheWriteInputTokens } = u;
  return { inputTokens, outputTokens, reasoningTokens, cachedInputTokens, cacheWriteInputTokens } as Accumulated["usage"];
}

export { Code, FinishReason };
