import type { UsageInit } from "@airwave/proto";
import type { OpenAIResponsesUsage } from "./openai-responses-chunk.js";

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
 * integer below 2^32; the schema reads a non-number as absent) stays unset,
 * never 0; a reported 0 stays 0. Returns undefined when there is no `usage`
 * or it reports no count at all (OpenRouter sends `usage: null` on early events).
 *
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage
 */
export function mapOpenAIResponsesUsage(u: OpenAIResponsesUsage | null | undefined): UsageInit | undefined {
  if (!u) return undefined;
  const out: UsageInit = {};
  const set = (k: keyof UsageInit, v: number | null | undefined) => {
    if (v !== null && v !== undefined && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) out[k] = v;
  };
  const input = u.input_tokens_details;
  set("inputTokens", u.input_tokens);
  set("outputTokens", u.output_tokens);
  set("reasoningTokens", u.output_tokens_details?.reasoning_tokens);
  set("cachedInputTokens", input?.cached_tokens);
  set("cacheWriteInputTokens", input?.cache_write_tokens);
  return Object.keys(out).length > 0 ? out : undefined;
}
