import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { codeForStatus, fromFetchError, fromOpenAIHttpError, fromOpenAIStreamError } from "./map-openai-error.js";

describe("codeForStatus", () => {
  it.each([
    [400, Code.InvalidArgument],
    [422, Code.InvalidArgument],
    [401, Code.Internal],
    [403, Code.Internal],
    [404, Code.NotFound],
    [408, Code.Unavailable],
    [429, Code.ResourceExhausted],
    [500, Code.Unavailable],
    [503, Code.Unavailable],
    [418, Code.Internal],
  ])("%i → %s", (status, code) => {
    expect(codeForStatus(status)).toBe(code);
  });
});

describe("fromOpenAIHttpError", () => {
  it("shows the upstream message for request errors only", () => {
    const nf = fromOpenAIHttpError(404, JSON.stringify({ error: { message: "The model `x` does not exist" } }));
    expect(nf.code).toBe(Code.NotFound);
    expect(nf.rawMessage).toBe("the inference provider does not know this model (HTTP 404): The model `x` does not exist");
    const auth = fromOpenAIHttpError(401, JSON.stringify({ error: { message: "Incorrect API key provided: sk-live-123" } }));
    expect(auth.code).toBe(Code.Internal);
    expect(auth.rawMessage).not.toContain("sk-live");
    expect(fromOpenAIHttpError(502, "<html>nginx secret</html>").rawMessage).not.toContain("nginx");
  });
});

describe("fromOpenAIStreamError", () => {
  it.each([
    [{ message: "m", type: "invalid_request_error", code: "tool_use_failed", status_code: 400 }, Code.InvalidArgument, "UPSTREAM_REJECTED"],
    [{ message: "m", type: "rate_limit_exceeded" }, Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED"],
    [{ message: "m", type: "server_error" }, Code.Unavailable, "UPSTREAM_ERROR"],
    [{ message: "m", code: 503 }, Code.Unavailable, "UPSTREAM_ERROR"],
    ["just text", Code.Unknown, "UPSTREAM_ERROR"],
  ])("%j → %s %s", (error, code, reason) => {
    expect(fromOpenAIStreamError(error)).toMatchObject({ code, reason });
  });
});

describe("fromFetchError", () => {
  it("returns the abort reason when aborted, else Unavailable with only the errno", () => {
    const ac = new AbortController();
    const err = Object.assign(new TypeError("fetch failed"), { cause: { code: "ENOTFOUND", hostname: "secret.internal" } });
    const e = fromFetchError(err, ac.signal) as { code: Code; rawMessage: string };
    expect(e.code).toBe(Code.Unavailable);
    expect(e.rawMessage).toBe("the inference provider is unreachable (ENOTFOUND)");
    ac.abort("gone");
    expect(fromFetchError(err, ac.signal)).toBe("gone");
  });
});
