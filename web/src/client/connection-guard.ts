import { Code, ConnectError } from "@connectrpc/connect";

/** The right of one iteration to hold a stream's connection; see {@link ConnectionGuard}. */
export interface ConnectionLease {
  /** Aborts (with a ConnectError, Code.Canceled) when a newer iteration of the same stream takes over. */
  readonly signal: AbortSignal;
  /** Gives the slot back; idempotent. Call it when the iteration ends. */
  release(): void;
}

/**
 * One live connection per stream: {@link ConnectionGuard.acquire} for a
 * stream that already has a holder aborts that holder first, so its
 * iteration ends with Code.Canceled ("… opened again …") and releases its
 * connection before the new one connects. The resume loop acquires a lease
 * for each iteration (`ResumeOptions.guard`).
 *
 * @example
 * const guard = createConnectionGuard();
 * const a = guard.acquire("s1");
 * const b = guard.acquire("s1"); // a.signal is now aborted
 * b.release();
 */
export interface ConnectionGuard {
  /** Takes stream `streamId`'s slot, aborting the current holder, if any. */
  acquire(streamId: string): ConnectionLease;
  /** The streams with a live holder. */
  live(): string[];
}

/** Creates a {@link ConnectionGuard}; see {@link pageConnectionGuard} for the one shared by a page. */
export function createConnectionGuard(): ConnectionGuard {
  const holders = new Map<string, AbortController>();
  return {
    acquire(streamId) {
      holders
        .get(streamId)
        ?.abort(
          new ConnectError(
            `stream ${streamId} was opened again in this page: this connection is closed (one live connection per stream)`,
            Code.Canceled,
          ),
        );
      const mine = new AbortController();
      holders.set(streamId, mine);
      return {
        signal: mine.signal,
        release() {
          if (holders.get(streamId) === mine) holders.delete(streamId);
        },
      };
    },
    live: () => [...holders.keys()],
  };
}

/**
 * The guard every {@link createAirwaveClient} of this page shares by default:
 * one live connection per stream per page, whichever client or transport
 * opens it.
 */
export const pageConnectionGuard: ConnectionGuard = createConnectionGuard();
