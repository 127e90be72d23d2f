import { ev, type StreamEvent, WsServerMessageSchema } from "@airwave/proto";
import type { Frame } from "../stream/byte-sink.js";
import { type Encoder, jsonOf, oncePerEvent } from "../stream/encoder.js";
import { encodeServerMessage, errorMessage, eventMessage, type WsFormat } from "./ws-codec.js";

/** `"event":`, the JSON key of `WsServerMessage.event`. */
const eventKey = `"${WsServerMessageSchema.fields.find((f) => f.localName === "event")?.jsonName ?? "event"}":`;

/**
 * The frames of logged events, per format, shared by every watch of every
 * socket: a logged event already carries its stream_id, so its frame is the
 * same for all and is encoded once (see {@link oncePerEvent}). The JSON
 * frame is the event's canonical JSON ({@link jsonOf}, shared with SSE,
 * NDJSON and long-poll) inside `{"event":…}`: exactly
 * `toJsonString(WsServerMessageSchema, {event})`.
 */
const loggedFrames: Readonly<Record<WsFormat, (e: StreamEvent) => Frame>> = {
  json: oncePerEvent((e) => `{${eventKey}${jsonOf(e)}}`),
  proto: oncePerEvent((e) => encodeServerMessage("proto", eventMessage(e))),
};

/**
 * The {@link Encoder} of one WebSocket watch, so that a watch on a socket
 * runs through the same `serveStream` as SSE and NDJSON:
 * - an event is `WsServerMessage.event` with `stream_id` set (the log sets
 *   it on logged events; `resumed`, and coalesced events, get it here);
 * - a heartbeat is a `heartbeat` event of this stream;
 * - an error after the watch's ack is `WsServerMessage.error` with
 *   `stream_id` and no `request_id` (the watch broke off: resume from the
 *   last cursor when the code is retryable).
 *
 * Each is one message in `format`: canonical JSON as text (a text frame) or
 * binary Protobuf (a binary frame).
 */
export function wsEncoder(format: WsFormat, streamId: string): Encoder {
  const logged = loggedFrames[format];
  const frame = (e: StreamEvent) => encodeServerMessage(format, eventMessage(e));
  return {
    contentType: format === "json" ? "application/json" : "application/proto",
    event: (e) => (e.seq > 0 && e.streamId === streamId ? logged(e) : frame({ ...e, streamId })),
    heartbeat: () => frame({ ...ev.heartbeat(), streamId }),
    error: (err) => encodeServerMessage(format, errorMessage(err, { streamId })),
  };
}
