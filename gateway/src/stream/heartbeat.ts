/** Marks an idle period in the output of {@link withHeartbeats}. */
export const HEARTBEAT: unique symbol = Symbol("heartbeat");

/** Why a wait of {@link withHeartbeats} ended before the next item. */
const ABORTED: unique symbol = Symbol("aborted");

/**
 * Passes `src` through and yields {@link HEARTBEAT} after every `idleMs`
 * without an item: idle-driven, one resettable timer, no `setInterval`.
 * The only heartbeat timer in the gateway; each
 * transport encodes HEARTBEAT its own way.
 *
 * The idle time counts from when the consumer asks for the next item (a
 * consumer busy with the previous item gets no heartbeat for that time).
 *
 * Ends when `src` ends; rethrows `src`'s errors; when `signal` aborts, stops
 * the timer, closes `src` and throws the signal's reason. `idleMs` 0
 * disables heartbeats.
 *
 * Cost per item: one `timer.refresh()` and one promise that `src`'s next
 * item, the timer or the abort settles (a `Promise.race` against one
 * long-lived promise would instead keep a reaction per item on it until
 * the next heartbeat: memory that grows with the stream). The timer and the
 * abort listener are made once per call.
 */
export async function* withHeartbeats<T>(src: AsyncIterable<T>, idleMs: number, signal: AbortSignal): AsyncGenerator<T | typeof HEARTBEAT> {
  const it = src[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<T>> | undefined;
  /** Settles the current wait; set only while this generator waits for `next` (not while the consumer holds an item). */
  let wake: ((r: IteratorResult<T> | typeof HEARTBEAT | typeof ABORTED) => void) | undefined;
  const interrupt = (why: typeof HEARTBEAT | typeof ABORTED) => wake?.(why);
  const onAbort = () => interrupt(ABORTED);
  signal.addEventListener("abort", onAbort, { once: true });
  // A fire while the consumer holds an item is ignored: the next wait refreshes the timer.
  const timer = idleMs > 0 ? setTimeout(() => interrupt(HEARTBEAT), idleMs) : undefined;
  try {
    for (;;) {
      signal.throwIfAborted();
      const pending = (next ??= it.next());
      timer?.refresh();
      const r = await new Promise<IteratorResult<T> | typeof HEARTBEAT | typeof ABORTED>((resolve, reject) => {
        wake = resolve;
        pending.then(resolve, reject);
      });
      wake = undefined;
      if (r === ABORTED) throw signal.reason;
      if (r === HEARTBEAT) {
        yield HEARTBEAT;
        continue;
      }
      next = undefined;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onAbort);
    // Do not await: a source blocked in a pending next() would hold us here.
    void it.return?.()?.catch(() => {});
  }
}
