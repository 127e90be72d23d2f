import { describe, expect, it } from "vitest";
import { mapOpenAIUsage } from "./map-openai-chat-usage.js";
import { openaiChatUsageSchema } from "./openai-chat-chunk.js";

describe("mapOpenAIUsage", () => {
  it("maps every count, keeping reported zeros", () => {
    expect(
      mapOpenAIUsage({
        prompt_tokens: 10,
        completion_tokens: 20,
        total_tokens: 30,
        completion_tokens_details: { reasoning_tokens: 5 },
        prompt_tokens_details: { cached_tokens: 0 },
      }),
    ).toEqual({ inputTokens: 10, outputTokens: 20, reasoningTokens: 5, cachedInputTokens: 0 });
  });

  it("leaves unreported counts unset, never 0", () => {
    expect(mapOpenAIUsage({ prompt_tokens: 7, completion_tokens: 2 })).toEqual({ inputTokens: 7, outputTokens: 2 });
    expect(
      mapOpenAIUsage(openaiChatUsageSchema.parse({ prompt_tokens: null, completion_tokens: "3", completion_tokens_details: null })),
    ).toBeUndefined();
    expect(mapOpenAIUsage(null)).toBeUndefined();
    expect(mapOpenAIUsage({})).toBeUndefined();
  });

  it("reads DeepSeek's prompt_cache_hit_tokens", () => {
    expect(mapOpenAIUsage({ prompt_tokens: 9, prompt_cache_hit_tokens: 4 })).toEqual({ inputTokens: 9, cachedInputTokens: 4 });
  });
});
