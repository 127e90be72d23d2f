import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { mapAnthropicError } from "./map-anthropic-error.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";

describe("mapAnthropicError", () => {
  it("maps each documented error type by the table", () => {
    // https://docs.anthropic.com/en/api/errors
    const table: [string, Code, string, boolean][] = [
      ["overloaded_error", Code.Unavailable, "UPSTREAM_OVERLOADED", true],
      ["api_error", Code.Unavailable, "UPSTREAM_ERROR", true],
      ["timeout_error", Code.Unavailable, "UPSTREAM_ERROR", true],
      ["rate_limit_error", Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED", true],
      ["invalid_request_error", Code.InvalidArgument, "UPSTREAM_REJECTED", false],
      ["request_too_large", Code.InvalidArgument, "UPSTREAM_REJECTED", false],
      ["not_found_error", Code.NotFound, "UPSTREAM_REJECTED", false],
      ["authentication_error", Code.FailedPrecondition, "UPSTREAM_AUTH", false],
      ["permission_error", Code.FailedPrecondition, "UPSTREAM_AUTH", false],
      ["billing_error", Code.ResourceExhausted, "UPSTREAM_QUOTA_EXHAUSTED", false],
      ["something_new", Code.Unknown, "UPSTREAM_ERROR", false],
      ["toString", Code.Unknown, "UPSTREAM_ERROR", false],
    ];
    for (const [type, code, reason, retryable] of table) {
      expect(mapAnthropicError({ type, message: "m" }), type).toMatchObject({ code, reason, retryable });
    }
    expect(mapAnthropicError(undefined)).toMatchObject({ code: Code.Unknown });
  });

  it("shows the upstream message only for errors about the caller's request", () => {
    expect(mapAnthropicError({ type: "invalid_request_error", message: "max_tokens:\n must be positive" }).message).toContain(
      "max_tokens: must be positive",
    );
    const auth = mapAnthropicError({ type: "authentication_error", message: "invalid x-api-key sk-ant-secret" });
    expect(auth.message).not.toContain("sk-ant");
    expect(mapAnthropicError({ type: "overloaded_error", message: "Overloaded (internal cluster 7)" }).message).not.toContain("cluster");
  });
});

describe("errorBodyMessage", () => {
  it("reads error.message from Anthropic's error shape, one line, bounded", () => {
    // https://docs.anthropic.com/en/api/errors#error-shapes
    const body = JSON.stringify({
      type: "error",
      error: { type: "not_found_error", message: "The requested resource could not be found." },
      request_id: "req_1",
    });
    expect(errorBodyMessage(body)).toBe("The requested resource could not be found.");
    expect(errorBodyMessage(JSON.stringify({ error: { message: "x".repeat(1000) } }))?.length).toBe(300);
    expect(errorBodyMessage("")).toBeUndefined();
    expect(errorBodyMessage("<html>bad gateway</html>")).toBeUndefined();
    expect(errorBodyMessage(JSON.stringify({ error: { type: "api_error" } }))).toBeUndefined();
  });
});
