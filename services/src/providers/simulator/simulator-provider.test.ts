import { create } from "@bufbuild/protobuf";
import { GenerateRequestSchema, Role, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createInputChannel } from "../../input-channel.js";
import { simulate } from "./simulate.js";
import { simulateAgent } from "./simulate-agent.js";
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
    expect(evs).toEqual(Array.from(simulate(req(), { model: "default" })));
    expect(waits).toEqual([350, ...Array(9).fill(25)]);
  });

  it("lets metadata override the pacing, and the fast model is unpaced", async () => {
    const { waits, sleep } = recordingSleep();
    const p = createSimulatorProvider({ sleep });
    await Array.fromAsync(
      p.generate(req({ "simulator.ttft_ms": "5", "simulator.tokens_per_s": "1000" }), "default", new AbortController().signal),
    );
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
    const e = await Array.fromAsync(p.generate(req({ "simulator.ttft_ms": "soon" }), "default", new AbortController().signal)).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
  });
});

describe("simulator provider, model agent", () => {
  const agentReq = (metadata: Record<string, string> = {}) =>
    create(GenerateRequestSchema, {
      model: "simulator/agent",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "Compare heat pumps and gas boilers" } }] }],
      metadata,
    });
  /** simulateAgent's events for the answer `answer`. */
  const expected = (r: ReturnType<typeof agentReq>, answer: string) => {
    const g = simulateAgent(r, { model: "agent" });
    const out: StreamEvent[] = [];
    for (let x = g.next(); !x.done; ) {
      out.push(x.value);
      x = g.next(x.value.event.case === "inputRequested" ? answer : undefined);
    }
    return out;
  };

  it("blocks at input_requested until the channel has the answer, then yields simulateAgent's events, paced", async () => {
    const { waits, sleep } = recordingSleep();
    const p = createSimulatorProvider({ pacing: { ttftMs: 100, tokensPerS: 50 }, sleep });
    const inputs = createInputChannel();
    const it = p.generate(agentReq(), "agent", new AbortController().signal, inputs)[Symbol.asyncIterator]();
    const seen: StreamEvent[] = [];
    for (;;) {
      const r = await it.next();
      seen.push(r.value as StreamEvent);
      if (seen.at(-1)?.event.case === "inputRequested") break;
    }
    const q = seen.at(-1)!.event;
    let next: StreamEvent | undefined;
    const pending = it.next().then((r) => (next = r.value as StreamEvent));
    for (let i = 0; i < 5; i++) await new Promise(setImmediate); // let the unpaced run go as far as it can
    expect(next).toBeUndefined(); // still waiting for the answer
    inputs.answer(q.case === "inputRequested" ? q.value.inputId : "", "no");
    await pending;
    expect(next?.event.case).toBe("inputAnswered");
    for (let r = await it.next(); !r.done; r = await it.next()) seen.push(r.value);
    const all = [...seen];
    all.splice(all.findIndex((e) => e.event.case === "inputRequested") + 1, 0, next!);
    expect(all).toEqual(expected(agentReq(), "no"));
    // TTFT first, 20 ms per token, a search takes 4 token intervals; nothing else waits.
    expect(waits[0]).toBe(100);
    expect(new Set(waits.slice(1))).toEqual(new Set([20, 80]));
  });

  it("ends with failed INPUT_UNAVAILABLE without an input channel (plain Generate) or when it closes", async () => {
    const p = createSimulatorProvider({ sleep: recordingSleep().sleep });
    const plain = await Array.fromAsync(p.generate(agentReq(), "agent", new AbortController().signal));
    expect(plain.at(-2)?.event.case).toBe("inputRequested");
    expect(plain.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "INPUT_UNAVAILABLE" } });
    const inputs = createInputChannel();
    const seen: StreamEvent[] = [];
    for await (const e of p.generate(agentReq(), "agent", new AbortController().signal, inputs)) {
      seen.push(e);
      if (e.event.case === "inputRequested") inputs.close(); // the caller closed its side before answering
    }
    expect(seen.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "INPUT_UNAVAILABLE" } });
  });

  it("stops while waiting for input when the signal aborts, throwing its reason", async () => {
    const p = createSimulatorProvider({ sleep: recordingSleep().sleep });
    const ac = new AbortController();
    const seen: string[] = [];
    const run = (async () => {
      for await (const e of p.generate(agentReq(), "agent", ac.signal, createInputChannel())) {
        seen.push(e.event.case ?? "");
        if (e.event.case === "inputRequested") setTimeout(() => ac.abort(reason), 0); // fires while it waits
      }
    })();
    const reason = new ConnectError("cancelled", Code.Canceled);
    await expect(run).rejects.toBe(reason);
    expect(seen.at(-1)).toBe("inputRequested");
  });
});
