import { z } from "zod";
import { optionalString, optionalNumber, passThrough, lenientArray } from "../../chunk-fields.js";

/*
 * The typed parse stage of the `openai-responses` kind: every SSE `data` of
 * a Responses stream is checked against `openaiResponsesChunkSchema`
 * (`safeParseJson(text, schema)`) before the mapper sees it.
 *
 * Lenient by design, as the mapper was before the schema: objects are loose
 * (unknown fields are kept: the mapper copies some into `provider_metadata`
 * and tool results), a field of the wrong type reads as absent (`.catch`), so
 * one odd field never fails a whole event, and `type` is any string (new event
 * types are ignored by the mapper, not rejected here). Only data that is not a
 * JSON object fails (→ `failed` UPSTREAM_MALFORMED). Fields passed on as they
 * are (`annotations`, `moderation`, a tool item's `output`, …) stay `unknown`.
 */

/** A position (a non-negative safe integer); any other value reads as absent. */
const optionalIndex = z.number().int().nonnegative().optional().catch(undefined);

/**
 * The `usage` of a response: the counts the mapper reads.
 *
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage
 */
export const openaiResponsesUsageSchema = z.looseObject({
  input_tokens: optionalNumber,
  output_tokens: optionalNumber,
  total_tokens: optionalNumber,
  /** `{cached_tokens}`; Azure and proxies add `cache_write_tokens`. */
  input_tokens_details: z.looseObject({ cached_tokens: optionalNumber, cache_write_tokens: optionalNumber }).nullish().catch(undefined),
  output_tokens_details: z.looseObject({ reasoning_tokens: optionalNumber }).nullish().catch(undefined),
});

/**
 * An in-stream error object: `response.error` of `response.failed` (the
 * `error` event has the same fields at its top level, or under `error`).
 * Free-form beyond these; see `fromOpenAIResponsesError`.
 *
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-error
 */
export const openaiResponsesErrorSchema = z.looseObject({
  /** `server_error`, `rate_limit_exceeded`, `invalid_prompt`, …. */
  code: optionalString,
  message: optionalString,
  type: optionalString,
});

/** A content part of a message item (`output_text`, `refusal`), or a part of a reasoning item's `summary` (`summary_text`) or `content` (`reasoning_text`). */
const contentPartSchema = z.looseObject({
  type: optionalString,
  text: optionalString,
  /** `output_text`: citations, passed on as they are. */
  annotations: z.array(z.unknown()).nullish().catch(undefined),
  refusal: optionalString,
});

/** A Responses output item (`response.output[]`, the `item` of `output_item.added` / `.done`): the fields the mapper reads. */
export const openaiResponsesItemSchema = z.looseObject({
  /** `message`, `reasoning`, `function_call`, `custom_tool_call`, `web_search_call`, … */
  type: optionalString,
  id: optionalString,
  /** The id a tool result must quote (function, custom, apply_patch, shell, computer calls). */
  call_id: optionalString,
  name: optionalString,
  /** `in_progress`, `completed`, `incomplete`, `failed`, …; kept as it is (it is part of some tools' results, see `toolItemKinds`). */
  status: passThrough,
  arguments: optionalString,
  input: optionalString,
  /** Message content parts: `{type: "output_text", text, annotations, logprobs}` or `{type: "refusal", refusal}`; reasoning text parts. */
  content: lenientArray(contentPartSchema),
  /** Message phase (`commentary`, `final_answer`) on newer models. */
  phase: optionalString,
  /** Reasoning summary parts: `{type: "summary_text", text}`. */
  summary: lenientArray(contentPartSchema),
  /** Opaque reasoning state, with `include: ["reasoning.encrypted_content"]`. */
  encrypted_content: optionalString,
  /** MCP calls and lists: the server's label; kept as it is (it is `mcp_list_tools`' arguments). */
  server_label: passThrough,
  /** A built-in tool's result or error fields (`output`, `error`; `outputs`, `results`, `result`, `tools` are kept as extras). */
  output: passThrough,
  error: passThrough,
});

/** The `response` object of lifecycle events: the fields the mapper reads. */
export const openaiResponsesResponseSchema = z.looseObject({
  id: optionalString,
  /** `completed`, `incomplete`, `failed`, `in_progress`, `queued`, `cancelled`. */
  status: optionalString,
  /** `{code, message}` when `status` is `failed`. */
  error: openaiResponsesErrorSchema.nullish().catch(undefined),
  /** `{reason: "max_output_tokens" | "content_filter"}` when `status` is `incomplete`. */
  incomplete_details: z.looseObject({ reason: optionalString }).nullish().catch(undefined),
  usage: openaiResponsesUsageSchema.nullish().catch(undefined),
  /** The output items, on the terminal events. */
  output: lenientArray(openaiResponsesItemSchema),
  /** Moderation results, passed on as they are. */
  moderation: passThrough,
  /** Azure: content filter results, passed on as they are. */
  content_filters: passThrough,
});

/**
 * One streaming event of the OpenAI Responses API (the JSON `data` of one
 * SSE message), as OpenAI, Azure OpenAI, OpenRouter and DeepSeek send it.
 * Every field is optional; see the leniency rules at the top of this file.
 * The JSON `type` is authoritative: the SSE `event:` line is optional
 * (OpenRouter sends none).
 *
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */
export const openaiResponsesChunkSchema = z.looseObject({
  /** `response.created`, `response.output_text.delta`, `error`, …; `null` when present but not a string (the mapper fails the stream then). */
  type: z.string().nullish().catch(null),
  /** Increasing per stream (absent in older recordings). */
  sequence_number: optionalIndex,
  /** The output item's position in `response.output`. */
  output_index: optionalIndex,
  /** The output item's id (`msg_…`, `fc_…`, `rs_…`). */
  item_id: optionalString,
  /** The content part's position inside a message item. */
  content_index: optionalIndex,
  /** The summary part's position inside a reasoning item. */
  summary_index: optionalIndex,
  /** The text or JSON fragment of a `*.delta` event. */
  delta: optionalString,
  /** Full text of `response.output_text.done`, `reasoning_*_text.done`. */
  text: optionalString,
  /** Full arguments of `function_call_arguments.done` / `mcp_call_arguments.done`. */
  arguments: optionalString,
  /** Full input of `custom_tool_call_input.done`. */
  input: optionalString,
  /** Full refusal of `response.refusal.done`. */
  refusal: optionalString,
  /** Token log probabilities of `output_text.delta` (with `include: ["message.output_text.logprobs"]`), passed on as they are. */
  logprobs: z.array(z.unknown()).nullish().catch(undefined),
  /** The output item of `output_item.added` / `.done`. */
  item: openaiResponsesItemSchema.nullish().catch(undefined),
  /** The response of `response.created|in_progress|queued|completed|incomplete|failed`. */
  response: openaiResponsesResponseSchema.nullish().catch(undefined),
  /** `error` event: error code (e.g. `rate_limit_exceeded`, `server_error`). */
  code: optionalString,
  /** `error` event: the message. */
  message: optionalString,
  /** Some servers wrap an error event's fields in `{"error": {…}}`; free-form, see `fromOpenAIResponsesError`. */
  error: passThrough,
});

/** One event, as the mapper receives it (the output of {@link openaiResponsesChunkSchema}). */
export type OpenAIResponsesChunk = z.output<typeof openaiResponsesChunkSchema>;

/** An output item. */
export type OpenAIResponsesItem = z.output<typeof openaiResponsesItemSchema>;

/** The `response` object of lifecycle events. */
export type OpenAIResponsesResponse = z.output<typeof openaiResponsesResponseSchema>;

/** A `usage` object. */
export type OpenAIResponsesUsage = z.output<typeof openaiResponsesUsageSchema>;
