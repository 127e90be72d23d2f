import { Code, ConnectError } from "@connectrpc/connect";
import { isTerminal, type StreamEvent } from "@airwave/proto";
import { coalesceDeltas } from "./coalesce.js";
import type { ReadLimits, StreamLog } from "./stream-log.js";

/** Options of {@link followLog}. */
export interface FollowOptions {
  /** Ends the follow: a pending wait rejects with the signal's reason. */
  readonly signal: AbortSignal;
  /**
   * A reader that finds more than this many events ready when it reads is
   * lagging and gets adjacent deltas coalesced ({@link coalesceDeltas}); 0
   * never coalesces.
   */
  readonly coalesceLagEvents: number;
  /** Bounds of each read: what a reader holds at most beyond the log. */
  readonly limits?: ReadLimits;
}

/** One read: 256 events or 1 MiB, whichever is less (one event always fits). */
const defaultLimits: ReadLimits = { maxEvents: 256, maxBytes: 1 << 20 };

/** The machine-readable reason of {@link laggedError}, also in its `airwave-reason` metadata. */
export const WATCHER_LAGGED = "WATCHER_LAGGED";

/**
 * The events of `log` after seq `after`, replayed then live, pulled at the
 * consumer's pace and ending after the terminal event: the one read loop of
 * every watcher (DESIGN §2). Holds at most one bounded read batch, so a slow
 * consumer costs no memory beyond the log (DESIGN §6).
 *
 * Raises ABORTED (retryable, reason {@link WATCHER_LAGGED}) when the next
 * event to read was trimmed while the consumer lagged: never a silent gap;
 * the client resumes from its last cursor and is told what was lost. Rejects
 * with the signal's reason when `o.signal` aborts during a wait.
 */
export async function* followLog(log: StreamLog, after: number, o: FollowOptions): AsyncGenerator<StreamEvent> {
  const limits = o.limits ?? defaultLimits;
  for (;;) {
    const ready = log.top - after;
    const batch = await log.read(after, limits);
    const next = batch[0];
    if (!next) {
      // The read may predate an append that happened while it was awaited:
      // end only when nothing can follow.
      if (log.ended && log.top <= after) return;
      await log.wait(after, o.signal);
      continue;
    }
    if (next.seq !== after + 1) throw laggedError(after);
    const out = o.coalesceLagEvents > 0 && ready > o.coalesceLagEvents ? coalesceDeltas(batch) : batch;
    for (const e of out) {
      yield e; // suspends until the consumer pulls
      after = e.seq;
      if (isTerminal(e)) return;
    }
  }
}

/** The retryable error of a reader that fell behind the log's retention. */
export function laggedError(after: number): ConnectError {
  return new ConnectError(
    `the watcher fell behind: events after seq ${after} were trimmed from the log; resume from the last cursor`,
    Code.Aborted,
    { "airwave-reason": WATCHER_LAGGED },
  );
}
