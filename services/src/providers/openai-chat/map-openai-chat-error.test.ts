import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { fromOpenAIStreamError } from "./map-openai-chat-error.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";

describe("fromOpenAIStreamError", () => {
  it.each([
    [{ message: "m", type: "invalid_request_error", code: "tool_use_failed", status_code: 400 }, Code.InvalidArgument, "UPSTREAM_REJECTED"],
    [{ message: "m", type: "rate_limit_exceeded" }, Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED"],
    [{ message: "m", type: "server_error" }, Code.Unavailable, "UPSTREAM_ERROR"],
    [{ message: "m", code: 503 }, Code.Unavailable, "UPSTREAM_ERROR"],
    ["just text", Code.Unknown, "UPSTREAM_ERROR"],
    [{ code: 502, message: "Provider returned error" }, Code.Unavailable, "UPSTREAM_ERROR"],
    [{ type: "overloaded_error", message: "Overloaded" }, Code.Unavailable, "UPSTREAM_ERROR"],
    [{ type: "authentication_error", message: "bad key sk-1" }, Code.FailedPrecondition, "UPSTREAM_ERROR"],
  ])("%j → %s %s", (error, code, reason) => {
    expect(fromOpenAIStreamError(error)).toMatchObject({ code, reason });
  });

  it.each([
    ["validation", Code.InvalidArgument],
    ["overloaded", Code.Unavailable],
    ["incomplete_generation", Code.Unavailable],
    ["generation", Code.Unknown],
  ])("TGI string error with error_type %s → %s", (type, code) => {
    expect(fromOpenAIStreamError("Input validation error", type).code).toBe(code);
  });

  it("shows the upstream text only for the caller's errors", () => {
    expect(fromOpenAIStreamError({ message: "Tool choice is required", status_code: 400 }).message).toContain("Tool choice is required");
    expect(fromOpenAIStreamError({ message: "at /srv/secret.py line 3", type: "server_error" }).message).not.toContain("secret");
  });
});

describe("errorBodyMessage", () => {
  it.each([
    [JSON.stringify({ error: { message: "The model `x` does not exist", type: "invalid_request_error" } }), "The model `x` does not exist"],
    [
      JSON.stringify({ error: "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096", error_type: "validation" }),
      "Input validation error: `inputs` tokens + `max_new_tokens` must be <= 4096",
    ],
    [JSON.stringify({ detail: "Not Found" }), "Not Found"],
    [JSON.stringify({ message: "multi\n  line" }), "multi line"],
    ["", undefined],
    ["<html>502</html>", undefined],
    [JSON.stringify({ error: {} }), undefined],
  ])("%s → %s", (body, want) => {
    expect(errorBodyMessage(body)).toBe(want);
  });
});
