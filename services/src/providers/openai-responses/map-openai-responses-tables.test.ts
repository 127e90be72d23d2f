import { Code } from "@connectrpc/connect";
import { FinishReason } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { fromOpenAIResponsesError } from "./map-openai-responses-error.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { mapOpenAIResponsesFinishReason } from "./map-openai-responses-finish-reason.js";
import { mapOpenAIResponsesUsage } from "./map-openai-responses-usage.js";

describe("mapOpenAIResponsesFinishReason", () => {
  it.each([
    ["completed", undefined, FinishReason.STOP],
    ["incomplete", "max_output_tokens", FinishReason.LENGTH],
    ["incomplete", "content_filter", FinishReason.CONTENT_FILTER],
    ["incomplete", "something_new", FinishReason.UNSPECIFIED],
    ["incomplete", undefined, FinishReason.UNSPECIFIED],
  ] as const)("%s / %s → %s", (status, reason, want) => {
    expect(mapOpenAIResponsesFinishReason(status, reason)).toBe(want);
  });
});

describe("mapOpenAIResponsesUsage", () => {
  it("maps every documented count", () => {
    expect(
      mapOpenAIResponsesUsage({
        input_tokens: 10,
        input_tokens_details: { cached_tokens: 3, cache_write_tokens: 2 },
        output_tokens: 7,
        output_tokens_details: { reasoning_tokens: 5 },
        total_tokens: 17,
      }),
    ).toEqual({ inputTokens: 10, outputTokens: 7, reasoningTokens: 5, cachedInputTokens: 3, cacheWriteInputTokens: 2 });
  });
  it("leaves unreported counts unset (never 0) and keeps reported zeros", () => {
    expect(mapOpenAIResponsesUsage({ input_tokens: 0, output_tokens: 4 })).toEqual({ inputTokens: 0, outputTokens: 4 });
    expect(mapOpenAIResponsesUsage({ input_tokens: -1, output_tokens: 1.5, output_tokens_details: null })).toBeUndefined();
    expect(mapOpenAIResponsesUsage(null)).toBeUndefined();
    expect(mapOpenAIResponsesUsage({})).toBeUndefined();
  });
});

describe("fromOpenAIResponsesError", () => {
  it.each([
    ["server_error", Code.Unavailable, "UPSTREAM_ERROR"],
    ["vector_store_timeout", Code.Unavailable, "UPSTREAM_ERROR"],
    ["rate_limit_exceeded", Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED"],
    ["insufficient_quota", Code.ResourceExhausted, "UPSTREAM_QUOTA_EXHAUSTED"],
    ["invalid_prompt", Code.InvalidArgument, "UPSTREAM_REJECTED"],
    ["image_too_large", Code.InvalidArgument, "UPSTREAM_REJECTED"],
    ["bio_policy", Code.InvalidArgument, "UPSTREAM_POLICY_VIOLATION"],
    ["some_new_policy_code", Code.InvalidArgument, "UPSTREAM_POLICY_VIOLATION"],
    ["something_unheard_of", Code.Unavailable, "UPSTREAM_ERROR"],
  ])("%s → %s %s", (code, want, reason) => {
    expect(fromOpenAIResponsesError({ type: "error", code, message: "m" })).toMatchObject({ code: want, reason });
  });
  it("reads the fields of an error event, of a wrapped error, and of response.error", () => {
    expect(fromOpenAIResponsesError({ type: "error", error: { type: "invalid_request_error", code: null, message: "bad" } })).toMatchObject(
      {
        code: Code.InvalidArgument,
      },
    );
    expect(fromOpenAIResponsesError({ code: "rate_limit_exceeded", message: "later" }).message).toContain("later");
    expect(fromOpenAIResponsesError({})).toMatchObject({ code: Code.Unavailable, reason: "UPSTREAM_ERROR" });
  });
  it("shows the upstream message only for the caller's own errors", () => {
    expect(fromOpenAIResponsesError({ code: "invalid_prompt", message: "Your prompt\n was flagged" }).message).toContain(
      "Your prompt was flagged",
    );
    expect(fromOpenAIResponsesError({ code: "server_error", message: "shard 12 at 10.0.0.3 died" }).message).not.toContain("shard");
  });
});

describe("errorBodyMessage", () => {
  it("extracts error.message of an error body, or nothing", () => {
    expect(errorBodyMessage(JSON.stringify({ error: { message: "The model `x` does not exist", type: "invalid_request_error" } }))).toBe(
      "The model `x` does not exist",
    );
    expect(errorBodyMessage("<html>")).toBeUndefined();
    expect(errorBodyMessage("")).toBeUndefined();
    expect(errorBodyMessage(JSON.stringify({ error: { message: "x".repeat(400) } }))?.length).toBe(300);
  });
});
