import { pageUpdatePolicy, type UpdateFigures } from "./update-policy.js";

/**
 * Collects items and hands them over in batches: once per animation frame,
 * or at the interval of an update policy (see {@link createFrameBatcher}).
 */
export interface FrameBatcher<T> {
  /** Queues `item`; schedules the next batch (a frame, once the policy's interval since the last batch is over) if none is scheduled. */
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
  /**
   * How often batches are applied: anything with the current
   * {@link UpdateFigures} (`intervalMs`, `maxBatch`), read each time a
   * batch is scheduled — an {@link UpdatePolicySource} from
   * `createUpdatePolicy`, or a constant `{ current: { intervalMs: 250,
   * maxBatch: Infinity } }`. `false`: every animation frame, whatever the
   * network and device (the batcher's behaviour before update policies).
   * @defaultValue {@link pageUpdatePolicy}(): adaptive (every 500 ms on a
   * slow link, every 100 ms by default, every frame on a fast device)
   */
  readonly policy?: { readonly current: Pick<UpdateFigures, "intervalMs" | "maxBatch"> } | false | undefined;
  /** The clock of the interval, in ms. @defaultValue `performance.now()` */
  readonly now?: (() => number) | undefined;
}

/**
 * Batches UI updates: items pushed between two batches reach `apply`
 * together, in push order — however fast the stream delivers them. Batches
 * are applied on an animation frame, at most one per `policy.intervalMs`
 * (0: every frame): the first item after a quiet interval is applied at
 * the next frame, later ones wait until `intervalMs` after the previous
 * batch, or only for the next frame once `policy.maxBatch` items are
 * queued. By default the interval adapts to the network and the device
 * ({@link pageUpdatePolicy}); `policy: false` applies once per frame.
 *
 * Uses `requestAnimationFrame` when it exists (the
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
  const policy = o.policy === false ? undefined : (o.policy ?? pageUpdatePolicy());
  const now = o.now ?? (() => performance.now());
  let queue: T[] = [];
  /** The scheduled frame's handle, when a frame is scheduled. */
  let frame: { handle: unknown } | undefined;
  /** The interval's timer, when the next frame waits for it. */
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** The batch's bound while a timer waits. */
  let maxBatch = Number.POSITIVE_INFINITY;
  let lastApplied = Number.NEGATIVE_INFINITY;

  const unschedule = () => {
    if (frame) cancelFrame(frame.handle);
    frame = undefined;
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  const flush = () => {
    unschedule();
    if (queue.length === 0) return;
    const batch = queue;
    queue = [];
    lastApplied = now();
    apply(batch);
  };
  const scheduleFrame = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const f: { handle: unknown } = { handle: undefined };
    frame = f;
    f.handle = requestFrame(() => {
      if (frame !== f) return;
      frame = undefined;
      flush();
    });
  };
  return {
    push(item) {
      queue.push(item);
      if (frame) return;
      if (timer !== undefined) {
        if (queue.length >= maxBatch) scheduleFrame();
        return;
      }
      const figures = policy?.current;
      const wait = figures ? lastApplied + figures.intervalMs - now() : 0;
      maxBatch = figures?.maxBatch ?? Number.POSITIVE_INFINITY;
      if (wait <= 0 || queue.length >= maxBatch) scheduleFrame();
      else timer = setTimeout(scheduleFrame, wait);
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
