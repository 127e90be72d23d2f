/** Marks an idle period in the output of {@link withHeartbeats}. */
export const HEARTBEAT: unique symbol = Symbol("heartbeat");

/**
 * Passes `src` through and yields {@link HEARTBEAT} after every `idleMs`
 * without an item: idle-driven, one resettable timer, no `setInterval`
 * (DESIGN §7, STYLE P9). The only heartbeat timer in the gateway; each
 * transport encodes HEARTBEAT its own way.
 *
 * Ends when `src` ends; rethrows `src`'s errors; when `signal` aborts, stops
 * the timer, closes `src` and throws the signal's reason. `idleMs` 0
 * disables heartbeats.
 */
export async function* withHeartbeats<T>(
  src: AsyncIterable<T>,
  idleMs: number,
  signal: AbortSignal,
): AsyncGenerator<T | typeof HEARTBEAT> {
  const it = src[Symbol.asyncIterator]();
  let next: Promise<IteratorResult<T>> | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {}); // observed through the race below
  try {
    for (;;) {
      signal.throwIfAborted();
      if (!next) {
        next = it.next();
        next.catch(() => {}); // handled below via race; avoids an unhandled rejection after abort
      }
      const idle =
        idleMs > 0
          ? new Promise<typeof HEARTBEAT>((resolve) => (timer = setTimeout(() => resolve(HEARTBEAT), idleMs)))
          : undefined;
      const r = await Promise.race(idle ? [next, idle, aborted] : [next, aborted]);
      clearTimeout(timer);
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
    if (onAbort) signal.removeEventListener("abort", onAbort);
    // Do not await: a source blocked in a pending next() would hold us here.
    void it.return?.()?.catch(() => {});
  }
}
