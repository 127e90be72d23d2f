import { FinishReason } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { mapOpenAIFinishReason } from "./map-openai-finish-reason.js";

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
