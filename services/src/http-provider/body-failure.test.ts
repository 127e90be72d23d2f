import { Code as ProtoCode } from "@airwave/proto";
import { ParseError } from "eventsource-parser/stream";
import { describe, expect, it } from "vitest";
import { bodyFailure } from "./body-failure.js";
import { FramingError } from "@airwave/proto";

const failed = (err: unknown, totalTimedOut = false) => {
  const e = bodyFailure(err, { provider: "p", usage: { inputTokens: 4 }, totalTimedOut });
  if (e.event.case !== "failed") throw new Error("not failed");
  return e.event.value;
};

describe("bodyFailure", () => {
  it("maps each cause to its code and reason, keeping the usage", () => {
    const bodyTimeout = new TypeError("terminated", {
      cause: Object.assign(new Error("Body Timeout Error"), { code: "UND_ERR_BODY_TIMEOUT" }),
    });
    const named = Object.assign(new Error("line too long"), { name: "FramingError" });
    expect(failed(bodyTimeout)).toMatchObject({ code: ProtoCode.DEADLINE_EXCEEDED, reason: "UPSTREAM_IDLE_TIMEOUT", retryable: true });
    expect(failed(new ParseError("too big", { type: "max-buffer-size-exceeded" }))).toMatchObject({
      code: ProtoCode.INTERNAL,
      reason: "UPSTREAM_MALFORMED",
      retryable: false,
    });
    expect(failed(new FramingError("x"))).toMatchObject({ reason: "UPSTREAM_MALFORMED" });
    expect(failed(named)).toMatchObject({ reason: "UPSTREAM_MALFORMED" });
    expect(failed(new TypeError("terminated"))).toMatchObject({
      code: ProtoCode.UNAVAILABLE,
      reason: "UPSTREAM_TRUNCATED",
      retryable: true,
    });
    expect(failed(new Error("aborted"), true)).toMatchObject({ code: ProtoCode.DEADLINE_EXCEEDED, reason: "UPSTREAM_TOTAL_TIMEOUT" });
    expect(failed(new TypeError("terminated")).usage?.inputTokens).toBe(4);
    expect(failed(new TypeError("terminated")).message).not.toContain("terminated");
  });
});
