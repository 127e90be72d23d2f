/** Marks an idle period in the output of {@link withHeartbeats}. */
export const HEARTBEAT: unique symbol = Symbol("heartbeat");

/** Why a wait of {@link withHeartbeats} ended before the next item. */
const ABORTED: unique symbol = Symbol("aborted");

/**
 * Passes `src` through and yields {@link HEARTBEAT} after every `idleMs`
 * without an item: idle-driven, one resettable timer, no `setInterval`
 * (DESIGN §7, STYLE P9). The only heartbeat timer in the gateway; each
 * transport encodes HEARTBEAT its own way.
 *
 * The idle time counts from when the consumer asks for the next item (a
 * consumer busy with the previous item gets no heartbeat for that time).
 *
 * Ends when `src` ends; rethrows `src`'s errors; when `signal` aborts, stops
 * the timer, closes `src` and throws the signal's reason. `idleMs` 0
 * disables heartbeats.
 *
 * Cost per item: one `timer.refresh()` and one two-way `Promise.race`; the
 * timer, the abort listener and the promise that the timer or the abort
 * settle are made once per call (again only after a heartbeat).
 */
export async function* withHeartbeats<T>(
  src: AsyncIterable<T>,
  idleMs: number,
  signal: AbortSignal,
): AsyncGenerator<T | typeof HEARTBEAT> {
  const it = src[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<T>> | undefined;
  /** True while this generator waits for `next` (not while the consumer holds an item). */
  let waiting = false;
  let interrupt!: (why: typeof HEARTBEAT | typeof ABORTED) => void;
  let interrupted!: Promise<typeof HEARTBEAT | typeof ABORTED>;
  const rearm = () => {
    interrupted = new Promise((resolve) => (interrupt = resolve));
  };
  rearm();
  const onAbort = () => interrupt(ABORTED);
  signal.addEventListener("abort", onAbort, { once: true });
  // A fire while the consumer holds an item is ignored: the next wait refreshes the timer.
  const timer = idleMs > 0 ? setTimeout(() => waiting && interrupt(HEARTBEAT), idleMs) : undefined;
  try {
    for (;;) {
      signal.throwIfAborted();
      next ??= it.next();
      timer?.refresh();
      waiting = true;
      const r = await Promise.race([next, interrupted]);
      waiting = false;
      if (r === ABORTED) throw signal.reason;
      if (r === HEARTBEAT) {
        rearm();
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
