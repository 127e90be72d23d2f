import type { UsageInit } from "@airwave/proto";
import type { AnthropicUsage } from "./anthropic-chunk.js";

/** The raw counts of one stream so far, by Anthropic's field names; a count never reported is absent. */
export interface AnthropicUsageCounts {
  input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
  output_tokens?: number;
  thinking_tokens?: number;
}

/**
 * Folds a `usage` object of `message_start.message` or `message_delta` into
 * `counts`: each count present in `usage` (a non-negative integer below
 * 2^32) replaces the earlier one, absent ones keep theirs. Anthropic's
 * `message_delta` counts are cumulative whole-message totals (not
 * increments), and input and cache counts may be left out there, so they
 * overwrite and never add — the same rule the official SDK's accumulator
 * follows. Returns true when `usage` reported at least one count.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */
export function foldAnthropicUsage(counts: AnthropicUsageCounts, usage: AnthropicUsage | undefined): boolean {
  if (!usage) return false;
  let any = false;
  const set = (k: keyof AnthropicUsageCounts, v: number | undefined) => {
    if (v !== undefined && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) {
      counts[k] = v;
      any = true;
    }
  };
  set("input_tokens", usage.input_tokens);
  set("cache_read_input_tokens", usage.cache_read_input_tokens);
  set("cache_creation_input_tokens", usage.cache_creation_input_tokens);
  set("output_tokens", usage.output_tokens);
  set("thinking_tokens", usage.output_tokens_details?.thinking_tokens);
  return any;
}

/**
 * Maps Anthropic's counts to Airwave's:
 *
 * | Anthropic | UsageInit |
 * |---|---|
 * | `input_tokens + cache_read_input_tokens + cache_creation_input_tokens` | inputTokens |
 * | `cache_read_input_tokens` | cachedInputTokens |
 * | `cache_creation_input_tokens` | cacheWriteInputTokens |
 * | `output_tokens` | outputTokens |
 * | `output_tokens_details.thinking_tokens` | reasoningTokens |
 *
 * Anthropic's `input_tokens` counts only the tokens after the last cache
 * breakpoint ("total input tokens = cache_read_input_tokens +
 * cache_creation_input_tokens + input_tokens"), while Airwave's
 * `input_tokens` is the whole prompt including cached tokens
 * (`Usage.input_tokens` in event.proto), so the sum is reported. It is set
 * only when `input_tokens` was reported; a cache count that was never
 * reported adds 0 to it (Anthropic leaves them out when they don't apply) and
 * stays unset itself. Returns undefined when nothing was reported.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance
 */
export function mapAnthropicUsage(c: AnthropicUsageCounts): UsageInit | undefined {
  const out: UsageInit = {};
  const total = (c.input_tokens ?? 0) + (c.cache_read_input_tokens ?? 0) + (c.cache_creation_input_tokens ?? 0);
  if (c.input_tokens !== undefined) out.inputTokens = Math.min(total, 0xffffffff);
  if (c.output_tokens !== undefined) out.outputTokens = c.output_tokens;
  if (c.thinking_tokens !== undefined) out.reasoningTokens = c.thinking_tokens;
  if (c.cache_read_input_tokens !== undefined) out.cachedInputTokens = c.cache_read_input_tokens;
  if (c.cache_creation_input_tokens !== undefined) out.cacheWriteInputTokens = c.cache_creation_input_tokens;
  return Object.keys(out).length > 0 ? out : undefined;
}
