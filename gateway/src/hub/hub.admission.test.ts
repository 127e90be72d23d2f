import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport, type HandlerContext } from "@connectrpc/connect";
import { CreateStreamRequestSchema, ev, FinishReason, type GenerateRequest, InferenceService, type StreamEvent } from "@airwave/proto";
import { afterEach, describe, expect, it } from "vitest";
import { GatewayMetrics } from "../metrics/gateway-metrics.js";
import { interactWith } from "../testing/interact-with.js";
import { Hub } from "./hub.js";

/** An inference service whose streams send `n` deltas, each when `release()` lets one go; `calls` counts the upstream calls. */
function gatedUpstream(n: number) {
  let permits = 0;
  let wake: (() => void) | undefined;
  const up = { calls: 0, client: undefined as unknown as ReturnType<typeof createClient<typeof InferenceService>> };
  const transport = createRouterTransport(({ service }) => {
    async function* generate(req: GenerateRequest, ctx: HandlerContext) {
      up.calls++;
      yield { event: ev.started(req.model, "fake") };
      for (let i = 0; i < n; i++) {
        while (permits === 0) await new Promise<void>((r) => (wake = r));
        permits--;
        ctx.signal.throwIfAborted();
        yield { event: ev.textDelta(`t${i} `) };
      }
      yield { event: ev.completed(FinishReason.STOP, { inputTokens: 1, outputTokens: n }) };
    }
    service(InferenceService, { generate, interact: (reqs, ctx) => interactWith(generate, reqs, ctx) });
  });
  up.client = createClient(InferenceService, transport);
  return {
    ...up,
    get calls() {
      return up.calls;
    },
    release(k = 1) {
      permits += k;
      wake?.();
    },
  };
}

const opts = { detachGraceMs: 1000, streamTtlMs: 60_000, logMaxEvents: 1000, maxStreams: 100, generationTimeoutMs: 60_000 };
const streamId = (i: number) => `admission-test-stream-${String(i).padStart(4, "0")}`;
const req = (id = "") =>
  create(CreateStreamRequestSchema, {
    request: { model: "gated", messages: [{ role: 2, parts: [{ part: { case: "text", value: "hi" } }] }] },
    streamId: id,
  });

async function refusal(p: Promise<unknown>): Promise<ConnectError | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

async function drain(it: AsyncIterable<StreamEvent>, out: StreamEvent[]): Promise<void> {
  for await (const e of it) out.push(e);
}

describe("Hub admission control", () => {
  let hub: Hub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it("refuses new streams while the event-loop delay is over its threshold, before any upstream call; running streams, resumes and idempotent creates go on", async () => {
    const up = gatedUpstream(5);
    const delay = { delayMs: 0, utilization: 0, close() {} };
    const metrics = new GatewayMetrics();
    hub = new Hub(up.client, { ...opts, admissionMaxLoopDelayMs: 40, admissionRetryAfterMs: 2_000, loopLoad: delay, metrics });
    const id = await hub.create("alice", req(streamId(1)));
    const events: StreamEvent[] = [];
    const watching = drain(hub.watch("alice", id, "", new AbortController().signal), events);
    up.release(2);

    delay.delayMs = 41;
    const calls = up.calls;
    const err = await refusal(hub.create("bob", req()));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.metadata.get("airwave-reason")).toBe("OVERLOADED");
    expect(err?.metadata.get("retry-after-ms")).toBe("2000");
    expect(up.calls).toBe(calls); // refused before the inference service was asked
    // What already runs is never refused: the same id again attaches, a resume reads on.
    await expect(hub.create("alice", req(streamId(1)))).resolves.toBe(id);
    const scrape = (await metrics.scrape()).body;
    expect(scrape).toMatch(/airwave_admission_refusals_total\{reason="event_loop_delay"\} 1\n/);
    expect(scrape).toMatch(/airwave_admission_overloaded 1\n/);
    expect(scrape).toMatch(/airwave_admission_event_loop_delay_seconds 0\.041\n/);

    up.release(10);
    await watching;
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(events.at(-1)?.event.case).toBe("completed");
    const cursor = `${events[2]?.epoch}:${events[2]?.seq}`;
    const resumed: StreamEvent[] = [];
    await drain(hub.watch("alice", id, cursor, new AbortController().signal), resumed);
    expect(resumed.slice(1).map((e) => e.seq)).toEqual([4, 5, 6, 7]);

    delay.delayMs = 40; // back at the threshold: admitted
    await expect(hub.create("bob", req())).resolves.toBeTypeOf("string");
    expect((await metrics.scrape()).body).toMatch(/airwave_admission_overloaded 0\n/);
  });

  it("refuses new streams while the open watches are at their threshold, and admits once one closes", async () => {
    const up = gatedUpstream(3);
    hub = new Hub(up.client, { ...opts, admissionMaxWatches: 2 });
    const h = hub;
    const leave = [new AbortController(), new AbortController()];
    const ids = [await h.create("alice", req()), await h.create("alice", req())];
    const watches = ids.map((id, i) => drain(h.watch("alice", id, "", leave[i]?.signal as AbortSignal), []).catch(() => {}));
    await expect.poll(() => h.stats.watchers).toBe(2);
    expect((await refusal(h.create("alice", req())))?.metadata.get("airwave-reason")).toBe("OVERLOADED");
    // A third watch of a running stream is not a new stream: never refused.
    const third = new AbortController();
    const extra = drain(h.watch("alice", ids[0] as string, "", third.signal), []).catch(() => {});
    await expect.poll(() => h.stats.watchers).toBe(3);
    third.abort();
    leave[0]?.abort();
    await expect.poll(() => h.stats.watchers).toBe(1);
    await expect(h.create("alice", req())).resolves.toBeTypeOf("string");
    up.release(100);
    leave[1]?.abort();
    await Promise.all([...watches, extra]);
  });

  it("refuses new streams while the running streams' logs hold the configured share of the total", async () => {
    const up = gatedUpstream(200);
    // 10 KB total, refused from 10 %: one stream's few hundred bytes of deltas get there.
    hub = new Hub(up.client, { ...opts, logTotalMaxBytes: 10_000, admissionLogPercent: 10 });
    const h = hub;
    await h.create("alice", req());
    up.release(150);
    await expect.poll(() => h.stats.logBytes).toBeGreaterThanOrEqual(1_000);
    const err = await refusal(h.create("alice", req()));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.metadata.get("airwave-reason")).toBe("OVERLOADED");
    up.release(1_000);
    await expect.poll(() => h.stats.running).toBe(0);
    // Ended history does not count: it is trimmed for newcomers.
    await expect(h.create("alice", req())).resolves.toBeTypeOf("string");
    up.release(1_000);
  });
});
