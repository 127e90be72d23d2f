import { afterEach, describe, expect, it, vi } from "vitest";
import { chooseUpdatePolicy, createUpdatePolicy, defaultUpdateFigures, type LongTaskObserverConstructor } from "./update-policy.js";

/** A fake `navigator.connection`: an EventTarget with the Network Information fields. */
function fakeConnection(fields: { effectiveType?: string; saveData?: boolean; rtt?: number }) {
  return Object.assign(new EventTarget(), fields);
}

/** A fake PerformanceObserver class; `emit(entries)` delivers long-task entries to the observers created. */
function fakeObserver(supported: readonly string[] = ["longtask", "mark"]) {
  const live = new Set<(list: { getEntries(): { startTime: number; duration: number }[] }) => void>();
  const observed: string[] = [];
  class Observer {
    static readonly supportedEntryTypes = supported;
    readonly #cb: (list: { getEntries(): { startTime: number; duration: number }[] }) => void;
    constructor(cb: (list: { getEntries(): { startTime: number; duration: number }[] }) => void) {
      this.#cb = cb;
    }
    observe(o: { type: string }) {
      observed.push(o.type);
      live.add(this.#cb);
    }
    disconnect() {
      live.delete(this.#cb);
    }
  }
  return {
    Observer: Observer as LongTaskObserverConstructor,
    observed,
    get live() {
      return live.size;
    },
    emit: (entries: { startTime: number; duration: number }[]) => {
      for (const cb of live) cb({ getEntries: () => entries });
    },
  };
}

describe("chooseUpdatePolicy", () => {
  const fastDevice = { hardwareConcurrency: 8, deviceMemory: 8 };

  it.each([
    [{ connection: { effectiveType: "slow-2g" }, ...fastDevice }, "slow-link", 500, "effectiveType slow-2g"],
    [{ connection: { effectiveType: "2g" }, ...fastDevice }, "slow-link", 500, "effectiveType 2g"],
    [{ connection: { effectiveType: "4g", saveData: true }, ...fastDevice }, "slow-link", 500, "saveData"],
    [{ connection: { effectiveType: "4g", rtt: 1400 }, ...fastDevice }, "slow-link", 500, "rtt 1400 ms"],
    [{ connection: { effectiveType: "4g", rtt: 1375 }, ...fastDevice }, "fast", 0, "hardwareConcurrency 8"],
    [{ connection: { effectiveType: "3g" }, ...fastDevice }, "default", 100, "effectiveType 3g"],
    [{ connection: { effectiveType: "4g" }, hardwareConcurrency: 2 }, "default", 100, "hardwareConcurrency 2"],
    [{ hardwareConcurrency: 8, deviceMemory: 2 }, "default", 100, "deviceMemory 2 GiB"],
    [{ ...fastDevice, longTaskMs: 250 }, "default", 100, "long tasks 250 ms in 5 s"],
    [{ ...fastDevice, longTaskMs: 120 }, "fast", 0, "hardwareConcurrency 8"],
    [{ hardwareConcurrency: 4 }, "fast", 0, "hardwareConcurrency 4"], // deviceMemory unknown (Firefox, Safari)
    [{}, "default", 100, "hardwareConcurrency unknown"],
  ] as const)("%j → %s every %i ms", (hints, tier, intervalMs, reason) => {
    expect(chooseUpdatePolicy(hints)).toEqual({ ...defaultUpdateFigures[tier], tier, reason });
    expect(defaultUpdateFigures[tier].intervalMs).toBe(intervalMs);
  });

  it("asks the gateway to coalesce only on a slow link, with bigger batches", () => {
    const slow = chooseUpdatePolicy({ connection: { effectiveType: "2g" } });
    const normal = chooseUpdatePolicy({ connection: { effectiveType: "4g" } });
    expect(slow.coalesceMs).toBe(500);
    expect(normal.coalesceMs).toBe(0);
    expect(slow.maxBatch).toBeGreaterThan(normal.maxBatch);
  });

  it("takes figures per tier and fixed figures over the defaults", () => {
    const o = { tiers: { "slow-link": { intervalMs: 1_000 } }, fixed: { coalesceMs: 0 } };
    expect(chooseUpdatePolicy({ connection: { effectiveType: "2g" } }, o)).toMatchObject({
      tier: "slow-link",
      intervalMs: 1_000,
      maxBatch: 4096,
      coalesceMs: 0,
    });
    expect(chooseUpdatePolicy({ connection: { effectiveType: "4g" } }, o)).toMatchObject({
      tier: "default",
      intervalMs: 100,
      coalesceMs: 0,
    });
  });
});

describe("createUpdatePolicy", () => {
  afterEach(() => void vi.useRealTimers());

  it("re-evaluates on the connection's change event and tells subscribers", () => {
    const connection = fakeConnection({ effectiveType: "4g", rtt: 50 });
    const policy = createUpdatePolicy({ navigator: { connection, hardwareConcurrency: 8 }, PerformanceObserver: null });
    expect(policy.current).toMatchObject({ tier: "fast", intervalMs: 0 });
    const seen: string[] = [];
    const unsubscribe = policy.subscribe((p) => seen.push(`${p.tier} ${p.intervalMs}`));
    connection.effectiveType = "slow-2g";
    connection.dispatchEvent(new Event("change"));
    connection.dispatchEvent(new Event("change")); // nothing changed: no call
    expect(seen).toEqual(["slow-link 500"]);
    expect(policy.current.reason).toBe("effectiveType slow-2g");
    connection.effectiveType = "4g";
    connection.saveData = true;
    connection.dispatchEvent(new Event("change"));
    expect(seen).toEqual(["slow-link 500"]); // saveData: still a slow link
    connection.saveData = false;
    connection.dispatchEvent(new Event("change"));
    expect(seen).toEqual(["slow-link 500", "fast 0"]);
    unsubscribe();
    connection.effectiveType = "2g";
    connection.dispatchEvent(new Event("change"));
    expect(seen).toHaveLength(2);
  });

  it("reads navigator on every read (no connection object: the device alone)", () => {
    const nav: { hardwareConcurrency: number; deviceMemory?: number } = { hardwareConcurrency: 8 };
    const policy = createUpdatePolicy({ navigator: nav, PerformanceObserver: null });
    expect(policy.current.tier).toBe("fast");
    nav.deviceMemory = 1;
    expect(policy.current).toMatchObject({ tier: "default", reason: "deviceMemory 1 GiB" });
  });

  it("slows a fast device down under long-task pressure, and speeds it up once the window passed", () => {
    vi.useFakeTimers({ now: 100_000 });
    const obs = fakeObserver();
    const policy = createUpdatePolicy({ navigator: { hardwareConcurrency: 8 }, PerformanceObserver: obs.Observer, now: Date.now });
    expect(obs.observed).toEqual(["longtask"]);
    const seen: string[] = [];
    policy.subscribe((p) => seen.push(p.tier));
    obs.emit([{ startTime: 100_000 - 1_000, duration: 120 }]);
    expect(policy.current.tier).toBe("fast"); // 120 ms < 200 ms
    obs.emit([{ startTime: 100_000 - 500, duration: 90 }]);
    expect(policy.current).toMatchObject({ tier: "default", intervalMs: 100, reason: "long tasks 210 ms in 5 s" });
    expect(seen).toEqual(["default"]);
    vi.advanceTimersByTime(4_100);
    expect(policy.current.tier).toBe("default"); // the first task ended at 99 120: still within 5 s
    vi.advanceTimersByTime(100); // now it left the window
    expect(policy.current.tier).toBe("fast");
    policy.close();
    expect(obs.live).toBe(0);
  });

  it("observes no long tasks where the browser does not report them", () => {
    const obs = fakeObserver(["mark", "measure"]);
    const policy = createUpdatePolicy({ navigator: { hardwareConcurrency: 8 }, PerformanceObserver: obs.Observer });
    expect(obs.observed).toEqual([]);
    expect(policy.current.tier).toBe("fast");
  });

  it("close removes the change listener", () => {
    const connection = fakeConnection({ effectiveType: "4g" });
    const remove = vi.spyOn(connection, "removeEventListener");
    const policy = createUpdatePolicy({ navigator: { connection, hardwareConcurrency: 8 }, PerformanceObserver: null });
    const listener = vi.fn();
    policy.subscribe(listener);
    policy.close();
    expect(remove).toHaveBeenCalledWith("change", expect.any(Function));
    connection.effectiveType = "2g";
    connection.dispatchEvent(new Event("change"));
    expect(listener).not.toHaveBeenCalled();
  });
});
