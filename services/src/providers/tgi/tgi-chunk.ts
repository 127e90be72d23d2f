/**
 * One `data:` event of TGI's native `POST /generate_stream` (the
 * `StreamResponse` schema), or the error event it sends instead. Deliberately
 * lenient: every field is optional and `unknown`, and the mapper checks
 * types before use, so an odd event is ignored or becomes a `failed` event,
 * never a crash.
 *
 * The last event of a generation carries `generated_text` (and `details`
 * when the request asked for them); that is the stream's terminal marker.
 *
 * @see https://huggingface.github.io/text-generation-inference/#/Text%20Generation%20Inference/generate_stream
 */
export interface TgiStreamEvent {
  /** 1-based position of the token in the generation (TGI ≥ 1.4). */
  readonly index?: unknown;
  /** The generated token: {@link TgiToken}. */
  readonly token?: unknown;
  /** With `top_n_tokens`: the most likely alternatives, `TgiToken[]`. */
  readonly top_tokens?: unknown;
  /** The whole generated text, on the last event only (null before). */
  readonly generated_text?: unknown;
  /** On the last event when requested: {@link TgiStreamDetails}. */
  readonly details?: unknown;
  /** An error event: the message. */
  readonly error?: unknown;
  /** An error event: `validation`, `generation`, `overloaded`, `incomplete_generation`, … */
  readonly error_type?: unknown;
}

/** `token` of a {@link TgiStreamEvent}. */
export interface TgiToken {
  readonly id?: unknown;
  readonly text?: unknown;
  /** Natural log of the token's probability. */
  readonly logprob?: unknown;
  /** True for special tokens (`</s>`, `<|eot_id|>`, …), which are not part of the answer text. */
  readonly special?: unknown;
}

/**
 * `details` of the last {@link TgiStreamEvent} (`StreamDetails`).
 *
 * @public the provider's wire shape, for readers and the typed parse stage to come; the mapper reads it through `asRecord`.
 */
export interface TgiStreamDetails {
  /** `length`, `eos_token` or `stop_sequence`. */
  readonly finish_reason?: unknown;
  /** Tokens generated. */
  readonly generated_tokens?: unknown;
  /** Prompt tokens (TGI ≥ 2.1). */
  readonly input_length?: unknown;
  /** The sampling seed, when sampling was on. */
  readonly seed?: unknown;
}

/** `v` as a JSON object, or undefined. @private */
export function asRecord(v: unknown): Record<string, unknown> | undefined {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
