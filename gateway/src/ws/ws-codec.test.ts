import { create, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { WsClientMessageSchema } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { originAllowed } from "./origin-allowed.js";
import { decodeClientMessage, errorMessage } from "./ws-codec.js";

const utf8 = (s: string) => new TextEncoder().encode(s);

describe("decodeClientMessage", () => {
  it("decodes canonical JSON and binary to the same message", () => {
    const m = create(WsClientMessageSchema, {
      requestId: "r1",
      message: { case: "watch", value: { streamId: "s", cursor: "e:3", agentIds: ["writer"] } },
    });
    const fromJson = decodeClientMessage("json", utf8(toJsonString(WsClientMessageSchema, m)));
    const fromBin = decodeClientMessage("proto", toBinary(WsClientMessageSchema, m));
    expect(fromJson).toEqual({ ok: true, message: m });
    expect(fromBin).toEqual({ ok: true, message: m });
  });

  it.each([
    ["bad JSON", "{oops", ""],
    ["an unknown message type", '{"requestId":"q","launch":{}}', "q"],
    ["no message case", '{"request_id":"q2"}', "q2"],
    ["a wrong field type", '{"requestId":"q3","watch":{"streamId":5}}', "q3"],
    ["a JSON array", "[1,2]", ""],
  ])("refuses %s with INVALID_ARGUMENT, keeping a readable request_id", (_, text, requestId) => {
    const d = decodeClientMessage("json", utf8(text));
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.error.code).toBe(Code.InvalidArgument);
    expect(d.requestId).toBe(requestId);
  });

  it("refuses a request_id over 64 characters and truncated binary", () => {
    const long = decodeClientMessage("json", utf8(JSON.stringify({ requestId: "x".repeat(65), unwatch: { streamId: "s" } })));
    expect(long).toMatchObject({ ok: false, requestId: "" });
    const bin = toBinary(
      WsClientMessageSchema,
      create(WsClientMessageSchema, { requestId: "abc", message: { case: "cancel", value: { streamId: "s" } } }),
    );
    const cut = decodeClientMessage("proto", bin.subarray(0, bin.length - 1));
    expect(cut.ok).toBe(false);
  });
});

describe("errorMessage", () => {
  it("is the Connect error with the reason and retry hint, and never leaks internal text", () => {
    const e = new ConnectError("too many", Code.ResourceExhausted, { "airwave-reason": "RATE_LIMITED", "retry-after-ms": "1500" });
    expect(errorMessage(e, { requestId: "r", streamId: "s" }).message.value).toMatchObject({
      requestId: "r",
      streamId: "s",
      code: "resource_exhausted",
      message: "too many",
      reason: "RATE_LIMITED",
      retryAfterMs: 1500,
    });
    const internal = errorMessage(new ConnectError("db password is hunter2", Code.Internal));
    expect(internal.message.value).toMatchObject({ code: "internal", message: "internal error", requestId: "", streamId: "" });
  });
});

describe("originAllowed", () => {
  const list = ["http://app.example"];
  it.each([
    [undefined, "gw:8080", true],
    ["http://app.example", "gw:8080", true],
    ["http://gw:8080", "gw:8080", true],
    ["http://GW:8080", "gw:8080", true],
    ["http://evil.example", "gw:8080", false],
    ["http://gw:9090", "gw:8080", false],
    ["null", "gw:8080", false],
    ["file://gw:8080", "gw:8080", false],
  ])("origin %s, host %s → %s", (origin, host, allowed) => {
    expect(originAllowed(list, { ...(origin ? { origin } : {}), host })).toBe(allowed);
  });
  it("allows any origin with *", () => {
    expect(originAllowed(["*"], { origin: "http://evil.example", host: "gw" })).toBe(true);
  });
});
