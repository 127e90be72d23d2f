import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { codeForStatus, isQuotaExhausted, isRetryableResponse, reasonForStatus } from "./code-for-status.js";
import { fromUpstreamHttpError } from "./upstream-error.js";

const openAI = (type: string, code: string | null) => JSON.stringify({ error: { message: "m", type, param: null, code } });

describe("quota exhaustion", () => {
  it.each([
    [429, openAI("insufficient_quota", "insufficient_quota"), true],
    [429, openAI("requests", "billing_hard_limit_reached"), true],
    [402, "", true],
    [402, JSON.stringify({ type: "error", error: { type: "billing_error", message: "m" } }), true],
    [429, openAI("requests", "rate_limit_exceeded"), false],
    [429, "not json", false],
    [500, openAI("insufficient_quota", "insufficient_quota"), false],
  ])("HTTP %i %s → %s", (status, body, quota) => {
    expect(isQuotaExhausted(status, body)).toBe(quota);
    expect(isRetryableResponse(status, body)).toBe(!quota && (status === 429 || status >= 500));
  });
  it("is resource_exhausted UPSTREAM_QUOTA_EXHAUSTED with the upstream text", () => {
    const e = fromUpstreamHttpError({
      provider: "p",
      status: 429,
      body: openAI("insufficient_quota", "insufficient_quota"),
      errorMessage: () => "over quota",
    });
    expect(e.code).toBe(Code.ResourceExhausted);
    expect(e.metadata.get("airwave-reason")).toBe("UPSTREAM_QUOTA_EXHAUSTED");
    expect(e.rawMessage).toContain("over quota");
    expect(codeForStatus(402)).toBe(Code.ResourceExhausted);
    expect(reasonForStatus(402)).toBe("UPSTREAM_QUOTA_EXHAUSTED");
    expect(reasonForStatus(409)).toBe("UPSTREAM_CONFLICT");
  });
});
