import { create } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { type WsError, WsErrorSchema } from "@airwave/proto";
import { errorJson, publicError } from "./public-error.js";

/**
 * The error frames of a stream that already started (its headers, or its
 * watch's ack, were sent), one per format; `serveStream` passes a
 * {@link publicError}.
 *
 * Server-Sent Events: `event: error` with the Connect JSON error as `data:`
 * (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 */
export function sseErrorFrame(err: ConnectError): string {
  return `event: error\ndata: ${errorJson(err)}\n\n`;
}

/** NDJSON: `{"error":{"code":…,"message":…}}`, the stream's last line. */
export function ndjsonErrorFrame(err: ConnectError): string {
  return `{"error":${errorJson(err)}}\n`;
}

/**
 * `WsError`, the WebSocket form of the Connect error (one format with every
 * transport, README "Errors"): `code` the Connect code name as in the
 * Connect JSON error (`codeToString`: "not_found", …), `message` safe to
 * show (internal errors become "internal error", see {@link publicError}),
 * `reason` the `airwave-reason` metadata and `retry_after_ms` the
 * `retry-after-ms` metadata (a whole number of ms up to 2^32 - 1, else 0)
 * when the error carries them.
 *
 * @param o.requestId the request_id of the message this error answers; empty
 *   for a watch that broke off after its ack.
 * @param o.streamId the stream concerned, when known.
 */
export function wsErrorOf(err: ConnectError, o: { requestId?: string; streamId?: string } = {}): WsError {
  const e = publicError(err);
  const retryAfterMs = Number(e.metadata.get("retry-after-ms") ?? Number.NaN);
  return create(WsErrorSchema, {
    requestId: o.requestId ?? "",
    streamId: o.streamId ?? "",
    code: codeToString(e.code),
    message: e.rawMessage,
    reason: e.metadata.get("airwave-reason") ?? "",
    retryAfterMs: Number.isSafeInteger(retryAfterMs) && retryAfterMs >= 0 && retryAfterMs <= 0xffffffff ? retryAfterMs : 0,
  });
}
