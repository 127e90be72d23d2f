import { toJsonString } from "@bufbuild/protobuf";
import type { ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";
import { eventKindName, formatCursor, StreamEventSchema, type StreamEvent } from "@airwave/proto";

/**
 * Turns watch output into bytes for one streaming format: SSE, NDJSON, or
 * the WebSocket frames of one watch (gateway/src/ws/ws-encoder.ts).
 * Transports differ only in their Encoder; ordering, heartbeats, errors and
 * cleanup live once in `serveStream` (STYLE P7).
 */
export interface Encoder {
  /** The response Content-Type (HTTP), or the media type of the frames' payload (WebSocket). */
  readonly contentType: string;
  /** One event. */
  event(e: StreamEvent): Uint8Array;
  /** Keep-alive after an idle period. */
  heartbeat(): Uint8Array;
  /** An error after the response started (headers already sent). */
  error(err: ConnectError): Uint8Array;
}

const utf8 = new TextEncoder();

/**
 * Encodes each event once, however many watchers read it: logged events are
 * shared objects, so their bytes are kept beside them (and collected with
 * them). One cache per returned function: share the function between the
 * watchers of one format.
 */
export function oncePerEvent(encode: (e: StreamEvent) => Uint8Array): (e: StreamEvent) => Uint8Array {
  const cache = new WeakMap<StreamEvent, Uint8Array>();
  return (e) => {
    let bytes = cache.get(e);
    if (!bytes) {
      bytes = encode(e);
      cache.set(e, bytes);
    }
    return bytes;
  };
}

/**
 * The Connect JSON error shape, `{"code":"unavailable","message":"…"}`
 * (https://connectrpc.com/docs/protocol#error-end-stream). Internal errors
 * are reduced to "internal error" before they get here.
 */
export function errorJson(err: ConnectError): string {
  return JSON.stringify({ code: codeToString(err.code), message: err.rawMessage });
}

/** The reconnection delay an SSE heartbeat asks EventSource for, in ms (WHATWG HTML §9.2.6 `retry`). */
export const sseRetryMs = 1000;

/**
 * Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 * Public contract: `id:` the cursor `"<epoch>:<seq>"` of {@link cursorOf}
 * (logged events, and `resumed` with where the watch continues, so
 * `Last-Event-ID` alone resumes), `event:` the kind in snake_case, `data:` the
 * StreamEvent in canonical Protobuf JSON (one line). A heartbeat is a
 * comment plus `retry:` {@link sseRetryMs} (which dispatches no event).
 * An error after the start is `event: error` with the Connect JSON error.
 */
export const sseEncoder: Encoder = {
  contentType: "text/event-stream; charset=utf-8",
  event: oncePerEvent((e) => {
    const cursor = cursorOf(e);
    const id = cursor === undefined ? "" : `id: ${cursor}\n`;
    return utf8.encode(`${id}event: ${eventKindName(e)}\ndata: ${toJsonString(StreamEventSchema, e)}\n\n`);
  }),
  heartbeat: () => utf8.encode(`: heartbeat\nretry: ${sseRetryMs}\n\n`),
  error: (err) => utf8.encode(`event: error\ndata: ${errorJson(err)}\n\n`),
};

/**
 * The cursor to resume after `e`: its own position for a logged event, the
 * position the watch continues after for `resumed`, undefined otherwise.
 * The same text as the SSE `id:` and `WatchStreamRequest.cursor`.
 */
export function cursorOf(e: StreamEvent): string | undefined {
  if (e.seq > 0) return formatCursor(e);
  if (e.event.case === "resumed") return e.event.value.cursor;
  return undefined;
}

/**
 * Newline-delimited JSON (https://github.com/ndjson/ndjson-spec). Public
 * contract, one JSON object per line with exactly one of:
 * - `{"cursor":"<epoch>:<seq>","event":{…StreamEvent…}}`: a logged event
 *   (or `resumed`, whose cursor is where the watch continues), the event in
 *   canonical Protobuf JSON; `cursor` is what `?after=` takes;
 * - `{"heartbeat":{}}` after an idle period;
 * - `{"error":{"code":…,"message":…}}`: an error after the start (Connect
 *   JSON error), the last line.
 */
export const ndjsonEncoder: Encoder = {
  contentType: "application/x-ndjson",
  event: oncePerEvent((e) => {
    const cursor = cursorOf(e);
    const head = cursor === undefined ? "" : `"cursor":${JSON.stringify(cursor)},`;
    return utf8.encode(`{${head}"event":${toJsonString(StreamEventSchema, e)}}\n`);
  }),
  heartbeat: () => utf8.encode(`{"heartbeat":{}}\n`),
  error: (err) => utf8.encode(`{"error":${errorJson(err)}}\n`),
};
