/**
 * Admission control end to end (issue 19, docs/operations.md "Overload"):
 * a real gateway and inference service, pushed past a low configured
 * threshold (AIRWAVE_ADMISSION_MAX_WATCHES = 2). New streams are refused
 * cleanly on every edge transport (`resource_exhausted`, `airwave-reason`
 * OVERLOADED, `retry-after-ms`; HTTP 429 with `Retry-After`); the stream
 * already running, an idempotent create of it and a resume are never
 * refused, and it completes exactly.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CreateStreamRequestSchema, OnDetach, Role, type StreamEvent } from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createBody, startAirwave, type TestAirwave } from "../support/airwave.js";
import { readSse } from "../support/sse.js";
import { type EdgeTransportName, edgeTransport, edgeTransportNames } from "../support/transports.js";

const tokens = 40;
/** The running stream: 40 tokens at 20 tok/s, about 2 s, so the refusals below happen while it runs. */
const running = { "simulator.output_tokens": String(tokens), "simulator.tokens_per_s": "20" };
const streamId = "admission-e2e-running-stream-0001";
const heldId = "admission-e2e-holding-stream-0001";

async function firstError(it: AsyncIterable<StreamEvent>): Promise<ConnectError | undefined> {
  try {
    for await (const _ of it) return undefined;
    return undefined;
  } catch (e) {
    return ConnectError.from(e);
  }
}

describe("admission control past a configured threshold", () => {
  let aw: TestAirwave;
  let first: Promise<{ id: string | undefined; data: string }[]>;
  /**
   * Watches 2 and 3: a stream that runs for hours (1 tok/s) and a second
   * watch of it, until this suite leaves them: they hold the gateway at its
   * threshold however soon the running stream ends.
   */
  const holder = new AbortController();

  beforeAll(async () => {
    aw = await startAirwave({ gateway: { admissionMaxWatches: 2, admissionRetryAfterMs: 1_000 } });
    // Watch 1: the creating SSE request of the running stream.
    const created = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(createBody("hi", { streamId, onDetach: "ON_DETACH_CONTINUE" }, { metadata: running })),
    });
    expect(created.status).toBe(200);
    first = readSse(created);
    const held = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      signal: holder.signal,
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(
        createBody("hi", { streamId: heldId }, { metadata: { "simulator.output_tokens": "100000", "simulator.tokens_per_s": "1" } }),
      ),
    });
    expect(held.status).toBe(200);
    void readSse(held).catch(() => {});
    await vi.waitFor(() => expect(aw.gateway.hub.stats.watchers).toBe(2), { timeout: 5_000, interval: 10 });
    // A watch is never refused, even at the threshold.
    const watched = await fetch(`${aw.url}/v1/streams/${heldId}/events`, {
      signal: holder.signal,
      headers: { accept: "text/event-stream" },
    });
    expect(watched.status).toBe(200);
    void readSse(watched).catch(() => {});
    await vi.waitFor(() => expect(aw.gateway.hub.stats.watchers).toBe(3), { timeout: 5_000, interval: 10 });
  });
  afterAll(async () => {
    holder.abort();
    await aw?.close();
  });

  it("answers a new stream on POST /v1/streams with 429, Retry-After and airwave-reason OVERLOADED, the Connect JSON error", async () => {
    const res = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify(createBody("hi")),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("airwave-reason")).toBe("OVERLOADED");
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
  });

  it("answers the OpenAI-compatible route with 429 and Retry-After", async () => {
    const res = await fetch(`${aw.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "simulator", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(((await res.json()) as { error?: { type?: string } }).error?.type).toBe("requests");
  });

  it.each(edgeTransportNames)("refuses a new stream on %s as resource_exhausted with its retry hint", async (t: EdgeTransportName) => {
    const transport = edgeTransport(t, aw.url);
    try {
      const req = create(CreateStreamRequestSchema, {
        onDetach: OnDetach.CANCEL,
        request: { model: "simulator", messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }] },
      });
      const error = await firstError(transport.create(req, AbortSignal.timeout(10_000)));
      expect(error?.code, error?.rawMessage).toBe(Code.ResourceExhausted);
      // The hint reaches the client on every transport (the HTTP ones from the 429's headers), so its resume loop waits as asked.
      expect(error?.metadata.get("retry-after-ms")).toBe("1000");
      if (t !== "websocket") expect(error?.metadata.get("airwave-reason")).toBe("OVERLOADED");
    } finally {
      transport.close?.();
    }
  });

  it("never refuses the running stream: an idempotent create and a resume are admitted; its watcher reads it exactly to its end", async () => {
    // The same stream id again attaches to the running stream (it is not a new one).
    const again = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(createBody("hi", { streamId, onDetach: "ON_DETACH_CONTINUE" }, { metadata: running })),
    });
    expect(again.status).toBe(200);
    await again.body?.cancel();

    const events = await first;
    const json = events.map((e) => JSON.parse(e.data) as { seq: string; completed?: unknown; textDelta?: { text: string } });
    expect(json.map((e) => Number(e.seq))).toEqual(json.map((_, i) => i + 1)); // every event, in order, none twice
    expect(json.filter((e) => e.textDelta).length).toBe(tokens);
    expect(json.at(-1)?.completed).toBeDefined();

    // A resume from the middle reads exactly what followed.
    const middle = events[10]?.id as string;
    const resumed = await readSse(
      await fetch(`${aw.url}/v1/streams/${streamId}/events`, { headers: { accept: "text/event-stream", "last-event-id": middle } }),
    );
    expect(resumed.slice(1).map((e) => e.data)).toEqual(events.slice(11).map((e) => e.data));

    // The watches are gone: new streams are admitted again.
    holder.abort();
    await vi.waitFor(() => expect(aw.gateway.hub.stats.watchers).toBe(0), { timeout: 5_000, interval: 10 });
    const admitted = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify(createBody("hi", {}, { metadata: { "simulator.output_tokens": "2" } })),
    });
    expect(admitted.status).toBe(200);
    await admitted.body?.cancel();
  });

  it("counts the refusals by reason in /metrics and shows the state", async () => {
    const text = await (await fetch(`${aw.url}/metrics`)).text();
    const refused = Number(/^airwave_admission_refusals_total\{reason="watches"\} (\d+)$/m.exec(text)?.[1]);
    expect(refused).toBeGreaterThanOrEqual(2 + edgeTransportNames.length);
    expect(text).toMatch(/^airwave_admission_overloaded 0$/m);
  });
});
