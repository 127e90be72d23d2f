/**
 * Waits `ms` milliseconds, or until `signal` aborts.
 *
 * Resolves after the delay; rejects with the signal's reason when the signal
 * aborts first (or is already aborted). The timer is cleared on abort and the
 * abort listener is removed once the delay elapsed. A delay of 0 or less
 * resolves on the next macrotask.
 *
 * Uses the global `setTimeout`, so tests can drive it with fake timers.
 * The one abortable sleep of Airwave: services pace with it, the web client
 * backs off with it.
 *
 * @see https://github.com/vercel/ai/blob/main/packages/provider-utils/src/delay.ts
 */
export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      },
      Math.max(0, ms),
    );
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** An abortable sleep, as {@link delay}; injectable so tests can skip or fake the waiting. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;
