import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import {
  CreateStreamRequestSchema,
  ev,
  FinishReason,
  InferenceService,
  OnDetach,
  ResumeOutcome,
  type StreamEvent,
  StreamState,
} from "@airwave/proto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Hub } from "./hub.js";

/** A scripted in-memory inference service; `release()` lets the next event go. */
function fakeUpstream() {
  const calls: { model: string; signal: AbortSignal }[] = [];
  let permits = 0;
  let wake: (() => void) | undefined;
  const transport = createRouterTransport(({ service }) => {
    service(InferenceService, {
      async *generate(req, ctx) {
        calls.push({ model: req.model, signal: ctx.signal });
        if (req.model === "unknown") throw new ConnectError("model unknown", Code.NotFound);
        if (req.model === "crash") throw new Error("secret internal detail");
        yield { event: ev.started(req.model, "fake") };
        const n = req.model === "long" ? 1000 : 3;
        for (let i = 0; i < n; i++) {
          if (req.model === "gated") {
            while (permits === 0) await new Promise<void>((r) => (wake = r));
            permits--;
          }
          ctx.signal.throwIfAborted();
          yield { event: ev.textDelta(`t${i} `) };
          if (i === 0) yield { event: ev.usage({ inputTokens: 3, outputTokens: 1 }) };
        }
        if (req.model === "truncated") return;
        yield { event: ev.completed(FinishReason.STOP, { inputTokens: 3, outputTokens: n }) };
      },
    });
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
    expect(hub.get("alice", id)).toMatchObject({ state: StreamState.COMPLETED, lastSeq: 6 });
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

  it("answers OUT_OF_RANGE, never a silent gap, when the cursor was trimmed", async () => {
    const id = await hub.create("alice", req("long"));
    const w = hub.watch("alice", id, "", never);
    const epoch = ((await w.next()).value as StreamEvent).epoch;
    await w.return(undefined);
    await vi.waitFor(() => expect(hub.get("alice", id).state).toBe(StreamState.COMPLETED));
    expect(await codeOf(collect(hub.watch("alice", id, `${epoch}:1`, never)))).toBe(Code.OutOfRange);
    expect(await codeOf(collect(hub.watch("alice", id, `${epoch}:999999`, never)))).toBe(Code.OutOfRange);
    expect(await codeOf(collect(hub.watch("alice", id, "not a cursor", never)))).toBe(Code.InvalidArgument);
  });

  it("gives a foreign stream and an unknown one the same NOT_FOUND", async () => {
    const id = await hub.create("alice", req("ok"));
    expect(await codeOf(collect(hub.watch("mallory", id, "", never)))).toBe(Code.NotFound);
    expect(await codeOf(collect(hub.watch("alice", "A".repeat(22), "", never)))).toBe(Code.NotFound);
    expect(await codeOf(hub.cancel("mallory", id))).toBe(Code.NotFound);
    expect(() => hub.get("mallory", id)).toThrow(ConnectError);
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
    expect(await codeOf(hub.create("bob", req("ok", { streamId })))).toBe(Code.AlreadyExists);
  });

  it("cancel aborts upstream at once and ends with completed(CANCELLED) and the last usage", async () => {
    const id = await hub.create("alice", req("gated"));
    up.release(); // one delta + usage
    await vi.waitFor(() => expect(hub.get("alice", id).lastSeq).toBe(3));
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

    it("CANCEL_AFTER_GRACE: a watcher coming back within the grace period keeps it alive", async () => {
      vi.useFakeTimers();
      const id = await hub.create("alice", req("gated"));
      await watchThenLeave(id);
      await vi.advanceTimersByTimeAsync(opts.detachGraceMs / 2);
      const back = hub.watch("alice", id, "", never);
      await back.next();
      await vi.advanceTimersByTimeAsync(opts.detachGraceMs * 5);
      expect(up.calls[0]?.signal.aborted).toBe(false);
      await back.return(undefined);
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
      await vi.waitFor(() => expect(hub.get("alice", id).state).toBe(StreamState.COMPLETED));
    });
  });

  it("refuses new streams past maxStreams with RESOURCE_EXHAUSTED", async () => {
    for (let i = 0; i < opts.maxStreams; i++) await hub.create("alice", req("ok"));
    expect(await codeOf(hub.create("alice", req("ok")))).toBe(Code.ResourceExhausted);
  });
});
