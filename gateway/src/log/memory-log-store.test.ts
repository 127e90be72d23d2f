import { Code, ConnectError } from "@connectrpc/connect";
import { ev, FinishReason } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { MemoryLogStore } from "./memory-log-store.js";
import type { MemoryStreamLog } from "./memory-stream-log.js";

const perStream = { maxEvents: 1000, maxBytes: Number.POSITIVE_INFINITY };
const chunk = "x".repeat(100);

function fill(log: MemoryStreamLog, n: number): void {
  for (let i = 0; i < n; i++) log.appendNow(ev.textDelta(chunk));
}

/** A store of `maxTotalBytes` (0: no total bound) holding one log per entry of `sizes`, filled with that many 100-byte deltas. */
function storeWith(maxTotalBytes: number, sizes: Record<string, number>) {
  const store = new MemoryLogStore({ ...perStream, maxTotalBytes });
  const logs = Object.fromEntries(Object.entries(sizes).map(([id]) => [id, store.create(id) as MemoryStreamLog]));
  for (const [id, n] of Object.entries(sizes)) fill(logs[id] as MemoryStreamLog, n);
  return { store, logs: logs as Record<string, MemoryStreamLog> };
}

function codeOf(f: () => unknown): Code | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

describe("MemoryLogStore", () => {
  it("counts every log's bytes and forgets a released log", () => {
    const { store, logs } = storeWith(0, { a: 3, b: 5 });
    const [a, b] = [logs["a"] as MemoryStreamLog, logs["b"] as MemoryStreamLog];
    expect(store.totalBytes).toBe(a.bytes + b.bytes);
    store.release(a);
    expect(store.totalBytes).toBe(b.bytes);
    fill(a, 2); // a released log no longer counts
    expect(store.totalBytes).toBe(b.bytes);
  });

  it("over the total, trims ended streams first (oldest ended first), keeping their terminal events", () => {
    const store = new MemoryLogStore({ ...perStream, maxTotalBytes: 20_000 });
    const ended1 = store.create("e1") as MemoryStreamLog;
    const ended2 = store.create("e2") as MemoryStreamLog;
    const running = store.create("r") as MemoryStreamLog;
    fill(ended1, 40);
    ended1.appendNow(ev.completed(FinishReason.STOP));
    fill(ended2, 40);
    ended2.appendNow(ev.completed(FinishReason.STOP));
    fill(running, 40);
    const runningFirst = running.first;
    expect(store.totalBytes).toBeLessThanOrEqual(20_000);
    fill(running, 60); // past the total: ended history goes first
    expect(store.totalBytes).toBeLessThanOrEqual(20_000);
    expect(running.first).toBe(runningFirst); // the running stream kept everything
    expect(ended1.size).toBe(1); // the oldest ended stream was trimmed to its terminal event…
    expect(ended1.terminal?.event.case).toBe("completed");
    expect(ended1.readNow(0, { maxEvents: 10, maxBytes: 1e9 })[0]?.event.case).toBe("completed");
    expect(ended2.size).toBeLessThan(41); // …before the next one
    expect(ended2.size).toBeGreaterThan(1);
  });

  it("trims the largest running stream when ended history is not enough, and then refuses new streams", () => {
    const { store, logs } = storeWith(20_000, { small: 20, big: 200 });
    const [small, big] = [logs["small"] as MemoryStreamLog, logs["big"] as MemoryStreamLog];
    expect(store.totalBytes).toBeLessThanOrEqual(20_000);
    expect(small.first).toBe(1);
    expect(big.first).toBeGreaterThan(1);
    expect(store.runningBytes).toBeGreaterThan(20_000 * 0.9 - 200); // full of running answers
    fill(big, 1);
    expect(codeOf(() => store.create("new"))).toBe(Code.ResourceExhausted);
    big.appendNow(ev.completed(FinishReason.STOP));
    expect(codeOf(() => store.create("new"))).toBeUndefined(); // ended history may be trimmed for it
  });

  it("with maxTotalBytes 0 has no total limit", () => {
    const store = new MemoryLogStore({ ...perStream, maxTotalBytes: 0 });
    const a = store.create("a") as MemoryStreamLog;
    fill(a, 500);
    expect(a.first).toBe(1);
    expect(codeOf(() => store.create("b"))).toBeUndefined();
  });
});
