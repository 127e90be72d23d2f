/**
 * Three gateway replicas on one Redis behind HAProxy (Debian's package,
 * round-robin, no stickiness), one inference service, all real processes,
 * and the client's own resume loop over SSE, WebSocket, Connect and NDJSON:
 * - 200 streams, each cut once by a fault proxy and resumed through the
 *   balancer (so on whichever replica is next): all complete, 0 lost, 0
 *   duplicated;
 * - a rolling restart (SIGTERM one replica at a time, the next once the
 *   previous is back) under 200 running streams: 0 lost, 0 duplicated; the
 *   streams the restarted replicas ran end as shutdown says
 *   (`failed(GATEWAY_SHUTDOWN)` if they outlived the grace period); the
 *   reconnects each restart causes spread out (printed: count, span, the
 *   busiest 10 ms);
 * - Redis restarted mid-stream (SHUTDOWN with AOF, SIGKILL with AOF): every
 *   stream completes, exact; and without persistence: every resume is exact
 *   or says why (`resumed(EPOCH_CHANGED)`), never a silent gap.
 * Prints the figures of each run.
 */
import { randomUUID } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { CreateStreamRequestSchema, isTerminal, newStreamId, ResumeOutcome, Role, type StreamEvent, StreamService } from "@airwave/proto";
import { streamWithResume } from "@airwave/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirwaveProcess, type InferenceProcess, startAirwaveProcess, startInferenceProcess } from "../support/airwave-process.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { freePort, startHaproxy, startTestRedis, type TestHaproxy, type TestRedis, waitForPort } from "../support/replica-infra.js";
import { type EdgeTransportName, edgeTransport } from "../support/transports.js";

const transports: readonly EdgeTransportName[] = ["sse", "websocket", "connect", "ndjson"];
const replicas = 3;
const leaseMs = 1_000;

/** One stream as the client saw it. */
interface Outcome {
  readonly transport: EdgeTransportName;
  readonly streamId: string;
  readonly events: StreamEvent[];
  /** The `resumed` notices, in order. */
  readonly notices: ResumeOutcome[];
  /** How many times the client's resume loop retried. */
  retries: number;
  /** When each retry's new attempt starts (the retry noticed + its backoff), `performance.now()` ms. */
  readonly reconnectAt: number[];
  error?: unknown;
}

/** A deployment: Redis, the inference service, the replicas on fixed ports, HAProxy. */
interface Deployment {
  readonly redis: TestRedis;
  readonly lb: TestHaproxy;
  readonly ports: number[];
  readonly gateways: AirwaveProcess[];
  restart(i: number): Promise<void>;
  close(): Promise<void>;
}

let inference: InferenceProcess;
beforeAll(async () => {
  inference = await startInferenceProcess({ AIRWAVE_SIM_TTFT_MS: "5" });
});
afterAll(async () => {
  await inference?.stop();
});

async function deploy(o: { appendonly: boolean; shutdownGraceMs?: number }): Promise<Deployment> {
  const redis = await startTestRedis(o);
  const ports = await Promise.all(Array.from({ length: replicas }, freePort));
  const env = (port: number) => ({
    AIRWAVE_PORT: String(port),
    AIRWAVE_REDIS_URL: redis.url,
    AIRWAVE_REDIS_PREFIX: `test-lb-${randomUUID()}:`,
    AIRWAVE_OWNER_LEASE_MS: String(leaseMs),
    AIRWAVE_SHUTDOWN_GRACE_MS: String(o.shutdownGraceMs ?? 300),
  });
  const shared = env(0).AIRWAVE_REDIS_PREFIX;
  const start = (port: number) => startAirwaveProcess({ ...env(port), AIRWAVE_REDIS_PREFIX: shared }, { inferenceUrl: inference.url });
  const gateways = await Promise.all(ports.map(start));
  const lb = await startHaproxy(ports);
  return {
    redis,
    lb,
    ports,
    gateways,
    async restart(i) {
      await gateways[i]!.stop();
      gateways[i] = await start(ports[i]!);
      await waitForPort(ports[i]!);
    },
    async close() {
      await lb.close();
      await Promise.all(gateways.map((g) => g.stop()));
      await redis.close();
    },
  };
}

function request(i: number, tokens: number, tokensPerS: number) {
  return create(CreateStreamRequestSchema, {
    streamId: newStreamId(),
    request: {
      model: "simulator",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: `replica stream ${i}` } }] }],
      metadata: { "simulator.output_tokens": String(tokens), "simulator.tokens_per_s": String(tokensPerS) },
    },
  });
}

/** Streams one request through `baseUrl` with the client's resume loop to its terminal event; `cutAt` (events) cuts the connection once. */
async function follow(
  transport: EdgeTransportName,
  baseUrl: string,
  req: ReturnType<typeof request>,
  o: { proxy?: FaultProxy; cutAt?: number; initialDelayMs?: number } = {},
): Promise<Outcome> {
  const out: Outcome = { transport, streamId: req.streamId, events: [], notices: [], retries: 0, reconnectAt: [] };
  try {
    // A stream that does not end in 60 s is a hang: it fails with what it saw, not the whole test with a timeout.
    const s = streamWithResume(edgeTransport(transport, baseUrl), req, {
      backoff: { initialDelayMs: o.initialDelayMs ?? 20, maxDelayMs: 2_000, maxAttempts: 80 },
      signal: AbortSignal.timeout(60_000),
      onRetry: ({ delayMs }) => {
        out.retries++;
        out.reconnectAt.push(performance.now() + delayMs);
      },
    });
    let n = 0;
    for await (const e of s) {
      if (e.event.case === "resumed") {
        if (e.seq === 0) out.notices.push(e.event.value.outcome);
        continue;
      }
      out.events.push(e);
      if (++n === o.cutAt) o.proxy?.faultAll({ kind: "reset" });
      if (isTerminal(e)) break;
    }
  } catch (e) {
    out.error = e;
  }
  return out;
}

/** The stream as a clean watch from the start reads it: its text and the seqs of the events that are not text deltas. */
async function reference(baseUrl: string, streamId: string): Promise<{ text: string; others: number[] }> {
  const client = createClient(StreamService, createConnectTransport({ baseUrl, httpVersion: "1.1" }));
  let text = "";
  const others: number[] = [];
  for await (const { event: e } of client.watchStream({ streamId, cursor: "" })) {
    if (!e || e.seq === 0) continue;
    if (e.event.case === "textDelta") text += e.event.value.text;
    else others.push(e.seq);
    if (isTerminal(e)) break;
  }
  return { text, others };
}

/**
 * Checks every outcome against the log: in order, no duplicate, the same
 * text and every other event (text deltas may be coalesced for a lagging
 * watcher), a terminal event; with `allowEpochChange`, a run of events may
 * be missing only where the client was told `resumed(EPOCH_CHANGED)`.
 * Returns the failures, and prints the counts.
 */
async function check(label: string, baseUrl: string, outcomes: Outcome[], o: { allowEpochChange?: boolean } = {}): Promise<string[]> {
  const failures: string[] = [];
  let lost = 0;
  let duplicated = 0;
  for (const r of outcomes) {
    const seqs = r.events.map((e) => `${e.epoch}:${e.seq}`);
    duplicated += seqs.length - new Set(seqs).size;
    const terminal = r.events.at(-1);
    if (r.error || !terminal || !isTerminal(terminal)) {
      const state = await fetch(`${baseUrl}/v1/streams/${r.streamId}`)
        .then((res) => res.text())
        .catch((e: unknown) => String(e));
      failures.push(
        `${r.transport} ${r.streamId}: no terminal event (${String(r.error)}) after ${r.events.length} events (last seq ${r.events.at(-1)?.seq}), ${r.retries} retries, notices ${r.notices}; GetStream: ${state.slice(0, 300)}`,
      );
      continue;
    }
    const changed = r.notices.includes(ResumeOutcome.EPOCH_CHANGED);
    if (changed && o.allowEpochChange) continue; // told: what follows is of a new epoch
    const ref = await reference(baseUrl, r.streamId).catch((e: unknown) => e as Error);
    if (ref instanceof Error) {
      failures.push(
        `${r.transport} ${r.streamId}: the log cannot be read (${ref.message}); notices=${r.notices} end=${terminal.event.case}`,
      );
      continue;
    }
    const text = r.events.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");
    const seen = new Set(r.events.map((e) => e.seq));
    const missing = ref.others.filter((s) => !seen.has(s)).length;
    lost += missing + (text === ref.text ? 0 : 1);
    const inOrder = r.events.every((e, k) => k === 0 || e.seq > r.events[k - 1]!.seq);
    if (missing > 0 || text !== ref.text || !inOrder) {
      failures.push(
        `${r.transport} ${r.streamId}: missing=${missing} sameText=${text === ref.text} inOrder=${inOrder} notices=${r.notices}`,
      );
    }
  }
  const ends = new Map<string, number>();
  for (const r of outcomes) {
    const t = r.events.at(-1);
    const k = t?.event.case === "failed" ? `failed(${t.event.value.reason})` : (t?.event.case ?? "none");
    ends.set(k, (ends.get(k) ?? 0) + 1);
  }
  const epochChanged = outcomes.filter((r) => r.notices.includes(ResumeOutcome.EPOCH_CHANGED)).length;
  console.log(
    `${label}: ${outcomes.length} streams; ends ${[...ends].map(([k, n]) => `${k} ${n}`).join(", ")}; lost ${lost}, duplicated ${duplicated}, told EPOCH_CHANGED ${epochChanged}`,
  );
  if (duplicated > 0) failures.push(`${duplicated} duplicated events`);
  return failures;
}

/**
 * A rolling restart as Kubernetes does one: SIGTERM to one replica at a
 * time (its readiness fails at once, HAProxy's 100 ms health check takes it
 * out, it drains and exits), the next once the previous is back. `traffic`
 * starts streams through `launch` (before the restarts, or all along them);
 * the restarts begin once `traffic` has started `atLeast` streams.
 * Checks every stream against the log (0 lost, 0 duplicated) and that the
 * reconnects each restart causes spread out — the busiest 10 ms holds at
 * most a quarter of them — and prints, per restart, how many reconnects it
 * caused, over how long, and the busiest 10 ms.
 */
async function rollingRestart(
  d: Deployment,
  label: string,
  traffic: (launch: (i: number) => void, restarting: () => boolean) => Promise<void>,
  atLeast: number,
): Promise<Outcome[]> {
  const running: Promise<Outcome>[] = [];
  // Each stream is cut once at its 3rd event and resumed through the balancer, so its watch is on
  // whichever replica is next (mostly not its owner, whose watches drain with its generations).
  // The client's default first backoff (250 ms, jittered to 125–250 ms), as browsers reconnect.
  const launch = (i: number) =>
    running.push(
      (async () => {
        const proxy = await startFaultProxy({ targetPort: d.lb.port });
        try {
          const out = await follow(transports[i % transports.length]!, proxy.url, request(i, 60, 20), {
            proxy,
            cutAt: 3,
            initialDelayMs: 250,
          });
          out.reconnectAt.shift(); // the cut's own
          return out;
        } finally {
          await proxy.close();
        }
      })(),
    );
  let restarting = true;
  const windows: { from: number; to: number }[] = [];
  const load = traffic(launch, () => restarting);
  while (running.length < atLeast) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 500)); // the first streams are past their cut
  for (let i = 0; i < replicas; i++) {
    const from = performance.now();
    await d.restart(i);
    windows.push({ from, to: performance.now() });
  }
  restarting = false;
  await load;
  const outcomes = await Promise.all(running);
  expect(await check(label, d.lb.url, outcomes)).toEqual([]);
  const at = outcomes.flatMap((r) => r.reconnectAt);
  windows.forEach((w, i) => {
    const mine = at.filter((t) => t >= w.from && t < (windows[i + 1]?.from ?? Number.POSITIVE_INFINITY)).sort((a, b) => a - b);
    const buckets = new Map<number, number>();
    for (const t of mine) buckets.set(Math.floor(t / 10), (buckets.get(Math.floor(t / 10)) ?? 0) + 1);
    const peak = Math.max(0, ...buckets.values());
    console.log(
      `${label}, replica ${i} (SIGTERM → back in ${(w.to - w.from).toFixed(0)} ms): ${mine.length} reconnects over ${mine.length ? (mine.at(-1)! - mine[0]!).toFixed(0) : 0} ms, busiest 10 ms ${peak}`,
    );
    if (mine.length >= 8)
      expect(peak, `replica ${i}: ${peak} of ${mine.length} reconnects in one 10 ms`).toBeLessThanOrEqual(mine.length / 4);
  });
  return outcomes;
}

describe("three replicas behind HAProxy, one Redis", () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy({ appendonly: true });
  });
  afterAll(async () => {
    await d?.close();
  });

  it("200 streams over SSE, WebSocket, Connect and NDJSON, each cut once and resumed through the balancer: all complete, 0 lost, 0 duplicated", {
    timeout: 120_000,
  }, async () => {
    const proxies = await Promise.all(Array.from({ length: 200 }, () => startFaultProxy({ targetPort: d.lb.port })));
    try {
      const outcomes = await Promise.all(
        proxies.map((proxy, i) =>
          follow(transports[i % transports.length]!, proxy.url, request(i, 60, 40), { proxy, cutAt: 5 + (i % 40) }),
        ),
      );
      expect(await check("cut once, resumed through HAProxy", d.lb.url, outcomes)).toEqual([]);
      expect(outcomes.every((r) => r.events.at(-1)?.event.case === "completed")).toBe(true);
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
    }
  });

  it("a rolling restart under 200 running streams, with a grace shorter than the answers: 0 lost, 0 duplicated; the restarted replicas' streams end as shutdown says", {
    timeout: 120_000,
  }, async () => {
    const outcomes = await rollingRestart(
      d,
      "rolling restart, grace 300 ms",
      async (launch) => {
        for (let i = 0; i < 200; i++) launch(i);
      },
      200,
    );
    for (const r of outcomes) {
      const t = r.events.at(-1)!;
      if (t.event.case === "failed") expect(t.event.value).toMatchObject({ reason: "GATEWAY_SHUTDOWN", retryable: true });
      else expect(t.event.case).toBe("completed");
    }
  });

  it.each([
    ["SHUTDOWN", (r: TestRedis) => r.stop()],
    ["SIGKILL", (r: TestRedis) => r.kill()],
  ] as const)("Redis with AOF restarted mid-stream (%s): every stream completes, exact", { timeout: 120_000 }, async (_how, down) => {
    const running = Array.from({ length: 100 }, (_, i) => follow(transports[i % transports.length]!, d.lb.url, request(i, 80, 40)));
    await new Promise((r) => setTimeout(r, 700));
    await down(d.redis);
    await d.redis.start();
    const outcomes = await Promise.all(running);
    expect(await check(`Redis with AOF, ${_how} and restart`, d.lb.url, outcomes)).toEqual([]);
    expect(outcomes.every((r) => r.events.at(-1)?.event.case === "completed")).toBe(true);
  });
});

describe("three replicas behind HAProxy, a shutdown grace that covers the answers (as the Kubernetes manifests set it)", () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy({ appendonly: false, shutdownGraceMs: 5_000 });
  });
  afterAll(async () => {
    await d?.close();
  });

  it("a rolling restart under steady traffic (200 streams started along it): every stream completes, 0 lost, 0 duplicated, reconnects spread out", {
    timeout: 120_000,
  }, async () => {
    const outcomes = await rollingRestart(
      d,
      "rolling restart, grace 5 s, steady traffic",
      async (launch, restarting) => {
        // 10 streams every 250 ms while the replicas restart (each answer takes 3 s), at most 200.
        for (let i = 0; i < 200 && restarting(); i += 10) {
          for (let k = i; k < i + 10; k++) launch(k);
          await new Promise((r) => setTimeout(r, 250));
        }
      },
      10,
    );
    expect(outcomes.length).toBeGreaterThanOrEqual(100);
    expect(outcomes.filter((r) => r.events.at(-1)?.event.case !== "completed").map((r) => r.streamId)).toEqual([]);
  });
});

describe("three replicas behind HAProxy, Redis without persistence", () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy({ appendonly: false });
  });
  afterAll(async () => {
    await d?.close();
  });

  it("Redis restarted mid-stream loses everything: every stream ends, and every resume is exact or says EPOCH_CHANGED", {
    timeout: 120_000,
  }, async () => {
    const running = Array.from({ length: 100 }, (_, i) => follow(transports[i % transports.length]!, d.lb.url, request(i, 80, 40)));
    await new Promise((r) => setTimeout(r, 700));
    await d.redis.kill();
    await d.redis.start();
    const outcomes = await Promise.all(running);
    expect(await check("Redis without persistence, restarted", d.lb.url, outcomes, { allowEpochChange: true })).toEqual([]);
  });
});

describe("three replicas behind HAProxy, Redis down for longer than the retry budget", () => {
  let d: Deployment;
  beforeAll(async () => {
    d = await deploy({ appendonly: true });
  });
  afterAll(async () => {
    await d?.close();
  });

  it("new streams get unavailable, the replicas keep running, running streams end with failed(LOG_UNAVAILABLE) once Redis is back, and clients reconnect within 2 s", {
    timeout: 120_000,
  }, async () => {
    const running = Array.from({ length: 40 }, (_, i) => follow(transports[i % transports.length]!, d.lb.url, request(i, 2000, 20)));
    await new Promise((r) => setTimeout(r, 700));
    await d.redis.stop();
    const refused = await fetch(`${d.lb.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ request: { model: "simulator", messages: [{ role: "ROLE_USER", parts: [{ text: "hi" }] }] } }),
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { code: string }).code).toBe("unavailable");
    await new Promise((r) => setTimeout(r, 7_000)); // past the ~5 s the commands wait
    for (const g of d.gateways) expect(g.child.exitCode).toBeNull();
    await d.redis.start();
    const back = performance.now();
    const outcomes = await Promise.all(running);
    const endedAfterMs = performance.now() - back;
    console.log(`Redis down 7 s: ${outcomes.length} streams ended ${endedAfterMs.toFixed(0)} ms after Redis was back`);
    for (const r of outcomes) {
      expect(r.error).toBeUndefined();
      expect(r.events.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "LOG_UNAVAILABLE", retryable: true } });
      const seqs = r.events.map((e) => e.seq);
      expect(seqs.every((s, k) => k === 0 || s > seqs[k - 1]!)).toBe(true);
    }
    expect(endedAfterMs).toBeLessThan(2_000 + 1_000); // clients back within 2 s, the terminal event retried every second
  });
});
