import type { Duplex } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { WebSocket } from "ws";
import type { ByteSink, Frame } from "../stream/byte-sink.js";

/**
 * Sends the messages of one socket, for all its watches and answers, with
 * the backpressure of the HTTP sinks: a send resolves once the
 * socket took the frame, or after `drain` when its buffer is full; while a
 * drain is awaited, every other send waits for the same drain (one timer and
 * one listener per socket, whatever the number of watches), so a socket
 * buffers at most one message per watch beyond its high-water mark.
 *
 * The messages of one tick, for all the socket's watches, leave in one
 * `writev`: the first send of a tick corks the socket and the next tick
 * uncorks it (as Node's HTTP/1.1 responses do), where `ws` alone would
 * write each message at once.
 */
export interface WsWriter {
  /**
   * Sends one message (a text frame for the JSON subprotocol, a binary frame
   * for the binary one; text is sent as UTF-8). Rejects with CANCELED when
   * the socket is closed or closing, and with DEADLINE_EXCEEDED when the
   * socket does not drain within the write deadline: the socket is then
   * terminated (nothing more can be written to it; its client resumes from
   * its last cursors).
   */
  send(frame: Frame): Promise<void>;
  /**
   * A {@link ByteSink} for one watch: `write` is {@link WsWriter.send}, but
   * returns undefined when the socket took the message at once (no promise
   * per event); its `close` leaves the socket open (a watch ending is not the
   * socket ending).
   */
  sink(): ByteSink;
}

/**
 * Creates the writer of a socket.
 *
 * @param socket the socket under `ws` (the one given to `handleUpgrade`), whose `drain` tells when its buffer emptied.
 * @param binary binary frames (`airwave.v1.proto`) or text frames (`airwave.v1.json`).
 * @param writeTimeoutMs how long a send may wait for `drain`, in ms.
 */
export function createWsWriter(ws: WebSocket, socket: Duplex, binary: boolean, writeTimeoutMs: number): WsWriter {
  let drained: Promise<void> | undefined;
  let corked = false;
  const uncork = () => {
    corked = false;
    socket.uncork();
  };

  function awaitDrain(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err?: ConnectError) => {
        clearTimeout(timer);
        socket.off("drain", onDrain);
        ws.off("close", onClose);
        drained = undefined;
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(gone());
      const timer = setTimeout(() => {
        done(new ConnectError("client too slow: write deadline exceeded", Code.DeadlineExceeded));
        ws.terminate();
      }, writeTimeoutMs);
      socket.on("drain", onDrain);
      ws.on("close", onClose);
    });
  }

  /** Sends now when nothing waits for a drain; a promise only when the caller must wait. */
  function write(frame: Frame): Promise<void> | undefined {
    if (drained) return sendAfterDrain(frame);
    if (ws.readyState !== WebSocket.OPEN) return Promise.reject(gone());
    if (!corked) {
      corked = true;
      socket.cork();
      process.nextTick(uncork);
    }
    ws.send(frame, { binary });
    if (!socket.writableNeedDrain) return undefined;
    drained ??= awaitDrain();
    return drained;
  }

  async function sendAfterDrain(frame: Frame): Promise<void> {
    while (drained) await drained;
    await write(frame);
  }

  const sink: ByteSink = { write, close() {} };
  return {
    send: (frame) => write(frame) ?? Promise.resolve(),
    sink: () => sink,
  };
}

function gone(): ConnectError {
  return new ConnectError("client went away", Code.Canceled);
}
