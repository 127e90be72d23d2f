import { afterEach, describe, expect, it, vi } from "vitest";
import { createFrameBatcher } from "./frame-batcher.js";

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
    const b = createFrameBatcher<number>((items) => batches.push([...items]), clock);
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
    const b = createFrameBatcher<string>((items) => batches.push([...items]), clock);
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
    const b = createFrameBatcher<string>(apply, clock);
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
    const b = createFrameBatcher<number>(apply);
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
    const b = createFrameBatcher<number>(apply, { fallbackDelayMs: 20 });
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
    const b = createFrameBatcher<number>((items) => {
      seen.push([...items]);
      if (items.includes(1)) throw new Error("render failed");
    }, clock);
    b.push(1);
    expect(() => b.flush()).toThrow("render failed");
    b.push(2);
    clock.tick();
    expect(seen).toEqual([[1], [2]]);
  });
});
