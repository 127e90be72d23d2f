import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it, vi } from "vitest";
import { stopOnSignals } from "./stop-on-signals.js";

function setup(stop: () => Promise<void>) {
  const source = new EventEmitter();
  const exits: number[] = [];
  stopOnSignals(source, { stop, exit: (c) => exits.push(c), hardDeadlineMs: 15_000 });
  return { source, exits };
}

describe("stopOnSignals", () => {
  afterEach(() => vi.useRealTimers());

  it("on SIGTERM stops gracefully, then exits 0", async () => {
    let release!: () => void;
    const stop = vi.fn(() => new Promise<void>((r) => (release = r)));
    const { source, exits } = setup(stop);
    source.emit("SIGTERM");
    expect(stop).toHaveBeenCalledTimes(1);
    await Promise.resolve();
    expect(exits).toEqual([]); // still stopping
    release();
    await vi.waitFor(() => expect(exits).toEqual([0]));
  });

  it("a second signal exits 1 at once", () => {
    const { source, exits } = setup(() => new Promise<void>(() => {}));
    source.emit("SIGINT");
    source.emit("SIGTERM");
    expect(exits).toEqual([1]);
  });

  it("exits 1 when stopping fails or outlives the hard deadline", async () => {
    vi.useFakeTimers();
    const failing = setup(() => Promise.reject(new Error("boom")));
    failing.source.emit("SIGTERM");
    await vi.advanceTimersByTimeAsync(0);
    expect(failing.exits).toEqual([1]);

    const stuck = setup(() => new Promise<void>(() => {}));
    stuck.source.emit("SIGTERM");
    await vi.advanceTimersByTimeAsync(14_999);
    expect(stuck.exits).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(stuck.exits).toEqual([1]);
  });
});
