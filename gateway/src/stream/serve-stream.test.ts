import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ev, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { describe, expect, it, vi } from "vitest";
import type { ByteSink, Frame } from "./byte-sink.js";
import { ndjsonEncoder } from "./encoder.js";
import { serveStream } from "./serve-stream.js";

const logged = (seq: number): StreamEvent => create(StreamEventSchema, { ...ev.textDelta(`t${seq}`), streamId: "s1", epoch: "e", seq });

/** A source of `events` that then fails with `fail` (if given) and records whether it was closed. */
function source(events: StreamEvent[], fail?: Error) {
  const state = { closed: false };
  async function* gen() {
    try {
      yield* events;
      if (fail) throw fail;
    } finally {
      state.closed = true;
    }
  }
  return { events: gen(), state };
}

/** A sink that records frames; `answer` decides what each write returns. */
function sink(answer: (frame: Frame, i: number) => Promise<void> | undefined = () => undefined) {
  const frames: Frame[] = [];
  const close = vi.fn<() => void>();
  const s: ByteSink = { close, write: (f) => answer(f, frames.push(f) - 1) };
  return { ...s, frames, close };
}

const opts = (o: Partial<Parameters<typeof serveStream>[3]> = {}) => ({ idleMs: 0, signal: new AbortController().signal, ...o });

describe("serveStream", () => {
  it("writes the first event, pulled before, then the rest, then closes the sink", async () => {
    const { events, state } = source([logged(1), logged(2), logged(3)]);
    const first = await events.next();
    const out = sink();
    await serveStream(events, ndjsonEncoder, out, opts({ first: first.value as StreamEvent }));
    expect(out.frames).toEqual([1, 2, 3].map((n) => ndjsonEncoder.event(logged(n))));
    expect(out.close).toHaveBeenCalledOnce();
    expect(state.closed).toBe(true);
  });

  it("waits for a drain only when the sink asks, and writes nothing meanwhile", async () => {
    const { events } = source([logged(1), logged(2), logged(3)]);
    let drain!: () => void;
    const drained = new Promise<void>((resolve) => (drain = resolve));
    const out = sink((_, i) => (i === 1 ? drained : undefined));
    const done = serveStream(events, ndjsonEncoder, out, opts());
    await vi.waitFor(() => expect(out.frames).toHaveLength(2));
    await new Promise((r) => setImmediate(r));
    expect(out.frames).toHaveLength(2); // the third waits for the drain
    drain();
    await done;
    expect(out.frames).toHaveLength(3);
  });

  it("closes the events when the first write fails (the client left)", async () => {
    const { events, state } = source([logged(1), logged(2)]);
    const first = await events.next(); // the source is started: closing it runs its cleanup
    const out = sink(() => Promise.reject(new ConnectError("client went away", Code.Canceled)));
    const onError = vi.fn();
    await serveStream(events, ndjsonEncoder, out, opts({ first: first.value as StreamEvent, onError }));
    await vi.waitFor(() => expect(state.closed).toBe(true));
    expect(out.frames).toHaveLength(1);
    expect(out.close).toHaveBeenCalledOnce();
    expect(onError).not.toHaveBeenCalled();
  });

  it("reports an error after the start in the encoder's format, hiding internal text", async () => {
    const { events } = source([logged(1)], new Error("db password is hunter2"));
    const out = sink();
    const onError = vi.fn();
    await serveStream(events, ndjsonEncoder, out, opts({ onError }));
    expect(out.frames.at(-1)).toBe(`{"error":{"code":"internal","message":"internal error"}}\n`);
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ code: Code.Internal }));
  });

  it("ends silently when the socket does not drain in time", async () => {
    const { events, state } = source([logged(1), logged(2)]);
    const out = sink(() => Promise.reject(new ConnectError("client too slow", Code.DeadlineExceeded)));
    const onError = vi.fn();
    await serveStream(events, ndjsonEncoder, out, opts({ onError }));
    expect(out.frames).toHaveLength(1);
    expect(onError).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(state.closed).toBe(true));
  });
});
