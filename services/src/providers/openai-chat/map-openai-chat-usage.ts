import type { UsageInit } from "@airwave/proto";
import type { OpenAIChatUsage } from "./openai-chat-chunk.js";

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
 * integer below 2^32; the schema reads a non-number as absent) stays unset,
 * never 0; a reported 0 stays 0. Returns undefined when there is no `usage`
 * or it reports no count at all.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
export function mapOpenAIUsage(u: OpenAIChatUsage | null | undefined): UsageInit | undefined {
  if (!u) return undefined;
  const out: UsageInit = {};
  const set = (k: keyof UsageInit, v: number | null | undefined) => {
    if (v !== null && v !== undefined && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) out[k] = v;
  };
  set("inputTokens", u.prompt_tokens);
  set("outputTokens", u.completion_tokens);
  set("reasoningTokens", u.completion_tokens_details?.reasoning_tokens);
  set("cachedInputTokens", u.prompt_tokens_details?.cached_tokens ?? u.prompt_cache_hit_tokens);
  return Object.keys(out).length > 0 ? out : undefined;
}
