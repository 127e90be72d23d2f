import { ev, FinishReason, type StreamEvent } from "@airwave/proto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LogReader } from "./follow-log.js";
import { MemoryStreamLog } from "./memory-stream-log.js";

const textOf = (es: readonly StreamEvent[]) => es.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");

/** Reads `reader` to its end, noting the (fake) time of each batch. */
async function drain(reader: LogReader): Promise<{ at: number; events: readonly StreamEvent[] }[]> {
  const batches: { at: number; events: readonly StreamEvent[] }[] = [];
  for (let b = await reader.next(); b !== undefined; b = await reader.next()) batches.push({ at: performance.now(), events: b });
  return batches;
}

describe("LogReader with an interval (a watch's coalesce_ms)", () => {
  afterEach(() => void vi.useRealTimers());

  it("reads live at most once per interval: fewer events, the same text, cursors that resume exactly", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
    const log = new MemoryStreamLog("s", { maxEvents: 10_000, maxBytes: Number.POSITIVE_INFINITY });
    const signal = new AbortController().signal;
    log.appendNow(ev.started("m", "p"));
    const slow = drain(new LogReader(log, 0, { signal, coalesceLagEvents: 0, intervalMs: 500 }));
    const plain = drain(new LogReader(log, 0, { signal, coalesceLagEvents: 0 }));
    for (let i = 0; i < 100; i++) {
      log.appendNow(ev.textDelta(`t${i} `));
      await vi.advanceTimersByTimeAsync(20); // 50 deltas a second, for 2 s
    }
    log.appendNow(ev.completed(FinishReason.STOP));
    await vi.advanceTimersByTimeAsync(1_000);
    const [coalesced, all] = await Promise.all([slow, plain]);
    const logged = await log.read(0, { maxEvents: 1_000, maxBytes: Number.POSITIVE_INFINITY });

    const deltas = coalesced.flatMap((b) => b.events).filter((e) => e.event.case === "textDelta");
    expect(all.flatMap((b) => b.events).filter((e) => e.event.case === "textDelta")).toHaveLength(100);
    expect(deltas.length).toBeGreaterThanOrEqual(4);
    expect(deltas.length).toBeLessThanOrEqual(7); // ~2 s / 500 ms, instead of 100
    expect(textOf(coalesced.flatMap((b) => b.events))).toBe(textOf(logged));
    // Live batches are at least an interval apart (the terminal event's is not held back).
    for (let i = 1; i < coalesced.length - 1; i++) expect(coalesced[i]!.at - coalesced[i - 1]!.at).toBeGreaterThanOrEqual(500);
    // Each merged delta carries the seq of its run's last delta: resuming after it is exact.
    for (const d of deltas) {
      const rest = await drain(new LogReader(log, d.seq, { signal, coalesceLagEvents: 0 }));
      const before = textOf(logged.filter((e) => e.seq <= d.seq));
      expect(before + textOf(rest.flatMap((b) => b.events))).toBe(textOf(logged));
      expect(logged.find((e) => e.seq === d.seq)?.event.case).toBe("textDelta");
    }
    expect(coalesced.at(-1)?.events.at(-1)?.event.case).toBe("completed");
  });

  it("replays at full speed (coalesced) while more than a read behind the log", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
    const log = new MemoryStreamLog("s", { maxEvents: 10_000, maxBytes: Number.POSITIVE_INFINITY });
    log.appendNow(ev.started("m", "p"));
    for (let i = 0; i < 50; i++) log.appendNow(ev.textDelta(`${i},`));
    const reader = new LogReader(log, 0, {
      signal: new AbortController().signal,
      coalesceLagEvents: 0,
      intervalMs: 5_000,
      limits: { maxEvents: 10, maxBytes: Number.POSITIVE_INFINITY },
    });
    const start = performance.now();
    const read = drain(reader);
    await vi.advanceTimersByTimeAsync(5_000);
    log.appendNow(ev.completed(FinishReason.STOP));
    await vi.advanceTimersByTimeAsync(5_000);
    const batches = await read;
    // 51 events, 10 per read, more than a read behind: no wait; the last delta, live, waited for
    // the interval; the terminal event, appended then, did not wait.
    expect(batches.map((b) => [b.at - start, b.events.length])).toEqual([
      [0, 2],
      [0, 1],
      [0, 1],
      [0, 1],
      [0, 1],
      [5_000, 1],
      [5_000, 1],
    ]);
    // An ended stream is read at once, however little is left.
    const again = await drain(new LogReader(log, 45, { signal: new AbortController().signal, coalesceLagEvents: 0, intervalMs: 5_000 }));
    expect(again.map((b) => b.at - start)).toEqual([10_000]);
    expect(batches.every((b) => b.events.filter((e) => e.event.case === "textDelta").length <= 1)).toBe(true);
    expect(textOf(batches.flatMap((b) => b.events))).toBe(Array.from({ length: 50 }, (_, i) => `${i},`).join(""));
  });

  it("starting caught up (a long-poll's next poll), gathers for an interval from its start", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
    const log = new MemoryStreamLog("s", { maxEvents: 100, maxBytes: Number.POSITIVE_INFINITY });
    log.appendNow(ev.started("m", "p"));
    const start = performance.now();
    const reader = new LogReader(log, 1, { signal: new AbortController().signal, coalesceLagEvents: 0, intervalMs: 300 });
    let batch: readonly StreamEvent[] | undefined;
    void reader.next().then((b) => (batch = b));
    for (let i = 0; i < 10; i++) {
      log.appendNow(ev.textDelta(`${i}`));
      await vi.advanceTimersByTimeAsync(20);
    }
    expect(batch).toBeUndefined(); // 200 ms in: still gathering
    await vi.advanceTimersByTimeAsync(100);
    expect(performance.now() - start).toBe(300);
    expect(batch?.map((e) => [e.event.case, e.seq])).toEqual([["textDelta", 11]]);
    expect(textOf(batch ?? [])).toBe("0123456789");
  });

  it("leaves the interval's wait when the watcher leaves", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
    const log = new MemoryStreamLog("s", { maxEvents: 100, maxBytes: Number.POSITIVE_INFINITY });
    const ac = new AbortController();
    log.appendNow(ev.started("m", "p"));
    const reader = new LogReader(log, 0, { signal: ac.signal, coalesceLagEvents: 0, intervalMs: 1_000 });
    const first = reader.next();
    await vi.advanceTimersByTimeAsync(1_000);
    await first;
    log.appendNow(ev.textDelta("x"));
    const next = reader.next(); // waits for the rest of the interval
    const left = new Error("the watcher left");
    ac.abort(left);
    await expect(next).rejects.toBe(left);
  });
});
