import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import {
  CreateStreamRequestSchema,
  ev,
  FinishReason,
  type GenerateRequest,
  InferenceService,
  OnDetach,
  ResumeOutcome,
  type StreamEvent,
  StreamState,
} from "@airwave/proto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Hub, type HubOptions } from "./hub.js";
import { interactWith } from "../testing/interact-with.js";

/** A scripted in-memory inference service; `release()` lets the next event go. */
function fakeUpstream() {
  const calls: { model: string; signal: AbortSignal }[] = [];
  let permits = 0;
  let wake: (() => void) | undefined;
  const transport = createRouterTransport(({ service }) => {
    async function* generate(req: GenerateRequest, ctx: HandlerContext) {
      calls.push({ model: req.model, signal: ctx.signal });
      if (req.model === "unknown") throw new ConnectError("model unknown", Code.NotFound);
      if (req.model === "crash") throw new Error("secret internal detail");
      const hang = () => new Promise<never>((_, rej) => ctx.signal.addEventListener("abort", () => rej(ctx.signal.reason)));
      if (req.model === "silent") await hang();
      yield { event: ev.started(req.model, "fake") };
      if (req.model === "no-token") await hang();
      if (req.model === "flood") {
        for (let i = 0; i < 400; i++) yield { event: ev.textDelta(`f${i} `) };
        await hang();
      }
      const n = req.model === "long" ? 1000 : 3;
      for (let i = 0; i < n; i++) {
        if (req.model === "gated") {
          while (permits === 0) await new Promise<void>((r) => (wake = r));
          permits--;
        }
        ctx.signal.throwIfAborted();
        yield { event: ev.textDelta(`t${i} `) };
        if (i === 0) yield { event: ev.usage({ inputTokens: 3, outputTokens: 1 }) };
        if (i === 0 && req.model === "stall") await hang();
      }
      if (req.model === "truncated") return;
      yield { event: ev.completed(FinishReason.STOP, { inputTokens: 3, outputTokens: n }) };
    }
    service(InferenceService, { generate, interact: (reqs, ctx) => interactWith(generate, reqs, ctx) });
  });
  return {
    client: createClient(InferenceService, transport),
    calls,
    release: () => {
      permits++;
      wake?.();
    },
  };
}

const opts = { detachGraceMs: 1000, streamTtlMs: 60_000, logMaxEvents: 100, maxStreams: 10, generationTimeoutMs: 60_000 };

const textOf = (es: StreamEvent[]) => es.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");

function req(model: string, extra: { streamId?: string; onDetach?: OnDetach } = {}) {
  return create(CreateStreamRequestSchema, {
    request: { model, messages: [{ role: 2, parts: [{ part: { case: "text", value: "hi" } }] }] },
    ...extra,
  });
}

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function codeOf(p: Promise<unknown>): Promise<Code | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return ConnectError.from(e).code;
  }
}

const never = new AbortController().signal;

describe("Hub", () => {
  let up: ReturnType<typeof fakeUpstream>;
  let hub: Hub;
  beforeEach(() => {
    up = fakeUpstream();
    hub = new Hub(up.client, opts);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await hub.close();
  });

  it("logs a generation with gapless seqs in one epoch and ends after the terminal event", async () => {
    const id = await hub.create("alice", req("ok"));
    const events = await collect(hub.watch("alice", id, "", never));
    expect(events.map((e) => e.event.case)).toEqual(["started", "textDelta", "usage", "textDelta", "textDelta", "completed"]);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(events.map((e) => e.epoch)).size).toBe(1);
    expect(events.every((e) => e.streamId === id)).toBe(true);
    const started = events[0]?.event;
    expect(started?.case === "started" && started.value.streamId).toBe(id);
    expect(await hub.get("alice", id)).toMatchObject({ state: StreamState.COMPLETED, lastSeq: 6 });
  });

  it("resumes strictly after a cursor, saying the resume was exact", async () => {
    const id = await hub.create("alice", req("ok"));
    const all = await collect(hub.watch("alice", id, "", never));
    const third = all[2] as StreamEvent;
    const again = await collect(hub.watch("alice", id, `${third.epoch}:${third.seq}`, never));
    expect(again[0]?.event).toMatchObject({ case: "resumed", value: { outcome: ResumeOutcome.RECOVERED } });
    expect(again.slice(1).map((e) => e.seq)).toEqual([4, 5, 6]);
  });

  it("replays from the start when the cursor is from another epoch", async () => {
    const id = await hub.create("alice", req("ok"));
    const events = await collect(hub.watch("alice", id, "otherEpoch:4", never));
    expect(events[0]?.event).toMatchObject({ case: "resumed", value: { outcome: ResumeOutcome.EPOCH_CHANGED } });
    expect(events[1]?.seq).toBe(1);
  });

  it("says TRIMMED, never a silent gap, when events after the cursor were trimmed, and goes on from the oldest kept", async () => {
    const id = await hub.create("alice", req("long"));
    const w = hub.watch("alice", id, "", never);
    const epoch = ((await w.next()).value as StreamEvent).epoch;
    await w.return(undefined);
    await vi.waitFor(async () => expect((await hub.get("alice", id)).state).toBe(StreamState.COMPLETED));
    const top = (await hub.get("alice", id)).lastSeq;
    const oldest = top - opts.logMaxEvents + 1;
    for (const cursor of [`${epoch}:1`, ""]) {
      const events = await collect(hub.watch("alice", id, cursor, never));
      expect(events[0]?.event).toMatchObject({
        case: "resumed",
        value: { outcome: ResumeOutcome.TRIMMED, cursor: `${epoch}:${oldest - 1}` },
      });
      expect(events.slice(1).map((e) => e.seq)).toEqual(Array.from({ length: opts.logMaxEvents }, (_, k) => oldest + k));
    }
  });

  it("says UNKNOWN_CURSOR for a position the epoch never had, and refuses a malformed cursor", async () => {
    const id = await hub.create("alice", req("ok"));
    const all = await collect(hub.watch("alice", id, "", never));
    const epoch = all[0]!.epoch;
    const events = await collect(hub.watch("alice", id, `${epoch}:999999`, never));
    expect(events[0]?.event).toMatchObject({ case: "resumed", value: { outcome: ResumeOutcome.UNKNOWN_CURSOR, cursor: `${epoch}:0` } });
    expect(events.slice(1).map((e) => e.seq)).toEqual(all.map((e) => e.seq));
    expect(await codeOf(collect(hub.watch("alice", id, "not a cursor", never)))).toBe(Code.InvalidArgument);
  });

  it("after the TTL, a resume says EXPIRED and gets the terminal event; later the stream is NOT_FOUND", async () => {
    vi.useFakeTimers();
    hub = new Hub(up.client, { ...opts, streamTtlMs: 1000, expiredTtlMs: 5000 });
    const id = await hub.create("alice", req("ok"));
    const all = await collect(hub.watch("alice", id, "", never));
    const last = all.at(-1)!;
    await vi.advanceTimersByTimeAsync(1000);
    expect(hub.stats).toMatchObject({ streams: 0, expired: 1 });
    const events = await collect(hub.watch("alice", id, `${last.epoch}:2`, never));
    expect(events.map((e) => e.event.case)).toEqual(["resumed", "completed"]);
    expect(events[0]?.event).toMatchObject({ value: { outcome: ResumeOutcome.EXPIRED, cursor: `${last.epoch}:${last.seq - 1}` } });
    expect(events[1]?.seq).toBe(last.seq);
    expect((await hub.get("alice", id)).state).toBe(StreamState.COMPLETED);
    expect(await collect(hub.watch("alice", id, `${last.epoch}:${last.seq}`, never))).toHaveLength(1); // RECOVERED, nothing after
    await vi.advanceTimersByTimeAsync(5000);
    expect(await codeOf(collect(hub.watch("alice", id, "", never)))).toBe(Code.NotFound);
    expect(hub.stats).toMatchObject({ streams: 0, expired: 0, timers: 0 });
  });

  it("gives a foreign stream and an unknown one the same NOT_FOUND", async () => {
    const id = await hub.create("alice", req("ok"));
    expect(await codeOf(collect(hub.watch("mallory", id, "", never)))).toBe(Code.NotFound);
    expect(await codeOf(collect(hub.watch("alice", "A".repeat(22), "", never)))).toBe(Code.NotFound);
    expect(await codeOf(hub.cancel("mallory", id))).toBe(Code.NotFound);
    await expect(hub.get("mallory", id)).rejects.toThrow(ConnectError);
  });

  it("turns an upstream refusal into an RPC error and holds no stream", async () => {
    expect(await codeOf(hub.create("alice", req("unknown")))).toBe(Code.NotFound);
    const e = await hub.create("alice", req("crash")).catch((x: unknown) => ConnectError.from(x));
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).rawMessage).not.toContain("secret");
    expect(hub.size).toBe(0);
  });

  it("refuses an invalid request before calling upstream", async () => {
    const bad = create(CreateStreamRequestSchema, { request: { model: "ok", messages: [] } });
    expect(await codeOf(hub.create("alice", bad))).toBe(Code.InvalidArgument);
    expect(await codeOf(hub.create("alice", req("ok", { streamId: "short" })))).toBe(Code.InvalidArgument);
    expect(up.calls).toHaveLength(0);
  });

  it("ends a stream that upstream cut off with failed(UNAVAILABLE, UPSTREAM_TRUNCATED)", async () => {
    const id = await hub.create("alice", req("truncated"));
    const events = await collect(hub.watch("alice", id, "", never));
    expect(events.at(-1)?.event).toMatchObject({
      case: "failed",
      value: { code: Code.Unavailable, reason: "UPSTREAM_TRUNCATED", retryable: true },
    });
  });

  it("is idempotent for a client-chosen id: one generation, same stream", async () => {
    const streamId = "client-chosen-id-0123456789";
    const a = await hub.create("alice", req("ok", { streamId }));
    const b = await hub.create("alice", req("ok", { streamId }));
    expect(a).toBe(streamId);
    expect(b).toBe(streamId);
    expect(up.calls).toHaveLength(1);
    // Scoped to the owner: bob's same id is bob's own new stream, no oracle.
    expect(await hub.create("bob", req("ok", { streamId }))).toBe(streamId);
    expect(up.calls).toHaveLength(2);
    expect((await hub.get("bob", streamId)).streamId).toBe(streamId);
    expect(hub.size).toBe(2);
  });

  it("cancel aborts upstream at once and ends with completed(CANCELLED) and the last usage", async () => {
    const id = await hub.create("alice", req("gated"));
    up.release(); // one delta + usage
    await vi.waitFor(async () => expect((await hub.get("alice", id)).lastSeq).toBe(3));
    const info = await hub.cancel("alice", id);
    expect(info.state).toBe(StreamState.CANCELLED);
    expect(up.calls[0]?.signal.aborted).toBe(true);
    const events = await collect(hub.watch("alice", id, "", never));
    expect(events.at(-1)?.event).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.CANCELLED, usage: { inputTokens: 3, outputTokens: 1 } },
    });
    expect((await hub.cancel("alice", id)).state).toBe(StreamState.CANCELLED); // idempotent
  });

  describe("detach is not cancel", () => {
    async function watchThenLeave(id: string) {
      const ac = new AbortController();
      const it = hub.watch("alice", id, "", ac.signal);
      await it.next(); // started
      ac.abort();
      await it.return(undefined);
    }

    it("CANCEL_AFTER_GRACE: keeps generating for the grace period, then cancels", async () => {
      vi.useFakeTimers();
      const id = await hub.create("alice", req("gated"));
      await watchThenLeave(id);
      await vi.advanceTimersByTimeAsync(opts.detachGraceMs - 1);
      expect(up.calls[0]?.signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(up.calls[0]?.signal.aborted).toBe(true);
    });

    it("CANCEL_AFTER_GRACE: a watcher coming back within the grace period keeps it alive and loses nothing", async () => {
      vi.useFakeTimers();
      const id = await hub.create("alice", req("gated"));
      const ac = new AbortController();
      const first: StreamEvent[] = [];
      const w = hub.watch("alice", id, "", ac.signal);
      up.release(); // t0 and usage while the first watcher is there
      for (let i = 0; i < 3; i++) first.push((await w.next()).value as StreamEvent);
      ac.abort();
      await w.return(undefined);
      up.release(); // t1 while nobody watches
      await vi.advanceTimersByTimeAsync(opts.detachGraceMs - 1);
      const last = first.at(-1)!;
      const back = collect(hub.watch("alice", id, `${last.epoch}:${last.seq}`, never));
      await vi.advanceTimersByTimeAsync(opts.detachGraceMs * 5);
      expect(up.calls[0]?.signal.aborted).toBe(false);
      up.release(); // t2, then completed
      const rest = await back;
      expect(rest[0]?.event).toMatchObject({ case: "resumed", value: { outcome: ResumeOutcome.RECOVERED } });
      const seqs = [...first, ...rest.slice(1)].map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, k) => k + 1));
      expect(textOf([...first, ...rest])).toBe("t0 t1 t2 ");
      expect(rest.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    });

    it("a creator that never attaches gets the grace period, then the generation is cancelled", async () => {
      vi.useFakeTimers();
      await hub.create("alice", req("gated", { onDetach: OnDetach.CANCEL }));
      await vi.advanceTimersByTimeAsync(opts.detachGraceMs - 1);
      expect(up.calls[0]?.signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(up.calls[0]?.signal.aborted).toBe(true);
    });

    it("CANCEL: cancels as soon as the last watcher leaves", async () => {
      const id = await hub.create("alice", req("gated", { onDetach: OnDetach.CANCEL }));
      await watchThenLeave(id);
      expect(up.calls[0]?.signal.aborted).toBe(true);
    });

    it("CONTINUE: never cancels; the answer is kept for a later watch", async () => {
      vi.useFakeTimers();
      const id = await hub.create("alice", req("gated", { onDetach: OnDetach.CONTINUE }));
      await watchThenLeave(id);
      await vi.advanceTimersByTimeAsync(opts.detachGraceMs * 10);
      expect(up.calls[0]?.signal.aborted).toBe(false);
      vi.useRealTimers();
      for (let i = 0; i < 3; i++) up.release();
      await vi.waitFor(async () => expect((await hub.get("alice", id)).state).toBe(StreamState.COMPLETED));
    });
  });

  describe("slow and lagging watchers", () => {
    it("closes a watcher that fell behind the log's retention with ABORTED; its resume says TRIMMED", async () => {
      const id = await hub.create("alice", req("flood", { onDetach: OnDetach.CONTINUE }));
      const w = hub.watch("alice", id, "", never);
      const got = [(await w.next()).value as StreamEvent];
      await vi.waitFor(async () => expect((await hub.get("alice", id)).lastSeq).toBe(401));
      let err: ConnectError | undefined;
      try {
        for (let r = await w.next(); !r.done; r = await w.next()) got.push(r.value);
      } catch (e) {
        err = ConnectError.from(e);
      }
      expect(err?.code).toBe(Code.Aborted);
      expect(err?.metadata.get("airwave-reason")).toBe("WATCHER_LAGGED");
      expect(got.map((e) => e.seq)).toEqual(got.map((_, k) => k + 1)); // nothing skipped before the error
      const last = got.at(-1)!;
      const again = hub.watch("alice", id, `${last.epoch}:${last.seq}`, never);
      expect((await again.next()).value?.event).toMatchObject({
        case: "resumed",
        value: { outcome: ResumeOutcome.TRIMMED, cursor: `${last.epoch}:${401 - opts.logMaxEvents}` },
      });
      expect((await again.next()).value?.seq).toBe(402 - opts.logMaxEvents);
      await again.return(undefined);
      await hub.cancel("alice", id);
    });

    it("coalesces adjacent text deltas for a lagging watcher: same text, fewer events, exact cursors", async () => {
      hub = new Hub(up.client, { ...opts, coalesceLagEvents: 1 });
      const id = await hub.create("alice", req("ok"));
      await vi.waitFor(async () => expect((await hub.get("alice", id)).state).toBe(StreamState.COMPLETED));
      const lagging = await collect(hub.watch("alice", id, "", never));
      expect(lagging.map((e) => [e.event.case, e.seq])).toEqual([
        ["started", 1],
        ["textDelta", 2],
        ["usage", 3],
        ["textDelta", 5],
        ["completed", 6],
      ]);
      expect(textOf(lagging)).toBe("t0 t1 t2 ");
      // Resuming from the coalesced event's cursor is exact.
      const c = lagging[3]!;
      const rest = await collect(hub.watch("alice", id, `${c.epoch}:${c.seq}`, never));
      expect(rest.map((e) => e.event.case)).toEqual(["resumed", "completed"]);
    });

    it("does not coalesce for a watcher that keeps up (coalesceLagEvents 0 or not exceeded)", async () => {
      hub = new Hub(up.client, { ...opts, coalesceLagEvents: 100 });
      const id = await hub.create("alice", req("ok"));
      await vi.waitFor(async () => expect((await hub.get("alice", id)).state).toBe(StreamState.COMPLETED));
      expect((await collect(hub.watch("alice", id, "", never))).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    });
  });

  /** On fake timers: a hub with `limits`, and one stream of `script` created by alice and watched from its start. */
  async function watchedStream(limits: Partial<HubOptions>, script: string) {
    vi.useFakeTimers();
    hub = new Hub(up.client, { ...opts, ...limits });
    const id = await hub.create("alice", req(script));
    return { id, events: collect(hub.watch("alice", id, "", never)) };
  }

  describe("liveness limits", () => {
    it("ends with failed(DEADLINE_EXCEEDED, FIRST_TOKEN_TIMEOUT) when no content comes in time, and aborts upstream", async () => {
      const { events } = await watchedStream({ firstTokenTimeoutMs: 500 }, "no-token");
      await vi.advanceTimersByTimeAsync(499);
      expect(up.calls[0]?.signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect((await events).at(-1)?.event).toMatchObject({
        case: "failed",
        value: { code: Code.DeadlineExceeded, reason: "FIRST_TOKEN_TIMEOUT", retryable: true },
      });
      expect(up.calls[0]?.signal.aborted).toBe(true);
      expect(hub.stats.running).toBe(0);
    });

    it("refuses the create with DEADLINE_EXCEEDED when not even `started` comes in time", async () => {
      vi.useFakeTimers();
      hub = new Hub(up.client, { ...opts, firstTokenTimeoutMs: 500 });
      const created = codeOf(hub.create("alice", req("silent")));
      await vi.advanceTimersByTimeAsync(500);
      expect(await created).toBe(Code.DeadlineExceeded);
      expect(hub.size).toBe(0);
    });

    it("ends with failed(STALL_TIMEOUT) and the usage so far when the model stalls after its first token", async () => {
      const { id, events } = await watchedStream({ stallTimeoutMs: 300, firstTokenTimeoutMs: 10_000 }, "stall");
      await vi.advanceTimersByTimeAsync(299);
      expect((await hub.get("alice", id)).state).toBe(StreamState.RUNNING);
      await vi.advanceTimersByTimeAsync(1);
      expect((await events).at(-1)?.event).toMatchObject({
        case: "failed",
        value: { code: Code.DeadlineExceeded, reason: "STALL_TIMEOUT", usage: { inputTokens: 3, outputTokens: 1 } },
      });
      expect(up.calls[0]?.signal.aborted).toBe(true);
    });

    it("ends with failed(GENERATION_TIMEOUT) at the total deadline", async () => {
      const { events } = await watchedStream({ generationTimeoutMs: 2000 }, "stall");
      await vi.advanceTimersByTimeAsync(2000);
      expect((await events).at(-1)?.event).toMatchObject({
        case: "failed",
        value: { code: Code.DeadlineExceeded, reason: "GENERATION_TIMEOUT" },
      });
      expect(up.calls[0]?.signal.aborted).toBe(true);
    });
  });

  describe("graceful shutdown", () => {
    it("refuses new streams at once, lets running ones finish within the grace period, then clears everything", async () => {
      vi.useFakeTimers();
      const id = await hub.create("alice", req("gated"));
      const events = collect(hub.watch("alice", id, "", never));
      const stopped = hub.shutdown(10_000);
      expect(await codeOf(hub.create("alice", req("ok")))).toBe(Code.Unavailable);
      const late = hub.watch("alice", id, "", never); // watches of existing streams still work
      expect((await late.next()).value?.seq).toBe(1);
      await late.return(undefined);
      for (let i = 0; i < 3; i++) up.release();
      await vi.advanceTimersByTimeAsync(100);
      expect((await events).at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
      await stopped;
      expect(hub.stats).toMatchObject({ running: 0, watchers: 0, timers: 0 });
      expect(await codeOf(collect(hub.watch("alice", id, "", never)))).toBe(Code.Unavailable);
    });

    it("at the deadline ends running generations with failed(UNAVAILABLE, GATEWAY_SHUTDOWN, retryable) and the usage so far", async () => {
      vi.useFakeTimers();
      const id = await hub.create("alice", req("stall"));
      const events = collect(hub.watch("alice", id, "", never));
      const stopped = hub.shutdown(10_000);
      await vi.advanceTimersByTimeAsync(9_999);
      expect(up.calls[0]?.signal.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(up.calls[0]?.signal.aborted).toBe(true);
      expect((await events).at(-1)?.event).toMatchObject({
        case: "failed",
        value: { code: Code.Unavailable, reason: "GATEWAY_SHUTDOWN", retryable: true, usage: { inputTokens: 3, outputTokens: 1 } },
      });
      await vi.advanceTimersByTimeAsync(1_000);
      await stopped;
      expect(hub.stats).toMatchObject({ running: 0, watchers: 0, timers: 0 });
      expect(vi.getTimerCount()).toBe(0);
    });
  });

  it("refuses new streams past maxStreams running with RESOURCE_EXHAUSTED GATEWAY_STREAM_LIMIT; ended ones free it", async () => {
    const ids: string[] = [];
    for (let i = 0; i < opts.maxStreams; i++) ids.push(await hub.create(`owner-${i % 3}`, req("gated")));
    const err = await hub.create("dave", req("ok")).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.metadata.get("airwave-reason")).toBe("GATEWAY_STREAM_LIMIT");
    expect(Number(err?.metadata.get("retry-after-ms"))).toBeGreaterThan(0);
    await hub.cancel("owner-0", ids[0]!);
    await vi.waitFor(() => expect(hub.stats.running).toBe(opts.maxStreams - 1));
    await expect(hub.create("dave", req("gated"))).resolves.toBeTypeOf("string");
  });

  it("limits running streams per owner (OWNER_STREAM_LIMIT) while another owner creates at once", async () => {
    await hub.close();
    hub = new Hub(up.client, { ...opts, ownerMaxStreams: 2 });
    await hub.create("anonymous", req("gated"));
    await hub.create("anonymous", req("gated"));
    const err = await hub.create("anonymous", req("gated")).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.metadata.get("airwave-reason")).toBe("OWNER_STREAM_LIMIT");
    await expect(hub.create("key:other", req("gated"))).resolves.toBeTypeOf("string");
  });

  it("limits stream starts per owner per second (OWNER_RATE_LIMITED with retry-after-ms)", async () => {
    await hub.close();
    hub = new Hub(up.client, { ...opts, ownerStartsPerS: 2, ownerStartsBurst: 3 });
    for (let i = 0; i < 3; i++) await hub.create("alice", req("ok"));
    const err = await hub.create("alice", req("ok")).then(
      () => undefined,
      (e: unknown) => ConnectError.from(e),
    );
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.metadata.get("airwave-reason")).toBe("OWNER_RATE_LIMITED");
    const retry = Number(err?.metadata.get("retry-after-ms"));
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(2_000);
    await expect(hub.create("bob", req("ok"))).resolves.toBeTypeOf("string");
    // An idempotent re-create of alice's id costs no start.
  });
});
