import { create } from "@bufbuild/protobuf";
import { GenerateRequestSchema, Role, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { simulate } from "./simulate.js";
import { createSimulatorProvider } from "./simulator-provider.js";

const req = (metadata: Record<string, string> = {}) =>
  create(GenerateRequestSchema, {
    model: "simulator",
    messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "Describe the tides of the Atlantic" } }] }],
    metadata: { "simulator.output_tokens": "10", ...metadata },
  });

/** A sleep that records the requested waits and returns at once. */
function recordingSleep() {
  const waits: number[] = [];
  return {
    waits,
    sleep: async (ms: number, signal: AbortSignal) => {
      signal.throwIfAborted();
      waits.push(ms);
    },
  };
}

describe("simulator provider", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("yields simulate()'s events, paced: TTFT before the first output, 1/rate between tokens", async () => {
    const { waits, sleep } = recordingSleep();
    const p = createSimulatorProvider({ pacing: { ttftMs: 350, tokensPerS: 40 }, sleep });
    const evs = await Array.fromAsync(p.generate(req(), "default", new AbortController().signal));
    expect(evs).toEqual(simulate(req(), { model: "default" }));
    expect(waits).toEqual([350, ...Array(9).fill(25)]);
  });

  it("lets metadata override the pacing, and the fast model is unpaced", async () => {
    const { waits, sleep } = recordingSleep();
    const p = createSimulatorProvider({ sleep });
    await Array.fromAsync(p.generate(req({ "simulator.ttft_ms": "5", "simulator.tokens_per_s": "1000" }), "default", new AbortController().signal));
    expect(waits).toEqual([5, ...Array(9).fill(1)]);
    waits.length = 0;
    await Array.fromAsync(p.generate(req(), "fast", new AbortController().signal));
    expect(waits).toEqual([]);
  });

  it("paces in real time with the default sleep (fake timers)", async () => {
    vi.useFakeTimers();
    const p = createSimulatorProvider({ pacing: { ttftMs: 350, tokensPerS: 40 } });
    const seen: StreamEvent[] = [];
    const done = (async () => {
      for await (const e of p.generate(req(), "default", new AbortController().signal)) seen.push(e);
    })();
    await vi.advanceTimersByTimeAsync(0);
    expect(seen.map((e) => e.event.case)).toEqual(["started"]);
    await vi.advanceTimersByTimeAsync(349);
    expect(seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(25 * 9);
    await done;
    expect(seen.at(-1)?.event.case).toBe("completed");
  });

  it("stops promptly when the signal aborts, throwing its reason", async () => {
    const p = createSimulatorProvider({ pacing: { ttftMs: 0, tokensPerS: 2 } });
    const ac = new AbortController();
    const it = p.generate(req(), "default", ac.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value?.event.case).toBe("started");
    expect((await it.next()).value?.event.case).toBe("textDelta");
    const pending = it.next();
    const reason = new ConnectError("cancelled", Code.Canceled);
    const t0 = performance.now();
    setTimeout(() => ac.abort(reason), 10);
    await expect(pending).rejects.toBe(reason);
    expect(performance.now() - t0).toBeLessThan(400);
  });

  it("refuses malformed simulator metadata before yielding anything", async () => {
    const p = createSimulatorProvider();
    const e = await Array.fromAsync(p.generate(req({ "simulator.ttft_ms": "soon" }), "default", new AbortController().signal)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
  });
});
