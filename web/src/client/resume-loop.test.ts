import { create } from "@bufbuild/protobuf";
import { type Cursor, ev, FinishReason, ResumeOutcome, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createConnectionGuard } from "./connection-guard.js";
import { type BackoffOptions, type FallbackInfo, streamWithResume, watchWithResume } from "./resume-loop.js";
import type { StreamTransport } from "./transport.js";

/** Positions an unpositioned event. */
function at(epoch: string, seq: number, e: StreamEvent): StreamEvent {
  return { ...e, streamId: "s", epoch, seq };
}
const started = (seq: number, epoch = "E") => at(epoch, seq, ev.started("sim", "simulator"));
const text = (seq: number, t: string, epoch = "E") => at(epoch, seq, ev.textDelta(t));
const done = (seq: number, epoch = "E") => at(epoch, seq, ev.completed(FinishReason.STOP));
const resumed = (outcome: ResumeOutcome, cursor: string) =>
  create(StreamEventSchema, { streamId: "s", event: { case: "resumed", value: { outcome, cursor } } });

/** One scripted attempt: these events, then an error, a hang until aborted, or a clean end. */
interface Step {
  events: StreamEvent[];
  error?: ConnectError;
  hang?: boolean;
}
interface Call {
  method: "create" | "watch";
  streamId: string;
  cursor?: Cursor | undefined;
  signal: AbortSignal;
}

/** An in-memory transport that plays `steps`, one per create/watch call. */
function fakeTransport(steps: Step[]): { transport: StreamTransport; calls: Call[] } {
  const calls: Call[] = [];
  async function* play(signal: AbortSignal): AsyncGenerator<StreamEvent> {
    const step = steps[calls.length - 1];
    if (!step) throw new Error(`unexpected call #${calls.length}`);
    for (const e of step.events) yield e;
    if (step.error) throw step.error;
    if (step.hang) {
      await new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(new ConnectError("aborted", Code.Canceled)), { once: true }),
      );
    }
  }
  return {
    calls,
    transport: {
      create(req, signal) {
        calls.push({ method: "create", streamId: req.streamId, signal });
        return play(signal);
      },
      watch(streamId, cursor, signal) {
        calls.push({ method: "watch", streamId, cursor, signal });
        return play(signal);
      },
      cancel: async () => {},
      sendInput: async (_id, inputId) => inputId,
    },
  };
}

/** Backoff with no real sleeps: records each requested delay. */
function recordedBackoff(o: Partial<BackoffOptions> = {}): { backoff: BackoffOptions; delays: number[] } {
  const delays: number[] = [];
  return { delays, backoff: { random: () => 1, delay: async (ms) => void delays.push(ms), ...o } };
}

async function collect(it: AsyncIterable<StreamEvent>): Promise<string[]> {
  const out: string[] = [];
  for await (const e of it) out.push(describeEvent(e));
  return out;
}
function describeEvent(e: StreamEvent): string {
  switch (e.event.case) {
    case "textDelta":
      return `${e.epoch}:${e.seq} text ${e.event.value.text}`;
    case "resumed":
      return `resumed ${ResumeOutcome[e.event.value.outcome]} ${e.event.value.cursor}`;
    default:
      return `${e.epoch}:${e.seq} ${e.event.case ?? "unknown"}`;
  }
}
const unavailable = () => new ConnectError("connection lost", Code.Unavailable);
const req = { request: { model: "simulator" } };

describe("streamWithResume", () => {
  it("yields a stream to its terminal event with a client-chosen id", async () => {
    const { transport, calls } = fakeTransport([{ events: [started(1), text(2, "hi"), done(3), text(4, "after")] }]);
    const s = streamWithResume(transport, req);
    expect(s.streamId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await collect(s)).toEqual(["E:1 started", "E:2 text hi", "E:3 completed"]);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.streamId).toBe(s.streamId);
    expect(calls[0]?.signal.aborted).toBe(true); // the attempt's connection is released after the terminal event
  });

  it("resumes after a retryable error from the last cursor and drops duplicates", async () => {
    const { transport, calls } = fakeTransport([
      { events: [started(1), text(2, "a")], error: unavailable() },
      { events: [resumed(ResumeOutcome.RECOVERED, "E:2"), text(1, "dup"), text(2, "dup"), text(3, "b"), done(4)] },
    ]);
    const { backoff, delays } = recordedBackoff();
    const retries: unknown[] = [];
    const s = streamWithResume(transport, req, { streamId: "fixed-id-0000000000000000", backoff, onRetry: (r) => retries.push(r) });
    expect(await collect(s)).toEqual(["E:1 started", "E:2 text a", "resumed RECOVERED E:2", "E:3 text b", "E:4 completed"]);
    expect(calls.map((c) => [c.method, c.streamId, c.cursor])).toEqual([
      ["create", "fixed-id-0000000000000000", undefined],
      ["watch", "fixed-id-0000000000000000", { epoch: "E", seq: 2 }],
    ]);
    expect(delays).toEqual([250]);
    expect(retries).toEqual([{ attempt: 1, delayMs: 250, error: unavailable(), cursor: { epoch: "E", seq: 2 } }]);
  });

  it("resumes when a response ends before its terminal event", async () => {
    const { transport, calls } = fakeTransport([{ events: [started(1)] }, { events: [done(2)] }]);
    const { backoff } = recordedBackoff();
    expect(await collect(streamWithResume(transport, req, { backoff }))).toEqual(["E:1 started", "E:2 completed"]);
    expect(calls[1]?.cursor).toEqual({ epoch: "E", seq: 1 });
  });

  it("repeats the idempotent create when it fails before the first event", async () => {
    const { transport, calls } = fakeTransport([
      { events: [], error: new ConnectError("busy", Code.ResourceExhausted) },
      { events: [], error: new TypeError("Failed to fetch") as unknown as ConnectError },
      { events: [started(1), done(2)] },
    ]);
    const { backoff, delays } = recordedBackoff();
    const s = streamWithResume(transport, req, { backoff });
    expect(await collect(s)).toEqual(["E:1 started", "E:2 completed"]);
    expect(calls.map((c) => [c.method, c.streamId])).toEqual([
      ["create", s.streamId],
      ["create", s.streamId],
      ["create", s.streamId],
    ]);
    expect(delays).toEqual([250, 500]);
  });

  it("rethrows a non-retryable error without retrying", async () => {
    const { transport, calls } = fakeTransport([
      { events: [started(1)], error: unavailable() },
      { events: [], error: new ConnectError("trimmed", Code.OutOfRange) },
    ]);
    const { backoff } = recordedBackoff();
    const got: string[] = [];
    const err = await (async () => {
      for await (const e of streamWithResume(transport, req, { backoff })) got.push(describeEvent(e));
    })().catch((e: unknown) => e);
    expect(got).toEqual(["E:1 started"]);
    expect(ConnectError.from(err).code).toBe(Code.OutOfRange);
    expect(calls).toHaveLength(2);
  });

  it("gives up after maxAttempts retries without progress, with capped exponential backoff", async () => {
    const steps = Array.from({ length: 8 }, () => ({ events: [], error: unavailable() }));
    const { transport, calls } = fakeTransport(steps);
    const { backoff, delays } = recordedBackoff({ maxAttempts: 7, maxDelayMs: 4000 });
    const err = await collect(streamWithResume(transport, req, { backoff })).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.Unavailable);
    expect(calls).toHaveLength(8);
    expect(delays).toEqual([250, 500, 1000, 2000, 4000, 4000, 4000]);
  });

  it("applies jitter between half and all of the delay", async () => {
    const { transport } = fakeTransport([{ events: [], error: unavailable() }, { events: [started(1), done(2)] }]);
    const { backoff, delays } = recordedBackoff({ random: () => 0, initialDelayMs: 1000 });
    await collect(streamWithResume(transport, req, { backoff }));
    expect(delays).toEqual([500]);
  });

  it("resets the attempt count on progress", async () => {
    const { transport } = fakeTransport([
      { events: [started(1)], error: unavailable() },
      { events: [], error: unavailable() },
      { events: [text(2, "x")], error: unavailable() },
      { events: [done(3)] },
    ]);
    const { backoff, delays } = recordedBackoff();
    await collect(streamWithResume(transport, req, { backoff }));
    expect(delays).toEqual([250, 500, 250]);
  });

  it("yields an epoch change so the consumer can reset, then replays the new epoch", async () => {
    const { transport, calls } = fakeTransport([
      { events: [started(1), text(2, "old"), text(3, "old")], error: unavailable() },
      { events: [resumed(ResumeOutcome.EPOCH_CHANGED, "F:0"), started(1, "F")], error: unavailable() },
      { events: [resumed(ResumeOutcome.RECOVERED, "F:1"), text(2, "new", "F"), done(3, "F")] },
    ]);
    const { backoff } = recordedBackoff();
    expect(await collect(streamWithResume(transport, req, { backoff }))).toEqual([
      "E:1 started",
      "E:2 text old",
      "E:3 text old",
      "resumed EPOCH_CHANGED F:0",
      "F:1 started",
      "resumed RECOVERED F:1",
      "F:2 text new",
      "F:3 completed",
    ]);
    expect(calls.map((c) => c.cursor)).toEqual([undefined, { epoch: "E", seq: 3 }, { epoch: "F", seq: 1 }]);
  });

  it("continues after the cursor a not-recovered resume names (trimmed), and from it on the next cut", async () => {
    const { transport, calls } = fakeTransport([
      { events: [started(1), text(2, "a")], error: unavailable() },
      { events: [resumed(ResumeOutcome.TRIMMED, "E:5"), text(6, "f")], error: unavailable() },
      { events: [resumed(ResumeOutcome.RECOVERED, "E:6"), done(7)] },
    ]);
    const { backoff } = recordedBackoff();
    expect(await collect(streamWithResume(transport, req, { backoff }))).toEqual([
      "E:1 started",
      "E:2 text a",
      "resumed TRIMMED E:5",
      "E:6 text f",
      "resumed RECOVERED E:6",
      "E:7 completed",
    ]);
    expect(calls.map((c) => c.cursor)).toEqual([undefined, { epoch: "E", seq: 2 }, { epoch: "E", seq: 6 }]);
  });

  it("replays from the named cursor after an unknown cursor, instead of dropping the replay as seen", async () => {
    const { transport } = fakeTransport([
      { events: [started(1), text(2, "a"), text(3, "b")], error: unavailable() },
      { events: [resumed(ResumeOutcome.UNKNOWN_CURSOR, "E:0"), started(1), text(2, "a"), done(3)] },
    ]);
    const { backoff } = recordedBackoff();
    expect(await collect(streamWithResume(transport, req, { backoff }))).toEqual([
      "E:1 started",
      "E:2 text a",
      "E:3 text b",
      "resumed UNKNOWN_CURSOR E:0",
      "E:1 started",
      "E:2 text a",
      "E:3 completed",
    ]);
  });

  it("announces an epoch change the transport did not", async () => {
    const { transport } = fakeTransport([
      { events: [started(1), text(2, "old")], error: unavailable() },
      { events: [started(1, "F"), done(2, "F")] },
    ]);
    const { backoff } = recordedBackoff();
    expect(await collect(streamWithResume(transport, req, { backoff }))).toEqual([
      "E:1 started",
      "E:2 text old",
      "resumed EPOCH_CHANGED F:0",
      "F:1 started",
      "F:2 completed",
    ]);
  });

  it("consumes heartbeats without yielding them", async () => {
    const hb = create(StreamEventSchema, { event: { case: "heartbeat", value: {} } });
    const { transport } = fakeTransport([{ events: [hb, started(1), hb, hb, done(2)] }]);
    expect(await collect(streamWithResume(transport, req))).toEqual(["E:1 started", "E:2 completed"]);
  });

  it("ends at a failed event without retrying it", async () => {
    const failed = at("E", 2, ev.failed(Code.Unavailable, "upstream down", "UPSTREAM_UNAVAILABLE"));
    const { transport, calls } = fakeTransport([{ events: [started(1), failed] }]);
    expect(await collect(streamWithResume(transport, req))).toEqual(["E:1 started", "E:2 failed"]);
    expect(calls).toHaveLength(1);
  });

  it("stops with Code.Canceled when aborted while waiting for events", async () => {
    const { transport, calls } = fakeTransport([{ events: [started(1)], hang: true }]);
    const ac = new AbortController();
    const got: string[] = [];
    const err = await (async () => {
      for await (const e of streamWithResume(transport, req, { signal: ac.signal })) {
        got.push(describeEvent(e));
        setTimeout(() => ac.abort(), 1);
      }
    })().catch((e: unknown) => e);
    expect(got).toEqual(["E:1 started"]);
    expect(ConnectError.from(err).code).toBe(Code.Canceled);
    expect(calls[0]?.signal.aborted).toBe(true);
  });

  it("stops with Code.Canceled when aborted during the backoff", async () => {
    const { transport, calls } = fakeTransport([{ events: [started(1)], error: unavailable() }]);
    const ac = new AbortController();
    const backoff: BackoffOptions = {
      // The real delay, with a long wait that only the abort can end.
      initialDelayMs: 60_000,
      delay: (ms, signal) => {
        queueMicrotask(() => ac.abort());
        return new Promise((resolve, reject) => {
          const t = setTimeout(resolve, ms);
          signal.addEventListener("abort", () => (clearTimeout(t), reject(new ConnectError("aborted", Code.Canceled))), { once: true });
        });
      },
    };
    const err = await collect(streamWithResume(transport, req, { signal: ac.signal, backoff })).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.Canceled);
    expect(calls).toHaveLength(1);
  });

  it("does not start when the signal is already aborted", async () => {
    const { transport, calls } = fakeTransport([]);
    const err = await collect(streamWithResume(transport, req, { signal: AbortSignal.abort() })).catch((e: unknown) => e);
    expect(ConnectError.from(err).code).toBe(Code.Canceled);
    expect(calls).toHaveLength(0);
  });

  it("releases the attempt when the consumer stops early", async () => {
    const { transport, calls } = fakeTransport([{ events: [started(1)], hang: true }]);
    for await (const _ of streamWithResume(transport, req)) break;
    expect(calls[0]?.signal.aborted).toBe(true);
  });

  it("does not modify the caller's request", async () => {
    const { transport, calls } = fakeTransport([{ events: [done(1)] }]);
    const r = { request: { model: "simulator" }, streamId: "" };
    const s = streamWithResume(transport, r);
    await collect(s);
    expect(r.streamId).toBe("");
    expect(calls[0]?.streamId).toBe(s.streamId);
  });
});

describe("watchWithResume", () => {
  it("starts with watch from the given cursor text and resumes from the last event", async () => {
    const { transport, calls } = fakeTransport([
      { events: [resumed(ResumeOutcome.RECOVERED, "E:2"), text(3, "c")], error: new ConnectError("cut", Code.Unavailable) },
      { events: [text(3, "c"), done(4)] },
    ]);
    const { backoff } = recordedBackoff();
    const out = await collect(watchWithResume(transport, "s", "E:2", { backoff }));
    expect(out).toEqual(["resumed RECOVERED E:2", "E:3 text c", "E:4 completed"]);
    expect(calls.map((c) => [c.method, c.cursor])).toEqual([
      ["watch", { epoch: "E", seq: 2 }],
      ["watch", { epoch: "E", seq: 3 }],
    ]);
  });

  it("watches from the first event without a cursor, never creating", async () => {
    const { transport, calls } = fakeTransport([
      { events: [], error: new ConnectError("cut", Code.Unavailable) },
      { events: [started(1), done(2)] },
    ]);
    const out = await collect(watchWithResume(transport, "s", undefined, { backoff: recordedBackoff().backoff }));
    expect(out).toEqual(["E:1 started", "E:2 completed"]);
    expect(calls.map((c) => [c.method, c.cursor])).toEqual([
      ["watch", undefined],
      ["watch", undefined],
    ]);
  });

  it("raises Code.InvalidArgument for a malformed cursor text without calling the transport", async () => {
    const { transport, calls } = fakeTransport([]);
    await expect(collect(watchWithResume(transport, "s", "nope", {}))).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(calls).toHaveLength(0);
  });
});

describe("adaptive fallback", () => {
  const cut = () => new ConnectError("cut", Code.Unavailable);

  function chainOf(...names: string[]) {
    const fakes = names.map((name) => ({ name, fake: fakeTransport(stepsFor[name] ?? []) }));
    return { lanes: fakes.map((f) => ({ name: f.name, transport: f.fake.transport })), fakes };
  }
  let stepsFor: Record<string, Step[]> = {};

  it("moves to the next transport after fallbackAfter failures in a row, keeping the cursor", async () => {
    stepsFor = {
      ws: [
        { events: [started(1), text(2, "a")], error: cut() },
        { events: [], error: cut() },
        { events: [], error: cut() },
      ],
      sse: [{ events: [text(2, "a"), text(3, "b"), done(4)] }],
    };
    const { lanes, fakes } = chainOf("ws", "sse");
    const fallbacks: FallbackInfo[] = [];
    const { backoff, delays } = recordedBackoff();
    const out = await collect(
      streamWithResume(lanes, { streamId: "s" }, { backoff, fallbackAfter: 3, onFallback: (f) => fallbacks.push(f) }),
    );
    expect(out).toEqual(["E:1 started", "E:2 text a", "E:3 text b", "E:4 completed"]);
    expect(fakes[0]?.fake.calls.map((c) => c.method)).toEqual(["create", "watch", "watch"]);
    expect(fakes[1]?.fake.calls.map((c) => [c.method, c.cursor])).toEqual([["watch", { epoch: "E", seq: 2 }]]);
    expect(fallbacks.map((f) => [f.from, f.to, f.error.code, f.cursor])).toEqual([["ws", "sse", Code.Unavailable, { epoch: "E", seq: 2 }]]);
    expect(delays).toHaveLength(2); // no wait before the first attempt on the new transport
  });

  it("does not fall back while attempts make progress", async () => {
    stepsFor = {
      ws: [
        { events: [started(1)], error: cut() },
        { events: [text(2, "a")], error: cut() },
        { events: [text(3, "b")], error: cut() },
        { events: [text(4, "c")], error: cut() },
        { events: [done(5)] },
      ],
      sse: [],
    };
    const { lanes, fakes } = chainOf("ws", "sse");
    const fallbacks: FallbackInfo[] = [];
    const out = await collect(
      streamWithResume(
        lanes,
        { streamId: "s" },
        { backoff: recordedBackoff().backoff, fallbackAfter: 2, onFallback: (f) => fallbacks.push(f) },
      ),
    );
    expect(out).toHaveLength(5);
    expect(fallbacks).toEqual([]);
    expect(fakes[1]?.fake.calls).toHaveLength(0);
  });

  it("walks the whole chain in order and repeats the idempotent create on the next transport", async () => {
    stepsFor = {
      ws: [{ events: [], error: cut() }],
      sse: [{ events: [], error: cut() }],
      poll: [{ events: [started(1), done(2)] }],
    };
    const { lanes, fakes } = chainOf("ws", "sse", "poll");
    const fallbacks: string[] = [];
    const out = await collect(
      streamWithResume(
        lanes,
        { streamId: "s" },
        { backoff: recordedBackoff().backoff, fallbackAfter: 1, onFallback: (f) => fallbacks.push(`${f.from}>${f.to}`) },
      ),
    );
    expect(out).toEqual(["E:1 started", "E:2 completed"]);
    expect(fallbacks).toEqual(["ws>sse", "sse>poll"]);
    expect(fakes.map((f) => f.fake.calls.map((c) => `${c.method} ${c.streamId}`))).toEqual([["create s"], ["create s"], ["create s"]]);
  });

  it("stays on the last transport and gives up after maxAttempts over the whole chain", async () => {
    stepsFor = {
      ws: [
        { events: [], error: cut() },
        { events: [], error: cut() },
      ],
      sse: Array.from({ length: 10 }, () => ({ events: [], error: cut() })),
    };
    const { lanes, fakes } = chainOf("ws", "sse");
    const err = await collect(
      streamWithResume(lanes, {}, { backoff: recordedBackoff({ maxAttempts: 5 }).backoff, fallbackAfter: 2 }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.Unavailable });
    expect(fakes.map((f) => f.fake.calls.length)).toEqual([2, 4]); // 1 + 5 retries = 6 attempts
  });

  it("never falls back on a non-retryable error, nor on the user's stop", async () => {
    stepsFor = { ws: [{ events: [], error: new ConnectError("no such stream", Code.NotFound) }], sse: [] };
    const a = chainOf("ws", "sse");
    await expect(collect(watchWithResume(a.lanes, "s", undefined, { fallbackAfter: 1 }))).rejects.toMatchObject({ code: Code.NotFound });
    expect(a.fakes[1]?.fake.calls).toHaveLength(0);

    stepsFor = { ws: [{ events: [started(1)], hang: true }], sse: [] };
    const b = chainOf("ws", "sse");
    const ctl = new AbortController();
    const it = streamWithResume(b.lanes, {}, { signal: ctl.signal, fallbackAfter: 1 })[Symbol.asyncIterator]();
    await it.next();
    const pending = it.next();
    ctl.abort();
    await expect(pending).rejects.toMatchObject({ code: Code.Canceled });
    expect(b.fakes[1]?.fake.calls).toHaveLength(0);
  });
});

describe("retry hints and the connection guard", () => {
  it("waits at least the error's retry-after-ms", async () => {
    const hinted = new ConnectError("busy", Code.ResourceExhausted, { "retry-after-ms": "1500" });
    const { transport } = fakeTransport([{ events: [], error: hinted }, { events: [started(1), done(2)] }]);
    const { backoff, delays } = recordedBackoff();
    await collect(streamWithResume(transport, {}, { backoff }));
    expect(delays).toEqual([1500]);
  });

  it("ends an older iteration of the same stream with Code.Canceled before the new one connects", async () => {
    const guard = createConnectionGuard();
    const { transport, calls } = fakeTransport([{ events: [started(1)], hang: true }, { events: [started(1), done(2)] }]);
    const stream = watchWithResume(transport, "s", undefined, { guard });
    const first = stream[Symbol.asyncIterator]();
    await first.next();
    const pending = first.next();
    const second = await collect(stream);
    expect(calls[0]?.signal.aborted).toBe(true);
    expect(second).toEqual(["E:1 started", "E:2 completed"]);
    const err = await pending.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.Canceled });
    expect(String((err as ConnectError).message)).toMatch(/opened again in this page/);
    expect(guard.live()).toEqual([]);
  });

  it("asks every attempt for the coalescing interval of that moment, on the create and on watches", async () => {
    const seen: string[] = [];
    const transport: StreamTransport = {
      async *create(req) {
        seen.push(`create ${req.coalesceMs}`);
        yield started(1);
        yield text(2, "a");
        throw new ConnectError("cut", Code.Unavailable);
      },
      async *watch(_id, cursor, _signal, filter) {
        seen.push(`watch after ${cursor?.seq} ${filter?.coalesceMs}`);
        yield text(3, "b");
        yield done(4);
      },
      cancel: async () => {},
      sendInput: async (_id, inputId) => inputId,
    };
    const intervals = [0, 500];
    const out = await collect(
      streamWithResume(
        transport,
        { request: { model: "m" } },
        { backoff: recordedBackoff().backoff, coalesceMs: () => intervals.shift() ?? 0 },
      ),
    );
    expect(seen).toEqual(["create 0", "watch after 2 500"]); // the link turned slow before the resume
    expect(out.filter((x) => x.includes("text"))).toEqual(["E:2 text a", "E:3 text b"]);
  });
});
