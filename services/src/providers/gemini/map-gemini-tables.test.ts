import { FinishReason } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { fromGeminiStreamError } from "./map-gemini-error.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { mapGeminiFinishReason } from "./map-gemini-finish-reason.js";
import { mapGeminiUsage } from "./map-gemini-usage.js";

describe("mapGeminiFinishReason", () => {
  it("maps the documented FinishReason values", () => {
    expect(mapGeminiFinishReason("STOP")).toBe(FinishReason.STOP);
    expect(mapGeminiFinishReason("MAX_TOKENS")).toBe(FinishReason.LENGTH);
    for (const r of ["SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"]) {
      expect(mapGeminiFinishReason(r)).toBe(FinishReason.CONTENT_FILTER);
    }
  });
  it("maps anything else, including values added later, to UNSPECIFIED", () => {
    for (const r of ["OTHER", "LANGUAGE", "MALFORMED_FUNCTION_CALL", "FINISH_REASON_UNSPECIFIED", "SOMETHING_NEW", ""]) {
      expect(mapGeminiFinishReason(r)).toBe(FinishReason.UNSPECIFIED);
    }
  });
});

describe("mapGeminiUsage", () => {
  it("counts thoughts in the output and tool-use prompt tokens in the input", () => {
    const u = {
      promptTokenCount: 147,
      candidatesTokenCount: 108,
      toolUsePromptTokenCount: 360,
      thoughtsTokenCount: 168,
      totalTokenCount: 783,
    };
    const m = mapGeminiUsage(u);
    expect(m).toEqual({ inputTokens: 507, outputTokens: 276, reasoningTokens: 168 });
    expect((m?.inputTokens ?? 0) + (m?.outputTokens ?? 0)).toBe(u.totalTokenCount);
  });
  it("keeps counts that were not reported unset, and a reported 0 as 0", () => {
    expect(mapGeminiUsage({ promptTokenCount: 15, totalTokenCount: 15 })).toEqual({ inputTokens: 15 });
    expect(mapGeminiUsage({ promptTokenCount: 7, candidatesTokenCount: 0, cachedContentTokenCount: 4 })).toEqual({
      inputTokens: 7,
      outputTokens: 0,
      cachedInputTokens: 4,
    });
    expect(mapGeminiUsage({ thoughtsTokenCount: 68 })).toEqual({ outputTokens: 68, reasoningTokens: 68 });
  });
  it("returns undefined without any count, and ignores values that are not counts", () => {
    expect(mapGeminiUsage({ trafficType: "ON_DEMAND" })).toBeUndefined();
    expect(mapGeminiUsage(null)).toBeUndefined();
    expect(mapGeminiUsage([])).toBeUndefined();
    expect(mapGeminiUsage({ promptTokenCount: -1, candidatesTokenCount: 1.5, thoughtsTokenCount: "3" })).toBeUndefined();
  });
});

describe("fromGeminiStreamError", () => {
  it.each([
    [{ code: 429, status: "RESOURCE_EXHAUSTED", message: "quota" }, Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED"],
    [{ code: 503, status: "UNAVAILABLE", message: "overloaded" }, Code.Unavailable, "UPSTREAM_ERROR"],
    [{ code: 500, status: "INTERNAL", message: "x" }, Code.Unavailable, "UPSTREAM_ERROR"],
    [{ code: 499, status: "CANCELLED", message: "The operation was cancelled." }, Code.Unavailable, "UPSTREAM_ERROR"],
    [{ code: 400, status: "INVALID_ARGUMENT", message: "bad" }, Code.InvalidArgument, "UPSTREAM_REJECTED"],
    [{ code: 400, status: "FAILED_PRECONDITION", message: "region" }, Code.FailedPrecondition, "UPSTREAM_REJECTED"],
    [{ code: 404, status: "NOT_FOUND", message: "no model" }, Code.NotFound, "UPSTREAM_REJECTED"],
    [{ code: 403, status: "PERMISSION_DENIED", message: "key" }, Code.Internal, "UPSTREAM_ERROR"],
    [{ code: 504, status: "DEADLINE_EXCEEDED" }, Code.DeadlineExceeded, "UPSTREAM_ERROR"],
    [{ code: 429 }, Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED"],
    [{ code: 502 }, Code.Unavailable, "UPSTREAM_ERROR"],
    [{ status: "SOMETHING_NEW" }, Code.Unknown, "UPSTREAM_ERROR"],
    // An inherited property name is not a canonical status.
    [{ status: "toString" }, Code.Unknown, "UPSTREAM_ERROR"],
    [{ code: 503, status: "constructor" }, Code.Unavailable, "UPSTREAM_ERROR"],
    ["not an object", Code.Unknown, "UPSTREAM_ERROR"],
  ])("maps %j", (error, code, reason) => {
    expect(fromGeminiStreamError(error)).toMatchObject({ code, reason });
  });
  it("shows the upstream message only where it is about the request", () => {
    expect(fromGeminiStreamError({ status: "RESOURCE_EXHAUSTED", message: "Quota\n exceeded" }).message).toContain("Quota exceeded");
    const internal = fromGeminiStreamError({ status: "INTERNAL", message: "stack trace at 10.0.0.1", details: [{ detail: "secret" }] });
    expect(internal.message).not.toContain("10.0.0.1");
    expect(internal.message).not.toContain("secret");
  });
});

describe("errorBodyMessage", () => {
  it("reads error.message of an object or of an array's first element", () => {
    const e = { error: { code: 400, message: "API key not valid. Please pass a valid API key.", status: "INVALID_ARGUMENT" } };
    expect(errorBodyMessage(JSON.stringify(e))).toBe("API key not valid. Please pass a valid API key.");
    expect(errorBodyMessage(JSON.stringify([e]))).toBe("API key not valid. Please pass a valid API key.");
  });
  it("returns undefined for bodies without a message", () => {
    expect(errorBodyMessage("")).toBeUndefined();
    expect(errorBodyMessage("<html>")).toBeUndefined();
    expect(errorBodyMessage('{"error": {}}')).toBeUndefined();
  });
  it("keeps messages to one line of at most 300 characters", () => {
    const m = errorBodyMessage(JSON.stringify({ error: { message: `a\nb ${"x".repeat(400)}` } }));
    expect(m?.startsWith("a b ")).toBe(true);
    expect(m?.length).toBe(300);
  });
});
