import { create } from "@bufbuild/protobuf";
import { ev, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { coalesceDeltas } from "./coalesce.js";
import { MemoryStreamLog } from "./memory-stream-log.js";

function logged(events: StreamEvent[]): StreamEvent[] {
  const log = new MemoryStreamLog("s", { maxEvents: 1000, maxBytes: Number.POSITIVE_INFINITY });
  return events.map((e) => log.appendNow(e));
}

const text = (es: StreamEvent[]) =>
  es.map((e) => (e.event.case === "textDelta" || e.event.case === "reasoningDelta" ? e.event.value.text : "")).join("");

describe("coalesceDeltas", () => {
  it("merges a run of text deltas into one event with the run's text and its last seq and time", () => {
    const es = logged([
      ev.started("m", "p"),
      ev.textDelta("Hel"),
      ev.textDelta("lo, "),
      ev.textDelta("world"),
      ev.usage({ outputTokens: 3 }),
    ]);
    const out = coalesceDeltas(es);
    expect(out.map((e) => [e.event.case, e.seq])).toEqual([
      ["started", 1],
      ["textDelta", 4],
      ["usage", 5],
    ]);
    expect(out[1]?.event).toMatchObject({ case: "textDelta", value: { text: "Hello, world", blockIndex: 0 } });
    expect(out[1]).toMatchObject({ streamId: "s", epoch: es[0]?.epoch, appendedAt: es[3]?.appendedAt });
    expect(text(out)).toBe(text(es));
    expect(out[0]).toBe(es[0]); // untouched events are the logged objects
    expect(es[1]?.event).toMatchObject({ value: { text: "Hel" } }); // the log is not changed
  });

  it("keeps apart deltas of different blocks, choices, agents and kinds, and those with metadata, signatures or redaction", () => {
    const agent = (e: StreamEvent, agentId: string) => Object.assign(e, { agentId });
    const choice = (e: StreamEvent, choiceIndex: number) => Object.assign(e, { choiceIndex });
    const es = logged([
      ev.textDelta("a", 0),
      ev.textDelta("b", 1),
      choice(ev.textDelta("c", 1), 1),
      agent(choice(ev.textDelta("d", 1), 1), "helper"),
      ev.reasoningDelta("e", 1),
      ev.reasoningDelta("f", 1),
      ev.reasoningDelta("", 1, "sig"),
      ev.reasoningDelta("g", 1, "", true),
      Object.assign(ev.textDelta("h", 0), { providerMetadata: { logprobs: [] } }),
      ev.textDelta("i", 0),
    ]);
    const out = coalesceDeltas(es);
    expect(out.map((e) => e.seq)).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
    expect(out[4]?.event).toMatchObject({ case: "reasoningDelta", value: { text: "ef", blockIndex: 1 } });
    expect(text(out)).toBe(text(es));
  });

  it("leaves a single event or an empty batch as it is", () => {
    const one = logged([ev.textDelta("x")]);
    expect(coalesceDeltas(one)).toEqual(one);
    expect(coalesceDeltas([])).toEqual([]);
    const e = create(StreamEventSchema, {});
    expect(coalesceDeltas([e])).toEqual([e]);
  });
});
