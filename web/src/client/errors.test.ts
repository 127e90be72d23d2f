import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { errorFromResponse } from "./errors.js";

const refusal = (headers: Record<string, string>, status = 429) =>
  new Response(JSON.stringify({ code: "resource_exhausted", message: "the gateway is overloaded" }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });

describe("errorFromResponse", () => {
  it("carries a 429's Airwave-Reason and Retry-After (seconds) as airwave-reason and retry-after-ms, as the RPC transports do", async () => {
    const err = await errorFromResponse(refusal({ "airwave-reason": "OVERLOADED", "retry-after": "2" }));
    expect([err.code, err.rawMessage]).toEqual([Code.ResourceExhausted, "the gateway is overloaded"]);
    expect(err.metadata.get("airwave-reason")).toBe("OVERLOADED");
    expect(err.metadata.get("retry-after-ms")).toBe("2000");
  });

  it("prefers the gateway's retry-after-ms, and reads an HTTP-date Retry-After", async () => {
    const precise = await errorFromResponse(refusal({ "retry-after-ms": "1500", "retry-after": "2" }));
    expect(precise.metadata.get("retry-after-ms")).toBe("1500");
    const dated = await errorFromResponse(refusal({ "retry-after": new Date(Date.now() + 60_000).toUTCString() }, 503));
    const ms = Number(dated.metadata.get("retry-after-ms"));
    expect(ms).toBeGreaterThan(55_000);
    expect(ms).toBeLessThanOrEqual(60_000);
  });

  it("has no hint without one, or with one in the past or malformed", async () => {
    const cases: Record<string, string>[] = [
      {},
      { "retry-after": "soon" },
      { "retry-after": new Date(0).toUTCString() },
      { "retry-after-ms": "-5" },
    ];
    for (const headers of cases) {
      const err = await errorFromResponse(refusal(headers));
      expect(err.metadata.has("retry-after-ms"), JSON.stringify(headers)).toBe(false);
      expect(err.code).toBe(Code.ResourceExhausted);
    }
    const bare = await errorFromResponse(new Response("", { status: 503 }));
    expect([bare.code, bare.rawMessage, bare.metadata.has("retry-after-ms")]).toEqual([Code.Unavailable, "HTTP 503", false]);
  });
});
