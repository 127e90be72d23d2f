/**
 * `/metrics` after real streams on every edge transport: the counters and
 * histograms the observability page lists have the values the streams
 * gave them (started and delivered per transport, time to first token at
 * the log and at the client, a resume by outcome, a client cancel with its
 * duration, a watch error by code, bytes sent, the default process
 * metrics), and `promtool check metrics` accepts the body (Debian's
 * `prometheus` package; `.ci/run` installs it, and in CI a missing promtool
 * fails the test).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { defaultUpstreamLimits } from "@airwave/services";
import { create } from "@bufbuild/protobuf";
import { type CreateStreamRequest, CreateStreamRequestSchema, isTerminal, newStreamId, Role, type StreamEvent } from "@airwave/proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import { fixturesRoot, haveFixtures } from "../support/fixtures.js";
import { parsePromText, type Sample, sumOf } from "../support/prom-text.js";
import { startReplayServer } from "../support/replay-server.js";
import { type EdgeTransportName, edgeTransport, edgeTransportNames } from "../support/transports.js";

let aw: TestAirwave;
beforeAll(async () => {
  aw = await startAirwave();
});
afterAll(async () => {
  await aw?.close();
});

function request(tokens: number, ttftMs = 5): CreateStreamRequest {
  return create(CreateStreamRequestSchema, {
    streamId: newStreamId(),
    request: {
      model: "simulator",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "count the tides" } }] }],
      metadata: { "simulator.output_tokens": String(tokens), "simulator.ttft_ms": String(ttftMs) },
    },
  });
}

async function drain(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) {
    out.push(e);
    if (isTerminal(e)) break;
  }
  return out;
}

/** Lints a /metrics body with promtool (outside CI a missing promtool skips the lint, and says so). */
function promtoolCheck(text: string): void {
  const check = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (check.error && !process.env.CI) {
    console.warn(`promtool not found (${check.error.message}): the lint is skipped outside CI`);
    return;
  }
  expect(check.error).toBeUndefined();
  expect(`${check.stdout}${check.stderr}`).toBe("");
  expect(check.status).toBe(0);
}

async function scrape(url = `${aw.url}/metrics`): Promise<{ text: string; samples: Sample[]; contentType: string }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, samples: parsePromText(text), contentType: res.headers.get("content-type") ?? "" };
}

/** The `transport` label each edge transport's create is counted under. */
const label: Record<EdgeTransportName, string> = {
  connect: "connect",
  "grpc-web": "grpc_web",
  grpc: "grpc",
  sse: "sse",
  ndjson: "ndjson",
  "long-poll": "long_poll",
  websocket: "websocket",
};

describe("/metrics", () => {
  const tokens = 12;
  const seen = new Map<EdgeTransportName, StreamEvent[]>();
  let before: Sample[];

  beforeAll(async () => {
    before = (await scrape()).samples;
    for (const t of edgeTransportNames)
      seen.set(t, await drain(edgeTransport(t, aw.url).create(request(tokens), AbortSignal.timeout(20_000))));
  }, 60_000);

  it("counts the streams started and the events delivered, by transport", async () => {
    const { samples } = await scrape();
    for (const t of edgeTransportNames) {
      const events = seen.get(t) ?? [];
      expect(events.at(-1)?.event.case, t).toBe("completed");
      const where = { transport: label[t] };
      expect(sumOf(samples, "airwave_streams_started_total", where) - sumOf(before, "airwave_streams_started_total", where), t).toBe(1);
      const texts = events.filter((e) => e.event.case === "textDelta").length;
      // Long-poll batches may coalesce deltas for a lagging poll: at least one, at most what the stream had.
      const delivered = sumOf(samples, "airwave_events_delivered_total", { ...where, kind: "text_delta" });
      if (t === "long-poll") expect(delivered).toBeGreaterThan(0);
      else expect(delivered, t).toBe(texts);
    }
    expect(sumOf(samples, "airwave_sent_bytes_total", { transport: "sse" })).toBeGreaterThan(0);
    expect(sumOf(samples, "airwave_sent_bytes_total", { transport: "websocket" })).toBeGreaterThan(0);
    expect(sumOf(samples, "airwave_streams_ended_total", { provider: "simulator", outcome: "completed" })).toBeGreaterThanOrEqual(
      edgeTransportNames.length,
    );
    expect(sumOf(samples, "airwave_streams_running")).toBe(0);
    // Every stream is still held (ended, within its TTL): its events with it.
    expect(sumOf(samples, "airwave_log_held_events")).toBeGreaterThanOrEqual(edgeTransportNames.length * (tokens + 2));
    expect(sumOf(samples, "airwave_log_held_bytes")).toBeGreaterThan(0);
    expect(sumOf(samples, "airwave_watches_active")).toBe(0);
  });

  it("measures time to first token where it enters the log and where it leaves for the client, per provider", async () => {
    const { samples } = await scrape();
    const n = edgeTransportNames.length;
    const log = { provider: "simulator", point: "log" };
    const client = { provider: "simulator", point: "client" };
    expect(sumOf(samples, "airwave_time_to_first_token_seconds_count", log)).toBeGreaterThanOrEqual(n);
    expect(sumOf(samples, "airwave_time_to_first_token_seconds_count", client)).toBeGreaterThanOrEqual(n);
    // The log sees the first token before any client does.
    const mean = (w: Record<string, string>) =>
      sumOf(samples, "airwave_time_to_first_token_seconds_sum", w) / sumOf(samples, "airwave_time_to_first_token_seconds_count", w);
    expect(mean(log)).toBeGreaterThan(0);
    expect(mean(log)).toBeLessThanOrEqual(mean(client));
    expect(sumOf(samples, "airwave_inter_token_seconds_count", log)).toBeGreaterThanOrEqual(n * (tokens - 2));
  });

  it("counts a resume by outcome with its duration, a client cancel with its duration, and a watch error by code", async () => {
    const t = edgeTransport("sse", aw.url);
    const first = await drain(t.create(request(8), AbortSignal.timeout(20_000)));
    const mid = first[3] as StreamEvent;
    const resumed = await drain(t.watch(mid.streamId, { epoch: mid.epoch, seq: mid.seq }, AbortSignal.timeout(20_000)));
    expect(resumed[0]?.event.case).toBe("resumed");
    await drain(t.watch(mid.streamId, { epoch: "not-the-epoch", seq: mid.seq }, AbortSignal.timeout(20_000)));

    const slow = request(1_000, 5);
    const ac = new AbortController();
    const it = t.create(slow, ac.signal)[Symbol.asyncIterator]();
    await it.next();
    await t.cancel(slow.streamId);
    ac.abort();

    await expect(drain(t.watch(newStreamId(), undefined, AbortSignal.timeout(5_000)))).rejects.toThrow();

    const { samples } = await scrape();
    const added = (name: string, where: Record<string, string>) => sumOf(samples, name, where) - sumOf(before, name, where);
    // Long-poll's polls carry cursors too: they are polls, not resumes, and are not counted.
    expect(added("airwave_resumes_total", { outcome: "recovered" })).toBe(1);
    expect(added("airwave_resumes_total", { outcome: "epoch_changed" })).toBe(1);
    expect(added("airwave_resume_duration_seconds_count", { outcome: "recovered" })).toBe(1);
    expect(added("airwave_cancels_total", { source: "client" })).toBe(1);
    expect(added("airwave_cancel_duration_seconds_count", { source: "client" })).toBe(1);
    expect(sumOf(samples, "airwave_cancel_duration_seconds_sum", { source: "client" })).toBeLessThan(1);
    expect(added("airwave_streams_ended_total", { outcome: "cancelled" })).toBe(1);
    expect(added("airwave_watch_errors_total", { transport: "sse", code: "not_found" })).toBe(1);
  });

  it("has the default process metrics, the Prometheus content type, and passes promtool check metrics", async () => {
    const { text, samples, contentType } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(samples.some((s) => s.name === "process_cpu_seconds_total")).toBe(true);
    expect(samples.some((s) => s.name === "nodejs_eventloop_lag_seconds")).toBe(true);
    expect(text).not.toMatch(/stream_id|owner=/);
    promtoolCheck(text);
  });
});

describe.runIf(haveFixtures("openai-chat"))("the inference service's /metrics (AIRWAVE_SERVICES_METRICS_PORT)", () => {
  let withUpstream: TestAirwave;
  let replay: Awaited<ReturnType<typeof startReplayServer>>;
  beforeAll(async () => {
    replay = await startReplayServer(join(fixturesRoot, "upstream", "openai-chat"), { paceMs: 0 });
    withUpstream = await startAirwave({
      services: { openaiBaseUrl: replay.url, metricsPort: 0, upstream: { ...defaultUpstreamLimits, retries: 1 } },
    });
  });
  afterAll(async () => {
    await withUpstream?.close();
    await replay?.close();
  });

  it("counts upstream requests, retries, time to first byte and errors by provider kind", async () => {
    const t = edgeTransport("sse", withUpstream.url);
    const model = (m: string) => {
      const r = request(1);
      (r.request as { model: string }).model = `openai-compatible/${m}`;
      return r;
    };
    const ok = await drain(t.create(model("content-logprobs.sse"), AbortSignal.timeout(20_000)));
    expect(ok.at(-1)?.event.case).toBe("completed");
    await expect(drain(t.create(model("status=503"), AbortSignal.timeout(20_000)))).rejects.toThrow();
    const { text, samples } = await scrape(withUpstream.servicesMetricsUrl);
    const kind = { provider_kind: "openai-chat" };
    expect(sumOf(samples, "airwave_upstream_requests_total", kind)).toBe(3); // one, then one retried once
    expect(sumOf(samples, "airwave_upstream_retries_total", kind)).toBe(1);
    expect(sumOf(samples, "airwave_upstream_errors_total", { ...kind, code: "unavailable" })).toBe(1);
    expect(sumOf(samples, "airwave_upstream_time_to_first_byte_seconds_count", kind)).toBe(3);
    expect(sumOf(samples, "airwave_generations_total", { code: "ok" })).toBe(1);
    expect(sumOf(samples, "airwave_generations_active")).toBe(0);
    promtoolCheck(text);
  });
});

describe("AIRWAVE_METRICS=off", () => {
  it("serves no /metrics (404) and streams as before", async () => {
    const off = await startAirwave({ gateway: { metricsEnabled: false } });
    try {
      expect((await fetch(`${off.url}/metrics`)).status).toBe(404);
      const events = await drain(edgeTransport("sse", off.url).create(request(3), AbortSignal.timeout(20_000)));
      expect(events.at(-1)?.event.case).toBe("completed");
    } finally {
      await off.close();
    }
  });
});
