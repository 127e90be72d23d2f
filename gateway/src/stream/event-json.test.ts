import { create, toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ev, FinishReason, InputKind, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { eventJson } from "./event-json.js";

/** Positions an event as the log does. */
function logged(e: StreamEvent, seq: number, o: { seconds?: bigint; nanos?: number } = {}): StreamEvent {
  e.streamId = "s_AbCdEfGhIjKlMnOpQrStUv";
  e.epoch = "ep0123";
  e.seq = seq;
  e.appendedAt = { $typeName: "google.protobuf.Timestamp", seconds: o.seconds ?? 1_763_740_800n, nanos: o.nanos ?? 123_000_000 };
  return e;
}

const texts = [
  "",
  "plain",
  'quote " and backslash \\',
  "new\nline\ttab\u0000nul\u001f",
  "é 漢字 🙂",
  "lone \ud800 surrogate",
  "</script>\u2028\u2029",
];

const kinds: [string, StreamEvent][] = [
  ["started", ev.started("m", "openai", "req-1")],
  ...texts.map((t, i): [string, StreamEvent] => [`text_delta ${JSON.stringify(t)}`, ev.textDelta(t, i % 3)]),
  ...texts.map((t, i): [string, StreamEvent] => [
    `reasoning_delta ${JSON.stringify(t)}`,
    ev.reasoningDelta(t, i % 2, i % 3 ? "sig" : "", i % 2 === 1),
  ]),
  ["reasoning_delta empty", ev.reasoningDelta("")],
  ["tool_call_started", ev.toolCallStarted("c1", "search", 2, { providerExecuted: true })],
  ["tool_call_delta", ev.toolCallDelta("c1", '{"q":')],
  ["tool_call_completed", ev.toolCallCompleted("c1", "search", '{"q":"x"}')],
  ["tool_result", ev.toolResult("c1", "ok", { isError: true, name: "search" })],
  ["status", ev.status("reading", 0.5)],
  ["input_requested", ev.inputRequested("i1", "Proceed?", InputKind.UNSPECIFIED, ["yes", "no"])],
  ["input_answered", ev.inputAnswered("i1", "yes")],
  ["usage", ev.usage({ inputTokens: 3, outputTokens: 4 })],
  ["completed", ev.completed(FinishReason.STOP, { inputTokens: 1, outputTokens: 2 })],
  ["failed", ev.failed(Code.Unavailable, "upstream down", "UPSTREAM", { retryAfterMs: 1500 })],
  ["heartbeat", ev.heartbeat()],
  ["resumed", create(StreamEventSchema, { event: { case: "resumed", value: { cursor: "ep0123:4" } } })],
  ["no kind", create(StreamEventSchema, {})],
];

describe("eventJson", () => {
  it.each(kinds)("writes %s exactly as toJsonString, positioned or not", (_, e) => {
    expect(eventJson(e)).toBe(toJsonString(StreamEventSchema, e));
    const p = logged(e, 7);
    expect(eventJson(p)).toBe(toJsonString(StreamEventSchema, p));
  });

  it("writes agent, choice and provider metadata exactly as toJsonString", () => {
    const e = logged(ev.byAgent("writer", ev.textDelta("x")), 9);
    e.choiceIndex = 2;
    expect(eventJson(e)).toBe(toJsonString(StreamEventSchema, e));
    e.providerMetadata = { logprobs: [{ token: "x", logprob: -0.25 }], nested: { a: null, b: true } };
    expect(eventJson(e)).toBe(toJsonString(StreamEventSchema, e));
  });

  it.each([
    ["whole seconds", 1_763_740_800n, 0],
    ["milliseconds", 1_763_740_800n, 5_000_000],
    ["microseconds", 1_763_740_801n, 5_000],
    ["nanoseconds", 1_763_740_801n, 1],
    ["the first second", -62_135_596_800n, 999_999_999],
    ["the last second", 253_402_300_799n, 10_000_000],
    ["before 1970", -1n, 500_000_000],
  ])("writes timestamps with %s exactly as toJsonString", (_, seconds, nanos) => {
    const e = logged(ev.textDelta("t"), 1, { seconds, nanos });
    expect(eventJson(e)).toBe(toJsonString(StreamEventSchema, e));
  });

  it.each([
    ["before year 1", -62_135_596_801n, 0],
    ["after year 9999", 253_402_300_800n, 0],
    ["negative nanos", 0n, -1],
    ["nanos above 999999999", 0n, 1_000_000_000],
  ])("raises what toJsonString raises for a timestamp %s", (_, seconds, nanos) => {
    const e = logged(ev.textDelta("t"), 1, { seconds, nanos });
    expect(() => toJsonString(StreamEventSchema, e)).toThrow();
    expect(() => eventJson(e)).toThrow(/cannot encode/);
  });

  it("agrees with toJsonString on random deltas", () => {
    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const pieces = ["a", "Z", " ", '"', "\\", "\n", "\u0001", "é", "漢", "🙂", "\ud83d", "\u2028"];
    for (let i = 0; i < 500; i++) {
      const text = Array.from({ length: rnd(12) }, () => pieces[rnd(pieces.length)]).join("");
      const e = rnd(2) ? ev.textDelta(text, rnd(3)) : ev.reasoningDelta(text, rnd(3), rnd(2) ? text : "", rnd(2) === 1);
      const p = rnd(4)
        ? logged(e, 1 + rnd(100_000), { seconds: BigInt(rnd(2 ** 31)), nanos: rnd(3) ? rnd(1000) * 1_000_000 : rnd(1_000_000_000) })
        : e;
      if (rnd(5) === 0) p.agentId = `agent-${text}`;
      expect(eventJson(p)).toBe(toJsonString(StreamEventSchema, p));
    }
  });
});
