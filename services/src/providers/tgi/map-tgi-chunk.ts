import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { ev, FinishReason, type StreamEvent, type UsageInit, withExtras } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import type { Mapper } from "../../adapt.js";
import type { ParseResult } from "../../safe-parse-json.js";
import { mapTgiError } from "./map-tgi-error.js";
import { mapTgiFinishReason } from "./map-tgi-finish-reason.js";
import { mapTgiUsage } from "./map-tgi-usage.js";
import type { TgiStreamDetails, TgiStreamEvent } from "./tgi-chunk.js";

/** State of {@link tgiChunkMapper} for one stream. */
export interface TgiChunkState {
  /** Special tokens seen (not answer text), for the terminal's metadata. */
  readonly specialTokens: JsonObject[];
}

/**
 * Maps the `data` of TGI's native `/generate_stream` events, parsed by
 * `tgiStreamEventSchema`, to airwave.v1 events. Deterministic, no I/O.
 *
 * Per event:
 * - not JSON, or not a JSON object → `failed` INTERNAL, reason UPSTREAM_MALFORMED;
 * - `{"error", "error_type"}` → `failed` by `mapTgiError` (validation →
 *   INVALID_ARGUMENT, overloaded → UNAVAILABLE retryable, …);
 * - `token.text` of a non-special token → `text_delta`, with
 *   `provider_metadata` `{token: {id, logprob}}` (and `top_tokens` when TGI
 *   sent them): the token's log probability is kept, not dropped;
 * - a special token (`token.special: true`, e.g. `</s>`, `<|eot_id|>`) is
 *   not answer text: it gives no `text_delta` (TGI's own `generated_text`
 *   leaves it out too, and the HF SDK documents `special` as the flag to
 *   "ignore tokens when concatenating"); it is listed in the terminal's
 *   metadata as `special_tokens: [{index, id, text, logprob}]`;
 * - the event with a string `generated_text` is the last one (TGI's
 *   terminal marker): `usage` (when `details` report counts, see
 *   `mapTgiUsage`) and `completed` with `details.finish_reason` mapped by
 *   `mapTgiFinishReason` and kept raw; the terminal's metadata holds
 *   `details` as TGI sent it (finish_reason, generated_tokens, input_length,
 *   seed; a read field of the wrong type is left out, as the schema reads it
 *   as absent). Without `details` (not requested) the finish reason is
 *   UNSPECIFIED with an empty raw reason and usage stays unset.
 *   `generated_text` itself is not passed on: it repeats the streamed tokens
 *   (and, with `return_full_text`, the prompt).
 *
 * A stream that ends without the `generated_text` event is `failed`
 * UNAVAILABLE, reason UPSTREAM_TRUNCATED (retryable). Exactly one terminal
 * event, always last.
 *
 * @see https://huggingface.github.io/text-generation-inference/#/Text%20Generation%20Inference/generate_stream
 * @see https://github.com/huggingface/huggingface.js/blob/main/packages/inference/src/tasks/nlp/textGenerationStream.ts
 */
export const tgiChunkMapper: Mapper<ParseResult<TgiStreamEvent>, TgiChunkState> = {
  init: () => ({ specialTokens: [] }),

  map(s, parsed) {
    if (!parsed.success) {
      return [ev.failed(Code.Internal, "the inference provider sent a malformed event", "UPSTREAM_MALFORMED")];
    }
    const chunk = parsed.value;
    if (chunk.error !== undefined && chunk.error !== null) {
      const e = mapTgiError(chunk.error, chunk.error_type);
      return [ev.failed(e.code, e.message, e.reason, { retryable: e.retryable })];
    }
    const out: StreamEvent[] = [];
    const token = chunk.token;
    if (token?.text !== undefined) {
      if (token.special === true) {
        s.specialTokens.push(defined({ index: chunk.index, id: token.id, text: token.text, logprob: token.logprob }));
      } else if (token.text !== "") {
        const meta = defined({ id: token.id, logprob: token.logprob });
        const extras: JsonObject = Object.keys(meta).length > 0 ? { token: meta } : {};
        if (chunk.top_tokens && chunk.top_tokens.length > 0) extras["top_tokens"] = chunk.top_tokens;
        out.push(withExtras(ev.textDelta(token.text), { metadata: extras }));
      }
    }
    if (chunk.generated_text !== undefined && chunk.generated_text !== null) out.push(...finish(s, chunk.details));
    return out;
  },

  end(_s) {
    return [ev.failed(Code.Unavailable, "the inference provider's stream ended before the answer was complete", "UPSTREAM_TRUNCATED")];
  },
};

function finish(s: TgiChunkState, d: TgiStreamDetails | null | undefined): StreamEvent[] {
  const usage: UsageInit | undefined = mapTgiUsage(d);
  const raw = d?.finish_reason ?? "";
  const reason = raw === "" ? FinishReason.UNSPECIFIED : mapTgiFinishReason(raw);
  const metadata: JsonObject = {};
  if (d) metadata["details"] = defined(d);
  if (s.specialTokens.length > 0) metadata["special_tokens"] = s.specialTokens;
  const out = usage ? [ev.usage(usage)] : [];
  return [...out, withExtras(ev.completed(reason, usage, raw), { metadata })];
}

/**
 * The entries of `o` that have a value, as JSON: `undefined` is a field TGI
 * did not send or sent with the wrong type (the schema read it as absent).
 */
function defined(o: Readonly<Record<string, unknown>>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v as JsonValue;
  return out;
}
