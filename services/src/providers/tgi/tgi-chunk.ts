import type { JsonValue } from "@bufbuild/protobuf";
import { z } from "zod";

/*
 * The typed parse stage of the `tgi` kind: every SSE `data` of a
 * `/generate_stream` body is checked against `tgiStreamEventSchema`
 * (`safeParseJson(text, schema)`) before the mapper sees it.
 *
 * Lenient where the mapper is: objects are loose (fields not listed are kept
 * as sent), and a field the mapper reads but that has the wrong type reads
 * as absent (`.catch`), so one odd field never fails a whole event. Only
 * data that is not a JSON object fails (→ `failed` UPSTREAM_MALFORMED).
 */

/** A JSON value passed on as TGI sent it: not checked (`JSON.parse` only makes JSON values), not copied. */
const jsonValue = z.custom<JsonValue>();
/** A string; any other value reads as absent. */
const lenientString = z.string().optional().catch(undefined);
/** A number, or null as sent; any other value reads as absent. */
const lenientCount = z.number().nullish().catch(undefined);
/** A number or a string (a JSON scalar, passed on in metadata); any other value reads as absent. */
const lenientScalar = z.union([z.number(), z.string()]).optional().catch(undefined);

/**
 * `token` of a {@link TgiStreamEvent} (`Token`).
 *
 * @see https://huggingface.github.io/text-generation-inference/#/ (schema `Token`)
 */
export const tgiTokenSchema = z.looseObject({
  /** The token id (a number; a string is passed on too). */
  id: lenientScalar,
  text: lenientString,
  /** Natural log of the token's probability (a number; a string is passed on too). */
  logprob: lenientScalar,
  /** True for special tokens (`</s>`, `<|eot_id|>`, …), which are not part of the answer text. */
  special: z.boolean().optional().catch(undefined),
});

/** {@link tgiTokenSchema}'s output. @public the provider's wire shape, for readers (the mapper reads it as `TgiStreamEvent["token"]`). */
export type TgiToken = z.output<typeof tgiTokenSchema>;

/**
 * `details` of the last {@link TgiStreamEvent} (`StreamDetails`), kept in
 * the terminal's metadata.
 *
 * @see https://huggingface.github.io/text-generation-inference/#/ (schema `StreamDetails`)
 */
export const tgiStreamDetailsSchema = z.looseObject({
  /** `length`, `eos_token` or `stop_sequence`. */
  finish_reason: z.string().nullish().catch(undefined),
  /** Tokens generated. */
  generated_tokens: lenientCount,
  /** Prompt tokens (TGI ≥ 2.1). */
  input_length: lenientCount,
  /** The sampling seed, when sampling was on (else null); passed on as sent. */
  seed: jsonValue.optional(),
});

/** {@link tgiStreamDetailsSchema}'s output. */
export type TgiStreamDetails = z.output<typeof tgiStreamDetailsSchema>;

/**
 * One `data:` event of TGI's native `POST /generate_stream` (the
 * `StreamResponse` schema), or the error event it sends instead.
 *
 * The last event of a generation carries `generated_text` (and `details`
 * when the request asked for them); that is the stream's terminal marker.
 *
 * @see https://huggingface.github.io/text-generation-inference/#/Text%20Generation%20Inference/generate_stream
 */
export const tgiStreamEventSchema = z.looseObject({
  /** 1-based position of the token in the generation (TGI ≥ 1.4; a number, a string is passed on too). */
  index: lenientScalar,
  /** The generated token: {@link TgiToken}. */
  token: tgiTokenSchema.optional().catch(undefined),
  /** With `top_n_tokens`: the most likely alternatives, `TgiToken[]`, passed on as sent. */
  top_tokens: z.array(jsonValue).optional().catch(undefined),
  /** The whole generated text, on the last event only (null before). */
  generated_text: z.string().nullish().catch(undefined),
  /** On the last event when requested: {@link TgiStreamDetails}. */
  details: tgiStreamDetailsSchema.nullish().catch(undefined),
  /** An error event: the message (a string; any other value but null still makes it an error event). */
  error: jsonValue.optional(),
  /** An error event: `validation`, `generation`, `overloaded`, `incomplete_generation`, … */
  error_type: lenientString,
});

/** {@link tgiStreamEventSchema}'s output. */
export type TgiStreamEvent = z.output<typeof tgiStreamEventSchema>;
