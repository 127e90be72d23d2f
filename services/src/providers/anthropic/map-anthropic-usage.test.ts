import { describe, expect, it } from "vitest";
import { anthropicUsageSchema } from "./anthropic-chunk.js";
import { type AnthropicUsageCounts, foldAnthropicUsage, mapAnthropicUsage } from "./map-anthropic-usage.js";

/** `v` as the chunk schema hands a `usage` field to the mapper (not an object → absent). */
const usage = (v: unknown) => anthropicUsageSchema.optional().catch(undefined).parse(v);

describe("Anthropic usage", () => {
  it("sums input, cache read and cache write into the input tokens, and keeps each cache count", () => {
    // https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance
    const c: AnthropicUsageCounts = {};
    expect(
      foldAnthropicUsage(c, { input_tokens: 50, cache_creation_input_tokens: 248, cache_read_input_tokens: 1000, output_tokens: 1 }),
    ).toBe(true);
    expect(mapAnthropicUsage(c)).toEqual({ inputTokens: 1298, cachedInputTokens: 1000, cacheWriteInputTokens: 248, outputTokens: 1 });
  });

  it("lets message_delta's cumulative counts overwrite earlier ones and keeps the ones it leaves out", () => {
    const c: AnthropicUsageCounts = {};
    foldAnthropicUsage(c, { input_tokens: 25, cache_read_input_tokens: 7, output_tokens: 1 });
    foldAnthropicUsage(c, { output_tokens: 15, output_tokens_details: { thinking_tokens: 9 } });
    expect(mapAnthropicUsage(c)).toEqual({ inputTokens: 32, cachedInputTokens: 7, outputTokens: 15, reasoningTokens: 9 });
    foldAnthropicUsage(c, { input_tokens: 30, output_tokens: 20 });
    expect(mapAnthropicUsage(c)).toEqual({ inputTokens: 37, cachedInputTokens: 7, outputTokens: 20, reasoningTokens: 9 });
  });

  it("leaves unreported counts unset (never 0), keeps reported zeros, ignores invalid values", () => {
    const c: AnthropicUsageCounts = {};
    expect(foldAnthropicUsage(c, { output_tokens: 0 })).toBe(true);
    expect(mapAnthropicUsage(c)).toEqual({ outputTokens: 0 });
    expect(
      foldAnthropicUsage(c, usage({ input_tokens: -1, cache_read_input_tokens: 1.5, output_tokens: "3", service_tier: "standard" })),
    ).toBe(false);
    expect(mapAnthropicUsage(c)).toEqual({ outputTokens: 0 });
    expect(foldAnthropicUsage({}, usage(null))).toBe(false);
    expect(mapAnthropicUsage({})).toBeUndefined();
  });

  it("reports no input tokens when only cache counts were reported", () => {
    const c: AnthropicUsageCounts = {};
    foldAnthropicUsage(c, { cache_read_input_tokens: 10 });
    expect(mapAnthropicUsage(c)).toEqual({ cachedInputTokens: 10 });
  });
});
