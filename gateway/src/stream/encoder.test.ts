import { create, toJsonString } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ev, FinishReason, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { describe, expect, it, vi } from "vitest";
import { ndjsonEncoder, oncePerEvent, sseEndRetryMs, sseEncoder, sseRetryMs } from "./encoder.js";

function logged(text: string, seq: number, streamId = "s_AbCdEfGhIjKlMnOpQrStUv"): StreamEvent {
  return create(StreamEventSchema, {
    ...ev.textDelta(text),
    streamId,
    epoch: "ep1",
    seq,
    appendedAt: { $typeName: "google.protobuf.Timestamp", seconds: 1_763_740_800n, nanos: 0 },
  });
}

describe("sseEncoder", () => {
  it("frames a logged event with its cursor as id, its kind and its canonical JSON", () => {
    const e = logged("hé", 3);
    expect(sseEncoder.event(e)).toBe(`id: ep1:3\nevent: text_delta\ndata: ${toJsonString(StreamEventSchema, e)}\n\n`);
  });

  it("gives resumed the cursor it continues after, and unlogged events no id", () => {
    const resumed = create(StreamEventSchema, { event: { case: "resumed", value: { cursor: "ep1:9" } } });
    expect(sseEncoder.event(resumed)).toBe(`id: ep1:9\nevent: resumed\ndata: ${toJsonString(StreamEventSchema, resumed)}\n\n`);
    expect(sseEncoder.event(ev.heartbeat())).toBe(`event: heartbeat\ndata: {"heartbeat":{}}\n\n`);
  });

  it("asks EventSource to come back at once after the terminal event (for its 204)", () => {
    for (const terminal of [ev.completed(FinishReason.STOP), ev.failed(Code.Canceled, "cancelled by the client", "CLIENT_CANCELLED")]) {
      const e = create(StreamEventSchema, { ...terminal, streamId: "s_x", epoch: "ep1", seq: 7 });
      expect(sseEncoder.event(e)).toMatch(new RegExp(`^id: ep1:7\nretry: ${sseEndRetryMs}\nevent: [a-z_]+\n`));
    }
    expect(sseEncoder.event(logged("x", 6))).not.toContain("retry:");
  });

  it("writes heartbeats as a comment with retry, and errors as event: error", () => {
    expect(sseEncoder.heartbeat()).toBe(`: heartbeat\nretry: ${sseRetryMs}\n\n`);
    expect(sseEncoder.error(new ConnectError("gone", Code.Unavailable))).toBe(
      `event: error\ndata: {"code":"unavailable","message":"gone"}\n\n`,
    );
  });
});

describe("ndjsonEncoder", () => {
  it("writes one line per event, heartbeat and error", () => {
    const e = logged("x", 4);
    expect(ndjsonEncoder.event(e)).toBe(`{"cursor":"ep1:4","event":${toJsonString(StreamEventSchema, e)}}\n`);
    expect(ndjsonEncoder.event(ev.heartbeat())).toBe(`{"event":{"heartbeat":{}}}\n`);
    expect(ndjsonEncoder.heartbeat()).toBe(`{"heartbeat":{}}\n`);
    expect(ndjsonEncoder.error(new ConnectError("late", Code.DeadlineExceeded))).toBe(
      `{"error":{"code":"deadline_exceeded","message":"late"}}\n`,
    );
  });
});

describe("oncePerEvent", () => {
  it("encodes an event once for all the watchers reading it", () => {
    const encode = vi.fn((e: StreamEvent) => `#${e.seq}`);
    const once = oncePerEvent(encode);
    const events = Array.from({ length: 50 }, (_, i) => logged("t", i + 1));
    for (let watcher = 0; watcher < 3; watcher++) for (const e of events) once(e);
    expect(encode).toHaveBeenCalledTimes(50);
  });

  it("never answers for another event, whatever shares its slot", () => {
    const once = oncePerEvent((e) => `${e.streamId}:${e.seq}`);
    // Same seq, many stream ids: some share a slot and evict each other.
    const events = Array.from({ length: 2000 }, (_, i) => logged("t", 5, `s_${i.toString(36).padStart(22, "0")}`));
    for (let round = 0; round < 2; round++) for (const e of events) expect(once(e)).toBe(`${e.streamId}:5`);
    // An equal but distinct object is another event.
    const a = logged("t", 6);
    const b = logged("t", 6);
    const tagged = oncePerEvent((e) => (e === a ? "a" : "b"));
    expect([tagged(a), tagged(b), tagged(a)]).toEqual(["a", "b", "a"]);
  });
});
