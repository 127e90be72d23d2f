import type { ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";

/** Where an HTTP stream's bytes go. */
export interface ByteSink {
  /**
   * Writes and resolves once the socket accepted the bytes (after `drain`
   * when its buffer was full). Rejects with DEADLINE_EXCEEDED when the
   * socket does not drain within the write deadline, and with CANCELED when
   * the client went away.
   */
  write(bytes: Uint8Array): Promise<void>;
  /** Ends the response. */
  close(): void;
}

/**
 * A ByteSink on a Node response, with a write deadline (centrifuge's write
 * deadlines, STYLE P8). Listens for `close` on the response, not the request
 * (nodejs/node#40775).
 *
 * @param writeTimeoutMs how long one write may wait for `drain`, in ms.
 */
export function nodeSink(res: ServerResponse, writeTimeoutMs: number): ByteSink {
  return {
    write(bytes) {
      if (res.destroyed || res.writableEnded) {
        return Promise.reject(new ConnectError("client went away", Code.Canceled));
      }
      if (res.write(bytes)) return Promise.resolve();
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
