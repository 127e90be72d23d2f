import type { TraceCarrier } from "@airwave/proto/server";
import type { Duplex } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { createLinkedAbortController } from "@connectrpc/connect/protocol";
import type { StreamEvent, WsClientMessage, WsServerMessage } from "@airwave/proto";
import type { RawData, WebSocket } from "ws";
import type { Authenticator, Identity } from "../auth/authenticator.js";
import { publicError } from "../errors/public-error.js";
import { closeCodeOf, closeReason, wsClose } from "../errors/ws-close.js";
import type { Hub } from "../hub/hub.js";
import { PausableQueue } from "../pausable-queue.js";
import { HEARTBEAT, withHeartbeats } from "../stream/heartbeat.js";
import { serveStream } from "../stream/serve-stream.js";
import { ackMessage, decodeClientMessage, encodeServerMessage, errorMessage, type WsFormat } from "./ws-codec.js";
import { wsEncoder } from "./ws-encoder.js";
import { createWsWriter } from "./ws-writer.js";

/** Options of {@link startWsSession}; see GatewayConfig for the units and defaults. */
export interface WsSessionOptions {
  /** Every stream operation goes through it (one resume lookup, one watch loop). */
  readonly hub: Hub;
  /** Checks the key of an `auth` message (the same authenticator as every other transport). */
  readonly auth: Authenticator;
  /** The subprotocol's encoding. */
  readonly format: WsFormat;
  /** Who the upgrade identified, or undefined when keys are required and none came: the first message must then be `auth`. */
  readonly identity: Identity | undefined;
  /** Idle time before a watch's `heartbeat` event and before a ping, in ms; 0 = neither. */
  readonly heartbeatIdleMs: number;
  /** How long a send may wait for the socket to drain, in ms. */
  readonly writeTimeoutMs: number;
  /** Streams watched at once (AIRWAVE_WS_MAX_STREAMS). */
  readonly maxStreams: number;
  /** How long the first `auth` message may take when `identity` is undefined, in ms. */
  readonly authTimeoutMs: number;
  /** Called with errors that are not the client's doing, for logging. */
  readonly onError?: (err: ConnectError) => void;
}

/** One open WebSocket session: one socket, many watches. */
export interface WsSession {
  /** Resolves once the socket closed and every watch and message of it ended. Never rejects. */
  readonly done: Promise<void>;
  /** Resolves once no watch and no message of the socket is running (at most as long as the hub keeps them). */
  idle(): Promise<void>;
  /** Closes the socket (close handshake) with `code` and `reason` (cut to 123 bytes). */
  close(code: number, reason: string): void;
  /** Destroys the socket at once. */
  terminate(): void;
}

/** Messages being answered at once per socket (creates, watches before their ack, cancels, inputs); more waits. */
const maxMessagesInFlight = 32;

/** Received messages buffered before the socket is paused (TCP backpressure to the client). */
const receiveHighWater = 16;

interface Watch {
  readonly ac: AbortController;
  done: Promise<void>;
}

/**
 * Serves one WebSocket at `/v1/ws` (docs/websocket.md): decodes client
 * messages in the session's format and answers each with an `ack` or an
 * `error`; every watch (from `create` or `watch`) runs through the same
 * `serveStream` as SSE and NDJSON, with a {@link wsEncoder} and a sink on
 * this socket, so heartbeats, ordering, errors and backpressure are those of
 * every transport.
 *
 * - Bad input (malformed message, unknown field, no message case) is a
 *   WsError INVALID_ARGUMENT; the socket and its other streams go on.
 * - A frame of the other kind closes the socket with 1003.
 * - Without an identity, the first message must be `auth` within
 *   `authTimeoutMs`; else, or with a wrong key, close 1008.
 * - Dead peer: client messages are read through {@link withHeartbeats}; each
 *   idle tick sends a ping, and a ping still unanswered at the next tick
 *   terminates the socket (so between one and two idle periods).
 * - The socket closing aborts every watch of it: detach, not cancel (the
 *   generations go on as their on_detach policy says).
 */
export function startWsSession(ws: WebSocket, socket: Duplex, o: WsSessionOptions): WsSession {
  const { hub, format } = o;
  const life = new AbortController();
  const writer = createWsWriter(ws, socket, format === "proto", o.writeTimeoutMs);
  const watches = new Map<string, Watch>();
  const inFlight = new Set<Promise<void>>();
  let owner = o.identity?.owner;
  let pendingWatches = 0;
  let awaitingPong = false;

  ws.on("close", () => life.abort(new ConnectError("the socket closed", Code.Canceled)));
  // `ws` closes the socket itself after a protocol error (1002), invalid
  // UTF-8 (1007) or an oversized message (1009); the error only needs a listener.
  ws.on("error", () => {});
  ws.on("pong", () => (awaitingPong = false));

  const close = (code: number, reason: string) => ws.close(code, closeReason(reason));
  const send = (m: WsServerMessage) => writer.send(encodeServerMessage(format, m)).catch(() => {});

  /** Refuses a watch beyond the socket's cap (a replacement of a watched stream does not count). */
  function checkCap(streamId: string): void {
    if (watches.has(streamId) || watches.size + pendingWatches < o.maxStreams) return;
    throw new ConnectError(
      `this socket watches its maximum of ${o.maxStreams} streams (AIRWAVE_WS_MAX_STREAMS); unwatch one or open another socket`,
      Code.ResourceExhausted,
    );
  }

  /**
   * Starts watching `streamId` after `cursor`. The first event is pulled
   * before the ack, so a refused watch (NOT_FOUND, INVALID_ARGUMENT, …) is
   * the WsError answering the message (with its request_id), and the ack
   * precedes the first event. A watch of a stream already watched replaces
   * it once the new one is attached (no detach in between), and the old one
   * has sent its last event before the new one's ack.
   */
  async function startWatch(
    owner: string,
    streamId: string,
    cursor: string,
    agentIds: readonly string[],
    coalesceMs: number,
    requestId: string,
    trace: TraceCarrier,
  ) {
    // Aborted when the socket closes; aborting it at the end removes its listener on `life`.
    const ac = createLinkedAbortController(life.signal);
    const events = hub.watch(owner, streamId, cursor, ac.signal, { agentIds, coalesceMs, transport: "websocket", trace });
    let first: IteratorResult<StreamEvent>;
    try {
      first = await events.next();
    } catch (err) {
      ac.abort();
      const e = ConnectError.from(err);
      if (publicError(e).code === Code.Internal) o.onError?.(e);
      if (!life.signal.aborted) await send(errorMessage(e, { requestId, streamId }));
      return;
    }
    const prev = watches.get(streamId);
    const w: Watch = { ac, done: Promise.resolve() };
    watches.set(streamId, w);
    w.done = (async () => {
      try {
        if (prev) {
          prev.ac.abort(new ConnectError("replaced by a newer watch", Code.Canceled));
          await prev.done;
        }
        await writer.send(encodeServerMessage(format, ackMessage({ requestId, streamId })));
        await serveStream(events, wsEncoder(format, streamId), writer.sink(), {
          idleMs: o.heartbeatIdleMs,
          signal: ac.signal,
          ...(first.done ? {} : { first: first.value }),
          ...(o.onError ? { onError: o.onError } : {}),
          metrics: hub.metrics && { metrics: hub.metrics, transport: "websocket" },
        });
      } catch {
        // The ack could not be sent: the socket is gone.
      } finally {
        if (watches.get(streamId) === w) watches.delete(streamId);
        ac.abort(new ConnectError("watch ended", Code.Canceled));
        void events.return(undefined).catch(() => {});
      }
    })();
  }

  /** Answers one authenticated client message (not `auth`). Raises the error its WsError reports. */
  async function handle(owner: string, m: WsClientMessage): Promise<void> {
    const requestId = m.requestId;
    const msg = m.message;
    switch (msg.case) {
      case "create": {
        checkCap(msg.value.streamId);
        pendingWatches++;
        try {
          const streamId = await hub.create(owner, msg.value, { transport: "websocket", trace: traceOf(m) });
          await startWatch(owner, streamId, "", [], msg.value.coalesceMs, requestId, traceOf(m));
        } finally {
          pendingWatches--;
        }
        return;
      }
      case "watch": {
        const streamId = required(msg.value.streamId, "watch.stream_id");
        checkCap(streamId);
        pendingWatches++;
        try {
          await startWatch(owner, streamId, msg.value.cursor, msg.value.agentIds, msg.value.coalesceMs, requestId, traceOf(m));
        } finally {
          pendingWatches--;
        }
        return;
      }
      case "cancel": {
        const streamId = required(msg.value.streamId, "cancel.stream_id");
        const stream = await hub.cancel(owner, streamId, "client");
        await send(ackMessage({ requestId, streamId, stream }));
        return;
      }
      case "input": {
        const streamId = required(msg.value.streamId, "input.stream_id");
        const inputId = await hub.sendInput(owner, msg.value);
        await send(ackMessage({ requestId, streamId, inputId }));
        return;
      }
      case "unwatch": {
        const streamId = required(msg.value.streamId, "unwatch.stream_id");
        const w = watches.get(streamId);
        if (w) {
          w.ac.abort(new ConnectError("unwatched", Code.Canceled));
          await w.done;
        }
        await send(ackMessage({ requestId, streamId }));
        return;
      }
      case "auth":
        throw new ConnectError("auth: only accepted as the first message of a socket", Code.InvalidArgument);
      case undefined:
        throw new ConnectError("message: one of create, watch, cancel, input, unwatch, auth is required", Code.InvalidArgument);
    }
  }

  function dispatch(owner: string, m: WsClientMessage): void {
    const p: Promise<void> = handle(owner, m)
      .catch(async (err: unknown) => {
        const e = ConnectError.from(err);
        if (publicError(e).code === Code.Internal) o.onError?.(e);
        if (!life.signal.aborted) await send(errorMessage(e, { requestId: m.requestId, streamId: streamIdOf(m) }));
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  /** Authenticates with the first message; false when the socket was closed for it. */
  async function authenticate(m: WsClientMessage): Promise<boolean> {
    if (m.message.case !== "auth") {
      close(wsClose.policy, "authentication required: the first message must be auth");
      return false;
    }
    const key = m.message.value.bearer;
    try {
      if (key === "") throw new ConnectError("auth.bearer: an API key is required", Code.Unauthenticated);
      owner = o.auth.identify({ authorization: `Bearer ${key}` }).owner;
    } catch (err) {
      const e = ConnectError.from(err);
      close(closeCodeOf(e.code), e.rawMessage);
      return false;
    }
    await send(ackMessage({ requestId: m.requestId }));
    return true;
  }

  async function readLoop(): Promise<void> {
    const authTimer =
      owner === undefined
        ? setTimeout(() => close(wsClose.policy, "authentication timed out: the first message must be auth"), o.authTimeoutMs)
        : undefined;
    let first = true;
    try {
      for await (const x of withHeartbeats(socketMessages(ws, receiveHighWater), o.heartbeatIdleMs, life.signal)) {
        if (x === HEARTBEAT) {
          if (awaitingPong) {
            ws.terminate(); // no pong within an idle period: a dead peer
            return;
          }
          awaitingPong = true;
          ws.ping();
          continue;
        }
        awaitingPong = false; // a message is as good as a pong
        if (x.isBinary !== (format === "proto")) {
          close(wsClose.unsupportedData, format === "json" ? "airwave.v1.json takes text frames" : "airwave.v1.proto takes binary frames");
          return;
        }
        const d = decodeClientMessage(format, x.data);
        if (first) {
          first = false;
          clearTimeout(authTimer);
          if (owner === undefined || (d.ok && d.message.message.case === "auth")) {
            if (!d.ok) {
              close(wsClose.policy, "authentication required: the first message must be auth");
              return;
            }
            if (!(await authenticate(d.message))) return;
            continue;
          }
        }
        if (!d.ok) {
          await send(errorMessage(d.error, { requestId: d.requestId }));
          continue;
        }
        dispatch(owner as string, d.message);
        while (inFlight.size >= maxMessagesInFlight) await Promise.race(inFlight);
      }
    } catch (err) {
      if (!life.signal.aborted) {
        const e = ConnectError.from(err);
        o.onError?.(e);
        close(closeCodeOf(Code.Internal), "internal error");
      }
    } finally {
      clearTimeout(authTimer);
    }
  }

  const idle = async () => {
    while (inFlight.size > 0 || watches.size > 0) await Promise.allSettled([...inFlight, ...[...watches.values()].map((w) => w.done)]);
  };

  const done = (async () => {
    await readLoop();
    // The read loop ends when the socket closed, or when it closed the
    // socket itself: either way, every watch of it ends now.
    if (!life.signal.aborted) life.abort(new ConnectError("the socket is closing", Code.Canceled));
    await idle();
  })();

  return {
    done,
    idle,
    close,
    terminate: () => ws.terminate(),
  };
}

/** A required string field: raises INVALID_ARGUMENT naming `field` when empty. */
function required(value: string, field: string): string {
  if (value === "") throw new ConnectError(`${field} is required`, Code.InvalidArgument);
  return value;
}

/** The stream a client message concerns, when it names one. */
function streamIdOf(m: WsClientMessage): string {
  switch (m.message.case) {
    case "create":
    case "watch":
    case "cancel":
    case "input":
    case "unwatch":
      return m.message.value.streamId;
    default:
      return "";
  }
}

/**
 * The messages of a socket as an async iterable, for the read loop: at most
 * `highWater` are buffered, then the socket is paused (TCP backpressure) until
 * the loop brought them under half of it. Ends when the socket closes
 * (messages still buffered then are dropped: nobody could receive their
 * answers).
 */
async function* socketMessages(ws: WebSocket, highWater: number): AsyncGenerator<{ data: Uint8Array; isBinary: boolean }> {
  const queue = new PausableQueue<{ data: Uint8Array; isBinary: boolean }>({
    highWater,
    lowWater: highWater / 2,
    pause: () => ws.pause(),
    resume: () => ws.resume(),
  });
  const onMessage = (data: RawData, isBinary: boolean) => queue.push({ data: toBytes(data), isBinary });
  const onClose = () => void queue.return();
  ws.on("message", onMessage);
  ws.on("close", onClose);
  try {
    yield* queue;
  } finally {
    ws.off("message", onMessage);
    ws.off("close", onClose);
  }
}

function toBytes(data: RawData): Uint8Array {
  if (Array.isArray(data)) return Buffer.concat(data);
  return data instanceof ArrayBuffer ? new Uint8Array(data) : data;
}

/** A message's W3C trace context (its `traceparent` and `tracestate` fields) as a carrier. */
function traceOf(m: WsClientMessage): TraceCarrier {
  return { traceparent: m.traceparent, tracestate: m.tracestate };
}
