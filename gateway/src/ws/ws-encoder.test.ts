import { create, fromBinary, fromJsonString, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ev, StreamEventSchema, WsServerMessageSchema } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import type { Frame } from "../stream/byte-sink.js";
import { encodeServerMessage, eventMessage } from "./ws-codec.js";
import { wsEncoder } from "./ws-encoder.js";

describe("wsEncoder", () => {
  const logged = create(StreamEventSchema, { ...ev.textDelta("hi"), streamId: "s1", epoch: "e", seq: 4 });
  const text = (f: Frame) => (typeof f === "string" ? f : new TextDecoder().decode(f));
  const decodeJson = (f: Frame) => fromJsonString(WsServerMessageSchema, text(f));

  it("frames events as WsServerMessage.event, stream id set on resumed and heartbeat too", () => {
    const enc = wsEncoder("json", "s1");
    expect(decodeJson(enc.event(logged)).message).toMatchObject({ case: "event", value: { streamId: "s1", seq: 4 } });
    const resumed = create(StreamEventSchema, { event: { case: "resumed", value: { cursor: "e:4" } } });
    expect(decodeJson(enc.event(resumed)).message).toMatchObject({ case: "event", value: { streamId: "s1", event: { case: "resumed" } } });
    expect(resumed.streamId).toBe(""); // the shared event is not modified
    expect(decodeJson(enc.heartbeat()).message).toMatchObject({
      case: "event",
      value: { streamId: "s1", seq: 0, event: { case: "heartbeat" } },
    });
    expect(decodeJson(enc.error(new ConnectError("gone", Code.Unavailable))).message).toMatchObject({
      case: "error",
      value: { streamId: "s1", code: "unavailable", requestId: "" },
    });
  });

  it("writes a logged event's JSON frame exactly as toJsonString of the WsServerMessage", () => {
    expect(text(wsEncoder("json", "s1").event(logged))).toBe(toJsonString(WsServerMessageSchema, eventMessage(logged)));
    expect(text(wsEncoder("json", "s1").event(logged))).toBe(new TextDecoder().decode(encodeServerMessage("json", eventMessage(logged))));
  });

  it("encodes a logged event once for every watch of a format", () => {
    const a = wsEncoder("proto", "s1").event(logged);
    expect(wsEncoder("proto", "s1").event(logged)).toBe(a);
    expect(fromBinary(WsServerMessageSchema, a as Uint8Array).message).toMatchObject({ case: "event", value: { streamId: "s1", seq: 4 } });
    expect(wsEncoder("json", "s2").event(logged)).not.toBe(wsEncoder("json", "s1").event(logged)); // another stream's watch: framed with its id
  });
});
