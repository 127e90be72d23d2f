import { create, fromBinary, fromJsonString, toBinary, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  type StreamEvent,
  type WsAck,
  WsAckSchema,
  type WsClientMessage,
  WsClientMessageSchema,
  type WsServerMessage,
  WsServerMessageSchema,
} from "@airwave/proto";
import { malformedProtobufMessage } from "@airwave/proto/server";
import { wsErrorOf } from "../errors/stream-error-frame.js";

/** The two encodings of a session: canonical Protobuf JSON in text frames, or binary Protobuf in binary frames. */
export type WsFormat = "json" | "proto";

/**
 * The subprotocols of `/v1/ws` (Sec-WebSocket-Protocol, RFC 6455 §1.9) and
 * the format each selects; see proto/airwave/v1/websocket.proto.
 */
export const wsSubprotocols: Readonly<Record<string, WsFormat>> = {
  "airwave.v1.json": "json",
  "airwave.v1.proto": "proto",
};

/**
 * The prefix of a subprotocol entry that carries an API key,
 * `airwave.bearer.<key>`, for browsers (which cannot set headers on a
 * WebSocket). Never selected, never echoed back.
 */
export const bearerSubprotocolPrefix = "airwave.bearer.";

/** Longest `request_id` accepted, in characters (websocket.proto). */
export const maxRequestIdChars = 64;

/** The result of {@link decodeClientMessage}: the message, or why not (with its request_id when it could be read). */
export type DecodedClientMessage =
  | { readonly ok: true; readonly message: WsClientMessage }
  | { readonly ok: false; readonly error: ConnectError; readonly requestId: string };

/**
 * Decodes one client message: canonical Protobuf JSON (`json`, from the
 * UTF-8 text of a text frame; unknown fields are errors) or the binary
 * encoding (`proto`). Never throws: a message that does not decode, has a
 * `request_id` longer than 64 characters, or sets none of the `message`
 * oneof cases is a failure with Code.InvalidArgument and the request_id when
 * it could still be read (from the JSON object, or the decoded message).
 */
export function decodeClientMessage(format: WsFormat, data: Uint8Array): DecodedClientMessage {
  let message: WsClientMessage;
  try {
    message =
      format === "json"
        ? fromJsonString(WsClientMessageSchema, Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"))
        : fromBinary(WsClientMessageSchema, data);
  } catch (e) {
    // JSON: the parser's text names the caller's field; binary: a fixed
    // text, as on the RPC surfaces (the Protobuf parser's offsets and tags
    // help no caller).
    if (format === "proto") return invalid(`malformed WsClientMessage: ${malformedProtobufMessage}`, "");
    const why = e instanceof Error ? e.message : String(e);
    return invalid(`malformed WsClientMessage: ${why.slice(0, 200)}`, requestIdOfJson(data));
  }
  if (message.requestId.length > maxRequestIdChars) {
    return invalid(`request_id: at most ${maxRequestIdChars} characters`, "");
  }
  if (message.message.case === undefined) {
    return invalid("message: one of create, watch, cancel, input, unwatch, auth is required", message.requestId);
  }
  return { ok: true, message };
}

function invalid(text: string, requestId: string): DecodedClientMessage {
  return { ok: false, error: new ConnectError(text, Code.InvalidArgument), requestId };
}

/** The `requestId` (or `request_id`) of a JSON object that is not a valid WsClientMessage, when it is a short string. */
function requestIdOfJson(data: Uint8Array): string {
  try {
    const v: unknown = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"));
    if (typeof v !== "object" || v === null) return "";
    const o = v as Record<string, unknown>;
    const id = o.requestId ?? o.request_id;
    return typeof id === "string" && id.length <= maxRequestIdChars ? id : "";
  } catch {
    return "";
  }
}

/** Encodes one server message in `format`: canonical JSON as UTF-8 bytes (a text frame), or binary Protobuf. */
export function encodeServerMessage(format: WsFormat, m: WsServerMessage): Uint8Array {
  return format === "json" ? Buffer.from(toJsonString(WsServerMessageSchema, m), "utf8") : toBinary(WsServerMessageSchema, m);
}

/** `WsServerMessage.event` carrying `e`. */
export function eventMessage(e: StreamEvent): WsServerMessage {
  return create(WsServerMessageSchema, { message: { case: "event", value: e } });
}

/** `WsServerMessage.ack`: the message `requestId` succeeded. */
export function ackMessage(init: Partial<Pick<WsAck, "requestId" | "streamId" | "inputId" | "stream">>): WsServerMessage {
  return create(WsServerMessageSchema, { message: { case: "ack", value: create(WsAckSchema, init) } });
}

/**
 * `WsServerMessage.error` carrying {@link wsErrorOf}: the WebSocket form of
 * the Connect error (code name, a message safe to show, `airwave-reason`,
 * `retry-after-ms`).
 *
 * @param o.requestId the request_id of the message this error answers; empty
 *   for a watch that broke off after its ack.
 * @param o.streamId the stream concerned, when known.
 */
export function errorMessage(err: ConnectError, o: { requestId?: string; streamId?: string } = {}): WsServerMessage {
  return create(WsServerMessageSchema, { message: { case: "error", value: wsErrorOf(err, o) } });
}
