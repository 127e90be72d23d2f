import { toJson } from "@bufbuild/protobuf";
import { ev, eventKindName, FinishReason, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it, vi } from "vitest";
import { decodeSseEvent, readSseEvents } from "./sse-events.js";

function at(seq: number, e: StreamEvent): StreamEvent {
  return { ...e, streamId: "s", epoch: "E", seq };
}

/** One SSE event as the gateway frames it. */
function frame(e: StreamEvent): string {
  return `id: ${e.epoch}:${e.seq}\nevent: ${eventKindName(e)}\ndata: ${JSON.stringify(toJson(StreamEventSchema, e))}\n\n`;
}

/** A body that delivers `bytes` in chunks of `size` bytes (splitting UTF-8 sequences), then ends or errors. */
function body(bytes: Uint8Array, size: number, error?: unknown): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(c) {
      if (i >= bytes.length) return error === undefined ? c.close() : c.error(error);
      c.enqueue(bytes.slice(i, i + size));
      i += size;
    },
  });
}

async function read(b: ReadableStream<Uint8Array>, maxEventChars?: number): Promise<{ events: StreamEvent[]; error?: ConnectError }> {
  const events: StreamEvent[] = [];
  try {
    for await (const e of readSseEvents(b, maxEventChars)) events.push(e);
    return { events };
  } catch (err) {
    return { events, error: ConnectError.from(err) };
  }
}

const events = [
  at(1, ev.started("sim", "simulator")),
  at(2, ev.textDelta("héllo ")),
  at(3, ev.textDelta("wörld 🌍\nline two")),
  at(4, ev.reasoningDelta("thinking…")),
  at(5, ev.completed(FinishReason.STOP, { inputTokens: 3, outputTokens: 7 })),
];
const wire = new TextEncoder().encode(`: heartbeat\n\n${events.map(frame).join(": hb\n\n").replace(/\n/g, "\r\n")}`);

describe("readSseEvents", () => {
  it.each([1, 2, 3, 7, 64, wire.length])("is independent of chunk boundaries (%i-byte chunks)", async (size) => {
    const got = await read(body(wire, size));
    expect(got.error).toBeUndefined();
    expect(got.events).toEqual(events);
  });

  it("raises an `event: error` as a ConnectError with its code, after the events before it", async () => {
    const text = `${frame(events[0]!)}event: error\ndata: {"code":"resource_exhausted","message":"too many streams"}\n\n${frame(events[1]!)}`;
    const got = await read(body(new TextEncoder().encode(text), 5));
    expect(got.events).toEqual([events[0]]);
    expect(got.error?.code).toBe(Code.ResourceExhausted);
    expect(got.error?.rawMessage).toBe("too many streams");
  });

  it("raises Code.Unavailable when the body breaks off", async () => {
    const got = await read(body(new TextEncoder().encode(`${frame(events[0]!)}data: {"seq`), 4, new TypeError("network error")));
    expect(got.events).toEqual([events[0]]);
    expect(got.error?.code).toBe(Code.Unavailable);
  });

  it("raises Code.ResourceExhausted for an event over maxEventChars", async () => {
    const got = await read(body(new TextEncoder().encode(`data: "${"x".repeat(5000)}"\n\n`), 512), 1000);
    expect(got.error?.code).toBe(Code.ResourceExhausted);
  });

  it("cancels the body when the consumer stops early", async () => {
    let cancelled = false;
    const b = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(frame(events[0]!)));
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const _ of readSseEvents(b)) break;
    await vi.waitFor(() => expect(cancelled).toBe(true)); // cancellation crosses the pipe chain asynchronously
  });
});

describe("decodeSseEvent", () => {
  it("ignores unknown fields and kinds", () => {
    const e = decodeSseEvent("future_kind", `{"streamId":"s","epoch":"E","seq":9,"futureKind":{"x":1}}`);
    expect(e.seq).toBe(9);
    expect(e.event.case).toBeUndefined();
  });

  it("maps an unknown error code to Code.Unknown", () => {
    const err = (() => {
      try {
        decodeSseEvent("error", `{"code":"no_such_code","message":"m"}`);
      } catch (e) {
        return ConnectError.from(e);
      }
    })();
    expect(err?.code).toBe(Code.Unknown);
  });

  it("raises Code.Internal for data that is not a StreamEvent", () => {
    expect(() => decodeSseEvent("text_delta", "not json")).toThrow(expect.objectContaining({ code: Code.Internal }) as Error);
    expect(() => decodeSseEvent("text_delta", `{"seq":"x"}`)).toThrow(expect.objectContaining({ code: Code.Internal }) as Error);
  });
});
