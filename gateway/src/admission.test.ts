import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Admission, type AdmissionOptions, type AdmissionSignal, monitorEventLoop } from "./admission.js";
import { errorResponse } from "./errors/http-status.js";

const thresholds: AdmissionOptions = {
  maxStreams: 10,
  maxLoopDelayMs: 50,
  maxLoopUtilization: 0.9,
  maxWatchers: 100,
  maxLogBytes: 1_000,
  retryAfterMs: 1_500,
};
const idle = { running: 0, watchers: 0, logBytes: 0 };

/** The refusal `admit` raises for `load`, or undefined when it admits. */
function refusal(a: Admission, load: typeof idle): ConnectError | undefined {
  try {
    a.admit(load);
    return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

describe("Admission", () => {
  it("admits below every threshold and refuses each signal over its own, with its reason and retry-after-ms", () => {
    const loop = { delayMs: 0, utilization: 0 };
    const seen: AdmissionSignal[] = [];
    const a = new Admission(thresholds, loop, (s) => seen.push(s));
    expect(refusal(a, { running: 9, watchers: 99, logBytes: 999 })).toBeUndefined();
    expect(a.overloaded(idle)).toBeUndefined();

    const cases: [typeof idle, typeof loop, AdmissionSignal, string][] = [
      [{ ...idle, running: 10 }, { delayMs: 0, utilization: 0 }, "max_streams", "GATEWAY_STREAM_LIMIT"],
      [idle, { delayMs: 51, utilization: 0 }, "event_loop_delay", "OVERLOADED"],
      [idle, { delayMs: 0, utilization: 0.91 }, "event_loop_utilization", "OVERLOADED"],
      [{ ...idle, watchers: 100 }, { delayMs: 0, utilization: 0 }, "watches", "OVERLOADED"],
      [{ ...idle, logBytes: 1_000 }, { delayMs: 0, utilization: 0 }, "log_memory", "OVERLOADED"],
    ];
    for (const [load, figures, signal, reason] of cases) {
      Object.assign(loop, figures);
      expect(a.overloaded(load)).toBe(signal);
      const err = refusal(a, load);
      expect(err?.code).toBe(Code.ResourceExhausted);
      expect(err?.metadata.get("airwave-reason")).toBe(reason);
      expect(err?.metadata.get("retry-after-ms")).toBe("1500");
    }
    expect(seen).toEqual(["max_streams", "event_loop_delay", "event_loop_utilization", "watches", "log_memory"]);
    // Back at the thresholds: admitted again, nothing sticks.
    Object.assign(loop, { delayMs: 50, utilization: 0.9 });
    expect(refusal(a, idle)).toBeUndefined();
    expect([a.loopDelayMs, a.loopUtilization]).toEqual([50, 0.9]);
  });

  it("turns a signal off with 0 (maxStreams always counts)", () => {
    const a = new Admission(
      { ...thresholds, maxLoopDelayMs: 0, maxLoopUtilization: 0, maxWatchers: 0, maxLogBytes: 0 },
      { delayMs: 10_000, utilization: 1 },
    );
    expect(refusal(a, { running: 9, watchers: 1e9, logBytes: 1e12 })).toBeUndefined();
    expect(refusal(a, { ...idle, running: 10 })?.metadata.get("airwave-reason")).toBe("GATEWAY_STREAM_LIMIT");
  });

  it("is HTTP 429 with Retry-After in whole seconds (rounded up) through the one error table", () => {
    const err = refusal(new Admission(thresholds, { delayMs: 99, utilization: 0 }), idle) as ConnectError;
    const r = errorResponse(err);
    expect(r.status).toBe(429);
    expect(r.headers["retry-after"]).toBe("2");
    expect(r.headers["airwave-reason"]).toBe("OVERLOADED");
    expect(JSON.parse(r.body)).toMatchObject({ code: "resource_exhausted" });
  });
});

describe("monitorEventLoop", () => {
  let stop: (() => void) | undefined;
  afterEach(() => {
    stop?.();
    vi.useRealTimers();
  });

  it("reports a loop blocked through a window as that window's delay and utilization, and falls back once the loop is free", async () => {
    const m = monitorEventLoop(50);
    stop = () => m.close();
    expect([m.delayMs, m.utilization]).toEqual([0, 0]);
    // Block the loop for 200 ms: the window's tick, due after 50 ms, runs at least 150 ms late.
    const until = performance.now() + 200;
    while (performance.now() < until) {
      // busy
    }
    await vi.waitFor(() => expect(m.delayMs).toBeGreaterThanOrEqual(140), { timeout: 2_000, interval: 5 });
    // That window was busy nearly throughout (200 ms of the 200+ since the last tick).
    expect(m.utilization).toBeGreaterThan(0.5);
    await vi.waitFor(() => expect(m.delayMs).toBeLessThan(140), { timeout: 5_000, interval: 20 });
    await vi.waitFor(() => expect(m.utilization).toBeLessThan(0.5), { timeout: 5_000, interval: 20 });
  });

  it("holds no timer once closed", () => {
    vi.useFakeTimers();
    const m = monitorEventLoop(100);
    expect(vi.getTimerCount()).toBe(1);
    m.close();
    m.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
