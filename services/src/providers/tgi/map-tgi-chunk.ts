import type { JsonObject } from "@bufbuild/protobuf";
import { ev, FinishReason, type StreamEvent, type UsageInit, withExtras } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import type { Mapper } from "../../adapt.js";
import type { ParseResult } from "../../safe-parse-json.js";
import { mapTgiError } from "./map-tgi-error.js";
import { mapTgiFinishReason } from "./map-tgi-finish-reason.js";
import { mapTgiUsage } from "./map-tgi-usage.js";
import { asRecord, type TgiStreamEvent, type TgiToken } from "./tgi-chunk.js";

/** State of {@link tgiChunkMapper} for one stream. */
export interface TgiChunkState {
  /** Special tokens seen (not answer text), for the terminal's metadata. */
  readonly specialTokens: JsonObject[];
}

/**
 * Maps the JSON-parsed `data` of TGI's native `/generate_stream` events to
 * airwave.v1 events. Deterministic, no I/O.
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
 *   seed). Without `details` (not requested) the finish reason is
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
export const tgiChunkMapper: Mapper<ParseResult<unknown>, TgiChunkState> = {
  init: () => ({ specialTokens: [] }),

  map(s, parsed) {
    const chunk: TgiStreamEvent | undefined = parsed.success ? asRecord(parsed.value) : undefined;
    if (!chunk) {
      return [ev.failed(Code.Internal, "the inference provider sent a malformed event", "UPSTREAM_MALFORMED")];
    }
    if (chunk.error !== undefined && chunk.error !== null) {
      const e = mapTgiError(chunk.error, chunk.error_type);
      return [ev.failed(e.code, e.message, e.reason, { retryable: e.retryable })];
    }
    const out: StreamEvent[] = [];
    const token: TgiToken | undefined = asRecord(chunk.token);
    if (token && typeof token.text === "string") {
      if (token.special === true) {
        s.specialTokens.push(pick({ index: chunk.index, id: token.id, text: token.text, logprob: token.logprob }));
      } else if (token.text !== "") {
        const meta = pick({ id: token.id, logprob: token.logprob });
        const extras: JsonObject = Object.keys(meta).length > 0 ? { token: meta } : {};
        if (Array.isArray(chunk.top_tokens) && chunk.top_tokens.length > 0) extras["top_tokens"] = chunk.top_tokens as JsonObject[];
        out.push(withExtras(ev.textDelta(token.text), { metadata: extras }));
      }
    }
    if (typeof chunk.generated_text === "string") out.push(...finish(s, chunk.details));
    return out;
  },

  end(_s) {
    return [ev.failed(Code.Unavailable, "the inference provider's stream ended before the answer was complete", "UPSTREAM_TRUNCATED")];
  },
};

function finish(s: TgiChunkState, details: unknown): StreamEvent[] {
  const d = asRecord(details);
  const usage: UsageInit | undefined = mapTgiUsage(d);
  const raw = typeof d?.["finish_reason"] === "string" ? d["finish_reason"] : "";
  const reason = raw === "" ? FinishReason.UNSPECIFIED : mapTgiFinishReason(raw);
  const metadata: JsonObject = {};
  if (d) metadata["details"] = d as JsonObject;
  if (s.specialTokens.length > 0) metadata["special_tokens"] = s.specialTokens;
  const out = usage ? [ev.usage(usage)] : [];
  return [...out, withExtras(ev.completed(reason, usage, raw), { metadata })];
}

/** The entries of `o` whose values are numbers or strings (JSON-safe scalars TGI sent). */
function pick(o: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) {
    if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "string") out[k] = v;
  }
  return out;
}
