import { Code, ConnectError } from "@connectrpc/connect";
import { type LogAccounting, MemoryStreamLog } from "./memory-stream-log.js";
import type { LogLimits, StreamLog, StreamLogStore } from "./stream-log.js";

/** Limits of a {@link MemoryLogStore}; see GatewayConfig for the defaults. */
export interface MemoryLogStoreLimits extends LogLimits {
  /** Bytes retained by all logs together; 0 means no total limit. */
  readonly maxTotalBytes: number;
}

/**
 * Reclaiming stops at this share of the total limit, so a full store trims
 * in batches rather than on every append; new streams are refused while the
 * running streams alone hold more than it.
 */
const lowWater = 0.9;

/**
 * The in-memory logs of one gateway, with a total memory limit across
 * streams.
 *
 * When an append takes the total above `maxTotalBytes`, the store trims down
 * to 90 % of it: first the oldest events of ended streams, in the order they
 * ended (their readers are replays), then, if that is not enough, the oldest
 * events of the largest running streams. The newest event of a log, and so
 * every terminal event, is never trimmed. A reader of a trimmed stream gets
 * an explicit `resumed(TRIMMED)` or, while reading, ABORTED: never a gap.
 *
 * {@link create} refuses a new stream (RESOURCE_EXHAUSTED, retryable) while
 * the running streams alone hold more than 90 % of the total: ended history
 * can be trimmed for a newcomer, running answers are not sacrificed to it.
 */
export class MemoryLogStore implements StreamLogStore, LogAccounting {
  #total = 0;
  /** Bytes held by logs that ended. */
  #endedBytes = 0;
  readonly #running = new Set<MemoryStreamLog>();
  /** Ended logs that still have events to trim, in the order they ended. */
  readonly #reclaimable = new Set<MemoryStreamLog>();
  /** Released logs: their later changes are not counted. */
  readonly #forgotten = new WeakSet<MemoryStreamLog>();
  #reclaiming = false;

  constructor(private readonly limits: MemoryLogStoreLimits) {}

  get totalBytes(): number {
    return this.#total;
  }

  /** Bytes held by the logs of running streams. */
  get runningBytes(): number {
    return this.#total - this.#endedBytes;
  }

  create(streamId: string): StreamLog {
    const max = this.limits.maxTotalBytes;
    if (max > 0 && this.runningBytes > max * lowWater) {
      throw new ConnectError("the gateway's stream log is full; retry later", Code.ResourceExhausted);
    }
    const log = new MemoryStreamLog(streamId, this.limits, this);
    this.#running.add(log);
    return log;
  }

  release(log: StreamLog): void {
    if (!(log instanceof MemoryStreamLog) || this.#forgotten.has(log)) return;
    this.#forgotten.add(log); // a watcher still holding it may read on; it no longer counts
    this.#total -= log.bytes;
    if (log.ended) this.#endedBytes -= log.bytes;
    this.#running.delete(log);
    this.#reclaimable.delete(log);
  }

  /** @private LogAccounting */
  bytesChanged(log: MemoryStreamLog, delta: number): void {
    if (this.#forgotten.has(log)) return;
    this.#total += delta;
    if (log.ended) {
      this.#endedBytes += delta;
      if (log.size <= 1) this.#reclaimable.delete(log);
    }
    const max = this.limits.maxTotalBytes;
    if (max > 0 && this.#total > max && !this.#reclaiming) this.#reclaim(this.#total - max * lowWater);
  }

  /** @private LogAccounting */
  ended(log: MemoryStreamLog): void {
    if (this.#forgotten.has(log) || !this.#running.delete(log)) return;
    this.#endedBytes += log.bytes;
    if (log.size > 1) this.#reclaimable.add(log);
  }

  /** Frees at least `need` bytes if it can: ended history first, then the largest running logs. */
  #reclaim(need: number): void {
    this.#reclaiming = true;
    try {
      let freed = 0;
      for (const log of this.#reclaimable) {
        if (freed >= need) return;
        freed += log.trimOldest(need - freed);
      }
      const largest = [...this.#running].sort((a, b) => b.bytes - a.bytes);
      for (const log of largest) {
        if (freed >= need) return;
        freed += log.trimOldest(need - freed);
      }
    } finally {
      this.#reclaiming = false;
    }
  }
}
