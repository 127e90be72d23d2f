/**
 * The one queue between a callback source (a WebSocket's messages, an
 * EventSource's events, the answers sent into a running gRPC call) and the
 * one async consumer that pulls them: `push` never waits, the consumer
 * iterates. O(1) `push` and pull (a head index, compacted as it goes), so a
 * consumer that falls 10,000 items behind costs no more per item than one
 * that keeps up.
 *
 * connect's `createWritableIterable` is the same shape but awaits every
 * write (a callback source cannot) and shifts an array; this one also has
 * the `length` a bounded consumer needs and a failure that drops what is
 * queued (a cancel) or lets it drain first (an end).
 *
 * - `close()`: the consumer gets what is queued, then the iteration ends.
 * - `fail(reason)`: the consumer gets what is queued, then `reason` is
 *   thrown; `fail(reason, { drop: true })` throws at the next pull and
 *   drops what is queued. The first `close`/`fail` wins, except that a
 *   dropping failure (a cancel) also overrides a `close`; later `push` calls
 *   are ignored.
 */
export class PushQueue<T> implements AsyncIterable<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #end: { failure: unknown; drop: boolean } | "closed" | undefined;
  #wake: (() => void) | undefined;

  /** Items pushed and not yet pulled. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** True once `close` or `fail` was called. */
  get ended(): boolean {
    return this.#end !== undefined;
  }

  /** Appends `item` (ignored after `close`/`fail`). */
  push(item: T): void {
    if (this.#end !== undefined) return;
    this.#items.push(item);
    this.#wakeConsumer();
  }

  /** Ends the queue after what it holds. */
  close(): void {
    this.#end ??= "closed";
    this.#wakeConsumer();
  }

  /** Ends the queue with `failure`, thrown to the consumer after what it holds, or at once with `drop`. */
  fail(failure: unknown, o: { drop?: boolean } = {}): void {
    const drop = o.drop === true;
    if (this.#end === undefined || (drop && this.#end === "closed")) this.#end = { failure, drop };
    this.#wakeConsumer();
  }

  /** The next item, waiting for one: `done` once the queue closed and is drained; throws the failure. */
  async next(): Promise<IteratorResult<T, undefined>> {
    for (;;) {
      const end = this.#end;
      if (end !== undefined && end !== "closed" && end.drop) throw end.failure;
      if (this.length > 0) return { done: false, value: this.#take() };
      if (end === "closed") return { done: true, value: undefined };
      if (end !== undefined) throw end.failure;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return { next: () => this.next() };
  }

  #take(): T {
    const item = this.#items[this.#head] as T;
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length || this.#head > 1024) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  #wakeConsumer(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
