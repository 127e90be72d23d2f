import { z } from "zod";
import { optionalString, optionalNumber, passThrough, lenientArray } from "../../chunk-fields.js";

/*
 * The typed parse stage of the `openai-chat` kind: every SSE `data` of a
 * Chat Completions stream is checked against `openaiChatChunkSchema`
 * (`safeParseJson(text, schema)`) before the mapper sees it.
 *
 * Lenient by design, as the mapper was before the schema: objects are loose
 * (unknown fields are kept: compatible servers add their own, and the mapper
 * copies extras into `provider_metadata`), and a field of the wrong type
 * reads as absent (`.catch`), so one odd field never fails a whole chunk.
 * Only data that is not a JSON object fails (→ `failed` UPSTREAM_MALFORMED).
 * Fields passed on as they are (`logprobs`, `moderation`, …) stay `unknown`.
 */

/**
 * `usage` (and Groq's `x_groq.usage`): the counts the mapper reads; every
 * other field (`cost`, `queue_time`, …) is kept and becomes usage metadata.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
export const openaiChatUsageSchema = z.looseObject({
  prompt_tokens: optionalNumber,
  completion_tokens: optionalNumber,
  total_tokens: optionalNumber,
  /**
   * `{cached_tokens, audio_tokens}`. A `cached_tokens` that is not a number reads as `NaN` (reported, but no count),
   * not as absent: `prompt_cache_hit_tokens` is not read in its place.
   */
  prompt_tokens_details: z
    .looseObject({ cached_tokens: z.number().nullish().catch(Number.NaN) })
    .nullish()
    .catch(undefined),
  /** `{reasoning_tokens, audio_tokens, accepted_prediction_tokens, rejected_prediction_tokens}`. */
  completion_tokens_details: z.looseObject({ reasoning_tokens: optionalNumber }).nullish().catch(undefined),
  /** DeepSeek: the cached part of `prompt_tokens`. */
  prompt_cache_hit_tokens: optionalNumber,
});

/**
 * `choices[].delta.tool_calls[]`: the first fragment of a call carries `id` and `function.name`.
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming#chat-streaming/streaming-choices-delta-tool_calls
 */
export const openaiChatToolCallDeltaSchema = z.looseObject({
  /** The call's position among the choice's calls; absent on some servers (see `mapToolCallDelta`). */
  index: optionalNumber,
  /** The call id: on the first fragment (OpenAI), or on every fragment, or `""` on continuations. */
  id: optionalString,
  /** `"function"`. */
  type: optionalString,
  function: z.looseObject({ name: optionalString, arguments: optionalString }).nullish().catch(undefined),
});

/** Groq compound: one entry of `delta.executed_tools`, a tool Groq ran itself. */
export const openaiChatExecutedToolSchema = z.looseObject({
  index: optionalNumber,
  /** The tool: `search`, `python`, `visit`, …. */
  type: optionalString,
  name: optionalString,
  /** The arguments, as JSON text. */
  arguments: optionalString,
  /** The result: a string or structured JSON; on a later chunk than the call. */
  output: passThrough,
});

/**
 * OpenRouter: one entry of `delta.reasoning_details`. The fields are in
 * OpenRouter's wire order, so that an entry passed on whole (a
 * `reasoning.encrypted` one, in `provider_metadata`) keeps its field order.
 *
 * @see https://openrouter.ai/docs/use-cases/reasoning-tokens#reasoning-details-api-shape
 */
export const openaiChatReasoningDetailSchema = z.looseObject({
  /** `reasoning.text`, `reasoning.summary` or `reasoning.encrypted`. */
  type: optionalString,
  /** `reasoning.text`: the text. */
  text: optionalString,
  /** `reasoning.summary`: the text. */
  summary: optionalString,
  /** `reasoning.encrypted`: opaque, kept as it is. */
  data: passThrough,
  signature: optionalString,
  id: passThrough,
  /** E.g. `openai-responses-v1`, `anthropic-claude-v1`. */
  format: passThrough,
  /** The reasoning block. */
  index: optionalNumber,
});

/** Mistral magistral: one part of an array `delta.content`. */
const contentPartSchema = z.looseObject({
  /** `text` or `thinking`. */
  type: optionalString,
  text: optionalString,
  /** `[{type: "text", text}]` or a string; each part's `text` is read as `String(text)`. */
  thinking: z
    .union([z.string(), z.array(z.looseObject({ text: passThrough }).optional().catch(undefined))])
    .nullish()
    .catch(undefined),
});

/** `choices[].delta`. */
export const openaiChatDeltaSchema = z.looseObject({
  /** `"assistant"`; on the first chunk only (OpenAI) or repeated in every delta (SambaNova, TGI, OpenRouter). */
  role: optionalString,
  /** Answer text; Mistral's magistral sends an array of `{type: "text"|"thinking", …}` parts instead. */
  content: z
    .union([z.string(), z.array(contentPartSchema.optional().catch(undefined))])
    .nullish()
    .catch(undefined),
  /** Refusal text (OpenAI structured outputs / safety). */
  refusal: optionalString,
  /** Reasoning text: vLLM, DeepSeek, xAI, Z.ai, Qwen. */
  reasoning_content: optionalString,
  /** Reasoning text: Groq, OpenRouter, newer vLLM (which may send both fields with the same text). */
  reasoning: optionalString,
  /** OpenRouter: `[{type: "reasoning.text"|"reasoning.summary"|"reasoning.encrypted", text|summary|data, signature?, index?}]`. */
  reasoning_details: lenientArray(openaiChatReasoningDetailSchema),
  tool_calls: lenientArray(openaiChatToolCallDeltaSchema),
  /** Groq compound: tools Groq ran itself, `[{index, type, arguments, output?}]`. */
  executed_tools: lenientArray(openaiChatExecutedToolSchema),
  /** Together: the token id of this delta. */
  token_id: passThrough,
});

/** One entry of `choices`. */
export const openaiChatChoiceSchema = z.looseObject({
  /** The choice (candidate) index, 0-based; with `n > 1` the choices' chunks interleave. Absent (or not a non-negative integer) on some servers: the array position then. */
  index: z
    .number()
    .refine((n) => Number.isInteger(n) && n >= 0)
    .nullish()
    .catch(undefined),
  delta: openaiChatDeltaSchema.nullish().catch(undefined),
  /** `stop`, `length`, `tool_calls`, `content_filter`, `function_call`, or a compatible server's own value (`eos`, `eos_token`, `error`); null until the end. */
  finish_reason: optionalString,
  /** `{content: [...], refusal: [...]}` token log probabilities, when requested. */
  logprobs: passThrough,
  /** Azure, Novita: per-category content filter results. */
  content_filter_results: passThrough,
  /** vLLM, Nebius: the stop string or token id that ended the choice. */
  stop_reason: passThrough,
  /** vLLM (`return_token_ids`): the token ids of this delta. */
  token_ids: passThrough,
  /** OpenRouter: the upstream model's own finish reason. */
  native_finish_reason: passThrough,
});

/**
 * One `chat.completion.chunk` of an OpenAI Chat Completions stream, as
 * OpenAI and the compatible servers (Azure, vLLM, Ollama `/v1`, llama.cpp,
 * TGI's Messages API, Groq, OpenRouter, DeepSeek, Mistral, xAI, Together,
 * Fireworks, …) send it, or a mid-stream `{"error": …}`. Every field is
 * optional; see the leniency rules at the top of this file.
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
export const openaiChatChunkSchema = z.looseObject({
  id: optionalString,
  model: optionalString,
  choices: lenientArray(openaiChatChoiceSchema),
  /**
   * Token counts: with `stream_options.include_usage` on a last chunk whose `choices` is `[]`; `null` on the others (OpenAI, vLLM, TGI ≥ 3), or on every chunk (Fireworks, Together).
   * A value that is not an object reads as `{}` (no counts), not as absent: `x_groq.usage` is not read in its place.
   */
  usage: openaiChatUsageSchema.nullish().catch(() => ({})),
  /** Groq: `{id, usage}`; the usage is on the last chunk. */
  x_groq: z
    .looseObject({ usage: openaiChatUsageSchema.nullish().catch(undefined) })
    .nullish()
    .catch(undefined),
  /** A mid-stream error: `{message, type, code, param}` (Groq adds `status_code`), or a string (TGI, with `error_type`); free-form, see `fromOpenAIStreamError`. */
  error: passThrough,
  /** TGI: the kind of `error`. */
  error_type: passThrough,
  /** OpenAI: padding of random length against side channels; carries nothing. */
  obfuscation: passThrough,
  /** OpenAI: moderation results of input and output, on an extra chunk with `choices: []`. */
  moderation: passThrough,
  /** Azure: prompt filter results, on a first chunk with `choices: []`. */
  prompt_filter_results: passThrough,
});

/** One chunk, as the mapper receives it (the output of {@link openaiChatChunkSchema}). */
export type OpenAIChatChunk = z.output<typeof openaiChatChunkSchema>;

/** One entry of `choices` (its odd entries read as `undefined`). */
export type OpenAIChatChoice = z.output<typeof openaiChatChoiceSchema>;

/** `choices[].delta`. */
export type OpenAIChatDelta = z.output<typeof openaiChatDeltaSchema>;

/** One `delta.tool_calls[]` fragment. */
export type OpenAIToolCallDelta = z.output<typeof openaiChatToolCallDeltaSchema>;

/** One `delta.executed_tools[]` entry. */
export type OpenAIChatExecutedTool = z.output<typeof openaiChatExecutedToolSchema>;

/** A `usage` object. */
export type OpenAIChatUsage = z.output<typeof openaiChatUsageSchema>;
