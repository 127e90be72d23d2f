import type { UsageInit } from "@airwave/proto";
import { asRecord } from "./openai-responses-chunk.js";

/**
 * Maps a Responses `usage` object to token counts:
 *
 * | upstream | UsageInit |
 * |---|---|
 * | `input_tokens` | inputTokens |
 * | `output_tokens` | outputTokens |
 * | `output_tokens_details.reasoning_tokens` | reasoningTokens |
 * | `input_tokens_details.cached_tokens` | cachedInputTokens |
 * | `input_tokens_details.cache_write_tokens` | cacheWriteInputTokens |
 *
 * A count the upstream did not report (absent, null, not a non-negative
 * integer below 2^32) stays unset, never 0; a reported 0 stays 0. Returns
 * undefined when `usage` is not an object or reports no count at all
 * (OpenRouter sends `usage: null` on early events).
 *
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage
 */
export function mapOpenAIResponsesUsage(usage: unknown): UsageInit | undefined {
  const u = asRecord(usage);
  if (!u) return undefined;
  const out: UsageInit = {};
  const set = (k: keyof UsageInit, v: unknown) => {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) out[k] = v;
  };
  const input = asRecord(u["input_tokens_details"]);
  set("inputTokens", u["input_tokens"]);
  set("outputTokens", u["output_tokens"]);
  set("reasoningTokens", asRecord(u["output_tokens_details"])?.["reasoning_tokens"]);
  set("cachedInputTokens", input?.["cached_tokens"]);
  set("cacheWriteInputTokens", input?.["cache_write_tokens"]);
  return Object.keys(out).length > 0 ? out : undefined;
}
