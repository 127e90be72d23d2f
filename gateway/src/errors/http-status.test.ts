import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { errorResponse, methodNotAllowed } from "./http-status.js";

const retryLater = () =>
  new ConnectError("too many streams", Code.ResourceExhausted, { "airwave-reason": "OWNER_STREAM_LIMIT", "retry-after-ms": "1500" });

describe("the HTTP edge's one error table", () => {
  it("maps code, metadata and retry hint to status, headers and the Connect JSON body", () => {
    const r = errorResponse(retryLater());
    expect(r.status).toBe(429);
    expect(r.headers).toMatchObject({
      "airwave-reason": "OWNER_STREAM_LIMIT",
      "retry-after-ms": "1500",
      "retry-after": "2",
      "content-type": "application/json",
    });
    expect(JSON.parse(r.body)).toEqual({ code: "resource_exhausted", message: "too many streams" });
    expect(errorResponse(methodNotAllowed("PUT", ["GET", "POST"])).status).toBe(405);
    expect(errorResponse(new ConnectError("who?", Code.Unauthenticated)).headers["www-authenticate"]).toMatch(/^Bearer/);
    expect(JSON.parse(errorResponse(new ConnectError("secret detail", Code.Internal)).body).message).not.toContain("secret detail");
  });
});
