import { afterEach, describe, expect, it, vi } from "vitest";
import { HEARTBEAT, withHeartbeats } from "./heartbeat.js";

/** A source that yields the values pushed into it. */
function pushSource<T>() {
  const queue: T[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  return {
    push(v: T) {
      queue.push(v);
      wake?.();
    },
    end() {
      ended = true;
      wake?.();
    },
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length > 0) yield queue.shift() as T;
        else if (ended) return;
        else await new Promise<void>((r) => (wake = r));
      }
    },
  };
}

describe("withHeartbeats", () => {
  afterEach(() => vi.useRealTimers());

  it("sends a heartbeat only after idleMs without an event, and restarts the wait on each event", async () => {
    vi.useFakeTimers();
    const src = pushSource<string>();
    const out: unknown[] = [];
    const done = (async () => {
      for await (const x of withHeartbeats(src, 1000, new AbortController().signal)) out.push(x);
    })();
    await vi.advanceTimersByTimeAsync(999);
    expect(out).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(out).toEqual([HEARTBEAT]);
    await vi.advanceTimersByTimeAsync(600);
    src.push("a");
    await vi.advanceTimersByTimeAsync(600); // 1200 since the last heartbeat, 600 since "a"
    expect(out).toEqual([HEARTBEAT, "a"]);
    await vi.advanceTimersByTimeAsync(400);
    expect(out).toEqual([HEARTBEAT, "a", HEARTBEAT]);
    src.end();
    await done;
    expect(vi.getTimerCount()).toBe(0);
  });

  it("passes events through untouched when they come faster than idleMs", async () => {
    vi.useFakeTimers();
    async function* fast() {
      for (let i = 0; i < 5; i++) yield i;
    }
    const out: unknown[] = [];
    for await (const x of withHeartbeats(fast(), 10, new AbortController().signal)) out.push(x);
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });

  it("stops and throws the reason when the signal aborts, leaving no timer", async () => {
    vi.useFakeTimers();
    const src = pushSource<string>();
    const ac = new AbortController();
    const it = withHeartbeats(src, 1000, ac.signal);
    const pending = it.next();
    ac.abort(new Error("left"));
    await expect(pending).rejects.toThrow("left");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rethrows the source's error", async () => {
    async function* bad() {
      yield 1;
      throw new Error("boom");
    }
    const out: unknown[] = [];
    await expect(
      (async () => {
        for await (const x of withHeartbeats(bad(), 1000, new AbortController().signal)) out.push(x);
      })(),
    ).rejects.toThrow("boom");
    expect(out).toEqual([1]);
  });
});
