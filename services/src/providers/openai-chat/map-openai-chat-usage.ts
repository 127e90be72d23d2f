import type { UsageInit } from "@airwave/proto";
import { asRecord } from "./openai-chat-chunk.js";

/**
 * Maps a Chat Completions `usage` object to token counts:
 *
 * | upstream | UsageInit |
 * |---|---|
 * | `prompt_tokens` | inputTokens |
 * | `completion_tokens` | outputTokens |
 * | `completion_tokens_details.reasoning_tokens` | reasoningTokens |
 * | `prompt_tokens_details.cached_tokens` (DeepSeek: `prompt_cache_hit_tokens`) | cachedInputTokens |
 *
 * A count the upstream did not report (absent, null, not a non-negative
 * integer below 2^32) stays unset, never 0; a reported 0 stays 0. Returns
 * undefined when `usage` is not an object or reports no count at all.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
export function mapOpenAIUsage(usage: unknown): UsageInit | undefined {
  const u = asRecord(usage);
  if (!u) return undefined;
  const out: UsageInit = {};
  const set = (k: keyof UsageInit, v: unknown) => {
    if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) out[k] = v;
  };
  set("inputTokens", u["prompt_tokens"]);
  set("outputTokens", u["completion_tokens"]);
  set("reasoningTokens", asRecord(u["completion_tokens_details"])?.["reasoning_tokens"]);
  set("cachedInputTokens", asRecord(u["prompt_tokens_details"])?.["cached_tokens"] ?? u["prompt_cache_hit_tokens"]);
  return Object.keys(out).length > 0 ? out : undefined;
}
