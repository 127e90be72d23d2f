import { afterEach, describe, expect, it, vi } from "vitest";
import { createFrameBatcher } from "./frame-batcher.js";
import { createUpdatePolicy } from "./update-policy.js";

/** A controllable frame clock: `tick()` runs the callbacks scheduled so far. */
function frames() {
  let next = 1;
  const callbacks = new Map<number, () => void>();
  return {
    requestFrame: (cb: () => void) => {
      callbacks.set(next, cb);
      return next++;
    },
    cancelFrame: (h: unknown) => void callbacks.delete(h as number),
    get scheduled() {
      return callbacks.size;
    },
    tick() {
      const due = [...callbacks.values()];
      callbacks.clear();
      for (const cb of due) cb();
    },
  };
}

describe("createFrameBatcher", () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("hands everything pushed between two frames over in one batch, in order", () => {
    const clock = frames();
    const batches: number[][] = [];
    const b = createFrameBatcher<number>((items) => batches.push([...items]), { ...clock, policy: false });
    for (let i = 0; i < 100; i++) b.push(i);
    expect(clock.scheduled).toBe(1); // one frame, however many pushes
    expect(b.pending).toBe(100);
    clock.tick();
    expect(batches).toEqual([Array.from({ length: 100 }, (_, i) => i)]);
    b.push(100);
    b.push(101);
    clock.tick();
    expect(batches).toEqual([Array.from({ length: 100 }, (_, i) => i), [100, 101]]);
    clock.tick(); // nothing pending: no empty batch
    expect(batches).toHaveLength(2);
  });

  it("flushes on demand and cancels the scheduled frame", () => {
    const clock = frames();
    const batches: string[][] = [];
    const b = createFrameBatcher<string>((items) => batches.push([...items]), { ...clock, policy: false });
    b.push("a");
    b.flush();
    expect(batches).toEqual([["a"]]);
    expect(clock.scheduled).toBe(0);
    b.flush(); // empty: nothing applied
    expect(batches).toHaveLength(1);
  });

  it("cancel drops what is queued", () => {
    const clock = frames();
    const apply = vi.fn();
    const b = createFrameBatcher<string>(apply, { ...clock, policy: false });
    b.push("a");
    b.cancel();
    expect(b.pending).toBe(0);
    expect(clock.scheduled).toBe(0);
    clock.tick();
    b.flush();
    expect(apply).not.toHaveBeenCalled();
    b.push("b"); // still usable
    clock.tick();
    expect(apply).toHaveBeenCalledWith(["b"]);
  });

  it("uses requestAnimationFrame when the global exists", () => {
    const clock = frames();
    vi.stubGlobal("requestAnimationFrame", vi.fn(clock.requestFrame));
    vi.stubGlobal("cancelAnimationFrame", vi.fn(clock.cancelFrame));
    const apply = vi.fn();
    const b = createFrameBatcher<number>(apply, { policy: false });
    b.push(1);
    expect(globalThis.requestAnimationFrame).toHaveBeenCalledTimes(1);
    b.push(2);
    b.flush();
    expect(globalThis.cancelAnimationFrame).toHaveBeenCalledTimes(1);
    expect(apply).toHaveBeenCalledWith([1, 2]);
  });

  it("falls back to a timer without requestAnimationFrame", () => {
    vi.useFakeTimers();
    vi.stubGlobal("requestAnimationFrame", undefined);
    const apply = vi.fn();
    const b = createFrameBatcher<number>(apply, { fallbackDelayMs: 20, policy: false });
    b.push(1);
    b.push(2);
    vi.advanceTimersByTime(19);
    expect(apply).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(apply).toHaveBeenCalledExactlyOnceWith([1, 2]);
    b.push(3);
    b.cancel();
    vi.advanceTimersByTime(100);
    expect(apply).toHaveBeenCalledTimes(1);
  });

  it("drops a batch whose apply throws and keeps working", () => {
    const clock = frames();
    const seen: number[][] = [];
    const b = createFrameBatcher<number>(
      (items) => {
        seen.push([...items]);
        if (items.includes(1)) throw new Error("render failed");
      },
      { ...clock, policy: false },
    );
    b.push(1);
    expect(() => b.flush()).toThrow("render failed");
    b.push(2);
    clock.tick();
    expect(seen).toEqual([[1], [2]]);
  });
});

describe("createFrameBatcher with an update policy", () => {
  afterEach(() => void vi.useRealTimers());

  /** Frames every 16 ms of (fake) time. */
  const timerFrames = { requestFrame: (cb: () => void) => setTimeout(cb, 16), cancelFrame: (h: unknown) => clearTimeout(h as number) };

  it("applies the first batch after a quiet interval at the next frame, later ones an interval apart", () => {
    vi.useFakeTimers();
    const clock = frames();
    const batches: number[][] = [];
    const policy = { current: { intervalMs: 100, maxBatch: Number.POSITIVE_INFINITY } };
    const b = createFrameBatcher<number>((items) => batches.push([...items]), { ...clock, policy, now: Date.now });
    b.push(1);
    expect(clock.scheduled).toBe(1); // nothing applied for 100 ms before: the next frame
    clock.tick();
    expect(batches).toEqual([[1]]);
    b.push(2);
    b.push(3);
    expect(clock.scheduled).toBe(0); // waits for the interval first
    vi.advanceTimersByTime(99);
    clock.tick();
    expect(batches).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(clock.scheduled).toBe(1);
    clock.tick();
    expect(batches).toEqual([[1], [2, 3]]);
    vi.advanceTimersByTime(150); // quiet for longer than the interval
    b.push(4);
    expect(clock.scheduled).toBe(1);
  });

  it("does not wait for the interval once maxBatch items are queued", () => {
    vi.useFakeTimers();
    const clock = frames();
    const batches: number[][] = [];
    const policy = { current: { intervalMs: 500, maxBatch: 3 } };
    const b = createFrameBatcher<number>((items) => batches.push([...items]), { ...clock, policy, now: Date.now });
    b.push(0);
    clock.tick();
    b.push(1);
    b.push(2);
    expect(clock.scheduled).toBe(0);
    b.push(3); // the third queued: the next frame
    expect(clock.scheduled).toBe(1);
    clock.tick();
    expect(batches).toEqual([[0], [1, 2, 3]]);
    vi.advanceTimersByTime(1_000);
    clock.tick();
    expect(batches).toHaveLength(2); // the cancelled interval timer applies nothing
  });

  it("flush and cancel also clear the interval's timer", () => {
    vi.useFakeTimers();
    const clock = frames();
    const apply = vi.fn();
    const b = createFrameBatcher<number>(apply, { ...clock, policy: { current: { intervalMs: 100, maxBatch: 10 } }, now: Date.now });
    b.push(1);
    clock.tick();
    b.push(2);
    b.cancel();
    vi.advanceTimersByTime(200);
    clock.tick();
    expect(apply).toHaveBeenCalledTimes(1);
    b.push(3); // 200 ms after the last batch: at the next frame
    b.flush();
    expect(apply).toHaveBeenLastCalledWith([3]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("follows the connection: fewer, bigger batches on 2g, the same items in the same order", () => {
    vi.useFakeTimers();
    const connection = Object.assign(new EventTarget(), { effectiveType: "4g", saveData: false, rtt: 50 });
    const policy = createUpdatePolicy({ navigator: { connection, hardwareConcurrency: 2 }, PerformanceObserver: null });
    const batches: number[][] = [];
    const b = createFrameBatcher<number>((items) => batches.push([...items]), { ...timerFrames, policy, now: Date.now });
    /** Pushes one item every 10 ms for `ms`, then applies the rest; returns the batches of that period. */
    let next = 0;
    const run = (ms: number) => {
      const from = batches.length;
      for (let t = 0; t < ms; t += 10) {
        b.push(next++);
        vi.advanceTimersByTime(10);
      }
      b.flush();
      return batches.slice(from);
    };
    const normal = run(2_000); // 4g, 2 cores: every 100 ms
    connection.effectiveType = "2g";
    connection.rtt = 1_500;
    connection.dispatchEvent(new Event("change"));
    expect(policy.current).toMatchObject({ tier: "slow-link", intervalMs: 500 });
    const slow = run(2_000);
    expect(normal.length).toBeGreaterThanOrEqual(18);
    expect(normal.length).toBeLessThanOrEqual(22);
    expect(slow.length).toBeGreaterThanOrEqual(4);
    expect(slow.length).toBeLessThanOrEqual(6);
    expect(Math.max(...slow.map((x) => x.length))).toBeGreaterThanOrEqual(45); // ~50 items per 500 ms
    expect(batches.flat()).toEqual(Array.from({ length: next }, (_, i) => i));
    policy.close();
  });

  it("with policy false, applies every frame whatever the connection says", () => {
    vi.useFakeTimers();
    const batches: number[][] = [];
    const b = createFrameBatcher<number>((items) => batches.push([...items]), { ...timerFrames, policy: false, now: Date.now });
    for (let t = 0; t < 1_000; t += 10) {
      b.push(t);
      vi.advanceTimersByTime(10);
    }
    b.flush();
    expect(batches.length).toBeGreaterThanOrEqual(45); // a batch per 16 ms frame (or two items)
  });
});
