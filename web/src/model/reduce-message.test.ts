import { Code as ProtoCode, ev, FinishReason, InputKind, ResumeOutcome, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { clone, create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  agentOf,
  answerText,
  type Block,
  createMessageState,
  type MessageState,
  pendingInputs,
  reduceMessage,
  reduceMessages,
  type ToolCallBlock,
} from "./reduce-message.js";
import { chunksSince, textOf } from "./text-chunks.js";

const E1 = "epochAAAA";
const E2 = "epochBBBB";

/** Positions `e` as the log would: stream "s1", `epoch`, `seq`, agent. */
function at(seq: number, e: StreamEvent, o: { epoch?: string; agent?: string } = {}): StreamEvent {
  e.streamId = "s1";
  e.epoch = o.epoch ?? E1;
  e.seq = seq;
  e.agentId = o.agent ?? "";
  return e;
}

/** Numbers a list of unpositioned events 1, 2, 3, … in epoch E1. */
function logOf(events: StreamEvent[]): StreamEvent[] {
  return events.map((e, i) => at(i + 1, e, { agent: e.agentId }));
}

function resumed(outcome: ResumeOutcome, cursor: string): StreamEvent {
  return create(StreamEventSchema, { streamId: "s1", event: { case: "resumed", value: { outcome, cursor } } });
}

/** The view as plain data (texts joined), for comparisons. */
function plain(s: MessageState): unknown {
  const block = (b: Block): unknown => {
    switch (b.type) {
      case "text":
        return { type: b.type, choice: b.choiceIndex, index: b.blockIndex, text: textOf(b) };
      case "reasoning":
        return { type: b.type, index: b.blockIndex, text: textOf(b), signature: b.signature, redacted: b.redacted };
      case "tool-call":
        return { ...b, argumentsText: textOf(b.argumentsText) };
      case "input":
        return b;
    }
  };
  return {
    streamId: s.streamId,
    started: s.started,
    agents: s.agents.map((a) => ({ id: a.id, status: a.status, blocks: a.blocks.map(block) })),
    usage: s.usage,
    finish: s.finish,
    gap: s.gap,
  };
}

const tools = (s: MessageState, agent = ""): ToolCallBlock[] =>
  (agentOf(s, agent)?.blocks ?? []).filter((b): b is ToolCallBlock => b.type === "tool-call");

describe("reduceMessage", () => {
  it("builds the answer, its start, usage and finish", () => {
    const s = reduceMessages(
      createMessageState(),
      logOf([
        ev.started("sim-1", "simulator", "req-9"),
        ev.textDelta("Hello"),
        ev.textDelta(", "),
        ev.usage({ inputTokens: 3 }),
        ev.textDelta("world"),
        ev.completed(FinishReason.STOP, { inputTokens: 3, outputTokens: 4 }, "stop"),
      ]),
    );
    expect(s.streamId).toBe("s1");
    expect(s.epoch).toBe(E1);
    expect(s.lastSeq).toBe(6);
    expect(s.started).toEqual({ model: "sim-1", provider: "simulator", requestId: "req-9" });
    expect(s.agents.map((a) => a.id)).toEqual([""]);
    expect(answerText(agentOf(s, ""))).toBe("Hello, world");
    expect(s.finish).toEqual({ type: "completed", reason: FinishReason.STOP, rawReason: "stop" });
    expect(s.usage?.outputTokens).toBe(4);
    expect(s.usage?.reasoningTokens).toBeUndefined(); // unknown stays unset
  });

  it("maps a failure to a Connect code and keeps the last usage", () => {
    const s = reduceMessages(
      createMessageState(),
      logOf([
        ev.textDelta("par"),
        ev.usage({ outputTokens: 1 }),
        ev.failed(Code.ResourceExhausted, "slow down", "UPSTREAM_RATE_LIMITED", { retryAfterMs: 1500 }),
      ]),
    );
    expect(s.finish).toEqual({
      type: "failed",
      code: Code.ResourceExhausted,
      message: "slow down",
      reason: "UPSTREAM_RATE_LIMITED",
      retryable: true,
      retryAfterMs: 1500,
    });
    expect(s.usage?.outputTokens).toBe(1);
    const unspecified = reduceMessage(createMessageState(), at(1, ev.failed(Code.Internal, "x", "X")));
    expect(unspecified.finish?.type === "failed" && unspecified.finish.code).toBe(Code.Internal);
    expect(ProtoCode.INTERNAL).toBe(Code.Internal);
  });

  it("ignores events at or below the last seq, returning the same state", () => {
    const log = logOf([ev.textDelta("a"), ev.textDelta("b"), ev.textDelta("c")]);
    const s = reduceMessages(createMessageState(), log);
    for (const e of log) expect(reduceMessage(s, e)).toBe(s);
    expect(answerText(agentOf(s, ""))).toBe("abc");
  });

  it("accepts coalesced deltas whose seqs skip", () => {
    const s = reduceMessages(createMessageState(), [at(1, ev.textDelta("ab")), at(4, ev.textDelta("cdef")), at(3, ev.textDelta("X"))]);
    expect(answerText(agentOf(s, ""))).toBe("abcdef");
    expect(s.lastSeq).toBe(4);
  });

  it("applies unpositioned events (seq 0) and ignores heartbeats and unknown kinds", () => {
    let s = reduceMessage(createMessageState(), ev.textDelta("x"));
    s = reduceMessage(s, ev.textDelta("y"));
    expect(answerText(agentOf(s, ""))).toBe("xy");
    expect(reduceMessage(s, ev.heartbeat())).toBe(s);
    expect(reduceMessage(s, create(StreamEventSchema, {}))).toBe(s);
  });

  it("never changes an older state", () => {
    const s1 = reduceMessages(createMessageState(), logOf([ev.textDelta("one "), ev.textDelta("two ")]));
    const before = plain(s1);
    const s2 = reduceMessage(s1, at(3, ev.textDelta("three")));
    // A branch from s1 must not see s2's text, and s2 must not see the branch's.
    const branch = reduceMessage(s1, at(3, ev.textDelta("other")));
    expect(plain(s1)).toEqual(before);
    expect(answerText(agentOf(s2, ""))).toBe("one two three");
    expect(answerText(agentOf(branch, ""))).toBe("one two other");
    expect(answerText(agentOf(s1, ""))).toBe("one two ");
  });

  it("keeps one lane per agent in first-seen order, each with its own blocks and latest status", () => {
    const a = (agent: string, e: StreamEvent) => ev.byAgent(agent, e);
    const s = reduceMessages(
      createMessageState(),
      logOf([
        ev.started("agent", "simulator"),
        a("planner", ev.status("planning", 0.1)),
        a("planner", ev.textDelta("Plan: read, write.")),
        a("researcher", ev.status("reading")),
        a("planner", ev.status("done", 1)),
        a("writer", ev.textDelta("The ")),
        a("researcher", ev.textDelta("Notes.")),
        a("writer", ev.textDelta("answer.")),
      ]),
    );
    expect(s.agents.map((x) => x.id)).toEqual(["planner", "researcher", "writer"]);
    expect(agentOf(s, "planner")?.status).toEqual({ text: "done", progress: 1 });
    expect(agentOf(s, "researcher")?.status).toEqual({ text: "reading" });
    expect(answerText(agentOf(s, "writer"))).toBe("The answer.");
    expect(answerText(agentOf(s, "researcher"))).toBe("Notes.");
    expect(agentOf(s, "")).toBeUndefined(); // `started` opens no lane
  });

  it("follows a tool call from its first fragment to its result", () => {
    const s = reduceMessages(
      createMessageState(),
      logOf([
        ev.toolCallStarted("c1", "search", 0),
        ev.toolCallDelta("c1", '{"q":'),
        ev.toolCallDelta("c1", '"tides"}'),
        ev.toolCallCompleted("c1", "search", '{"q":"tides"}'),
        ev.toolResult("c1", '{"hits":3}'),
      ]),
    );
    const [call] = tools(s);
    expect(call).toMatchObject({ callId: "c1", name: "search", index: 0, result: { text: '{"hits":3}', isError: false } });
    expect(textOf(call!.argumentsText)).toBe('{"q":"tides"}');
    expect(call!.completed).toEqual({ argumentsJson: '{"q":"tides"}', arguments: { ok: true, value: { q: "tides" } }, incomplete: false });
  });

  it("keeps a parse error of bad arguments instead of throwing, and error results", () => {
    const s = reduceMessages(
      createMessageState(),
      logOf([
        ev.toolCallDelta("c2", '{"q": "cut'), // delta before its start: the call is created
        ev.toolCallStarted("c2", "search", 1),
        ev.toolCallCompleted("c2", "search", '{"q": "cut', { incomplete: true }),
        ev.toolResult("c3", "no such tool", { isError: true, name: "fetch" }),
      ]),
    );
    const [cut, orphan] = tools(s);
    expect(cut!.name).toBe("search");
    expect(cut!.completed?.incomplete).toBe(true);
    expect(cut!.completed?.arguments.ok).toBe(false);
    expect(cut!.completed?.arguments.ok === false && cut!.completed.arguments.error).toMatch(/JSON/);
    expect(orphan).toMatchObject({ callId: "c3", name: "fetch", result: { text: "no such tool", isError: true } });
  });

  it("finds a tool call's result and an input's answer in another agent's lane", () => {
    const s = reduceMessages(
      createMessageState(),
      logOf([
        ev.byAgent("researcher", ev.toolCallStarted("c1", "search", 0)),
        ev.byAgent("researcher", ev.inputRequested("i1", "Go on?", InputKind.CONFIRM)),
        ev.toolResult("c1", "ok"),
        ev.inputAnswered("i1", "yes"),
      ]),
    );
    expect(s.agents.map((a) => a.id)).toEqual(["researcher"]);
    expect(tools(s, "researcher")[0]!.result).toEqual({ text: "ok", isError: false });
    expect(agentOf(s, "researcher")?.blocks[1]).toMatchObject({ type: "input", answer: "yes" });
  });

  it("tracks input requests until they are answered", () => {
    const s1 = reduceMessages(
      createMessageState(),
      logOf([
        ev.byAgent("planner", ev.inputRequested("i1", "Which source?", InputKind.CHOICE, ["web", "library"])),
        ev.byAgent("writer", ev.inputRequested("i2", "Title?", InputKind.TEXT)),
      ]),
    );
    expect(pendingInputs(s1).map((p) => [p.agentId, p.input.inputId, p.input.choices])).toEqual([
      ["planner", "i1", ["web", "library"]],
      ["writer", "i2", []],
    ]);
    const s2 = reduceMessage(s1, at(3, ev.byAgent("planner", ev.inputAnswered("i1", "library"))));
    expect(pendingInputs(s2).map((p) => p.input.inputId)).toEqual(["i2"]);
    expect(agentOf(s2, "planner")?.blocks[0]).toMatchObject({ prompt: "Which source?", kind: InputKind.CHOICE, answer: "library" });
    // An answer to nothing changes nothing but the position.
    const s3 = reduceMessage(s2, at(4, ev.inputAnswered("nope", "x")));
    expect(plain(s3)).toEqual(plain(s2));
    expect(s3.lastSeq).toBe(4);
  });

  it("opens a new text block after a tool call, and separate blocks per index and choice", () => {
    const second = ev.textDelta("B0");
    second.choiceIndex = 1;
    const s = reduceMessages(
      createMessageState(),
      logOf([
        ev.reasoningDelta("think", 0, "", false),
        ev.reasoningDelta("", 0, "sig-1"),
        ev.textDelta("before", 1),
        second,
        ev.toolCallStarted("c1", "calc", 0),
        ev.textDelta("after", 1),
        ev.reasoningDelta("", 2, "", true),
      ]),
    );
    const blocks = agentOf(s, "")!.blocks;
    expect(blocks.map((b) => [b.type, "blockIndex" in b ? b.blockIndex : b.type === "tool-call" ? b.callId : ""])).toEqual([
      ["reasoning", 0],
      ["text", 1],
      ["text", 0],
      ["tool-call", "c1"],
      ["text", 1],
      ["reasoning", 2],
    ]);
    expect(blocks[0]).toMatchObject({ signature: "sig-1", redacted: false });
    expect(blocks[5]).toMatchObject({ redacted: true, count: 0 });
    expect(answerText(agentOf(s, ""))).toBe("beforeafter"); // choice 0 only
  });

  describe("resumed", () => {
    const base = () => reduceMessages(createMessageState(), logOf([ev.textDelta("Hello "), ev.textDelta("there")]));

    it("RECOVERED changes nothing", () => {
      const s = base();
      expect(reduceMessage(s, resumed(ResumeOutcome.RECOVERED, `${E1}:2`))).toBe(s);
    });

    it.each([ResumeOutcome.TRIMMED, ResumeOutcome.EXPIRED])("outcome %s marks the gap and continues after the cursor", (outcome) => {
      const s = reduceMessage(base(), resumed(outcome, `${E1}:7`));
      expect(s.gap).toBe(true);
      expect(s.lastSeq).toBe(7);
      expect(answerText(agentOf(s, ""))).toBe("Hello there");
      const t = reduceMessages(s, [at(6, ev.textDelta("old")), at(8, ev.textDelta("!"))]);
      expect(answerText(agentOf(t, ""))).toBe("Hello there!");
    });

    it.each([ResumeOutcome.EPOCH_CHANGED, ResumeOutcome.UNKNOWN_CURSOR, 99 as ResumeOutcome])(
      "outcome %s discards the view; the replay rebuilds it",
      (outcome) => {
        const s = reduceMessage(base(), resumed(outcome, `${E2}:0`));
        expect(s.agents).toEqual([]);
        expect(s.resets).toBe(1);
        expect(s.gap).toBe(false);
        expect(s.epoch).toBe(E2);
        const t = reduceMessages(s, [at(1, ev.textDelta("Hi"), { epoch: E2 }), at(2, ev.textDelta("!"), { epoch: E2 })]);
        expect(answerText(agentOf(t, ""))).toBe("Hi!");
      },
    );

    it("a replay that starts after the first events of the epoch is a gap", () => {
      const s = reduceMessage(base(), resumed(ResumeOutcome.EPOCH_CHANGED, `${E2}:5`));
      expect(s).toMatchObject({ gap: true, lastSeq: 5, resets: 1 });
    });

    it("an event of another epoch without notice discards the view too", () => {
      const s = reduceMessage(base(), at(1, ev.textDelta("new"), { epoch: E2 }));
      expect(s.resets).toBe(1);
      expect(s.epoch).toBe(E2);
      expect(answerText(agentOf(s, ""))).toBe("new");
    });
  });
});

describe("reduceMessage properties", () => {
  // Text with multi-unit code points: splitting must never matter.
  const text = fc.string({ unit: fc.constantFrom("a", "b", " ", "é", "😀", "\n"), minLength: 0, maxLength: 60 });

  /** Splits `t` at the given (sorted, deduplicated) cut points, on code point boundaries. */
  function split(t: string, cuts: number[]): string[] {
    const cps = [...t];
    const at = [...new Set(cuts.map((c) => c % (cps.length + 1)))].sort((x, y) => x - y);
    const out: string[] = [];
    let prev = 0;
    for (const c of [...at, cps.length]) {
      out.push(cps.slice(prev, c).join(""));
      prev = c;
    }
    return out;
  }

  /** A random agent run: text and reasoning deltas of a few agents, tool calls, statuses, inputs. */
  const agentEvent = fc.oneof(
    fc.record({ agent: fc.constantFrom("", "planner", "writer"), t: text }).map(({ agent, t }) => ev.byAgent(agent, ev.textDelta(t))),
    fc.record({ agent: fc.constantFrom("", "planner"), t: text }).map(({ agent, t }) => ev.byAgent(agent, ev.reasoningDelta(t, 1))),
    fc.record({ id: fc.constantFrom("c1", "c2"), t: text }).map(({ id, t }) => ev.toolCallDelta(id, t)),
    fc.constantFrom("c1", "c2").map((id) => ev.toolCallCompleted(id, "tool", `{"id":"${id}"}`)),
    fc.constantFrom("c1", "c2").map((id) => ev.toolResult(id, "done")),
    fc.record({ t: text, p: fc.double({ min: 0, max: 1, noNaN: true }) }).map(({ t, p }) => ev.byAgent("writer", ev.status(t, p))),
    fc.constantFrom("i1", "i2").map((id) => ev.inputRequested(id, "ok?", InputKind.CONFIRM)),
    fc.constantFrom("i1", "i2").map((id) => ev.inputAnswered(id, "yes")),
    fc.constant(ev.usage({ outputTokens: 5 })),
  );

  it("gives the same text for any split of the deltas", () => {
    fc.assert(
      fc.property(text, fc.array(fc.nat(80), { maxLength: 12 }), fc.array(fc.nat(80), { maxLength: 12 }), (t, cutsA, cutsB) => {
        const a = reduceMessages(createMessageState(), logOf(split(t, cutsA).map((p) => ev.textDelta(p))));
        const b = reduceMessages(createMessageState(), logOf(split(t, cutsB).map((p) => ev.textDelta(p))));
        expect(answerText(agentOf(a, ""))).toBe(t);
        expect(plain(a)).toEqual(plain(b));
      }),
    );
  });

  it("applying a prefix, then the rest, equals applying everything — and older states do not change", () => {
    fc.assert(
      fc.property(fc.array(agentEvent, { maxLength: 40 }), fc.nat(), (events, k) => {
        const log = logOf(events.map((e) => clone(StreamEventSchema, e)));
        const cut = k % (log.length + 1);
        const whole = reduceMessages(createMessageState(), log);
        const prefix = reduceMessages(createMessageState(), log.slice(0, cut));
        const prefixView = plain(prefix);
        const resumedView = reduceMessages(prefix, log.slice(cut));
        expect(plain(resumedView)).toEqual(plain(whole));
        expect(resumedView.lastSeq).toBe(log.length);
        expect(plain(prefix)).toEqual(prefixView);
      }),
    );
  });

  it("ignores duplicates: any re-delivery of events already applied changes nothing", () => {
    fc.assert(
      fc.property(fc.array(agentEvent, { minLength: 1, maxLength: 30 }), fc.array(fc.nat(), { maxLength: 30 }), (events, picks) => {
        const log = logOf(events.map((e) => clone(StreamEventSchema, e)));
        const clean = reduceMessages(createMessageState(), log);
        // After each event, re-deliver some of the events already seen (a resume that replays).
        let s = createMessageState();
        log.forEach((e, i) => {
          s = reduceMessage(s, e);
          for (const p of picks.slice(0, 3)) s = reduceMessage(s, clone(StreamEventSchema, log[p % (i + 1)]!));
        });
        expect(plain(s)).toEqual(plain(clean));
      }),
    );
  });
});

describe("reduceMessage cost", () => {
  afterEach(() => vi.restoreAllMocks());

  it("appends N deltas without joining any text: one shared chunk array, joined lazily once", () => {
    const n = 5_000;
    const join = vi.spyOn(Array.prototype, "join");
    const concat = vi.spyOn(String.prototype, "concat");
    let s = createMessageState();
    const states: MessageState[] = [];
    for (let i = 1; i <= n; i++) {
      s = reduceMessage(s, at(i, ev.textDelta(`t${i % 10} `)));
      states.push(s);
    }
    expect(join).not.toHaveBeenCalled();
    expect(concat).not.toHaveBeenCalled();
    const blocks = states.map((x) => x.agents[0]!.blocks[0]!);
    // Every state's block reads a prefix of the same array: O(1) work per delta, no copies.
    const shared = (blocks[0] as { chunks: readonly string[] }).chunks;
    for (const [i, b] of blocks.entries()) {
      expect(b.type === "text" && b.chunks).toBe(shared);
      expect(b.type === "text" && b.count).toBe(i + 1);
    }
    expect(shared.length).toBe(n);
    const last = blocks.at(-1)!;
    if (last.type !== "text") throw new Error("want a text block");
    expect(last.length).toBe(3 * n);
    expect(textOf(last)).toHaveLength(3 * n);
    expect(join).toHaveBeenCalledTimes(1);
    textOf(last); // cached
    expect(join).toHaveBeenCalledTimes(1);
    // An older state still reads its own prefix.
    const mid = blocks[9]!;
    expect(mid.type === "text" && textOf(mid)).toBe("t1 t2 t3 t4 t5 t6 t7 t8 t9 t0 ");
  });

  it("lets a renderer append only the new fragments", () => {
    const s1 = reduceMessages(createMessageState(), logOf([ev.textDelta("a"), ev.textDelta("b")]));
    const s2 = reduceMessages(s1, [at(3, ev.textDelta("c")), at(4, ev.textDelta("d"))]);
    const b1 = s1.agents[0]!.blocks[0]!;
    const b2 = s2.agents[0]!.blocks[0]!;
    if (b1.type !== "text" || b2.type !== "text") throw new Error("want text blocks");
    expect(chunksSince(b2, b1.count)).toEqual(["c", "d"]);
    expect(chunksSince(b1, b1.count)).toEqual([]);
  });
});
