import type { UsageInit } from "@airwave/proto";
import type { TgiStreamDetails } from "./tgi-chunk.js";

/**
 * Maps the `details` of TGI's last stream event to token counts:
 *
 * | upstream | UsageInit |
 * |---|---|
 * | `details.input_length` (TGI ≥ 2.1) | inputTokens |
 * | `details.generated_tokens` | outputTokens |
 *
 * A count TGI did not report (absent, null, of the wrong type, not a
 * non-negative integer below 2^32) stays unset, never 0; a reported 0 stays
 * 0. Returns undefined without `details` or when they report no count.
 *
 * @see https://huggingface.github.io/text-generation-inference/#/ (schema `StreamDetails`)
 */
export function mapTgiUsage(details: TgiStreamDetails | null | undefined): UsageInit | undefined {
  if (!details) return undefined;
  const out: UsageInit = {};
  const set = (k: keyof UsageInit, v: number | null | undefined) => {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) out[k] = v;
  };
  set("inputTokens", details.input_length);
  set("outputTokens", details.generated_tokens);
  return Object.keys(out).length > 0 ? out : undefined;
}
