/**
 * Drives streams against one target and records what arrives, in HDR
 * histograms of microseconds.
 * @module
 */
import * as hdr from "hdr-histogram-js";
import type { Target } from "./targets.ts";
import { nowUs } from "./token-clock.ts";

/** A latency histogram in µs (1 µs to 10 min, 3 significant digits). */
export function histogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
}

/** How streams arrive. */
export type Arrival =
  /** One after another, the next when the previous ended. */
  | { kind: "sequential"; streams: number }
  /** A Poisson process of `perSecond` starts per second for `seconds`. */
  | { kind: "poisson"; perSecond: number; seconds: number }
  /** `streams` started in the same tick. */
  | { kind: "burst"; streams: number }
  /** `concurrency` streams in a closed loop for `seconds` (a new one when one ends). */
  | { kind: "closed"; concurrency: number; seconds: number };

/** Options of {@link runLoad}. */
export interface LoadOptions {
  target: Target;
  /** A `paced-r<R>-n<N>` model name. */
  model: string;
  arrival: Arrival;
  /** Fraction of streams that stop reading after their first token (0..1); they are aborted at the end. */
  stallFraction?: number;
  /** Longest wait for the streams to end, ms; the rest are counted as failed and aborted. */
  timeoutMs?: number;
}

/** What one load run measured. */
export interface LoadResult {
  /** Request sent → first token arrived, µs (reading streams only). */
  ttfe: hdr.Histogram;
  /** Token emitted upstream → arrived at the client, µs (reading streams only). */
  latency: hdr.Histogram;
  /** Tokens received by reading streams. */
  tokens: number;
  /** Streams started, ended normally, failed. */
  started: number;
  ok: number;
  failed: number;
  /** The first few distinct errors. */
  errors: string[];
  /** Wall time from the first start to the last end, µs. */
  wallUs: number;
}

/** Runs the load; resolves when every stream ended (or the timeout passed). */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const ttfe = histogram();
  const latency = histogram();
  const r: LoadResult = { ttfe, latency, tokens: 0, started: 0, ok: 0, failed: 0, errors: [], wallUs: 0 };
  const stall = o.stallFraction ?? 0;
  const t0 = nowUs();
  const stalled: { abort(): void }[] = [];
  let open = 0;
  let arrivalsDone = false;
  let resolveAll: () => void = () => {};
  const allDone = new Promise<void>((ok) => (resolveAll = ok));
  const maybeDone = () => {
    if (arrivalsDone && open === 0) resolveAll();
  };
  const handles = new Set<{ abort(): void }>();

  const start = (onEnd?: () => void) => {
    const isStalled = stall > 0 && Math.random() < stall;
    const sent = nowUs();
    let first = true;
    r.started++;
    open++;
    const h = o.target.open(o.model, {
      onToken(emit, recv) {
        if (isStalled) {
          if (first) {
            first = false;
            h.pause();
          }
          return;
        }
        if (first) {
          first = false;
          ttfe.recordValue(Math.max(1, recv - sent));
        }
        latency.recordValue(Math.max(1, recv - emit));
        r.tokens++;
      },
      onEnd(err) {
        // A stalled stream was already counted as done; how it ends (the
        // gateway closing it as too slow, or our abort) is not a failure.
        if (isStalled) return;
        handles.delete(h);
        open--;
        if (err) {
          r.failed++;
          const m = err.message.slice(0, 200);
          if (r.errors.length < 5 && !r.errors.includes(m)) r.errors.push(m);
        } else r.ok++;
        onEnd?.();
        maybeDone();
      },
    });
    handles.add(h);
    if (isStalled) {
      stalled.push(h);
      // A stalled stream counts as done for the run; it is aborted at the end.
      open--;
      handles.delete(h);
    }
  };

  const a = o.arrival;
  if (a.kind === "sequential") {
    let left = a.streams;
    const next = () => {
      if (left-- > 0) start(next);
      else arrivalsDone = true;
    };
    next();
  } else if (a.kind === "burst") {
    for (let i = 0; i < a.streams; i++) start();
    arrivalsDone = true;
  } else if (a.kind === "closed") {
    const until = nowUs() + a.seconds * 1e6;
    const loop = () => {
      if (nowUs() < until) start(loop);
      else arrivalsDone = true;
    };
    for (let i = 0; i < a.concurrency; i++) loop();
  } else {
    const until = t0 + a.seconds * 1e6;
    let due = t0;
    const tick = () => {
      const now = nowUs();
      while (due <= now && due < until) {
        start();
        due += (-Math.log(1 - Math.random()) / a.perSecond) * 1e6;
      }
      if (due >= until) arrivalsDone = true;
      else setTimeout(tick, Math.max(0, (due - nowUs()) / 1000));
      maybeDone();
    };
    tick();
  }
  maybeDone();
  const timeout = new Promise<void>((ok) => setTimeout(ok, o.timeoutMs ?? 120_000).unref());
  await Promise.race([allDone, timeout]);
  for (const h of handles) {
    r.failed++;
    h.abort();
  }
  if (handles.size > 0 && r.errors.length < 5) r.errors.push(`${handles.size} streams did not end in time`);
  for (const h of stalled) h.abort();
  r.wallUs = nowUs() - t0;
  return r;
}
