/** Options of {@link PausableQueue}. */
export interface PausableQueueOptions {
  /** Pause the producer once this many items are buffered. */
  readonly highWater: number;
  /** Resume it once, after an item was taken, fewer than this many are buffered (1: once the buffer is empty). */
  readonly lowWater: number;
  /** Stops the producer (e.g. `stream.pause()`: TCP or HTTP/2 flow control then holds the rest). */
  pause(): void;
  /** Restarts it. */
  resume(): void;
}

/**
 * A FIFO between an event producer (`push`) and one async reader (an
 * `AsyncIterator`), bounded by pausing the producer: past `highWater`
 * items it calls `pause()`, and `resume()` once the reader brought the
 * buffer under `lowWater`. Buffered items are taken synchronously (a
 * `next()` with items ready resolves with the first, no wait).
 *
 * {@link end} ends the reads after the buffered items, with an error or
 * done; {@link return} (the reader leaves, or the source is gone) drops
 * the buffer at once and resumes a paused producer; pushes after either
 * are dropped.
 *
 * Why not connect's `createWritableIterable`: it has no bound and no way to
 * pause the producer. Why not `node:events` `on()` with water marks: it
 * settles the iteration on the emitter's first `error` event and stops
 * listening, while grpc-js emits `error` with a call's status before the
 * messages still buffered in the call are read (they must be delivered
 * first), and `ws` emits `error` for a frame it refuses before the socket's
 * `close` (the session ends on `close` only). The one bounded queue of the
 * gateway: the responses of an inference call (`grpc-inference-client.ts`)
 * and the messages of a WebSocket (`ws/ws-session.ts`).
 */
export class PausableQueue<T> implements AsyncIterator<T, undefined> {
  #items: T[] = [];
  #head = 0;
  #paused = false;
  /** Set by {@link end}: reads end after the buffered items. */
  #ended = false;
  #error: unknown;
  /** Set by {@link return}: nothing more is read or kept. */
  #left = false;
  #reader: { resolve(r: IteratorResult<T, undefined>): void; reject(e: unknown): void } | undefined;

  constructor(private readonly o: PausableQueueOptions) {}

  /** Items buffered. */
  get size(): number {
    return this.#items.length - this.#head;
  }

  /** Adds an item (dropped after {@link end} or {@link return}); pauses the producer at `highWater`. */
  push(item: T): void {
    if (this.#left || this.#ended) return;
    const r = this.#reader;
    if (r && this.size === 0) {
      this.#reader = undefined;
      r.resolve({ value: item, done: false });
      return;
    }
    this.#items.push(item);
    if (!this.#paused && this.size >= this.o.highWater) {
      this.#paused = true;
      this.o.pause();
    }
  }

  /** No more items: reads end after the buffered ones, rejecting with `error` when given, else done. Idempotent. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    const r = this.#reader;
    if (r && this.size === 0) {
      this.#reader = undefined;
      if (error !== undefined) r.reject(error);
      else r.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#left) return Promise.resolve({ value: undefined, done: true });
    if (this.size > 0) return Promise.resolve({ value: this.#take(), done: false });
    if (this.#ended) return this.#error !== undefined ? Promise.reject(this.#error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => (this.#reader = { resolve, reject }));
  }

  /** The reader leaves: drops the buffer, resumes a paused producer, ends a pending read with done. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#left = true;
    this.#items = [];
    this.#head = 0;
    if (this.#paused) {
      this.#paused = false;
      this.o.resume();
    }
    const r = this.#reader;
    this.#reader = undefined;
    r?.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #take(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head++] = undefined as T; // the buffer does not keep what was read
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    }
    if (this.#paused && this.size < this.o.lowWater) {
      this.#paused = false;
      this.o.resume();
    }
    return item;
  }
}
