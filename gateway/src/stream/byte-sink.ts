import type { ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";

/**
 * What a sink writes: text, sent as UTF-8 (on a WebSocket, a text message),
 * or bytes (a binary message). Never modified by the sink.
 */
export type Frame = string | Uint8Array;

/** Where a stream's frames go: an HTTP response, or one watch of a WebSocket. */
export interface ByteSink {
  /**
   * Writes a frame. Returns undefined when the socket took it at once (the
   * common case: no promise, nothing to await); otherwise a promise that
   * resolves once the socket drained, and rejects with DEADLINE_EXCEEDED
   * when the socket does not drain within the write deadline, or with
   * CANCELED when the client went away (also when it was already gone).
   * The caller must not write again before that promise settles.
   */
  write(frame: Frame): Promise<void> | undefined;
  /** Ends the response. */
  close(): void;
}

/**
 * A ByteSink on a Node response, with a write deadline (centrifuge's write
 * deadlines). Listens for `close` on the response, not the request
 * (nodejs/node#40775). Frames written in the same tick leave in one
 * `writev`: Node's HTTP/1.1 response corks its socket on the first write of
 * a tick and uncorks it on the next (`connectionCorkNT` in
 * node:_http_outgoing), so this sink adds no cork of its own.
 *
 * @param writeTimeoutMs how long one write may wait for `drain`, in ms.
 */
export function nodeSink(res: ServerResponse, writeTimeoutMs: number): ByteSink {
  return {
    write(frame) {
      if (res.destroyed || res.writableEnded) {
        return Promise.reject(new ConnectError("client went away", Code.Canceled));
      }
      if (res.write(frame)) return undefined;
      return new Promise((resolve, reject) => {
        const done = (err?: ConnectError) => {
          clearTimeout(timer);
          res.off("drain", onDrain);
          res.off("close", onClose);
          if (err) reject(err);
          else resolve();
        };
        const onDrain = () => done();
        const onClose = () => done(new ConnectError("client went away", Code.Canceled));
        const timer = setTimeout(() => {
          // Nothing more can be written to a stuck socket: close it; the
          // client resumes from its last cursor.
          res.destroy();
          done(new ConnectError("client too slow: write deadline exceeded", Code.DeadlineExceeded));
        }, writeTimeoutMs);
        res.on("drain", onDrain);
        res.on("close", onClose);
      });
    },
    close() {
      if (!res.writableEnded) res.end();
    },
  };
}
