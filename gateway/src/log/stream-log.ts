import type { StreamEvent } from "@airwave/proto";

/**
 * The replay log of one stream: an append-only, bounded sequence of
 * positioned events. The generation appends; every watcher pulls from its
 * own cursor, so replay and live delivery are one path (docs/architecture.md).
 *
 * Retention: the log keeps a window `[first, top]` of the events appended;
 * older ones are trimmed (per-stream limits in events and bytes, and the
 * store's total limit). The newest event is always kept, and so is the
 * terminal event once appended, so every reader learns how a stream ended.
 * Trimming never renumbers: a reader detects lost history because the first
 * event it reads has a seq above its cursor + 1.
 *
 * The synchronous getters are this process's latest view; `append`, `read`
 * and `wait` are asynchronous so a shared implementation (Redis Streams:
 * XADD, XRANGE, XREAD BLOCK) can fill the same contract without touching the
 * hub or the transports.
 *
 * Implementations: {@link MemoryStreamLog} (the embedded default) and
 * {@link RedisStreamLog} (redis-stream-log.ts, shared by replicas). The
 * contract is what `describeStreamLogContract` (stream-log.contract.ts)
 * checks; every implementation runs it.
 */
export interface StreamLog {
  /** The stream id stamped on every event. */
  readonly streamId: string;
  /** This log incarnation's random id; stamped on every event. */
  readonly epoch: string;
  /** Seq of the last appended event; 0 when empty. */
  readonly top: number;
  /** Seq of the oldest retained event; `top + 1` when none is retained. */
  readonly first: number;
  /** True once a terminal event (`completed`/`failed`) was appended. */
  readonly ended: boolean;
  /** True once {@link expire} dropped the events of the ended stream. */
  readonly expired: boolean;
  /** The terminal event, once appended (kept through trimming and expiry). */
  readonly terminal: StreamEvent | undefined;
  /** Bytes retained: the sum of the retained events' binary encodings. */
  readonly bytes: number;
  /**
   * Appends an unpositioned event: stamps stream id, epoch, the next seq and
   * the append time on it (the log takes the event over; the caller must not
   * change it afterwards), trims to the limits, and wakes the waiters.
   * Resolves with the positioned event.
   *
   * Raises Code.FailedPrecondition after the terminal event.
   */
  append(event: StreamEvent): Promise<StreamEvent>;
  /**
   * Resolves with the retained events with seq > `afterSeq`, in order: at
   * most `limits.maxEvents`, and no more than `limits.maxBytes` bytes except
   * that at least one event is returned when any is retained. Empty when
   * `afterSeq >= top`. When events after `afterSeq` were trimmed, the first
   * event returned has a seq above `afterSeq + 1`: the caller must check.
   */
  read(afterSeq: number, limits: ReadLimits): Promise<StreamEvent[]>;
  /**
   * Resolves once an event with seq > `afterSeq` exists or the log ended;
   * rejects with the signal's reason when `signal` aborts.
   */
  wait(afterSeq: number, signal: AbortSignal): Promise<void>;
  /**
   * Drops every retained event but the terminal one (the stream's TTL after
   * its end passed). Only for an ended log; no effect otherwise.
   */
  expire(): void;
}

/** Per-stream retention of a {@link StreamLog}. */
export interface LogLimits {
  /** Events kept (at least 1 is always kept). */
  readonly maxEvents: number;
  /** Bytes kept, summed over the events' binary encodings (the newest event is kept whatever its size). */
  readonly maxBytes: number;
}

/** Bounds of one {@link StreamLog.read}. */
export interface ReadLimits {
  /** Most events returned (at least 1). */
  readonly maxEvents: number;
  /** Most bytes returned (binary encoding), except that one event always fits. */
  readonly maxBytes: number;
}

/**
 * Where the hub gets its logs: creates one per stream and holds the memory
 * limits that span streams.
 */
export interface StreamLogStore {
  /**
   * Creates the log of a new stream.
   *
   * Raises Code.ResourceExhausted when the store cannot take another stream
   * (its total limit is used by running streams); retryable later.
   */
  create(streamId: string): StreamLog;
  /** Forgets a log (the stream was removed); its bytes no longer count. */
  release(log: StreamLog): void;
  /** Bytes retained by all logs of this store. */
  readonly totalBytes: number;
}
