import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { methodNotAllowed } from "./http-status.js";
import { openaiError, openaiErrorFrame, openaiErrorKinds, openaiErrorResponse, withOpenAIParam } from "./openai-error.js";

describe("the OpenAI error shape of the OpenAI-compatible routes", () => {
  it("has a type for every Connect code, with OpenAI's status through the gateway's one status table", () => {
    const status = (c: Code) => openaiErrorResponse(new ConnectError("x", c)).status;
    expect(Object.keys(openaiErrorKinds)).toHaveLength(16);
    expect(
      [
        Code.InvalidArgument,
        Code.Unauthenticated,
        Code.PermissionDenied,
        Code.NotFound,
        Code.Aborted,
        Code.ResourceExhausted,
        Code.Internal,
        Code.Unavailable,
        Code.DeadlineExceeded,
      ].map(status),
    ).toEqual([400, 401, 403, 404, 409, 429, 500, 503, 504]);
  });

  it("writes {error:{message,type,param,code}} with the route's headers, the retry hint and the param", () => {
    const e = new ConnectError("too many streams", Code.ResourceExhausted, {
      "airwave-reason": "OWNER_STREAM_LIMIT",
      "retry-after-ms": "1500",
    });
    const r = openaiErrorResponse(e);
    expect(r.status).toBe(429);
    expect(r.headers).toMatchObject({ "retry-after-ms": "1500", "retry-after": "2", "airwave-reason": "OWNER_STREAM_LIMIT" });
    expect(r.headers["content-length"]).toBe(Buffer.byteLength(r.body));
    expect(JSON.parse(r.body)).toEqual({
      error: { message: "too many streams", type: "requests", param: null, code: "rate_limit_exceeded" },
    });

    const n = withOpenAIParam(new ConnectError("n > 1 is not supported", Code.InvalidArgument), "n", "unsupported_value");
    expect(openaiError(n)).toEqual({
      message: "n > 1 is not supported",
      type: "invalid_request_error",
      param: "n",
      code: "unsupported_value",
    });
    expect(openaiErrorResponse(methodNotAllowed("GET", ["POST"])).status).toBe(405);
    expect(openaiErrorResponse(new ConnectError("who?", Code.Unauthenticated)).headers["www-authenticate"]).toMatch(/^Bearer/);
  });

  it("never shows an internal error's text or param; quota exhaustion is insufficient_quota", () => {
    const internal = withOpenAIParam(new ConnectError("db password is hunter2", Code.Internal), "model", "x");
    expect(openaiError(internal)).toEqual({ message: "internal error", type: "server_error", param: null, code: null });
    const quota = new ConnectError("out of credit", Code.ResourceExhausted, { "airwave-reason": "UPSTREAM_QUOTA_EXHAUSTED" });
    expect(openaiError(quota)).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota" });
  });

  it("frames an error after the stream started as an SSE data line", () => {
    expect(openaiErrorFrame(new ConnectError("fell behind", Code.Aborted))).toBe(
      'data: {"error":{"message":"fell behind","type":"invalid_request_error","param":null,"code":"conflict"}}\n\n',
    );
  });
});
