import type { ParseResult } from "../../safe-parse-json.js";

/**
 * One server-sent event of a Messages API stream, as the decoder hands it to
 * the mapper: the SSE `event:` name (undefined when the event had none) and
 * its `data` parsed as JSON (or why it is not JSON).
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */
export interface AnthropicSseEvent {
  readonly event: string | undefined;
  readonly data: ParseResult<unknown>;
}

/**
 * The `data` object of a Messages stream event. Deliberately lenient: every
 * field is optional and `unknown`, the mapper checks types before use, so an
 * odd event is ignored or becomes a `failed` event, never a crash.
 *
 * `type` is one of `message_start`, `content_block_start`,
 * `content_block_delta`, `content_block_stop`, `message_delta`,
 * `message_stop`, `ping`, `error`, or a type added later (ignored).
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 *
 * @public the provider's wire shape, for readers and the typed parse stage to come; the mapper reads it through `asRecord`.
 */
export interface AnthropicStreamEvent {
  readonly type?: unknown;
  /** `message_start`: the Message with empty `content`: `{id, model, usage, …}`. */
  readonly message?: unknown;
  /** `content_block_*`: the block's position in the final `content` array. */
  readonly index?: unknown;
  /** `content_block_start`: the (initially empty) block, `{type, …}`. */
  readonly content_block?: unknown;
  /** `content_block_delta`: `{type: "text_delta" | "input_json_delta" | …, …}`; `message_delta`: `{stop_reason, stop_sequence, stop_details, container}`. */
  readonly delta?: unknown;
  /** `message_delta`: cumulative token counts. */
  readonly usage?: unknown;
  /** `message_delta` (context management beta): `{applied_edits}`. */
  readonly context_management?: unknown;
  /** `error`: `{type, message}`. */
  readonly error?: unknown;
}

/**
 * The `usage` object of `message_start.message` and `message_delta`.
 *
 * @see https://docs.anthropic.com/en/api/messages#response-usage
 *
 * @public the provider's wire shape, for readers and the typed parse stage to come; the mapper reads it through `asRecord`.
 */
export interface AnthropicUsage {
  /** Input tokens that were neither read from nor written to the prompt cache. */
  readonly input_tokens?: unknown;
  readonly cache_read_input_tokens?: unknown;
  readonly cache_creation_input_tokens?: unknown;
  readonly output_tokens?: unknown;
  /** `{thinking_tokens}` on newer models. */
  readonly output_tokens_details?: unknown;
  readonly server_tool_use?: unknown;
}

/** Returns `v` as a record when it is a non-null, non-array object. */
export { asRecord } from "../../json-shape.js";

/** Returns `v` when it is a non-empty string. */
export function nonEmpty(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}
