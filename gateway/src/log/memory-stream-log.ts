import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { isTerminal, newEpoch, type StreamEvent } from "@airwave/proto";
import { encodedSize } from "./encoded-size.js";
import type { LogLimits, ReadLimits, StreamLog } from "./stream-log.js";

/** How a log reports its memory to the store that spans logs. */
export interface LogAccounting {
  /** The retained bytes of `log` changed by `delta` (negative when trimmed). */
  bytesChanged(log: MemoryStreamLog, delta: number): void;
  /** `log` appended its terminal event. */
  ended(log: MemoryStreamLog): void;
}

const noAccounting: LogAccounting = { bytesChanged() {}, ended() {} };

let lastMs = Number.NaN;
let lastTime: Timestamp | undefined;

/**
 * Now, as the `appended_at` Timestamp (ms precision, like `timestampNow`).
 * Events appended in the same millisecond share one Timestamp object:
 * logged events are immutable once appended (StreamLog.append), so the
 * object is too, and a busy gateway makes one per ms instead of one (with
 * a BigInt) per event.
 */
function appendTime(): Timestamp {
  const ms = Date.now();
  if (ms !== lastMs || !lastTime) {
    lastMs = ms;
    lastTime = timestampFromMs(ms);
  }
  return lastTime;
}

/**
 * In-memory {@link StreamLog}: the embedded default. Keeps the newest events
 * within `limits` (events and bytes); the newest event, and so the terminal
 * one, is never trimmed. Appends are amortised O(1).
 */
export class MemoryStreamLog implements StreamLog {
  readonly epoch = newEpoch();
  /** Retained events are `#events[#head..]`, their sizes `#sizes[#head..]`; trimmed ones are dropped in batches. */
  #events: (StreamEvent | undefined)[] = [];
  #sizes: number[] = [];
  #head = 0;
  /** Seq of `#events[#head]`. */
  #first = 1;
  #top = 0;
  #bytes = 0;
  #ended = false;
  #expired = false;
  #waiters = new Set<() => void>();

  /**
   * @param streamId stamped on every event.
   * @param limits per-stream retention.
   * @param accounting the store's memory bookkeeping (none for a standalone log).
   */
  constructor(
    readonly streamId: string,
    private readonly limits: LogLimits,
    private readonly accounting: LogAccounting = noAccounting,
  ) {}

  get top(): number {
    return this.#top;
  }

  get first(): number {
    return this.#first;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get expired(): boolean {
    return this.#expired;
  }

  get terminal(): StreamEvent | undefined {
    return this.#ended ? this.#events[this.#events.length - 1] : undefined;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Number of events retained. */
  get size(): number {
    return this.#events.length - this.#head;
  }

  append(event: StreamEvent): Promise<StreamEvent> {
    try {
      return Promise.resolve(this.appendNow(event));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** {@link append}, synchronously: the in-memory log needs no await. */
  appendNow(event: StreamEvent): StreamEvent {
    if (this.#ended) throw new ConnectError("stream already ended", Code.FailedPrecondition);
    const e = event;
    e.streamId = this.streamId;
    e.epoch = this.epoch;
    e.seq = this.#top + 1;
    e.appendedAt = appendTime();
    const size = encodedSize(e);
    this.#events.push(e);
    this.#sizes.push(size);
    this.#top = e.seq;
    this.#bytes += size;
    let freed = 0;
    const maxEvents = Math.max(1, this.limits.maxEvents);
    while (this.size > 1 && (this.size > maxEvents || this.#bytes > this.limits.maxBytes)) freed += this.#dropOldest();
    this.accounting.bytesChanged(this, size - freed);
    if (isTerminal(e)) {
      this.#ended = true;
      this.accounting.ended(this);
    }
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
    return e;
  }

  read(afterSeq: number, limits: ReadLimits): Promise<StreamEvent[]> {
    return Promise.resolve(this.readNow(afterSeq, limits));
  }

  /** {@link read}, synchronously. */
  readNow(afterSeq: number, limits: ReadLimits): StreamEvent[] {
    if (afterSeq >= this.#top) return [];
    const from = this.#head + Math.max(0, afterSeq + 1 - this.#first);
    const end = Math.min(this.#events.length, from + Math.max(1, limits.maxEvents));
    let to = from + 1;
    let bytes = this.#sizes[from] ?? 0;
    while (to < end) {
      bytes += this.#sizes[to] ?? 0;
      if (bytes > limits.maxBytes) break;
      to++;
    }
    return this.#events.slice(from, to) as StreamEvent[]; // [#head..] holds no holes
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

  expire(): void {
    if (!this.#ended || this.#expired) return;
    this.#expired = true;
    let freed = 0;
    while (this.size > 1) freed += this.#dropOldest();
    this.accounting.bytesChanged(this, -freed);
  }

  /**
   * Trims the oldest events until `atLeast` bytes are freed or only the
   * newest event is left (the store's total limit). Returns the bytes freed.
   */
  trimOldest(atLeast: number): number {
    let freed = 0;
    while (freed < atLeast && this.size > 1) freed += this.#dropOldest();
    if (freed > 0) this.accounting.bytesChanged(this, -freed);
    return freed;
  }

  /** Drops the oldest retained event; returns its size. The caller reports the bytes. */
  #dropOldest(): number {
    const size = this.#sizes[this.#head] ?? 0;
    this.#events[this.#head] = undefined; // let it be collected now
    this.#head++;
    this.#first++;
    this.#bytes -= size;
    // Compact once half the array is trimmed: amortised O(1) per drop.
    if (this.#head * 2 > this.#events.length) {
      this.#events = this.#events.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    return size;
  }
}
