/**
 * One `chat.completion.chunk` of an OpenAI Chat Completions stream, as
 * OpenAI and compatible servers (vLLM, Ollama, llama.cpp, Groq, OpenRouter,
 * DeepSeek, xAI, Together, …) send it. Deliberately lenient: every field is
 * optional and `unknown` where servers disagree, and the mapper checks types
 * before use, so an odd chunk is ignored or becomes a `failed` event, never a crash.
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
export interface OpenAIChatChunk {
  readonly id?: unknown;
  readonly model?: unknown;
  readonly choices?: unknown;
  /** Token counts; with `stream_options.include_usage` on a last chunk whose `choices` is `[]`. */
  readonly usage?: unknown;
  /** Groq reports usage here. */
  readonly x_groq?: unknown;
  /** A mid-stream error: `{message, type, code, param}` (some servers add `status_code`). */
  readonly error?: unknown;
}

/** One entry of `choices`. */
export interface OpenAIChatChoice {
  readonly index?: unknown;
  readonly delta?: unknown;
  /** `stop`, `length`, `tool_calls`, `content_filter`, `function_call`, or a compatible server's own value; null until the end. */
  readonly finish_reason?: unknown;
}

/** `choices[].delta`. */
export interface OpenAIChatDelta {
  readonly role?: unknown;
  /** Answer text; Mistral's magistral sends an array of `{type: "text"|"thinking", …}` parts instead. */
  readonly content?: unknown;
  /** Refusal text (OpenAI structured outputs / safety). */
  readonly refusal?: unknown;
  /** Reasoning text: vLLM, DeepSeek, xAI, Z.ai. */
  readonly reasoning_content?: unknown;
  /** Reasoning text: Groq, OpenRouter, newer vLLM. */
  readonly reasoning?: unknown;
  readonly tool_calls?: unknown;
}

/** `choices[].delta.tool_calls[]`: the first fragment of a call carries `id` and `function.name`. */
export interface OpenAIToolCallDelta {
  readonly index?: unknown;
  readonly id?: unknown;
  readonly type?: unknown;
  readonly function?: { readonly name?: unknown; readonly arguments?: unknown } | null;
}

/** Returns `v` as a record when it is a non-null, non-array object. */
export function asRecord(v: unknown): Readonly<Record<string, unknown>> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
