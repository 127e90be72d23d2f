import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { isTerminal, newEpoch, type StreamEvent } from "@airwave/proto";
import type { StreamLog } from "./stream-log.js";

/**
 * In-memory {@link StreamLog}: the embedded default. Keeps the newest
 * `maxEvents` events (a lapped watcher gets OUT_OF_RANGE, never a gap).
 */
export class MemoryStreamLog implements StreamLog {
  readonly epoch = newEpoch();
  /** Retained events are `#events[#head..]`; trimmed ones are dropped in batches. */
  #events: StreamEvent[] = [];
  #head = 0;
  /** Seq of `#events[#head]`. */
  #first = 1;
  #top = 0;
  #ended = false;
  #waiters = new Set<() => void>();

  /**
   * @param streamId stamped on every event.
   * @param maxEvents events retained (at least 1); older ones are trimmed.
   */
  constructor(
    readonly streamId: string,
    private readonly maxEvents: number,
  ) {}

  get top(): number {
    return this.#top;
  }

  get ended(): boolean {
    return this.#ended;
  }

  append(event: StreamEvent): StreamEvent {
    if (this.#ended) throw new ConnectError("stream already ended", Code.FailedPrecondition);
    const e = event;
    e.streamId = this.streamId;
    e.epoch = this.epoch;
    e.seq = this.#top + 1;
    e.appendedAt = timestampNow();
    this.#events.push(e);
    this.#top = e.seq;
    if (this.#events.length - this.#head > Math.max(1, this.maxEvents)) {
      this.#head++;
      this.#first++;
      // Compact once half the array is trimmed: amortised O(1) per append.
      if (this.#head * 2 > this.#events.length) {
        this.#events = this.#events.slice(this.#head);
        this.#head = 0;
      }
    }
    if (isTerminal(e)) this.#ended = true;
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    return e;
  }

  read(afterSeq: number, maxEvents: number): StreamEvent[] {
    if (afterSeq > this.#top) {
      throw new ConnectError(`cursor seq ${afterSeq} is past the last event (${this.#top})`, Code.OutOfRange);
    }
    if (afterSeq + 1 < this.#first) {
      throw new ConnectError(
        `events after seq ${afterSeq} were trimmed from the log (oldest kept: ${this.#first})`,
        Code.OutOfRange,
      );
    }
    const from = this.#head + afterSeq + 1 - this.#first;
    return this.#events.slice(from, from + maxEvents);
  }

  wait(afterSeq: number, signal: AbortSignal): Promise<void> {
    if (this.#top > afterSeq || this.#ended) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        this.#waiters.delete(wake);
        reject(signal.reason);
      };
      this.#waiters.add(wake);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }
}
