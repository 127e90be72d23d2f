import type { UsageInit } from "@airwave/proto";
import { asRecord } from "./tgi-chunk.js";

/**
 * Maps the `details` of TGI's last stream event to token counts:
 *
 * | upstream | UsageInit |
 * |---|---|
 * | `details.input_length` (TGI ≥ 2.1) | inputTokens |
 * | `details.generated_tokens` | outputTokens |
 *
 * A count TGI did not report (absent, null, not a non-negative integer below
 * 2^32) stays unset, never 0; a reported 0 stays 0. Returns undefined when
 * `details` is not an object or reports no count.
 *
 * @see https://huggingface.github.io/text-generation-inference/#/ (schema `StreamDetails`)
 */
export function mapTgiUsage(details: unknown): UsageInit | undefined {
  const d = asRecord(details);
  if (!d) return undefined;
  const out: UsageInit = {};
  const set = (k: keyof UsageInit, v: unknown) => {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) out[k] = v;
  };
  set("inputTokens", d["input_length"]);
  set("outputTokens", d["generated_tokens"]);
  return Object.keys(out).length > 0 ? out : undefined;
}
