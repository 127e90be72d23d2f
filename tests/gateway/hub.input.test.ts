/**
 * Agents through the hub: SendInput (checks, errors, races), the agent
 * filter of a watch (with resume), and the stall timer paused while an input
 * is pending.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import {
  CreateStreamRequestSchema,
  ev,
  FinishReason,
  formatCursor,
  InferenceService,
  InputKind,
  type InteractRequest,
  isTerminal,
  OnDetach,
  SendInputRequestSchema,
  type StreamEvent,
  StreamState,
} from "@airwave/proto";
import { createInferenceService, createSimulatorProvider } from "@airwave/services";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Hub } from "../../gateway/src/hub/hub.js";
import { INPUT_NOT_PENDING, STREAM_ENDED } from "../../gateway/src/hub/input-answer.js";

const opts = { detachGraceMs: 1000, streamTtlMs: 60_000, logMaxEvents: 1000, maxStreams: 10, generationTimeoutMs: 60_000 };
const never = new AbortController().signal;

/** The real inference service with the simulator, unpaced. */
function simulatorUpstream() {
  const transport = createRouterTransport(({ service }) => {
    service(InferenceService, createInferenceService([createSimulatorProvider({ pacing: { ttftMs: 0, tokensPerS: 0 } })]));
  });
  return createClient(InferenceService, transport);
}

/**
 * A scripted agent: `started`, a status, then one input request per entry of
 * `asks` (model "two" asks a confirm and a choice; others one confirm);
 * waits for each answer on the Interact call and acks it with
 * `input_answered`; model "hang-after" then never ends, others complete.
 */
function scriptedUpstream() {
  const inputsSeen: { inputId: string; text: string }[] = [];
  const transport = createRouterTransport(({ service }) => {
    service(InferenceService, {
      // biome-ignore lint/correctness/useYield: an upstream that fails before its first event
      async *generate() {
        throw new ConnectError("use Interact", Code.Unimplemented);
      },
      async *interact(reqs: AsyncIterable<InteractRequest>, ctx: HandlerContext) {
        const it = reqs[Symbol.asyncIterator]();
        const first = await it.next();
        if (first.done || first.value.message.case !== "start") throw new ConnectError("start first", Code.InvalidArgument);
        const model = first.value.message.value.model;
        yield { event: ev.started(model, "script") };
        yield { event: ev.byAgent("planner", ev.status("thinking", 0.1)) };
        const pending = new Set(["q1"]);
        yield { event: ev.byAgent("planner", ev.inputRequested("q1", "Go on?", InputKind.CONFIRM)) };
        if (model === "two") {
          pending.add("q2");
          yield { event: ev.byAgent("planner", ev.inputRequested("q2", "Which?", InputKind.CHOICE, ["Alpha", "beta"])) };
        }
        while (pending.size > 0) {
          const r = await it.next();
          if (r.done) {
            yield { event: ev.failed(Code.FailedPrecondition, "no input", "INPUT_UNAVAILABLE") };
            return;
          }
          const m = r.value.message;
          if (m.case === "input") inputsSeen.push({ inputId: m.value.inputId, text: m.value.text });
          if (m.case === "input" && pending.delete(m.value.inputId)) {
            yield { event: ev.byAgent("planner", ev.inputAnswered(m.value.inputId, m.value.text)) };
          }
        }
        yield { event: ev.byAgent("writer", ev.textDelta("done")) };
        if (model === "hang-after") await new Promise((_, rej) => ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason)));
        yield { event: ev.completed(FinishReason.STOP) };
      },
    });
  });
  return { client: createClient(InferenceService, transport), inputsSeen };
}

function req(model: string, metadata: Record<string, string> = {}) {
  return create(CreateStreamRequestSchema, {
    request: { model, messages: [{ role: 2, parts: [{ part: { case: "text", value: "Explain tidal power in Brittany" } }] }], metadata },
    onDetach: OnDetach.CONTINUE,
  });
}

const input = (streamId: string, inputId: string, text: string) => create(SendInputRequestSchema, { streamId, inputId, text });

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

/** The first event of `kind` a watch from the start sees (the watch then ends). */
async function firstOf(hub: Hub, owner: string, id: string, kind: StreamEvent["event"]["case"]): Promise<StreamEvent> {
  const ac = new AbortController();
  for await (const e of hub.watch(owner, id, "", ac.signal)) {
    if (e.event.case === kind) {
      ac.abort();
      return e;
    }
  }
  throw new Error(`no ${kind}`);
}

async function errorOf(p: Promise<unknown>): Promise<ConnectError | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

describe("Hub.sendInput", () => {
  let hub: Hub | undefined;
  afterEach(async () => {
    vi.useRealTimers();
    await hub?.close();
    hub = undefined;
  });

  it("answers the simulator agent's confirmation: input_answered is logged and the run completes", async () => {
    hub = new Hub(simulatorUpstream(), opts);
    const id = await hub.create("alice", req("simulator/agent"));
    const asked = await firstOf(hub, "alice", id, "inputRequested");
    const inputId = asked.event.case === "inputRequested" ? asked.event.value.inputId : "";
    // Empty input_id answers the only pending input; a confirm is case-insensitive.
    expect(await hub.sendInput("alice", input(id, "", " YES "))).toBe(inputId);
    const events = await collect(hub.watch("alice", id, "", never));
    const answered = events.find((e) => e.event.case === "inputAnswered");
    expect(answered).toMatchObject({ agentId: "planner", event: { value: { inputId, text: "yes" } } });
    expect(events.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    expect(events.filter((e) => e.agentId === "writer" && e.event.case === "textDelta").length).toBeGreaterThan(10);
  });

  it("NOT_FOUND for an unknown or foreign stream; nothing reaches the generation", async () => {
    const up = scriptedUpstream();
    hub = new Hub(up.client, opts);
    const id = await hub.create("alice", req("one"));
    await firstOf(hub, "alice", id, "inputRequested");
    expect((await errorOf(hub.sendInput("mallory", input(id, "q1", "yes"))))?.code).toBe(Code.NotFound);
    expect((await errorOf(hub.sendInput("alice", input("nope-nope-nope-nope-nope", "q1", "yes"))))?.code).toBe(Code.NotFound);
    expect(up.inputsSeen).toEqual([]);
    expect((await hub.get("alice", id)).state).toBe(StreamState.RUNNING);
  });

  it("INVALID_ARGUMENT for an answer the request does not allow; the input stays pending", async () => {
    const up = scriptedUpstream();
    hub = new Hub(up.client, opts);
    const id = await hub.create("alice", req("two"));
    await firstOf(hub, "alice", id, "inputRequested");
    await vi.waitFor(async () => expect((await hub!.get("alice", id)).lastSeq).toBe(4));
    const bad = [
      input(id, "", "yes"), // several pending: input_id required
      input(id, "q1", "maybe"),
      input(id, "q1", ""),
      input(id, "q2", "gamma"),
      input(id, "q2", "x".repeat(16 * 1024 + 1)),
      input(id, "q".repeat(129), "yes"),
    ];
    for (const b of bad) expect((await errorOf(hub.sendInput("alice", b)))?.code).toBe(Code.InvalidArgument);
    expect(up.inputsSeen).toEqual([]);
    // Choices match exactly, or ignoring case when that is unambiguous (passed on as listed).
    expect(await hub.sendInput("alice", input(id, "q2", "alpha"))).toBe("q2");
    expect(await hub.sendInput("alice", input(id, "", "No"))).toBe("q1");
    const events = await collect(hub.watch("alice", id, "", never));
    expect(events.filter((e) => e.event.case === "inputAnswered").map((e) => e.event.value)).toMatchObject([
      { inputId: "q2", text: "Alpha" },
      { inputId: "q1", text: "no" },
    ]);
    expect(up.inputsSeen).toEqual([
      { inputId: "q2", text: "Alpha" },
      { inputId: "q1", text: "no" },
    ]);
  });

  it("two racing answers to one input: exactly one wins, the other is INPUT_NOT_PENDING; later answers too", async () => {
    const up = scriptedUpstream();
    hub = new Hub(up.client, opts);
    const id = await hub.create("alice", req("hang-after"));
    await firstOf(hub, "alice", id, "inputRequested");
    const results = await Promise.allSettled([
      hub.sendInput("alice", input(id, "q1", "yes")),
      hub.sendInput("alice", input(id, "", "no")),
      hub.sendInput("alice", input(id, "q1", "no")),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) {
      if (r.status === "rejected") {
        const e = ConnectError.from(r.reason);
        expect(e.code).toBe(Code.FailedPrecondition);
        expect(e.metadata.get("airwave-reason")).toBe(INPUT_NOT_PENDING);
      }
    }
    // After input_answered is logged, still not pending; an unknown id neither.
    await firstOf(hub, "alice", id, "inputAnswered");
    expect(up.inputsSeen).toEqual([{ inputId: "q1", text: "yes" }]);
    for (const inputId of ["q1", "", "never-asked"]) {
      const e = await errorOf(hub.sendInput("alice", input(id, inputId, "yes")));
      expect(e?.code).toBe(Code.FailedPrecondition);
      expect(e?.metadata.get("airwave-reason")).toBe(INPUT_NOT_PENDING);
    }
  });

  it("FAILED_PRECONDITION STREAM_ENDED once the stream ended (here: cancelled while waiting for input)", async () => {
    const up = scriptedUpstream();
    hub = new Hub(up.client, opts);
    const id = await hub.create("alice", req("one"));
    await firstOf(hub, "alice", id, "inputRequested");
    await hub.cancel("alice", id);
    const e = await errorOf(hub.sendInput("alice", input(id, "q1", "yes")));
    expect(e?.code).toBe(Code.FailedPrecondition);
    expect(e?.metadata.get("airwave-reason")).toBe(STREAM_ENDED);
    expect(up.inputsSeen).toEqual([]);
  });

  describe("stall timer", () => {
    it("does not fire while an input is pending; the generation timeout still applies; it runs again after the answer", async () => {
      vi.useFakeTimers();
      const up = scriptedUpstream();
      hub = new Hub(up.client, { ...opts, stallTimeoutMs: 300, firstTokenTimeoutMs: 1000, generationTimeoutMs: 60_000 });
      const id = await hub.create("alice", req("hang-after"));
      const events = collect(hub.watch("alice", id, "", never));
      await vi.advanceTimersByTimeAsync(10_000); // a human takes their time
      expect((await hub.get("alice", id)).state).toBe(StreamState.RUNNING);
      await hub.sendInput("alice", input(id, "q1", "yes"));
      await vi.advanceTimersByTimeAsync(299);
      expect((await hub.get("alice", id)).state).toBe(StreamState.RUNNING);
      await vi.advanceTimersByTimeAsync(1);
      expect((await events).at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "STALL_TIMEOUT" } });
    });

    it("the generation timeout ends a stream waiting for input", async () => {
      vi.useFakeTimers();
      const up = scriptedUpstream();
      hub = new Hub(up.client, { ...opts, stallTimeoutMs: 300, generationTimeoutMs: 5000 });
      const id = await hub.create("alice", req("one"));
      const events = collect(hub.watch("alice", id, "", never));
      await vi.advanceTimersByTimeAsync(4999);
      expect((await hub.get("alice", id)).state).toBe(StreamState.RUNNING);
      await vi.advanceTimersByTimeAsync(1);
      expect((await events).at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "GENERATION_TIMEOUT" } });
    });
  });
});

describe("Hub.watch agent filter", () => {
  let hub: Hub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  /** A finished simulator agent run and its whole log. */
  async function agentRun() {
    hub = new Hub(simulatorUpstream(), opts);
    const id = await hub.create("alice", req("simulator/agent", { "simulator.input": "none" }));
    const all = await collect(hub.watch("alice", id, "", never));
    return { hub, id, all };
  }

  it("keeps the chosen agents' events and the whole-stream ones, in the log's order", async () => {
    const { hub, id, all } = await agentRun();
    const streamWide = new Set(["started", "usage", "completed", "failed"]);
    const want = all.filter((e) => streamWide.has(e.event.case ?? "") || e.agentId === "planner" || e.agentId === "writer");
    const got = await collect(hub.watch("alice", id, "", never, { agentIds: ["planner", "writer"] }));
    expect(got).toEqual(want);
    expect(got.some((e) => e.agentId === "researcher")).toBe(false);
    expect(got.some((e) => e.agentId === "planner")).toBe(true);
    expect(got[0]?.event.case).toBe("started");
    expect(isTerminal(got.at(-1)!)).toBe(true);
    // Only the researcher's interleaved events are missing: the planner's seqs skip.
    expect(got.length).toBeLessThan(all.length);
    // The main agent "" is an agent like the others.
    expect((await collect(hub.watch("alice", id, "", never, { agentIds: [""] }))).map((e) => e.event.case)).toEqual(
      all.filter((e) => streamWide.has(e.event.case ?? "")).map((e) => e.event.case),
    );
  });

  it("resumes exactly from the last delivered cursor with the same filter", async () => {
    const { hub, id } = await agentRun();
    const f = { agentIds: ["researcher"] };
    const whole = await collect(hub.watch("alice", id, "", never, f));
    const cut = Math.floor(whole.length / 2);
    const last = whole[cut - 1]!;
    const resumed = await collect(hub.watch("alice", id, formatCursor({ epoch: last.epoch, seq: last.seq }), never, f));
    expect(resumed[0]?.event).toMatchObject({ case: "resumed", value: { cursor: `${last.epoch}:${last.seq}` } });
    expect([...whole.slice(0, cut), ...resumed.slice(1)]).toEqual(whole);
  });

  it("INVALID_ARGUMENT for more than 32 agent ids or an id over 64 characters", async () => {
    const { hub, id } = await agentRun();
    const tooMany = Array.from({ length: 33 }, (_, i) => `a${i}`);
    for (const agentIds of [tooMany, ["x".repeat(65)]]) {
      expect((await errorOf(collect(hub.watch("alice", id, "", never, { agentIds }))))?.code).toBe(Code.InvalidArgument);
    }
    expect((await collect(hub.watch("alice", id, "", never, { agentIds: tooMany.slice(1) }))).length).toBeGreaterThan(2);
  });
});
