import { FinishReason } from "@airwave/proto";
import { expect, it } from "vitest";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.js";

it("maps every documented stop_reason, and unknown ones to UNSPECIFIED", () => {
  // https://docs.anthropic.com/en/api/handling-stop-reasons
  const table: [string, FinishReason][] = [
    ["end_turn", FinishReason.STOP],
    ["stop_sequence", FinishReason.STOP],
    ["pause_turn", FinishReason.STOP],
    ["max_tokens", FinishReason.LENGTH],
    ["model_context_window_exceeded", FinishReason.LENGTH],
    ["tool_use", FinishReason.TOOL_CALLS],
    ["refusal", FinishReason.CONTENT_FILTER],
    ["compaction", FinishReason.UNSPECIFIED],
    ["", FinishReason.UNSPECIFIED],
  ];
  for (const [raw, want] of table) expect(mapAnthropicStopReason(raw), raw).toBe(want);
});
