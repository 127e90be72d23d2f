import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import type { ConnectError } from "@connectrpc/connect";
import { exhausted, GATEWAY_STREAM_LIMIT } from "./owner-limits.js";

/** `airwave-reason` of RESOURCE_EXHAUSTED: the gateway is past its measured capacity (event-loop delay or utilization, open watches, log memory). */
export const OVERLOADED = "OVERLOADED";

/**
 * Which signal refused a new stream, the `reason` label of
 * `airwave_admission_refusals_total`: the running streams
 * (AIRWAVE_MAX_STREAMS, `airwave-reason` GATEWAY_STREAM_LIMIT), the
 * event-loop delay, the event loop's utilization, the open watches, the log
 * memory of the running streams (the last four `airwave-reason` OVERLOADED).
 */
export type AdmissionSignal = "max_streams" | "event_loop_delay" | "event_loop_utilization" | "watches" | "log_memory";

/** What the gateway holds when a new stream asks to start; cheap counters, read on every create. */
export interface AdmissionLoad {
  /** Generations running here. */
  readonly running: number;
  /** Watches open here (every transport, including other replicas' streams). */
  readonly watchers: number;
  /** Bytes the logs of the running streams hold (0 when the log is not in this process's memory). */
  readonly logBytes: number;
}

/** Thresholds of {@link Admission}; a threshold of 0 is off. See GatewayConfig for the variables and defaults. */
export interface AdmissionOptions {
  /** Generations running at once (AIRWAVE_MAX_STREAMS); at it, GATEWAY_STREAM_LIMIT. */
  readonly maxStreams: number;
  /** Event-loop delay of the last window, in ms ({@link LoopLoad}); over it, OVERLOADED. 0: off. */
  readonly maxLoopDelayMs: number;
  /** Event-loop utilization of the last window, 0..1 ({@link LoopLoad}); over it, OVERLOADED. 0: off. */
  readonly maxLoopUtilization: number;
  /** Open watches; at it, OVERLOADED. 0: off. */
  readonly maxWatchers: number;
  /** Bytes held by the running streams' logs; at it, OVERLOADED. 0: off. */
  readonly maxLogBytes: number;
  /** The `retry-after-ms` of a refusal, in ms (HTTP `Retry-After` in whole seconds, rounded up). At least 1. */
  readonly retryAfterMs: number;
}

/** How loaded the event loop is: the figures of the last full window (0 before the first one ended). */
export interface LoopLoad {
  /** Delay of the last window, in ms. */
  readonly delayMs: number;
  /** Share of the last window the loop was busy (`performance.eventLoopUtilization`), 0..1. */
  readonly utilization: number;
  /** Stops measuring (timers and the histogram). Idempotent. */
  close(): void;
}

/** Sampling interval of {@link monitorEventLoop}'s histogram, in ms. */
const resolutionMs = 10;

/**
 * Measures the event loop, a window at a time (`windowMs`):
 *
 * - its delay with `node:perf_hooks` `monitorEventLoopDelay` (a native
 *   timer every 10 ms records how late it fires): the window's 90th
 *   percentile lateness (the interval less the 10 ms resolution) becomes
 *   {@link LoopLoad.delayMs} and the histogram starts again. The window's
 *   own tick counts too: a tick that fires late by more than the percentile
 *   (the loop was blocked for most of the window, so the histogram holds
 *   few samples) gives its lateness instead. The 90th percentile ignores the
 *   odd long garbage collection of a lightly loaded gateway;
 * - its utilization, `performance.eventLoopUtilization()` over the window:
 *   a loop that reads its sockets as fast as it can is busy all the time
 *   while its delay can stay short (the backlog waits in the kernel's
 *   socket buffers, not in the loop), so saturation shows here first.
 *
 * The timer is unref'd.
 *
 * @param windowMs length of a window, in ms (at least 50)
 */
export function monitorEventLoop(windowMs: number): LoopLoad {
  const every = Math.max(50, windowMs);
  const h = monitorEventLoopDelay({ resolution: resolutionMs });
  h.enable();
  let delayMs = 0;
  let utilization = 0;
  let elu = performance.eventLoopUtilization();
  let due = performance.now() + every;
  const timer = setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - due);
    due = now + every;
    const p90 = h.count > 0 ? Math.max(0, h.percentile(90) / 1e6 - resolutionMs) : 0;
    delayMs = Math.max(p90, late);
    h.reset();
    const next = performance.eventLoopUtilization();
    utilization = performance.eventLoopUtilization(next, elu).utilization;
    elu = next;
  }, every);
  timer.unref();
  let closed = false;
  return {
    get delayMs() {
      return delayMs;
    },
    get utilization() {
      return utilization;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      h.disable();
    },
  };
}

/**
 * Admission control of new streams, from measured load: the running
 * generations, the event-loop delay, the open watches and the log memory
 * of the running streams, each against its threshold. {@link admit} is a
 * few comparisons, called by `Hub.create` before anything else is done for
 * a new stream (before the owner's limits, the log, the registry, the
 * upstream call), and never for what already runs: an idempotent create of
 * an existing stream, watches and resumes are never refused, nor is a
 * running stream cut.
 */
export class Admission {
  /**
   * @param o the thresholds
   * @param loop where the event loop's delay and utilization come from ({@link monitorEventLoop}; tests pass their own)
   * @param onRefused called once per refusal with its signal (the metrics' counter)
   */
  constructor(
    private readonly o: AdmissionOptions,
    private readonly loop: Pick<LoopLoad, "delayMs" | "utilization"> = { delayMs: 0, utilization: 0 },
    private readonly onRefused?: (signal: AdmissionSignal) => void,
  ) {}

  /** The first signal over its threshold for `load` now, or undefined when a new stream would be admitted. */
  overloaded(load: AdmissionLoad): AdmissionSignal | undefined {
    const o = this.o;
    if (load.running >= o.maxStreams) return "max_streams";
    if (o.maxLoopDelayMs > 0 && this.loop.delayMs > o.maxLoopDelayMs) return "event_loop_delay";
    if (o.maxLoopUtilization > 0 && this.loop.utilization > o.maxLoopUtilization) return "event_loop_utilization";
    if (o.maxWatchers > 0 && load.watchers >= o.maxWatchers) return "watches";
    if (o.maxLogBytes > 0 && load.logBytes >= o.maxLogBytes) return "log_memory";
    return undefined;
  }

  /**
   * Admits a new stream under `load`, or raises RESOURCE_EXHAUSTED with
   * `airwave-reason` GATEWAY_STREAM_LIMIT (AIRWAVE_MAX_STREAMS running) or
   * OVERLOADED (any other signal) and `retry-after-ms` ({@link
   * AdmissionOptions.retryAfterMs}; HTTP 429 with `Retry-After`).
   */
  admit(load: AdmissionLoad): void {
    const signal = this.overloaded(load);
    if (signal === undefined) return;
    this.onRefused?.(signal);
    throw refusal(signal, this.o);
  }

  /** The event-loop delay the last window measured, in ms. */
  get loopDelayMs(): number {
    return this.loop.delayMs;
  }

  /** The event-loop utilization the last window measured, 0..1. */
  get loopUtilization(): number {
    return this.loop.utilization;
  }
}

/**
 * The RESOURCE_EXHAUSTED of a refusal by `signal`, without a stack trace:
 * past capacity refusals come by the thousand a second, and capturing the
 * stack was the largest single cost of one (a refusal is no bug to trace).
 */
function refusal(signal: AdmissionSignal, o: AdmissionOptions): ConnectError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return refusalOf(signal, Math.max(1, o.retryAfterMs));
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function refusalOf(signal: AdmissionSignal, retry: number): ConnectError {
  switch (signal) {
    case "max_streams":
      return exhausted("the gateway runs its maximum number of streams", GATEWAY_STREAM_LIMIT, retry);
    case "event_loop_delay":
      return exhausted("the gateway is overloaded (event-loop delay); retry later", OVERLOADED, retry);
    case "event_loop_utilization":
      return exhausted("the gateway is overloaded (event-loop utilization); retry later", OVERLOADED, retry);
    case "watches":
      return exhausted("the gateway is overloaded (open watches); retry later", OVERLOADED, retry);
    case "log_memory":
      return exhausted("the gateway is overloaded (stream log memory); retry later", OVERLOADED, retry);
  }
}
