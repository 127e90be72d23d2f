import { ev, FinishReason, isTerminal, type StreamEvent } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { adapt, type Mapper, mapChunks, mapStream } from "./adapt.js";
import { kinds } from "./testing/stream-events.js";

/** A mapper that does whatever its chunks say, with no guard of its own: `t` text, `c` completed, `f` failed, `x` nothing at the end. */
const literal: Mapper<string, { calls: number }> = {
  init: () => ({ calls: 0 }),
  map(s, chunk) {
    s.calls++;
    return [...chunk].map((c) =>
      c === "t" ? ev.textDelta("t") : c === "c" ? ev.completed(FinishReason.STOP) : ev.failed(Code.Internal, "bad", "UPSTREAM_MALFORMED"),
    );
  },
  end: () => [ev.textDelta("tail"), ev.failed(Code.Unavailable, "cut", "UPSTREAM_TRUNCATED")],
};

describe("mapStream: exactly one terminal event, last", () => {
  it("drops what a chunk returns after its first terminal event, and every later chunk", () => {
    const s = mapStream(literal);
    expect(kinds(s.push("tt"))).toEqual(["textDelta", "textDelta"]);
    expect(kinds(s.push("tcft"))).toEqual(["textDelta", "completed"]);
    expect(s.ended).toBe(true);
    expect(s.push("t")).toEqual([]);
    expect(s.end()).toEqual([]);
  });

  it("does not call the mapper after its terminal event", () => {
    let calls = 0;
    const counting: Mapper<string, { calls: number }> = { ...literal, map: (st, c) => (calls++, literal.map(st, c)) };
    expect(kinds(mapChunks(counting, ["t", "c", "t", "f"]))).toEqual(["textDelta", "completed"]);
    expect(calls).toBe(2);
  });

  it("ends a stream without a terminal event with the mapper's end", () => {
    expect(kinds(mapChunks(literal, ["t"]))).toEqual(["textDelta", "textDelta", "failed"]);
  });

  it("adds failed UNAVAILABLE UPSTREAM_TRUNCATED when the mapper's end gives no terminal event", () => {
    const silent: Mapper<string, { calls: number }> = { ...literal, end: () => [ev.textDelta("tail")] };
    const evs = mapChunks(silent, ["t"]);
    expect(kinds(evs)).toEqual(["textDelta", "textDelta", "failed"]);
    expect(evs.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED", retryable: true } });
  });

  it("keeps the rule through adapt's TransformStream for any split of the chunks", async () => {
    for (const chunks of [["t", "c", "t"], ["tcf"], ["t"], [], ["f", "c"]]) {
      const out: StreamEvent[] = [];
      const readable = new ReadableStream<string>({
        start(c) {
          for (const x of chunks) c.enqueue(x);
          c.close();
        },
      }).pipeThrough(adapt(literal));
      for await (const e of readable) out.push(e);
      expect(out.filter(isTerminal)).toHaveLength(1);
      expect(isTerminal(out.at(-1) as StreamEvent)).toBe(true);
      expect(out).toEqual(mapChunks(literal, chunks));
    }
  });
});
