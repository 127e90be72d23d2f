/**
 * One `chat.completion.chunk` of an OpenAI Chat Completions stream, as
 * OpenAI and the compatible servers (Azure, vLLM, Ollama `/v1`, llama.cpp,
 * TGI's Messages API, Groq, OpenRouter, DeepSeek, Mistral, xAI, Together,
 * Fireworks, …) send it. Deliberately lenient: every field is optional and
 * `unknown` where servers disagree, and the mapper checks types before use,
 * so an odd chunk is ignored or becomes a `failed` event, never a crash.
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 *
 * @public the provider's wire shape, for readers and the typed parse stage to come; the mapper reads it through `asRecord`.
 */
export interface OpenAIChatChunk {
  readonly id?: unknown;
  readonly model?: unknown;
  readonly choices?: unknown;
  /** Token counts: with `stream_options.include_usage` on a last chunk whose `choices` is `[]`; `null` on the others (OpenAI, vLLM, TGI ≥ 3), or on every chunk (Fireworks, Together). */
  readonly usage?: unknown;
  /** Groq: `{id, usage}`; the usage is on the last chunk. */
  readonly x_groq?: unknown;
  /** A mid-stream error: `{message, type, code, param}` (Groq adds `status_code`), or a string (TGI, with `error_type`). */
  readonly error?: unknown;
  /** OpenAI: padding of random length against side channels; carries nothing. */
  readonly obfuscation?: unknown;
  /** OpenAI: moderation results of input and output, on an extra chunk with `choices: []`. */
  readonly moderation?: unknown;
  /** Azure: prompt filter results, on a first chunk with `choices: []`. */
  readonly prompt_filter_results?: unknown;
}

/**
 * One entry of `choices`.
 *
 * @public the provider's wire shape, for readers and the typed parse stage to come; the mapper reads it through `asRecord`.
 */
export interface OpenAIChatChoice {
  /** The choice (candidate) index, 0-based; with `n > 1` the choices' chunks interleave. Absent on some servers: the array position then. */
  readonly index?: unknown;
  readonly delta?: unknown;
  /** `stop`, `length`, `tool_calls`, `content_filter`, `function_call`, or a compatible server's own value (`eos`, `eos_token`, `error`); null until the end. */
  readonly finish_reason?: unknown;
  /** `{content: [...], refusal: [...]}` token log probabilities, when requested. */
  readonly logprobs?: unknown;
  /** Azure, Novita: per-category content filter results. */
  readonly content_filter_results?: unknown;
  /** vLLM, Nebius: the stop string or token id that ended the choice. */
  readonly stop_reason?: unknown;
  /** vLLM (`return_token_ids`): the token ids of this delta. */
  readonly token_ids?: unknown;
  /** OpenRouter: the upstream model's own finish reason. */
  readonly native_finish_reason?: unknown;
}

/** `choices[].delta`. */
export interface OpenAIChatDelta {
  /** `"assistant"`; on the first chunk only (OpenAI) or repeated in every delta (SambaNova, TGI, OpenRouter). */
  readonly role?: unknown;
  /** Answer text; Mistral's magistral sends an array of `{type: "text"|"thinking", …}` parts instead. */
  readonly content?: unknown;
  /** Refusal text (OpenAI structured outputs / safety). */
  readonly refusal?: unknown;
  /** Reasoning text: vLLM, DeepSeek, xAI, Z.ai, Qwen. */
  readonly reasoning_content?: unknown;
  /** Reasoning text: Groq, OpenRouter, newer vLLM (which may send both fields with the same text). */
  readonly reasoning?: unknown;
  /** OpenRouter: `[{type: "reasoning.text"|"reasoning.summary"|"reasoning.encrypted", text|summary|data, signature?, index?}]`. */
  readonly reasoning_details?: unknown;
  readonly tool_calls?: unknown;
  /** Groq compound: tools Groq ran itself, `[{index, type, arguments, output?}]`. */
  readonly executed_tools?: unknown;
  /** Together: the token id of this delta. */
  readonly token_id?: unknown;
}

/**
 * `choices[].delta.tool_calls[]`: the first fragment of a call carries `id` and `function.name`.
 *
 * @public the provider's wire shape, for readers and the typed parse stage to come; the mapper reads it through `asRecord`.
 */
export interface OpenAIToolCallDelta {
  readonly index?: unknown;
  readonly id?: unknown;
  readonly type?: unknown;
  readonly function?: { readonly name?: unknown; readonly arguments?: unknown } | null;
}

/** Returns `v` as a record when it is a non-null, non-array object. */
export { asRecord } from "../../json-shape.js";

/** Returns `v` when it is a non-empty string. */
export function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
