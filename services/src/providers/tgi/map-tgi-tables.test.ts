import { FinishReason } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { mapTgiError } from "./map-tgi-error.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { mapTgiFinishReason } from "./map-tgi-finish-reason.js";
import { mapTgiUsage } from "./map-tgi-usage.js";
import { tgiStreamDetailsSchema } from "./tgi-chunk.js";

/** `v` as the chunk schema hands a `details` field to the mapper (not an object → absent). */
const details = (v: unknown) => tgiStreamDetailsSchema.nullish().catch(undefined).parse(v);

describe("mapTgiFinishReason", () => {
  it.each([
    ["eos_token", FinishReason.STOP],
    ["stop_sequence", FinishReason.STOP],
    ["length", FinishReason.LENGTH],
    ["something_new", FinishReason.UNSPECIFIED],
    ["", FinishReason.UNSPECIFIED],
  ])("%s → %s", (raw, want) => {
    expect(mapTgiFinishReason(raw)).toBe(want);
  });
});

describe("mapTgiUsage", () => {
  it("maps input_length and generated_tokens, keeping reported zeros", () => {
    expect(mapTgiUsage({ finish_reason: "length", generated_tokens: 0, input_length: 12, seed: null })).toEqual({
      inputTokens: 12,
      outputTokens: 0,
    });
  });

  it("leaves unreported counts unset, never 0", () => {
    expect(mapTgiUsage({ finish_reason: "length", generated_tokens: 1, seed: null })).toEqual({ outputTokens: 1 });
    expect(mapTgiUsage(details({ generated_tokens: -1, input_length: "3" }))).toBeUndefined();
    expect(mapTgiUsage(null)).toBeUndefined();
    expect(mapTgiUsage(details([]))).toBeUndefined();
  });
});

describe("mapTgiError", () => {
  it.each([
    ["validation", Code.InvalidArgument, "UPSTREAM_REJECTED", false],
    ["template_error", Code.InvalidArgument, "UPSTREAM_REJECTED", false],
    ["tool_error", Code.InvalidArgument, "UPSTREAM_REJECTED", false],
    ["overloaded", Code.Unavailable, "UPSTREAM_OVERLOADED", true],
    ["generation", Code.Unavailable, "UPSTREAM_ERROR", true],
    ["incomplete_generation", Code.Unavailable, "UPSTREAM_ERROR", true],
    ["something_new", Code.Unknown, "UPSTREAM_ERROR", false],
    [undefined, Code.Unknown, "UPSTREAM_ERROR", false],
  ])("%s → %s %s", (type, code, reason, retryable) => {
    expect(mapTgiError("m", type)).toMatchObject({ code, reason, retryable });
  });

  it("shows TGI's message only for errors about the request", () => {
    expect(mapTgiError("Input validation error: `inputs` must be non-empty", "validation").message).toContain(
      "Input validation error: `inputs` must be non-empty",
    );
    expect(mapTgiError("CUDA out of memory at /opt/secret/shard.py", "generation").message).not.toContain("secret");
    expect(mapTgiError({ not: "a string" }, "validation").message).toBe("the inference provider reported an error during the stream");
  });
});

describe("errorBodyMessage", () => {
  it("reads TGI's ErrorResponse and proxies' shapes, on one line", () => {
    expect(errorBodyMessage(JSON.stringify({ error: "Input validation error:\n  too long", error_type: "validation" }))).toBe(
      "Input validation error: too long",
    );
    expect(errorBodyMessage(JSON.stringify({ error: { message: "bad" } }))).toBe("bad");
    expect(errorBodyMessage(JSON.stringify({ detail: "not ready" }))).toBe("not ready");
    expect(errorBodyMessage(JSON.stringify({ error: "y".repeat(500) }))).toHaveLength(300);
  });

  it("returns undefined without a message", () => {
    expect(errorBodyMessage("")).toBeUndefined();
    expect(errorBodyMessage("<html>502</html>")).toBeUndefined();
    expect(errorBodyMessage(JSON.stringify({ error: "  " }))).toBeUndefined();
  });
});
