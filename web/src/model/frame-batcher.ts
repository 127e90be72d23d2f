/** Collects items and hands them over in one batch per animation frame. */
export interface FrameBatcher<T> {
  /** Queues `item`; schedules a flush for the next frame if none is scheduled. */
  push(item: T): void;
  /**
   * Applies the queued items now (e.g. before the stream ends, or before a
   * test reads the DOM) and cancels the scheduled frame. Does nothing when
   * the queue is empty.
   */
  flush(): void;
  /** Drops the queued items and cancels the scheduled frame (e.g. when the view is discarded). */
  cancel(): void;
  /** How many items wait for the next flush. */
  readonly pending: number;
}

/** Options of {@link createFrameBatcher}. */
export interface FrameBatcherOptions {
  /**
   * Schedules `callback` for the next frame and returns a handle for
   * `cancelFrame`. @defaultValue `requestAnimationFrame` when the global
   * exists, else `setTimeout(callback, fallbackDelayMs)`
   */
  readonly requestFrame?: ((callback: () => void) => unknown) | undefined;
  /** Cancels a scheduled frame by its handle. @defaultValue `cancelAnimationFrame`, or `clearTimeout` with the timer fallback */
  readonly cancelFrame?: ((handle: unknown) => void) | undefined;
  /** The timer fallback's delay, in milliseconds (about one frame at 60 Hz). @defaultValue 16 */
  readonly fallbackDelayMs?: number | undefined;
}

/**
 * Batches UI updates per animation frame: items pushed between two frames
 * reach `apply` together, in push order, once per frame — however fast the
 * stream delivers them. Uses `requestAnimationFrame` when it exists (the
 * browser; note that it pauses in background tabs, so items wait there
 * until the tab shows or {@link FrameBatcher.flush} is called), else a
 * `setTimeout` of `fallbackDelayMs` (Node, workers). No framework needed.
 *
 * If `apply` throws, its batch is dropped and the error propagates (to the
 * caller of `flush`, or to the frame callback); later pushes work as before.
 *
 * @example
 * ```ts
 * let view = createMessageState();
 * const batcher = createFrameBatcher<StreamEvent>((events) => {
 *   view = reduceMessages(view, events);
 *   render(view); // once per frame, not once per token
 * });
 * for await (const e of stream) batcher.push(e);
 * batcher.flush(); // the last events, without waiting for a frame
 * ```
 */
export function createFrameBatcher<T>(apply: (items: readonly T[]) => void, o: FrameBatcherOptions = {}): FrameBatcher<T> {
  const raf = (globalThis as { requestAnimationFrame?: (cb: () => void) => number }).requestAnimationFrame;
  const caf = (globalThis as { cancelAnimationFrame?: (h: number) => void }).cancelAnimationFrame;
  const delayMs = o.fallbackDelayMs ?? 16;
  const requestFrame: (cb: () => void) => unknown =
    o.requestFrame ?? (raf ? (cb) => raf.call(globalThis, cb) : (cb) => setTimeout(cb, delayMs));
  const cancelFrame: (h: unknown) => void =
    o.cancelFrame ??
    (o.requestFrame
      ? () => {}
      : raf && caf
        ? (h) => caf.call(globalThis, h as number)
        : (h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  let queue: T[] = [];
  let scheduled = false;
  let handle: unknown;

  const unschedule = () => {
    if (scheduled) cancelFrame(handle);
    scheduled = false;
    handle = undefined;
  };
  const flush = () => {
    unschedule();
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    apply(batch);
  };
  return {
    push(item) {
      queue.push(item);
      if (scheduled) return;
      scheduled = true;
      handle = requestFrame(() => {
        scheduled = false;
        handle = undefined;
        flush();
      });
    },
    flush,
    cancel() {
      unschedule();
      queue = [];
    },
    get pending() {
      return queue.length;
    },
  };
}
