import { FinishReason } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { isOpenAIChatFailureFinish, mapOpenAIFinishReason } from "./map-openai-chat-finish-reason.js";

describe("mapOpenAIFinishReason", () => {
  it.each([
    ["stop", FinishReason.STOP],
    ["eos", FinishReason.STOP],
    ["eos_token", FinishReason.STOP],
    ["length", FinishReason.LENGTH],
    ["model_length", FinishReason.LENGTH],
    ["tool_calls", FinishReason.TOOL_CALLS],
    ["function_call", FinishReason.TOOL_CALLS],
    ["content_filter", FinishReason.CONTENT_FILTER],
    ["error", FinishReason.UNSPECIFIED],
    ["something_new", FinishReason.UNSPECIFIED],
  ])("%s → %s", (raw, want) => {
    expect(mapOpenAIFinishReason(raw)).toBe(want);
  });
});

describe("isOpenAIChatFailureFinish", () => {
  it("is true for OpenRouter's error and DeepSeek's insufficient_system_resource only", () => {
    expect(["error", "insufficient_system_resource"].map(isOpenAIChatFailureFinish)).toEqual([true, true]);
    expect(["stop", "length", "eos", ""].map(isOpenAIChatFailureFinish)).toEqual([false, false, false, false]);
  });
});
