import type { Duplex } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { WebSocket } from "ws";
import type { ByteSink } from "../http/byte-sink.js";

/**
 * Sends the messages of one socket, for all its watches and answers, with
 * the backpressure of the HTTP sinks (STYLE P8): a send resolves once the
 * socket took the frame, or after `drain` when its buffer is full; while a
 * drain is awaited, every other send waits for the same drain (one timer and
 * one listener per socket, whatever the number of watches), so a socket
 * buffers at most one message per watch beyond its high-water mark.
 */
export interface WsWriter {
  /**
   * Sends one message (a text frame for the JSON subprotocol, a binary frame
   * for the binary one). Rejects with CANCELED when the socket is closed or
   * closing, and with DEADLINE_EXCEEDED when the socket does not drain within
   * the write deadline: the socket is then terminated (nothing more can be
   * written to it; its client resumes from its last cursors).
   */
  send(bytes: Uint8Array): Promise<void>;
  /** A {@link ByteSink} for one watch: its `close` leaves the socket open (a watch ending is not the socket ending). */
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

  const writer: WsWriter = {
    async send(bytes) {
      while (drained) await drained;
      if (ws.readyState !== WebSocket.OPEN) throw gone();
      ws.send(bytes, { binary });
      if (socket.writableNeedDrain) {
        drained ??= awaitDrain();
        await drained;
      }
    },
    sink: () => ({ write: (bytes) => writer.send(bytes), close() {} }),
  };
  return writer;
}

function gone(): ConnectError {
  return new ConnectError("client went away", Code.Canceled);
}
