import type { StreamEvent } from "@airwave/proto";

/**
 * The replay log of one stream: an append-only, bounded sequence of
 * positioned events. The generation appends; every watcher pulls from its
 * own cursor, so replay and live delivery are one path (DESIGN §2, STYLE P6).
 *
 * Implementations: {@link MemoryStreamLog} (the embedded default). The
 * contract is what the shared log tests check.
 */
export interface StreamLog {
  /** The stream id stamped on every event. */
  readonly streamId: string;
  /** This log incarnation's random id; stamped on every event. */
  readonly epoch: string;
  /** Seq of the last appended event; 0 when empty. */
  readonly top: number;
  /** True once a terminal event (`completed`/`failed`) was appended. */
  readonly ended: boolean;
  /**
   * Appends an unpositioned event: stamps stream id, epoch, the next seq and
   * the append time on it (the log takes the event over; the caller must not
   * change it afterwards), and wakes the waiters. Returns the positioned
   * event.
   * Raises Code.FailedPrecondition after the terminal event.
   */
  append(event: StreamEvent): StreamEvent;
  /**
   * Returns up to `maxEvents` events with seq > `afterSeq`, in order.
   * Raises Code.OutOfRange when events after `afterSeq` were trimmed, or
   * when `afterSeq` is past `top`.
   */
  read(afterSeq: number, maxEvents: number): StreamEvent[];
  /**
   * Resolves once an event with seq > `afterSeq` exists or the log ended;
   * rejects with the signal's reason when `signal` aborts.
   */
  wait(afterSeq: number, signal: AbortSignal): Promise<void>;
}
