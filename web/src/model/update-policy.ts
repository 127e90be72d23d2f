/**
 * How often a streaming view updates, chosen from the network and the
 * device: the adaptive part of the frame batcher ({@link createFrameBatcher}
 * reads {@link UpdatePolicySource.current} each time it schedules a batch).
 *
 * Sources: the Network Information API (WICG, https://wicg.github.io/netinfo/:
 * `navigator.connection.effectiveType`, `saveData`, `rtt`, its `change`
 * event; Chromium-based browsers only), Device Memory
 * (https://www.w3.org/TR/device-memory/: `navigator.deviceMemory`, GiB,
 * secure contexts only), `navigator.hardwareConcurrency` (logical
 * processors), and Long Tasks (https://w3c.github.io/longtasks/:
 * `PerformanceObserver` entries of type `longtask`, main-thread tasks of
 * 50 ms or more). Every hint is optional: a browser without one is judged
 * on the others.
 *
 * @module
 */

/** A tier of {@link UpdatePolicy}: which figures apply. */
export type UpdateTier = "slow-link" | "default" | "fast";

/** The figures of one tier. */
export interface UpdateFigures {
  /**
   * Least time between two batches, in milliseconds; 0: every animation
   * frame. A batch after a quiet period is applied at the next frame.
   */
  readonly intervalMs: number;
  /**
   * Items queued that make the batcher apply at the next frame without
   * waiting for the rest of the interval: bounds the work and the memory
   * of one batch. `Infinity`: no bound.
   */
  readonly maxBatch: number;
  /**
   * Interval over which the client asks the gateway to coalesce text and
   * reasoning deltas on a watch (`WatchStreamRequest.coalesce_ms`), in
   * milliseconds; 0: do not ask.
   */
  readonly coalesceMs: number;
}

/** The figures chosen for the current hints, with why. */
export interface UpdatePolicy extends UpdateFigures {
  /** The tier the hints put the page in. */
  readonly tier: UpdateTier;
  /** Why, for logs and tests, e.g. `"effectiveType 2g"` or `"long tasks 320 ms in 5 s"`. */
  readonly reason: string;
}

/**
 * The default figures per tier: a slow link (`saveData`, `slow-2g`/`2g`, or
 * an RTT of 1400 ms or more) updates every 500 ms with batches of up to
 * 4096 items and asks for 500 ms of coalescing on the wire; the default
 * every 100 ms (1024 items); a fast device every animation frame.
 */
export const defaultUpdateFigures: Readonly<Record<UpdateTier, UpdateFigures>> = {
  "slow-link": { intervalMs: 500, maxBatch: 4096, coalesceMs: 500 },
  default: { intervalMs: 100, maxBatch: 1024, coalesceMs: 0 },
  fast: { intervalMs: 0, maxBatch: Number.POSITIVE_INFINITY, coalesceMs: 0 },
};

/**
 * The thresholds of {@link chooseUpdatePolicy}. The RTT bound is the
 * Network Information spec's least RTT of `2g` (1400 ms); long-task
 * pressure is measured over a sliding window.
 */
export const updateThresholds = {
  /** An RTT (ms) at or above which the link is slow, whatever `effectiveType` says. */
  slowRttMs: 1400,
  /** Fewest logical processors of a fast device. */
  fastMinCores: 4,
  /** Least `deviceMemory` (GiB) of a fast device, when the browser tells it. */
  fastMinMemoryGiB: 4,
  /** The window over which long tasks are summed, in ms. */
  longTaskWindowMs: 5_000,
  /** Long-task time within the window (ms) from which a fast device is treated as a default one. */
  longTaskPressureMs: 200,
} as const;

/**
 * The `navigator.connection` fields read (`NetworkInformation`,
 * https://wicg.github.io/netinfo/#networkinformation-interface).
 */
export interface ConnectionHints {
  /** `"slow-2g"`, `"2g"`, `"3g"` or `"4g"`: the spec's estimate from recent RTT and throughput. */
  readonly effectiveType?: string | undefined;
  /** The user asked for reduced data use. */
  readonly saveData?: boolean | undefined;
  /** Estimated round trip, in ms (rounded to 25 ms by the browser). */
  readonly rtt?: number | undefined;
}

/** Everything {@link chooseUpdatePolicy} decides on. Every field is optional. */
export interface UpdateHints {
  /** `navigator.connection`, when the browser has it. */
  readonly connection?: ConnectionHints | undefined;
  /** `navigator.deviceMemory`: approximate RAM in GiB (0.25 … 8). */
  readonly deviceMemory?: number | undefined;
  /** `navigator.hardwareConcurrency`: logical processors. */
  readonly hardwareConcurrency?: number | undefined;
  /** Milliseconds of long tasks within the last {@link updateThresholds}.longTaskWindowMs; undefined: not observable. */
  readonly longTaskMs?: number | undefined;
}

/** Overrides of {@link chooseUpdatePolicy} and {@link createUpdatePolicy}. */
export interface UpdatePolicyOptions {
  /** Figures per tier, merged over {@link defaultUpdateFigures}. */
  readonly tiers?: Partial<Record<UpdateTier, Partial<UpdateFigures>>> | undefined;
  /** Figures that apply whatever the tier (e.g. `{ coalesceMs: 0 }` never asks the gateway to coalesce). */
  readonly fixed?: Partial<UpdateFigures> | undefined;
}

/**
 * Picks the update figures for `hints` (pure; see the module comment for
 * the sources). In order:
 * 1. **slow-link** when `saveData` is on, `effectiveType` is `slow-2g` or
 *    `2g`, or `rtt` ≥ 1400 ms;
 * 2. **fast** when the link is not `3g`, the device has at least 4 logical
 *    processors and (if told) 4 GiB, and long tasks took less than 200 ms
 *    of the last 5 s;
 * 3. **default** otherwise (also when nothing is known about the processors).
 */
export function chooseUpdatePolicy(hints: UpdateHints, o: UpdatePolicyOptions = {}): UpdatePolicy {
  const c = hints.connection;
  const t = updateThresholds;
  let tier: UpdateTier;
  let reason: string;
  if (c?.saveData === true) [tier, reason] = ["slow-link", "saveData"];
  else if (c?.effectiveType === "slow-2g" || c?.effectiveType === "2g") [tier, reason] = ["slow-link", `effectiveType ${c.effectiveType}`];
  else if (c?.rtt !== undefined && c.rtt >= t.slowRttMs) [tier, reason] = ["slow-link", `rtt ${c.rtt} ms`];
  else if (c?.effectiveType === "3g") [tier, reason] = ["default", "effectiveType 3g"];
  else if (hints.hardwareConcurrency === undefined || hints.hardwareConcurrency < t.fastMinCores) {
    [tier, reason] = ["default", `hardwareConcurrency ${hints.hardwareConcurrency ?? "unknown"}`];
  } else if (hints.deviceMemory !== undefined && hints.deviceMemory < t.fastMinMemoryGiB) {
    [tier, reason] = ["default", `deviceMemory ${hints.deviceMemory} GiB`];
  } else if (hints.longTaskMs !== undefined && hints.longTaskMs >= t.longTaskPressureMs) {
    [tier, reason] = ["default", `long tasks ${Math.round(hints.longTaskMs)} ms in ${t.longTaskWindowMs / 1000} s`];
  } else [tier, reason] = ["fast", `hardwareConcurrency ${hints.hardwareConcurrency}`];
  return { ...defaultUpdateFigures[tier], ...o.tiers?.[tier], ...o.fixed, tier, reason };
}

/** The current update figures, re-evaluated as the hints change. */
export interface UpdatePolicySource {
  /**
   * The policy for the hints as they are now (long-task pressure decays as
   * its window slides, so reading it later may give a faster tier).
   */
  readonly current: UpdatePolicy;
  /**
   * Calls `listener` with the new policy when a connection `change` event
   * or a long task changes the tier or the figures; returns the
   * unsubscribe.
   */
  subscribe(listener: (policy: UpdatePolicy) => void): () => void;
  /** Removes the `change` listener and disconnects the long-task observer. */
  close(): void;
}

/** The `navigator` fields {@link createUpdatePolicy} reads. */
export interface NavigatorHints {
  readonly connection?:
    | (ConnectionHints & {
        addEventListener?(type: "change", listener: () => void): void;
        removeEventListener?(type: "change", listener: () => void): void;
      })
    | undefined;
  readonly deviceMemory?: number | undefined;
  readonly hardwareConcurrency?: number | undefined;
}

/** The subset of `PerformanceObserver` used for long tasks. */
export interface LongTaskObserverLike {
  observe(options: { type: string; buffered?: boolean }): void;
  disconnect(): void;
}

/** A `PerformanceObserver` constructor, as far as long tasks need. */
export type LongTaskObserverConstructor = (new (
  callback: (list: { getEntries(): readonly { startTime: number; duration: number }[] }) => void,
) => LongTaskObserverLike) & { readonly supportedEntryTypes?: readonly string[] };

/** Options of {@link createUpdatePolicy}. */
export interface CreateUpdatePolicyOptions extends UpdatePolicyOptions {
  /** Where the hints come from. @defaultValue `globalThis.navigator` */
  readonly navigator?: NavigatorHints | undefined;
  /**
   * Observes long tasks; `null`: do not. @defaultValue `globalThis.PerformanceObserver`
   * when its `supportedEntryTypes` includes `"longtask"`
   */
  readonly PerformanceObserver?: LongTaskObserverConstructor | null | undefined;
  /** The clock of the long-task window, in ms on the entries' time base. @defaultValue `performance.now()` */
  readonly now?: (() => number) | undefined;
}

/**
 * Follows the page's hints: reads `navigator` when {@link
 * UpdatePolicySource.current} is read, listens to `navigator.connection`'s
 * `change` event, and sums long tasks of the last 5 s with a
 * `PerformanceObserver` where the browser reports them. Where none of
 * this exists (Node, workers without `navigator.connection`) the policy
 * follows `hardwareConcurrency` alone.
 *
 * @example
 * ```ts
 * const policy = createUpdatePolicy({ tiers: { "slow-link": { intervalMs: 1000 } } });
 * const batcher = createFrameBatcher(render, { policy });
 * policy.subscribe((p) => console.log(`updates every ${p.intervalMs || "frame"} (${p.reason})`));
 * ```
 */
export function createUpdatePolicy(o: CreateUpdatePolicyOptions = {}): UpdatePolicySource {
  const nav = o.navigator ?? (globalThis as { navigator?: NavigatorHints }).navigator;
  const now = o.now ?? (() => performance.now());
  const Observer =
    o.PerformanceObserver === undefined
      ? (globalThis as { PerformanceObserver?: LongTaskObserverConstructor }).PerformanceObserver
      : (o.PerformanceObserver ?? undefined);
  const listeners = new Set<(p: UpdatePolicy) => void>();
  /** End times and durations of the long tasks still in the window. */
  let tasks: { end: number; duration: number }[] = [];
  let observer: LongTaskObserverLike | undefined;

  const longTaskMs = (): number | undefined => {
    if (!observer) return undefined;
    const from = now() - updateThresholds.longTaskWindowMs;
    tasks = tasks.filter((x) => x.end > from);
    return tasks.reduce((sum, x) => sum + x.duration, 0);
  };
  const evaluate = () =>
    chooseUpdatePolicy(
      {
        connection: nav?.connection,
        deviceMemory: nav?.deviceMemory,
        hardwareConcurrency: nav?.hardwareConcurrency,
        longTaskMs: longTaskMs(),
      },
      o,
    );
  let last = evaluate();
  const changed = () => {
    const next = evaluate();
    const same =
      next.tier === last.tier &&
      next.intervalMs === last.intervalMs &&
      next.maxBatch === last.maxBatch &&
      next.coalesceMs === last.coalesceMs;
    last = next;
    if (!same) for (const l of [...listeners]) l(next);
  };

  const connection = nav?.connection;
  connection?.addEventListener?.("change", changed);
  if (Observer && (Observer.supportedEntryTypes === undefined || Observer.supportedEntryTypes.includes("longtask"))) {
    observer = new Observer((list) => {
      for (const e of list.getEntries()) tasks.push({ end: e.startTime + e.duration, duration: e.duration });
      changed();
    });
    observer.observe({ type: "longtask", buffered: true });
  }
  return {
    get current() {
      last = evaluate();
      return last;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    close() {
      connection?.removeEventListener?.("change", changed);
      observer?.disconnect();
      observer = undefined;
      listeners.clear();
    },
  };
}

let page: UpdatePolicySource | undefined;

/**
 * The page's shared {@link createUpdatePolicy} with the default figures:
 * created on first use and kept for the page's life (one `change`
 * listener, one long-task observer, however many batchers and clients read
 * it). What {@link createFrameBatcher} and `createAirwaveClient` use unless
 * given another policy.
 */
export function pageUpdatePolicy(): UpdatePolicySource {
  page ??= createUpdatePolicy();
  return page;
}
