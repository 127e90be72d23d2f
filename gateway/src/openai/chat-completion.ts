import type { StreamEvent } from "@airwave/proto";
import {
  ChatCompletionFold,
  type CompletionHeader,
  type FinishReasonJson,
  type ToolCallDeltaJson,
  type UsageJson,
  usageJson,
} from "./chat-completion-chunks.js";

/** A tool call of a `chat.completion` message. */
export interface ToolCallJson {
  /** The call id, which the next request's `tool` message answers as `tool_call_id`. */
  readonly id: string;
  readonly type: "function";
  /** `arguments` is JSON text. */
  readonly function: { readonly name: string; readonly arguments: string };
}

/** One choice of a `chat.completion`. */
export interface ChoiceJson {
  readonly index: number;
  readonly message: {
    readonly role: "assistant";
    /** The answer text; null when the answer is only tool calls. */
    readonly content: string | null;
    readonly refusal: null;
    /** The reasoning text, when the model reasoned (the DeepSeek / vLLM field). */
    readonly reasoning_content?: string;
    readonly tool_calls?: readonly ToolCallJson[];
  };
  readonly logprobs: null;
  /** Null only when the stream had not ended (never for a finished answer). */
  readonly finish_reason: FinishReasonJson | null;
}

/** A `chat.completion` object (https://platform.openai.com/docs/api-reference/chat/object). */
export interface ChatCompletionJson {
  readonly id: string;
  readonly object: "chat.completion";
  /** Unix seconds. */
  readonly created: number;
  readonly model: string;
  readonly choices: readonly ChoiceJson[];
  readonly usage: UsageJson;
}

/** A choice being assembled. */
interface ChoiceParts {
  content: string;
  reasoning: string;
  readonly calls: Map<number, { id: string; name: string; arguments: string }>;
  finishReason: FinishReasonJson | null;
}

/**
 * The non-streaming answer of `POST /v1/chat/completions` (and of `GET
 * /v1/chat/completions/{id}`): reads `events` (a watch from the stream's
 * first event) to the end and assembles one `chat.completion` from the same
 * fold the streaming chunks come from ({@link ChatCompletionFold}): each
 * choice's `content` and `reasoning_content` concatenated, its tool calls
 * by index with their whole arguments, its finish reason, and the usage
 * (always present; unreported counts are 0).
 *
 * Raises what the watch raises, and the stream's `failed` event as its
 * error (code, message, `airwave-reason`, `retry-after-ms`), so the route
 * answers it with the OpenAI error shape and status.
 */
export async function chatCompletionOf(events: AsyncIterable<StreamEvent>, h: CompletionHeader): Promise<ChatCompletionJson> {
  const fold = new ChatCompletionFold();
  const choices = new Map<number, ChoiceParts>();
  const choice = (index: number) => {
    let c = choices.get(index);
    if (c === undefined) {
      c = { content: "", reasoning: "", calls: new Map(), finishReason: null };
      choices.set(index, c);
    }
    return c;
  };
  let usage = usageJson(undefined);
  for await (const e of events) {
    const step = fold.step(e);
    if (step === undefined) continue;
    if (step.kind === "failed") throw step.error;
    if (step.kind === "finish") {
      for (const f of step.choices) choice(f.index).finishReason = f.finishReason;
      usage = step.usage;
      continue;
    }
    for (const { index, delta } of step.deltas) {
      const c = choice(index);
      c.content += delta.content ?? "";
      c.reasoning += delta.reasoning_content ?? "";
      for (const t of delta.tool_calls ?? []) addCall(c, t);
    }
  }
  if (choices.size === 0) choice(0);
  return {
    id: h.id,
    object: "chat.completion",
    created: h.created,
    model: h.model,
    choices: [...choices.entries()].sort(([a], [b]) => a - b).map(([index, c]) => choiceJson(index, c)),
    usage,
  };
}

function addCall(c: ChoiceParts, t: ToolCallDeltaJson): void {
  const call = c.calls.get(t.index) ?? { id: "", name: "", arguments: "" };
  if (t.id !== undefined) call.id = t.id;
  if (t.function.name !== undefined) call.name = t.function.name;
  call.arguments += t.function.arguments;
  c.calls.set(t.index, call);
}

function choiceJson(index: number, c: ChoiceParts): ChoiceJson {
  const calls = [...c.calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, t]): ToolCallJson => ({ id: t.id, type: "function", function: { name: t.name, arguments: t.arguments } }));
  return {
    index,
    message: {
      role: "assistant",
      content: c.content === "" && calls.length > 0 ? null : c.content,
      refusal: null,
      ...(c.reasoning !== "" ? { reasoning_content: c.reasoning } : {}),
      ...(calls.length > 0 ? { tool_calls: calls } : {}),
    },
    logprobs: null,
    finish_reason: c.finishReason,
  };
}
