import { clone, create, fromBinary, fromJson, type JsonValue, type MessageInitShape, toBinary, toJson } from "@bufbuild/protobuf";
import {
  type CreateStreamRequest,
  CreateStreamRequestSchema,
  type Cursor,
  formatCursor,
  isTerminal,
  newStreamId,
  PushQueue,
  type StreamEvent,
  type WsAck,
  type WsClientMessage,
  WsClientMessageSchema,
  type WsError,
  type WsServerMessage,
  WsServerMessageSchema,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromCloseCode } from "./close-code.js";
import { abortError, parseCodeName } from "./errors.js";
import type { StreamTransport, WatchFilter } from "./transport.js";

/** A constructor with the shape of the DOM's `WebSocket`. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** Options of {@link createWebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** The gateway's origin (and path prefix, if any); the socket goes to `<baseUrl>/v1/ws` with `ws:`/`wss:`. */
  readonly baseUrl?: string | undefined;
  /** The socket's full URL (`ws://…/v1/ws`); wins over `baseUrl`. */
  readonly url?: string | undefined;
  /** The `WebSocket` to use. @defaultValue `globalThis.WebSocket` */
  readonly WebSocket?: WebSocketConstructor | undefined;
  /**
   * The encoding: `"json"` (subprotocol `airwave.v1.json`, canonical Protobuf
   * JSON in text frames) or `"proto"` (`airwave.v1.proto`, binary Protobuf in
   * binary frames). @defaultValue `"json"`
   */
  readonly protocol?: "json" | "proto" | undefined;
  /**
   * An API key. Sent as the subprotocol entry `airwave.bearer.<key>` when it
   * is an HTTP token (RFC 9110 §5.6.2), else as a first `auth` message.
   * Without it the gateway authenticates the upgrade by its cookie.
   */
  readonly apiKey?: string | undefined;
  /** The W3C `traceparent` of each `create` and `watch` message (called per message; `undefined`: none). */
  readonly traceparent?: (() => string | undefined) | undefined;
  /**
   * Bound on the events queued for one stream that its consumer has not read
   * yet. The socket cannot be paused for one stream, so past this bound that
   * stream's iteration ends with Code.ResourceExhausted (after yielding what
   * is queued) and the socket stops watching it; the resume loop resumes it
   * from its last cursor. @defaultValue 10000
   */
  readonly maxQueuedEvents?: number | undefined;
  /**
   * How long the socket may stay silent, in milliseconds, while it has live
   * watches or unanswered messages, before it is deemed dead (a half-open
   * connection) and closed: its iterations raise Code.Unavailable. The gateway
   * sends a `heartbeat` per watch after 15 s without events. 0 disables.
   * @defaultValue 45000
   */
  readonly idleTimeoutMs?: number | undefined;
}

/** The subprotocols of `/v1/ws` (proto/airwave/v1/websocket.proto). */
export const webSocketSubprotocols = { json: "airwave.v1.json", proto: "airwave.v1.proto" } as const;

/** A {@link StreamTransport} over one shared WebSocket; `close()` closes the socket. */
export interface WebSocketStreamTransport extends StreamTransport {
  /** Closes the socket (if open): live iterations and unanswered calls end with Code.Canceled. The next call opens a new one. */
  close(): void;
}

/**
 * StreamService over the gateway's WebSocket session `/v1/ws`: every stream
 * of this transport is multiplexed over ONE socket, opened on the first call
 * and opened again on the next call after it closed.
 *
 * - `create`/`watch` send a `create`/`watch` message and yield that
 *   stream's events (after the gateway's `ack`); ending the iteration early
 *   (abort, `break`) sends `unwatch`, which detaches (never cancels). A second
 *   watch of a stream replaces the first on the gateway, so the first
 *   iteration ends with Code.Canceled.
 * - `cancel` and `sendInput` send `cancel`/`input` and resolve on the `ack`.
 * - A `WsError` answering a message or ending a watch is raised as a
 *   ConnectError with its code, message and the metadata `airwave-reason`
 *   and `retry-after-ms`.
 * - When the socket closes or errors, every live iteration and unanswered
 *   call raises the code of {@link codeFromCloseCode} (Code.Unavailable for
 *   a dropped connection), after yielding the events already received; the
 *   resume loop resumes them, over a new socket.
 * - Per-stream buffers are bounded (`maxQueuedEvents`); a consumer that falls
 *   behind ends with Code.ResourceExhausted and is resumed from its cursor.
 * - An undecodable frame (or one of the wrong kind) closes the socket; its
 *   iterations raise Code.Internal.
 *
 * @example
 * const ws = createWebSocketTransport({ baseUrl: location.origin, protocol: "proto" });
 * for await (const e of streamWithResume(ws, { request })) render(e);
 * ws.close();
 */
export function createWebSocketTransport(o: WebSocketTransportOptions): WebSocketStreamTransport {
  const url = socketUrl(o);
  const format = o.protocol ?? "json";
  const maxQueued = o.maxQueuedEvents ?? 10_000;
  const idleTimeoutMs = o.idleTimeoutMs ?? 45_000;
  const protocols: string[] = [webSocketSubprotocols[format]];
  const bearerInProtocol = o.apiKey !== undefined && httpToken.test(o.apiKey);
  if (bearerInProtocol) protocols.push(`airwave.bearer.${o.apiKey}`);
  let current: Session | undefined;
  let requests = 0;

  function session(): Session {
    if (current !== undefined && !current.closed) return current;
    const WS = o.WebSocket ?? globalThis.WebSocket;
    const ws = new WS(url, protocols);
    ws.binaryType = "arraybuffer";
    const s: Session = { ws, open: false, closed: false, outbox: [], watches: new Map(), requests: new Map(), lastMessageAt: Date.now() };
    current = s;
    if (o.apiKey !== undefined && !bearerInProtocol)
      send(s, create(WsClientMessageSchema, { message: { case: "auth", value: { bearer: o.apiKey } } }));
    ws.addEventListener("open", () => {
      s.open = true;
      for (const frame of s.outbox.splice(0)) ws.send(frame);
    });
    ws.addEventListener("message", (e) => onMessage(s, (e as MessageEvent).data));
    ws.addEventListener("error", () => end(s, new ConnectError("WebSocket error", Code.Unavailable)));
    ws.addEventListener("close", (e) => {
      const { code, reason } = e as CloseEvent;
      end(s, new ConnectError(`WebSocket closed (${code}${reason ? ` ${reason}` : ""})`, codeFromCloseCode(code, reason)));
    });
    return s;
  }

  function send(s: Session, msg: WsClientMessage): void {
    const frame = format === "json" ? JSON.stringify(toJson(WsClientMessageSchema, msg)) : toBinary(WsClientMessageSchema, msg);
    if (s.open) s.ws.send(frame);
    else s.outbox.push(frame);
  }

  /** Ends a session: every watch and call fails with `err`; the socket is closed. */
  function end(s: Session, err: ConnectError): void {
    if (s.closed) return;
    s.closed = true;
    if (current === s) current = undefined;
    clearTimeout(s.idleTimer);
    for (const w of s.watches.values()) fail(w, err);
    for (const r of s.requests.values()) if (r.kind === "call") r.reject(err);
    s.watches.clear();
    s.requests.clear();
    if (s.ws.readyState === 0 || s.ws.readyState === 1) s.ws.close(1000);
  }

  function onMessage(s: Session, data: unknown): void {
    if (s.closed) return;
    s.lastMessageAt = Date.now();
    let msg: WsServerMessage;
    try {
      msg = decode(format, data);
    } catch (e) {
      end(s, new ConnectError("protocol error: undecodable WebSocket message", Code.Internal, undefined, undefined, e));
      return;
    }
    switch (msg.message.case) {
      case "event": {
        const e = msg.message.value;
        const w = s.watches.get(e.streamId);
        if (w === undefined || !w.acked) return; // the end of a watch that was replaced or left
        w.queue.push(e);
        if (isTerminal(e)) {
          w.ended = true; // the gateway ends the watch after the terminal event
          w.queue.close();
          s.watches.delete(w.streamId);
        } else if (w.queue.length > maxQueued) {
          detach(
            s,
            w,
            new ConnectError(
              `more than ${maxQueued} events of stream ${w.streamId} unread: resume from the cursor`,
              Code.ResourceExhausted,
            ),
          );
        }
        return;
      }
      case "ack": {
        const r = s.requests.get(msg.message.value.requestId);
        if (r === undefined) return;
        s.requests.delete(msg.message.value.requestId);
        if (r.kind === "watch") r.watch.acked = true;
        else if (r.kind === "orphan") {
          if (!s.watches.has(r.streamId)) sendUnwatch(s, r.streamId); // left before its ack; a newer watch replaces it anyway
        } else r.resolve(msg.message.value);
        return;
      }
      case "error": {
        const we = msg.message.value;
        const err = wsErrorToConnectError(we);
        const r = we.requestId === "" ? undefined : s.requests.get(we.requestId);
        if (r !== undefined) {
          s.requests.delete(we.requestId);
          if (r.kind === "watch") {
            detach(s, r.watch, err, false);
            // The gateway keeps the watch this one was to replace: nobody reads it any more.
            if (r.watch.replaced && !s.watches.has(r.watch.streamId)) sendUnwatch(s, r.watch.streamId);
          } else if (r.kind === "call") r.reject(err);
        } else if (we.streamId !== "") {
          const w = s.watches.get(we.streamId);
          if (w?.acked) detach(s, w, err, false);
        } else if (we.requestId === "") {
          // A message the gateway could not read: fail what is unanswered, so nothing waits forever.
          for (const [id, q] of s.requests) {
            s.requests.delete(id);
            if (q.kind === "watch") detach(s, q.watch, err, false);
            else if (q.kind === "call") q.reject(err);
          }
        }
        return;
      }
      default:
        return; // a message kind newer than this client
    }
  }

  /**
   * Ends watch `w` locally; with `unwatch`, tells the gateway when `w` is
   * still the socket's watch of its stream and the gateway has not ended it.
   * Before its ack the gateway may not have attached it yet (messages are
   * handled concurrently), so the `unwatch` then waits for that ack.
   */
  function detach(s: Session, w: Watch, err: ConnectError | undefined, unwatch = true): void {
    if (err !== undefined) fail(w, err);
    if (s.watches.get(w.streamId) !== w) {
      const r = s.requests.get(w.requestId);
      if (r?.kind === "watch") s.requests.delete(w.requestId); // an orphan entry stays until its ack
      return;
    }
    s.watches.delete(w.streamId);
    if (!unwatch || w.ended || s.closed) s.requests.delete(w.requestId);
    else if (w.acked) sendUnwatch(s, w.streamId);
    else s.requests.set(w.requestId, { kind: "orphan", streamId: w.streamId });
  }

  function sendUnwatch(s: Session, streamId: string): void {
    send(s, create(WsClientMessageSchema, { message: { case: "unwatch", value: { streamId } } }));
  }

  /** Arms the dead-peer timer of `s` while it has watches or unanswered calls. */
  function watchIdle(s: Session): void {
    if (idleTimeoutMs <= 0 || s.idleTimer !== undefined || s.closed) return;
    const check = () => {
      s.idleTimer = undefined;
      if (s.closed || (s.watches.size === 0 && s.requests.size === 0)) return;
      const silentMs = Date.now() - s.lastMessageAt;
      if (silentMs >= idleTimeoutMs) {
        end(s, new ConnectError(`no message from the gateway for ${idleTimeoutMs} ms`, Code.Unavailable));
        return;
      }
      s.idleTimer = setTimeout(check, idleTimeoutMs - silentMs);
    };
    s.lastMessageAt = Date.now(); // silence is measured from when something became live
    s.idleTimer = setTimeout(check, idleTimeoutMs);
  }

  async function* follow(streamId: string, message: ClientMessage, signal: AbortSignal): AsyncGenerator<StreamEvent, void, undefined> {
    if (signal.aborted) throw abortError(signal);
    const s = session();
    const requestId = String(++requests);
    const previous = s.watches.get(streamId);
    if (previous !== undefined) {
      // The gateway replaces a stream's watch on a socket: end the old one here (no unwatch, it would end the new one).
      s.watches.delete(streamId);
      fail(previous, new ConnectError(`replaced by a newer watch of stream ${streamId} on this WebSocket`, Code.Canceled));
    }
    const w: Watch = { streamId, requestId, acked: false, ended: false, replaced: previous !== undefined, queue: new PushQueue() };
    s.watches.set(streamId, w);
    s.requests.set(requestId, { kind: "watch", watch: w });
    const onAbort = () => detach(s, w, abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    send(s, create(WsClientMessageSchema, { requestId, message, traceparent: o.traceparent?.() ?? "" }));
    watchIdle(s);
    try {
      for await (const e of w.queue) {
        yield e;
        if (isTerminal(e)) return;
      }
    } finally {
      signal.removeEventListener("abort", onAbort);
      detach(s, w, undefined);
    }
  }

  function call(message: ClientMessage, signal: AbortSignal | undefined): Promise<WsAck> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const s = session();
    const requestId = String(++requests);
    return new Promise<WsAck>((resolve, reject) => {
      const onAbort = () => {
        s.requests.delete(requestId);
        reject(abortError(signal as AbortSignal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const settle = () => signal?.removeEventListener("abort", onAbort);
      s.requests.set(requestId, {
        kind: "call",
        resolve: (a) => (settle(), resolve(a)),
        reject: (e) => (settle(), reject(e)),
      });
      send(s, create(WsClientMessageSchema, { requestId, message }));
      watchIdle(s);
    });
  }

  return {
    create(req: CreateStreamRequest, signal: AbortSignal) {
      // Events are routed by stream id, so the client names the stream when the caller did not.
      const msg = req.streamId !== "" ? req : Object.assign(clone(CreateStreamRequestSchema, req), { streamId: newStreamId() });
      return follow(msg.streamId, { case: "create", value: msg }, signal);
    },
    watch(streamId: string, cursor: Cursor | undefined, signal: AbortSignal, filter?: WatchFilter) {
      const agentIds = [...(filter?.agentIds ?? [])];
      const coalesceMs = filter?.coalesceMs ?? 0;
      return follow(
        streamId,
        { case: "watch", value: { streamId, cursor: cursor ? formatCursor(cursor) : "", agentIds, coalesceMs } },
        signal,
      );
    },
    async cancel(streamId: string, reason = "") {
      await call({ case: "cancel", value: { streamId, reason } }, undefined);
    },
    async sendInput(streamId: string, inputId: string, text: string, signal?: AbortSignal) {
      const ack = await call({ case: "input", value: { streamId, inputId, text } }, signal);
      return ack.inputId !== "" ? ack.inputId : inputId;
    },
    close() {
      if (current !== undefined) end(current, new ConnectError("the WebSocket transport was closed", Code.Canceled));
    },
  };
}

/**
 * A `WsError` as a ConnectError: the code named by `code` (Code.Unknown when
 * unknown), `message`, and the metadata `airwave-reason` and
 * `retry-after-ms` (as on the gateway's other transports) when set.
 *
 * @example
 * wsErrorToConnectError(create(WsErrorSchema, { code: "not_found", message: "no such stream" })).code // Code.NotFound
 */
export function wsErrorToConnectError(e: WsError): ConnectError {
  const metadata = new Headers();
  if (e.reason !== "") metadata.set("airwave-reason", e.reason);
  if (e.retryAfterMs > 0) metadata.set("retry-after-ms", String(e.retryAfterMs));
  return new ConnectError(e.message, parseCodeName(e.code) ?? Code.Unknown, metadata);
}

/** What a client message carries. @private */
type ClientMessage = MessageInitShape<typeof WsClientMessageSchema>["message"];

/** One socket and what travels on it. @private */
interface Session {
  readonly ws: WebSocket;
  open: boolean;
  closed: boolean;
  /** Frames sent before the socket opened. */
  readonly outbox: (string | Uint8Array)[];
  /** The live watch of each stream, by stream id. */
  readonly watches: Map<string, Watch>;
  /** Messages waiting for their `ack`/`error`, by request id. */
  readonly requests: Map<
    string,
    | { kind: "watch"; watch: Watch }
    | { kind: "call"; resolve(a: WsAck): void; reject(e: ConnectError): void }
    /** A watch left before its ack: unwatched when the ack comes. */
    | { kind: "orphan"; streamId: string }
  >;
  /** When the last message arrived (ms since the epoch). */
  lastMessageAt: number;
  idleTimer?: ReturnType<typeof setTimeout> | undefined;
}

/** One watch of one stream on a socket. @private */
interface Watch {
  readonly streamId: string;
  readonly requestId: string;
  /** The gateway acknowledged it: events of its stream are its own from now on. */
  acked: boolean;
  /** Its terminal event was received. */
  ended: boolean;
  /**
   * It replaced a watch of the same stream on this socket. If it fails, the
   * gateway keeps the old watch going, so the client unwatches it.
   */
  readonly replaced: boolean;
  /** Its events, closed after the terminal one; a failure drains it first, except a cancel (abort, replacement), which drops it. */
  readonly queue: PushQueue<StreamEvent>;
}

/** @private */
function fail(w: Watch, err: ConnectError): void {
  w.queue.fail(err, { drop: err.code === Code.Canceled });
}

/** RFC 9110 §5.6.2 `token`: what a subprotocol entry may contain. @private */
const httpToken = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** @private */
function socketUrl(o: WebSocketTransportOptions): string {
  if (o.url !== undefined) return o.url;
  if (o.baseUrl === undefined) throw new ConnectError("createWebSocketTransport needs `url` or `baseUrl`", Code.InvalidArgument);
  const u = new URL(`${o.baseUrl.replace(/\/+$/, "")}/v1/ws`, (globalThis as { location?: { href: string } }).location?.href);
  u.protocol = u.protocol === "https:" ? "wss:" : u.protocol === "http:" ? "ws:" : u.protocol;
  return u.href;
}

/** Decodes one frame; raises on a frame of the wrong kind or undecodable content. @private */
function decode(format: "json" | "proto", data: unknown): WsServerMessage {
  if (format === "json") {
    if (typeof data !== "string") throw new Error("binary frame on the JSON subprotocol");
    return fromJson(WsServerMessageSchema, JSON.parse(data) as JsonValue, { ignoreUnknownFields: true });
  }
  if (data instanceof ArrayBuffer) return fromBinary(WsServerMessageSchema, new Uint8Array(data));
  if (ArrayBuffer.isView(data)) return fromBinary(WsServerMessageSchema, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  throw new Error("text frame on the binary subprotocol");
}
