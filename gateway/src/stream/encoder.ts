import type { ConnectError } from "@connectrpc/connect";
import { eventKindName, formatCursor, isTerminal, type StreamEvent } from "@airwave/proto";
import { ndjsonErrorFrame, sseErrorFrame } from "../errors/stream-error-frame.js";
import type { Frame } from "./byte-sink.js";
import { eventJson } from "./event-json.js";

/**
 * Turns watch output into frames for one streaming format: SSE, NDJSON, or
 * the WebSocket messages of one watch (`ws/ws-encoder.ts`).
 * Transports differ only in their Encoder; ordering, heartbeats, errors and
 * cleanup live once in `serveStream`. A frame is text (written
 * as UTF-8; a WebSocket text message) or bytes (a binary message); sinks
 * never modify it, so one frame may go to many sockets.
 */
export interface Encoder {
  /** The response Content-Type (HTTP), or the media type of the frames' payload (WebSocket). */
  readonly contentType: string;
  /** One event. */
  event(e: StreamEvent): Frame;
  /** Keep-alive after an idle period. */
  heartbeat(): Frame;
  /** An error after the response started (headers already sent). */
  error(err: ConnectError): Frame;
}

/** Slots of each {@link oncePerEvent} memo (a power of two). */
const memoSlots = 256;

/**
 * Encodes an event once for all the watchers that read it at about the same
 * time: logged events are shared objects, and every watcher of a stream
 * reads a new event in the same turn, so `encode` runs once per event and
 * format however many watchers there are. The memo is direct-mapped
 * (256 slots by stream and seq, strong references to at most 256 events):
 * a lookup is an array read, nothing is kept beside the log (a replay
 * encodes again), and a collision only costs an encode. One memo per
 * returned function: share the function between the watchers of one format.
 */
export function oncePerEvent<T>(encode: (e: StreamEvent) => T): (e: StreamEvent) => T {
  const events: (StreamEvent | undefined)[] = new Array<StreamEvent | undefined>(memoSlots).fill(undefined);
  const outs: T[] = new Array<T>(memoSlots);
  return (e) => {
    const i = slotOf(e);
    if (events[i] === e) return outs[i] as T;
    const out = encode(e);
    events[i] = e;
    outs[i] = out;
    return out;
  };
}

/** The memo slot of an event: its seq plus two characters of its (random) stream id. */
function slotOf(e: StreamEvent): number {
  const id = e.streamId;
  const n = id.length;
  const h = n === 0 ? 0 : id.charCodeAt(n - 1) * 31 + id.charCodeAt(n >> 1);
  return (e.seq + h * 97) & (memoSlots - 1);
}

/** The reconnection delay an SSE heartbeat asks EventSource for, in ms (WHATWG HTML §9.2.6 `retry`). */
export const sseRetryMs = 1000;

const sseHeartbeat = `: heartbeat\nretry: ${sseRetryMs}\n\n`;

/**
 * The reconnection delay the SSE terminal event asks for, in ms: after the
 * stream's end the response closes, and an EventSource comes back at once
 * with the terminal's id as `Last-Event-ID`, gets 204 and stops (WHATWG
 * HTML §9.2.3), instead of waiting its default of about 3 s.
 */
export const sseEndRetryMs = 100;

/**
 * Server-Sent Events (https://html.spec.whatwg.org/multipage/server-sent-events.html).
 * Public contract: `id:` the cursor `"<epoch>:<seq>"` of {@link cursorOf}
 * (logged events, and `resumed` with where the watch continues, so
 * `Last-Event-ID` alone resumes), `event:` the kind in snake_case, `data:` the
 * StreamEvent in canonical Protobuf JSON (one line). A heartbeat is a
 * comment plus `retry:` {@link sseRetryMs} (which dispatches no event); the
 * terminal event carries `retry:` {@link sseEndRetryMs}.
 * An error after the start is `event: error` with the Connect JSON error
 * ({@link sseErrorFrame}).
 */
export const sseEncoder: Encoder = {
  contentType: "text/event-stream; charset=utf-8",
  event: oncePerEvent((e) => {
    const cursor = cursorOf(e);
    const id = cursor === undefined ? "" : `id: ${cursor}\n`;
    const retry = isTerminal(e) ? `retry: ${sseEndRetryMs}\n` : "";
    return `${id}${retry}event: ${kindName(e)}\ndata: ${jsonOf(e)}\n\n`;
  }),
  heartbeat: () => sseHeartbeat,
  error: sseErrorFrame,
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
 *   JSON error, {@link ndjsonErrorFrame}), the last line.
 */
export const ndjsonEncoder: Encoder = {
  contentType: "application/x-ndjson",
  event: oncePerEvent((e) => {
    const cursor = cursorOf(e);
    const head = cursor === undefined ? "" : `"cursor":${JSON.stringify(cursor)},`;
    return `{${head}"event":${jsonOf(e)}}\n`;
  }),
  heartbeat: () => `{"heartbeat":{}}\n`,
  error: ndjsonErrorFrame,
};

/**
 * The canonical Protobuf JSON of an event ({@link eventJson}), once per
 * event for every format that carries it: the SSE `data:`, the NDJSON
 * `event`, long-poll answers and WebSocket JSON frames.
 */
export const jsonOf: (e: StreamEvent) => string = oncePerEvent(eventJson);

/** The snake_case kind of each `event` case ({@link eventKindName}), computed once per case. */
const kindNames = new Map<StreamEvent["event"]["case"], string>();

function kindName(e: StreamEvent): string {
  let name = kindNames.get(e.event.case);
  if (name === undefined) {
    name = eventKindName(e);
    kindNames.set(e.event.case, name);
  }
  return name;
}
