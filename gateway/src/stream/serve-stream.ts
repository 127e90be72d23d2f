import { Code, ConnectError } from "@connectrpc/connect";
import type { StreamEvent } from "@airwave/proto";
import { publicError } from "../errors/public-error.js";
import type { GatewayMetrics, Transport } from "../metrics/gateway-metrics.js";
import type { ByteSink, Frame } from "./byte-sink.js";
import type { Encoder } from "./encoder.js";
import { HEARTBEAT, withHeartbeats } from "./heartbeat.js";

/** Options of {@link serveStream}. */
export interface ServeOptions {
  /** Idle time before a heartbeat, in ms. */
  idleMs: number;
  /** Aborts when the client goes away. */
  signal: AbortSignal;
  /** Called with errors that are not the client's doing, for logging. */
  onError?: (err: ConnectError) => void;
  /**
   * An event already pulled from `events` (before the response was
   * committed, so that NOT_FOUND and INVALID_ARGUMENT answer the request
   * instead of breaking a stream), written before the rest, with no extra
   * generator step per event.
   */
  first?: StreamEvent;
  /** Where bytes sent, heartbeats and slow-watcher closes are counted, under `transport`. */
  metrics?: { readonly metrics: GatewayMetrics; readonly transport: Transport } | undefined;
}

/**
 * The one serve loop of the streaming transports (SSE, NDJSON, and each
 * watch of a WebSocket session): pulls events (so a slow socket slows only
 * its own watch), adds heartbeats when idle, writes each encoded event
 * (awaiting only when the socket needs a `drain`: no promise per event
 * otherwise), reports an error in the encoder's format, and always
 * closes the sink (the response; for a WebSocket watch, nothing: the socket
 * outlives its watches).
 *
 * A watcher too slow to drain within the write deadline is closed: its
 * socket is destroyed (nothing more can be written), and it can resume from
 * its last cursor. An abort of `o.signal` (the client left, or stopped this
 * watch) ends the loop silently. Never throws.
 */
export async function serveStream(events: AsyncIterable<StreamEvent>, enc: Encoder, sink: ByteSink, o: ServeOptions): Promise<void> {
  let looping = false;
  const m = o.metrics;
  const out = m ? meteredSink(sink, m.metrics, m.transport) : sink;
  try {
    if (o.first !== undefined) {
      const drained = out.write(enc.event(o.first));
      if (drained !== undefined) await drained;
    }
    looping = true;
    for await (const x of withHeartbeats(events, o.idleMs, o.signal)) {
      if (x === HEARTBEAT) m?.metrics.heartbeat(m.transport);
      const drained = out.write(x === HEARTBEAT ? enc.heartbeat() : enc.event(x));
      if (drained !== undefined) await drained;
    }
  } catch (err) {
    if (o.signal.aborted) return; // the client left: nothing to tell it
    const e = publicError(ConnectError.from(err));
    if (e.code === Code.DeadlineExceeded) m?.metrics.slowWatcherClosed(m.transport);
    if (e.code === Code.DeadlineExceeded || e.code === Code.Canceled) return; // socket is stuck or gone
    o.onError?.(e);
    await sink.write(enc.error(e))?.catch(() => {});
  } finally {
    // withHeartbeats closes `events`; when the first write failed, nothing has yet.
    if (!looping)
      void events[Symbol.asyncIterator]()
        .return?.()
        ?.catch(() => {});
    sink.close();
  }
}

/** `sink`, counting the bytes of each frame written. */
function meteredSink(sink: ByteSink, metrics: GatewayMetrics, transport: Transport): ByteSink {
  const size = (f: Frame) => (typeof f === "string" ? Buffer.byteLength(f) : f.byteLength);
  return {
    write(f) {
      metrics.sentBytes(transport, size(f));
      return sink.write(f);
    },
    close: () => sink.close(),
  };
}
