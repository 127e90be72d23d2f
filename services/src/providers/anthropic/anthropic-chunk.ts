import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { z } from "zod";
import { asRecord } from "../../json-shape.js";
import type { ParseResult } from "../../safe-parse-json.js";

/*
 * The typed parse stage of the Messages API stream: zod schemas for the
 * `data` of each server-sent event, checked once per event by the decoder
 * (`safeParseJson(text, schema)`) so the mapper works on typed values.
 *
 * Lenient where the mapper is: a field the mapper reads but that has the
 * wrong type is treated as absent (`.optional().catch(undefined)`), so one
 * odd field never fails a whole event. What the mapper cannot do without
 * (a block event's `index`, the block or delta with a string `type`) is
 * required: an event of a known type without it reads as an event of no
 * `type`, which the mapper fails as UPSTREAM_MALFORMED, as it does data that
 * is not a JSON object (that fails the schema). Objects are loose: fields
 * not listed here are kept as sent, for the `provider_metadata` extras.
 * Event, block and delta types added later pass as `{type, …}`, kept whole.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 * @see https://github.com/vercel/ai/blob/main/packages/anthropic/src/anthropic-messages-api.ts
 */

/** A JSON value passed on as Anthropic sent it: not checked (`JSON.parse` only makes JSON values), not copied. */
const jsonValue = z.custom<JsonValue>();
/** A JSON object (not null, not an array), passed on as sent. */
const jsonObject = z.custom<JsonObject>((v) => asRecord(v) !== undefined);
/** A string; any other value counts as absent. */
const lenientString = z.string().optional().catch(undefined);
/** A number; any other value counts as absent. */
const lenientNumber = z.number().optional().catch(undefined);
/** A boolean; any other value counts as absent. */
const lenientBoolean = z.boolean().optional().catch(undefined);

/** A content block's position in the final `content` array: an integer in [0, 2^32). */
const blockIndex = z.number().int().min(0).max(0xffffffff);

/**
 * The `usage` object of `message_start.message` and `message_delta`: token
 * counts (a count of the wrong type counts as unreported) and extras such as
 * `service_tier`, kept as sent.
 *
 * @see https://docs.anthropic.com/en/api/messages#response-usage
 */
export const anthropicUsageSchema = z.looseObject({
  /** Input tokens that were neither read from nor written to the prompt cache. */
  input_tokens: lenientNumber,
  cache_read_input_tokens: lenientNumber,
  cache_creation_input_tokens: lenientNumber,
  output_tokens: lenientNumber,
  /** `{thinking_tokens}` on newer models. */
  output_tokens_details: z.looseObject({ thinking_tokens: lenientNumber }).optional().catch(undefined),
  /** `{web_search_requests, …}`: passed on in metadata as sent. */
  server_tool_use: jsonValue.optional(),
});

/** {@link anthropicUsageSchema}'s output. */
export type AnthropicUsage = z.output<typeof anthropicUsageSchema>;

/**
 * The `error` object of an `error` event, `{type, message}` (either of the
 * wrong type counts as absent).
 *
 * @see https://docs.anthropic.com/en/api/errors#error-shapes
 */
export const anthropicErrorSchema = z.looseObject({
  /** `overloaded_error`, `api_error`, `rate_limit_error`, …. */
  type: lenientString,
  message: lenientString,
});

/** {@link anthropicErrorSchema}'s output. */
export type AnthropicError = z.output<typeof anthropicErrorSchema>;

// Content blocks (`content_block_start.content_block`).

/** A server tool's result block, sent whole at its start. */
const toolResultBlockSchema = z.looseObject({
  /** `web_search_tool_result`, `web_fetch_tool_result`, `code_execution_tool_result`, `mcp_tool_result`, … */
  type: z.templateLiteral([z.string(), "_tool_result"]),
  /** The `id` of the call it answers. */
  tool_use_id: lenientString,
  /** The result, passed on as sent (an `*_error` object when the tool failed). */
  content: jsonValue.optional(),
  /** `mcp_tool_result`: the tool reported a failure. */
  is_error: lenientBoolean,
});

/** {@link toolResultBlockSchema}'s output. */
export type AnthropicToolResultBlock = z.output<typeof toolResultBlockSchema>;

const knownContentBlockSchema = z.union([
  z.discriminatedUnion("type", [
    z.looseObject({
      type: z.literal("text"),
      text: lenientString,
      /** Citations sent with the block, each passed on as sent. */
      citations: z.array(jsonValue).optional().catch(undefined),
    }),
    z.looseObject({ type: z.literal("thinking"), thinking: lenientString, signature: lenientString }),
    z.looseObject({
      type: z.literal("redacted_thinking"),
      /** The encrypted reasoning, to be sent back unchanged. */
      data: lenientString,
    }),
    z.looseObject({
      /** A client tool, or one Anthropic runs. */
      type: z.literal(["tool_use", "server_tool_use", "mcp_tool_use"]),
      id: lenientString,
      name: lenientString,
      /** The input when sent whole at the start (usually `{}`; then it streams as `input_json_delta`). */
      input: jsonObject.optional().catch(undefined),
    }),
  ]),
  toolResultBlockSchema,
]);

/** The block types {@link knownContentBlockSchema} reads (results: any type ending in `_tool_result`). */
const knownBlockTypes: ReadonlySet<string> = new Set(
  knownContentBlockSchema.options[0].options.flatMap((o) => [...o.shape.type.values] as string[]),
);

/** A block of a type added later (e.g. `compaction`): kept whole, as sent. */
const otherContentBlockSchema = z.looseObject({ type: z.string() });

/**
 * `content_block_start.content_block`: the (initially empty) block, `{type,
 * …}`: `text`, `thinking`, `redacted_thinking`, `tool_use` /
 * `server_tool_use` / `mcp_tool_use`, `*_tool_result`, or another type
 * (see {@link isKnownContentBlock}).
 *
 * @see https://docs.anthropic.com/en/api/messages#response-content
 */
export const anthropicContentBlockSchema = z.union([knownContentBlockSchema, otherContentBlockSchema]);

/** {@link anthropicContentBlockSchema}'s output. */
export type AnthropicContentBlock = z.output<typeof anthropicContentBlockSchema>;

/** A content block of a type the mapper reads. */
export type AnthropicKnownContentBlock = z.output<typeof knownContentBlockSchema>;

/**
 * True for a block of a known type (then its `type` narrows it); false for
 * one of a type added later. The schema parses every block of a known type
 * by its shape (their fields never fail), so the type alone decides.
 */
export function isKnownContentBlock(b: AnthropicContentBlock): b is AnthropicKnownContentBlock {
  return knownBlockTypes.has(b.type) || b.type.endsWith("_tool_result");
}

// Content block deltas (`content_block_delta.delta`).

const knownContentDeltaSchema = z.discriminatedUnion("type", [
  z.looseObject({ type: z.literal("text_delta"), text: lenientString }),
  z.looseObject({
    type: z.literal("citations_delta"),
    /** One citation for the block's text, passed on as sent. */
    citation: jsonValue.optional(),
  }),
  z.looseObject({ type: z.literal("thinking_delta"), thinking: lenientString }),
  z.looseObject({ type: z.literal("signature_delta"), signature: lenientString }),
  z.looseObject({
    type: z.literal("input_json_delta"),
    /** The next piece of the tool input's JSON text. */
    partial_json: lenientString,
  }),
]);

const knownDeltaTypes: ReadonlySet<string> = new Set(knownContentDeltaSchema.options.map((o) => o.shape.type.value));

/**
 * `content_block_delta.delta`: `{type: "text_delta" | "citations_delta" |
 * "thinking_delta" | "signature_delta" | "input_json_delta" | …, …}`; a
 * delta of a type added later is kept whole, as sent (see
 * {@link isKnownContentDelta}).
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#content-block-delta-types
 */
export const anthropicContentDeltaSchema = z.union([knownContentDeltaSchema, z.looseObject({ type: z.string() })]);

/** {@link anthropicContentDeltaSchema}'s output. */
export type AnthropicContentDelta = z.output<typeof anthropicContentDeltaSchema>;

/** A delta of a type the mapper reads. */
export type AnthropicKnownContentDelta = z.output<typeof knownContentDeltaSchema>;

/** True for a delta of a known type (then its `type` narrows it); false for one of a type added later. */
export function isKnownContentDelta(d: AnthropicContentDelta): d is AnthropicKnownContentDelta {
  return knownDeltaTypes.has(d.type);
}

// Events.

/** The data of an `error` event. */
const errorEventSchema = z.looseObject({
  type: z.literal("error"),
  /** `{type, message}`. */
  error: anthropicErrorSchema.optional().catch(undefined),
});

const knownStreamEventSchema = z.discriminatedUnion("type", [
  z.looseObject({
    type: z.literal("message_start"),
    /** The Message with empty `content`: `{id, model, usage, …}`. */
    message: z
      .looseObject({ id: lenientString, model: lenientString, usage: anthropicUsageSchema.optional().catch(undefined) })
      .optional()
      .catch(undefined),
  }),
  z.looseObject({
    type: z.literal("content_block_start"),
    /** The block's position in the final `content` array. */
    index: blockIndex,
    content_block: anthropicContentBlockSchema,
  }),
  z.looseObject({ type: z.literal("content_block_delta"), index: blockIndex, delta: anthropicContentDeltaSchema }),
  z.looseObject({ type: z.literal("content_block_stop"), index: blockIndex }),
  z.looseObject({
    type: z.literal("message_delta"),
    /** `{stop_reason, stop_sequence, stop_details, container}`; all but `stop_reason` are passed on in metadata as sent. */
    delta: z
      .looseObject({
        stop_reason: lenientString,
        /** The stop sequence that ended the answer, or null. */
        stop_sequence: jsonValue.optional(),
        /** `refusal`: `{type, category, explanation}`. */
        stop_details: jsonValue.optional(),
        /** Code execution: `{id, expires_at}`. */
        container: jsonValue.optional(),
      })
      .optional()
      .catch(undefined),
    /** Cumulative token counts. */
    usage: anthropicUsageSchema.optional().catch(undefined),
    /** Context management beta: `{applied_edits}`, passed on as sent. */
    context_management: jsonValue.optional(),
  }),
  z.looseObject({ type: z.literal("message_stop") }),
  z.looseObject({ type: z.literal("ping") }),
  errorEventSchema,
]);

const knownEventTypes: ReadonlySet<string> = new Set(knownStreamEventSchema.options.map((o) => o.shape.type.value));

/**
 * The data of a Messages stream event: `type` is one of `message_start`,
 * `content_block_start`, `content_block_delta`, `content_block_stop`,
 * `message_delta`, `message_stop`, `ping`, `error` (each of its shape), or
 * an event of another shape whose `type` is
 * - a type added later (the mapper ignores it), or
 * - undefined: `type` is missing or not a string, or the event is of a known
 *   type but lacks what the mapper needs (a valid `index`, the block or delta
 *   with a string `type`); the mapper fails on it.
 *
 * Data that is not a JSON object fails the schema.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export const anthropicStreamEventSchema = z.union([
  knownStreamEventSchema,
  z.looseObject({
    type: z
      .string()
      .refine((t) => !knownEventTypes.has(t))
      .optional()
      .catch(undefined),
  }),
]);

/** {@link anthropicStreamEventSchema}'s output. */
export type AnthropicStreamEvent = z.output<typeof anthropicStreamEventSchema>;

/** An event of a known type, of its shape. */
export type AnthropicKnownStreamEvent = z.output<typeof knownStreamEventSchema>;

/** True for an event of a known type (then its `type` narrows it); false for one of another shape (see {@link anthropicStreamEventSchema}). */
export function isKnownStreamEvent(e: AnthropicStreamEvent): e is AnthropicKnownStreamEvent {
  return e.type !== undefined && knownEventTypes.has(e.type);
}

/**
 * The data of an SSE event named `error`: an `error` event whatever its
 * `type` says (a missing or other `type` reads as `"error"`), so the SSE
 * name alone makes it one, as Anthropic's SDK reads it.
 */
export const anthropicSseErrorSchema = errorEventSchema.extend({ type: z.literal("error").catch("error") });

/**
 * One server-sent event of a Messages API stream, as the decoder hands it to
 * the mapper: the SSE `event:` name (undefined when the event had none) and
 * its `data` parsed and checked by {@link anthropicStreamEventSchema}
 * ({@link anthropicSseErrorSchema} for an event named `error`), or why it is
 * not JSON or not of that shape.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */
export interface AnthropicSseEvent {
  readonly event: string | undefined;
  readonly data: ParseResult<AnthropicStreamEvent>;
}
