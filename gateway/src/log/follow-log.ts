import { Code, ConnectError } from "@connectrpc/connect";
import { delay, isTerminal, type StreamEvent } from "@airwave/proto";
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
  /**
   * Least time between two live reads, in ms (a watch's `coalesce_ms`):
   * the reader reads only `intervalMs` after its previous batch (or its
   * start), so what was appended meanwhile comes as one read (and one
   * long-poll answer per interval); and it coalesces the deltas of every
   * read, lagging or not. A reader more than one read behind the log (a
   * replay), or of an ended stream, reads at once, at full speed. 0 or
   * undefined: read as soon as events are ready.
   */
  readonly intervalMs?: number | undefined;
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
 * every watcher (docs/architecture.md). Holds at most one bounded read batch, so a slow
 * consumer costs no memory beyond the log.
 *
 * Raises ABORTED (retryable, reason {@link WATCHER_LAGGED}) when the next
 * event to read was trimmed while the consumer lagged: never a silent gap;
 * the client resumes from its last cursor and is told what was lost. Rejects
 * with the signal's reason when `o.signal` aborts during a wait.
 *
 * The event-at-a-time form of {@link LogReader}.
 */
export async function* followLog(log: StreamLog, after: number, o: FollowOptions): AsyncGenerator<StreamEvent> {
  const reader = new LogReader(log, after, o);
  for (let batch = await reader.next(); batch !== undefined; batch = await reader.next()) {
    for (const e of batch) yield e; // suspends until the consumer pulls
  }
}

/**
 * The read loop of {@link followLog}, a batch at a time: each
 * {@link next} resolves with the events ready after the previous batch (at
 * least one, at most one bounded read, coalesced for a lagging reader or
 * one with an interval), waiting for the log when none is (and, live,
 * for the rest of `intervalMs` after the previous batch or the start), and with `undefined` after the batch
 * that held the terminal event. The next read starts after the last event
 * of the previous batch, so a consumer holds at most one batch and pulls
 * at its own pace. A watcher iterates its batches in a plain loop: one
 * promise per batch rather than an async-generator step per event and
 * layer.
 *
 * {@link next} raises what {@link followLog} raises. Call it again only
 * after the previous call settled.
 */
export class LogReader {
  readonly #log: StreamLog;
  readonly #o: FollowOptions;
  readonly #limits: ReadLimits;
  #after: number;
  #done = false;
  #merged = 0;
  /** When the previous batch was returned, or the reader started (`performance.now()`): the next read waits for the rest of `intervalMs`. */
  #lastBatchAt = performance.now();

  /** Reads `log` after seq `after`. */
  constructor(log: StreamLog, after: number, o: FollowOptions) {
    this.#log = log;
    this.#after = after;
    this.#o = o;
    this.#limits = o.limits ?? defaultLimits;
  }

  /** Seq of the last event returned (the start position before the first batch). */
  get after(): number {
    return this.#after;
  }

  /** Events merged into their neighbours so far (coalesced for a lagging reader). */
  get merged(): number {
    return this.#merged;
  }

  /** The next batch of events (never empty), or `undefined` once the terminal event was returned. */
  async next(): Promise<readonly StreamEvent[] | undefined> {
    const log = this.#log;
    const interval = this.#o.intervalMs ?? 0;
    while (!this.#done) {
      const behind = log.top - this.#after;
      if (interval > 0 && behind > 0 && behind < this.#limits.maxEvents && !log.ended) {
        // Live, and events are ready: let more gather until the interval is over.
        const wait = this.#lastBatchAt + interval - performance.now();
        if (wait > 0) await delay(wait, this.#o.signal);
      }
      const ready = log.top - this.#after;
      const batch = await log.read(this.#after, this.#limits);
      const next = batch[0];
      if (!next) {
        // The read may predate an append that happened while it was awaited:
        // end only when nothing can follow.
        if (log.ended && log.top <= this.#after) {
          this.#done = true;
          return undefined;
        }
        await log.wait(this.#after, this.#o.signal);
        continue;
      }
      if (next.seq !== this.#after + 1) throw laggedError(this.#after);
      let out = batch;
      if (interval > 0 || (this.#o.coalesceLagEvents > 0 && ready > this.#o.coalesceLagEvents)) {
        out = coalesceDeltas(batch);
        this.#merged += batch.length - out.length;
      }
      const end = out.findIndex(isTerminal);
      if (end !== -1) {
        this.#done = true;
        out = out.slice(0, end + 1);
      }
      this.#after = (out[out.length - 1] as StreamEvent).seq;
      if (interval > 0) this.#lastBatchAt = performance.now();
      return out;
    }
    return undefined;
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
