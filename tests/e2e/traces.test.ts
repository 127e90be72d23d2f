/**
 * One trace from the client to the model: the gateway and the inference
 * service run as their own processes with the OTLP/HTTP exporter
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, JSON) pointed at a receiver in this test,
 * a replay server plays the OpenAI model. A create with the client's
 * `traceparent` gives one trace: the gateway's CreateStream span (child of
 * the client's span) → its generation span (with the `first_token` and
 * `terminal` events) → the inference service's Interact span (across the
 * gRPC hop) → the upstream POST span, whose `traceparent` the model
 * received. A resume in another trace gets a WatchStream span with its
 * `resumed` event and a link to the creation. Prints the trace as text.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createAirwaveClient, newTraceparent, readSseEvents, type TransportName, type WebSocketConstructor } from "@airwave/web";
import WebSocket from "ws";
import { Role, type StreamEvent } from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody } from "../support/airwave.js";
import { type AirwaveProcess, type InferenceProcess, startAirwaveProcess, startInferenceProcess } from "../support/airwave-process.js";
import { fixturesRoot, haveFixtures } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";

/** A span as the OTLP/JSON exporter sends it, with its process's service name. */
interface OtlpSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  events?: { name: string; attributes?: { key: string; value: Record<string, unknown> }[] }[];
  links?: { traceId: string; spanId: string }[];
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** An OTLP/HTTP receiver (JSON) that keeps every span it is sent. */
async function startReceiver() {
  const spans: OtlpSpan[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans: {
            resource: { attributes: { key: string; value: { stringValue?: string } }[] };
            scopeSpans: { spans: OtlpSpan[] }[];
          }[];
        };
        for (const rs of body.resourceSpans) {
          const service = rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
          for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, close: () => new Promise((r) => server.close(r)) };
}

const ready = haveFixtures("openai-chat");
const hex = (bytes: number) => randomBytes(bytes).toString("hex");

describe.runIf(ready)("OpenTelemetry: one trace from the client through the gateway and the inference service to the model", () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let replay: Awaited<ReturnType<typeof startReplayServer>>;
  let inference: InferenceProcess;
  let gateway: AirwaveProcess;

  beforeAll(async () => {
    receiver = await startReceiver();
    replay = await startReplayServer(join(fixturesRoot, "upstream", "openai-chat"), { paceMs: 1 });
    const otel = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "50",
      OTEL_TRACES_SAMPLER: "parentbased_always_on",
    };
    inference = await startInferenceProcess({ ...otel, OPENAI_BASE_URL: replay.url });
    gateway = await startAirwaveProcess({ ...otel, AIRWAVE_LOG_LEVEL: "info" }, { inferenceUrl: inference.url });
  }, 30_000);
  afterAll(async () => {
    await gateway?.stop();
    await inference?.stop();
    await replay?.close();
    await receiver?.close();
  });

  /** Waits (the exporters send every 50 ms) until `find` finds what it needs in the spans received. */
  async function eventually<T>(find: () => T | undefined, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = find();
      if (v !== undefined) return v;
      if (Date.now() > deadline)
        throw new Error(`${what}: not received in ${timeoutMs} ms; spans: ${receiver.spans.map((s) => s.name).join(", ")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it("links the client's span, CreateStream, the generation, Interact and the upstream POST in one trace; a resume links to the creation", async () => {
    const traceId = hex(16);
    const clientSpan = hex(8);
    const body = createBody("Tell me about tides", {}, { model: "openai-compatible/content-logprobs.sse" });
    const res = await fetch(`${gateway.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", traceparent: `00-${traceId}-${clientSpan}-01` },
      body: JSON.stringify(body),
    });
    const events: StreamEvent[] = [];
    for await (const e of readSseEvents(res.body!)) events.push(e);
    expect(events.at(-1)?.event.case).toBe("completed");

    const spanNamed = (name: string, trace = traceId) => receiver.spans.find((s) => s.name === name && s.traceId === trace);
    const create = await eventually(() => spanNamed("airwave.v1.StreamService/CreateStream"), "CreateStream span");
    const generation = await eventually(() => spanNamed("airwave.generation"), "generation span");
    const interact = await eventually(() => spanNamed("airwave.v1.InferenceService/Interact"), "Interact span");
    const upstream = await eventually(() => spanNamed("POST"), "upstream POST span");

    expect(create.parentSpanId).toBe(clientSpan);
    expect(create.service).toBe("airwave-gateway");
    expect(generation.parentSpanId).toBe(create.spanId);
    expect(generation.events?.map((e) => e.name)).toEqual(expect.arrayContaining(["first_token", "terminal"]));
    expect(interact.service).toBe("airwave-inference");
    expect(interact.parentSpanId).toBe(generation.spanId);
    expect(interact.events?.map((e) => e.name)).toEqual(expect.arrayContaining(["first_token", "terminal"]));
    expect(upstream.parentSpanId).toBe(interact.spanId);
    expect(upstream.attributes?.find((a) => a.key === "http.response.status_code")?.value).toEqual({ intValue: 200 });
    // The model received the same trace: its request carried the upstream span's traceparent.
    const atModel = replay.requests.at(-1)?.headers.traceparent;
    expect(atModel).toBe(`00-${traceId}-${upstream.spanId}-01`);

    // The lifecycle log lines carry the trace: "stream created" has the generation span's ids.
    const created = gateway
      .output()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === "stream created" && l.stream_id === events[0]?.streamId);
    expect(created).toMatchObject({ trace_id: traceId, span_id: generation.spanId });

    // A resume in another trace: its watch span links to the creation, and says how it resumed.
    const resumeTrace = hex(16);
    const mid = events[3] as StreamEvent;
    const again = await fetch(`${gateway.url}/v1/streams/${mid.streamId}/events`, {
      headers: { accept: "text/event-stream", "last-event-id": `${mid.epoch}:${mid.seq}`, traceparent: `00-${resumeTrace}-${hex(8)}-01` },
    });
    let resumedEvents = 0;
    for await (const _ of readSseEvents(again.body!)) resumedEvents++;
    expect(resumedEvents).toBeGreaterThan(1);
    const watch = await eventually(() => spanNamed("airwave.v1.StreamService/WatchStream", resumeTrace), "resume's WatchStream span");
    expect(watch.links).toEqual([expect.objectContaining({ traceId, spanId: create.spanId })]);
    expect(watch.events?.find((e) => e.name === "resumed")?.attributes).toEqual([
      { key: "airwave.resume.outcome", value: { stringValue: "recovered" } },
    ]);

    const ms = (s: OtlpSpan) => (Number(BigInt(s.endTimeUnixNano) - BigInt(s.startTimeUnixNano)) / 1e6).toFixed(1);
    console.log(
      [
        `trace ${traceId}:`,
        `  client span ${clientSpan} (the test)`,
        `  └ ${create.name} [${create.service}] ${ms(create)} ms`,
        `    └ ${generation.name} [${generation.service}] ${ms(generation)} ms, events ${generation.events?.map((e) => e.name).join(", ")}`,
        `      └ ${interact.name} [${interact.service}] ${ms(interact)} ms, events ${interact.events?.map((e) => e.name).join(", ")}`,
        `        └ ${upstream.name} ${replay.url}/… [${upstream.service}] ${ms(upstream)} ms`,
        `trace ${resumeTrace}: ${watch.name} ${ms(watch)} ms, linked to ${create.spanId}`,
      ].join("\n"),
    );
  });

  it("takes the web client's traceparent option on Connect, SSE and the WebSocket (its message field)", async () => {
    for (const transport of ["connect", "sse-fetch", "websocket"] as TransportName[]) {
      const tp = newTraceparent();
      const [, traceId, parent] = tp.split("-");
      const client = createAirwaveClient({
        baseUrl: gateway.url,
        transport,
        fallback: [],
        traceparent: () => tp,
        WebSocket: WebSocket as unknown as WebSocketConstructor,
        guard: null,
      });
      const req = {
        request: {
          model: "openai-compatible/content-logprobs.sse",
          messages: [{ role: Role.USER, parts: [{ part: { case: "text" as const, value: "Tell me about tides" } }] }],
        },
      };
      for await (const e of client.stream(req, {})) if (e.event.case === "completed") break;
      const create = await eventually(
        () => receiver.spans.find((s) => s.name === "airwave.v1.StreamService/CreateStream" && s.traceId === traceId),
        `${transport}: CreateStream span`,
      );
      expect(create.parentSpanId, transport).toBe(parent);
      expect(create.attributes?.find((a) => a.key === "airwave.transport")?.value.stringValue, transport).toBe(
        transport === "sse-fetch" ? "sse" : transport,
      );
    }
  });

  it("links a resume on another replica to the creation (the registry in Redis keeps the create span's context)", async () => {
    const shared = {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "50",
      AIRWAVE_REDIS_URL: process.env.AIRWAVE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
      AIRWAVE_REDIS_PREFIX: `test-traces-${hex(8)}:`,
    };
    const [a, b] = await Promise.all([
      startAirwaveProcess(shared, { inferenceUrl: inference.url }),
      startAirwaveProcess(shared, { inferenceUrl: inference.url }),
    ]);
    try {
      const traceId = hex(16);
      const body = createBody("Tell me about tides", {}, { model: "openai-compatible/content-logprobs.sse" });
      const res = await fetch(`${a.url}/v1/streams`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "text/event-stream", traceparent: `00-${traceId}-${hex(8)}-01` },
        body: JSON.stringify(body),
      });
      const events: StreamEvent[] = [];
      for await (const e of readSseEvents(res.body!)) events.push(e);
      const mid = events[2] as StreamEvent;
      const resumeTrace = hex(16);
      const again = await fetch(`${b.url}/v1/streams/${mid.streamId}/events`, {
        headers: { accept: "text/event-stream", "last-event-id": `${mid.epoch}:${mid.seq}`, traceparent: `00-${resumeTrace}-${hex(8)}-01` },
      });
      let n = 0;
      for await (const _ of readSseEvents(again.body!)) n++;
      expect(n).toBeGreaterThan(1);
      const create = await eventually(
        () => receiver.spans.find((s) => s.name === "airwave.v1.StreamService/CreateStream" && s.traceId === traceId),
        "CreateStream span on replica A",
      );
      const watch = await eventually(
        () => receiver.spans.find((s) => s.name === "airwave.v1.StreamService/WatchStream" && s.traceId === resumeTrace),
        "WatchStream span on replica B",
      );
      expect(watch.links).toEqual([expect.objectContaining({ traceId, spanId: create.spanId })]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
