import { describe, expect, it } from "vitest";
import { corsHeaders } from "./cors.js";

describe("corsHeaders", () => {
  const allow = ["http://app.example"];

  it("allows a listed origin, with connect's header lists on preflight", () => {
    const h = corsHeaders(allow, { origin: "http://app.example" }, true);
    expect(h?.["access-control-allow-origin"]).toBe("http://app.example");
    expect(h?.["access-control-allow-headers"]).toMatch(/Connect-Protocol-Version/i);
    expect(h?.["access-control-allow-headers"]).toMatch(/X-Grpc-Web/i);
    expect(h?.["access-control-allow-headers"]).toMatch(/Last-Event-ID/);
    expect(h?.["access-control-allow-headers"]).toMatch(/Authorization/); // API keys from a browser
    expect(h?.["access-control-allow-methods"]).toMatch(/DELETE/); // DELETE /v1/streams/{id}
    expect(h?.["access-control-expose-headers"]).toMatch(/Grpc-Status/i);
    expect(h?.vary).toBe("Origin");
  });

  it("lets scripts read the error reason, Retry-After and the stream id, and send Airwave's request headers", () => {
    const h = corsHeaders(allow, { origin: "http://app.example" }, true);
    for (const name of ["Airwave-Reason", "Trailer-Airwave-Reason", "Retry-After", "Airwave-Stream-Id"]) {
      expect(h?.["access-control-expose-headers"]?.split(", ")).toContain(name);
    }
    for (const name of ["Airwave-Stream-Id", "Airwave-On-Detach"]) expect(h?.["access-control-allow-headers"]?.split(", ")).toContain(name);
  });

  it("gives an unlisted origin no CORS headers, so the browser blocks it", () => {
    expect(corsHeaders(allow, { origin: "http://evil.example" }, true)).toBeUndefined();
    expect(corsHeaders(allow, {}, false)).toBeUndefined();
  });

  it("allows any origin with *", () => {
    expect(corsHeaders(["*"], { origin: "http://x.example" }, false)?.["access-control-allow-origin"]).toBe("http://x.example");
  });

  it("sends the method list only on preflight", () => {
    expect(corsHeaders(allow, { origin: "http://app.example" }, false)?.["access-control-allow-methods"]).toBeUndefined();
  });
});
