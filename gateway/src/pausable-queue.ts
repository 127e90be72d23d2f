import { PushQueue } from "@airwave/proto";

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

/** Ends a read pending when the reader left. */
const LEFT: unique symbol = Symbol("left");

/**
 * The repository's one queue ({@link PushQueue}) with the flow control of
 * an event producer that can be paused: past `highWater` buffered items it
 * calls `pause()`, and `resume()` once the reader brought the buffer under
 * `lowWater`.
 *
 * {@link end} ends the reads after the buffered items, with an error or
 * done; {@link return} (the reader leaves, or the source is gone) ends the
 * reads at once (a pending one with done), drops what is buffered and
 * resumes a paused producer; pushes after either are dropped.
 *
 * Why not `node:events` `on()` with water marks: it settles the iteration
 * on the emitter's first `error` event and stops listening, while grpc-js
 * emits `error` with a call's status before the messages still buffered in
 * the call are read (they must be delivered first), and `ws` emits `error`
 * for a frame it refuses before the socket's `close` (the session ends on
 * `close` only). Why not connect's `createWritableIterable`: no bound, and
 * a write waits for its read. Used for the responses of an inference call
 * (`grpc-inference-client.ts`) and the messages of a WebSocket
 * (`ws/ws-session.ts`).
 */
export class PausableQueue<T> implements AsyncIterator<T, undefined> {
  readonly #queue = new PushQueue<T>();
  #paused = false;
  /** Set by {@link return}: nothing more is read or kept. */
  #left = false;

  constructor(private readonly o: PausableQueueOptions) {}

  /** Adds an item (dropped after {@link end} or {@link return}); pauses the producer at `highWater`. */
  push(item: T): void {
    if (this.#left) return;
    this.#queue.push(item);
    if (!this.#paused && this.#queue.length >= this.o.highWater) {
      this.#paused = true;
      this.o.pause();
    }
  }

  /** No more items: reads end after the buffered ones, rejecting with `error` when given, else done. The first end wins. */
  end(error?: unknown): void {
    if (error === undefined) this.#queue.close();
    else this.#queue.fail(error);
  }

  async next(): Promise<IteratorResult<T, undefined>> {
    if (this.#left) return { value: undefined, done: true };
    let r: IteratorResult<T, undefined>;
    try {
      r = await this.#queue.next();
    } catch (e) {
      if (e === LEFT) return { value: undefined, done: true };
      throw e;
    }
    if (this.#paused && this.#queue.length < this.o.lowWater) {
      this.#paused = false;
      this.o.resume();
    }
    return r;
  }

  /** The reader leaves: ends a pending read with done, drops the buffer, resumes a paused producer. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#left = true;
    this.#queue.fail(LEFT, { drop: true });
    if (this.#paused) {
      this.#paused = false;
      this.o.resume();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
