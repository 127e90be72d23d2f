/**
 * Resume under network faults: many concurrent streams, each behind its own
 * fault-injecting TCP proxy, each cut 3 times at random points (TCP reset, or
 * a FIN after a random number of bytes, mid-frame), over every transport the
 * client library speaks (Connect, gRPC-Web, SSE, gRPC, NDJSON, long-poll).
 * Every stream must reach its terminal event with every logged event once,
 * in order, and the same text a clean watch of the log gives. Prints the resume latency percentiles.
 *
 * Size: env AIRWAVE_CHAOS_STREAMS (default 200, the CI size).
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { create } from "@bufbuild/protobuf";
import { CreateStreamRequestSchema, isTerminal, newStreamId, Role, type StreamEvent, StreamService } from "@airwave/proto";
import { streamWithResume } from "@airwave/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirwaveProcess, startAirwaveProcess } from "../support/airwave-process.js";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { percentiles } from "../support/stats.js";
import { clientTransports, type TransportName, transportNames as transports } from "../support/transports.js";

const streams = Number(process.env["AIRWAVE_CHAOS_STREAMS"] ?? 200);
const outputTokens = 80;

// The gateway runs in its own process: the clients and proxies here must not share its event loop.
let aw: AirwaveProcess;
beforeAll(async () => {
  aw = await startAirwaveProcess({ AIRWAVE_SIM_TTFT_MS: "5", AIRWAVE_SIM_TOKENS_PER_S: "20" });
});
afterAll(async () => {
  await aw?.stop();
});

/** A seeded PRNG (mulberry32), so a failing run can be repeated from its printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Outcome {
  transport: TransportName;
  streamId: string;
  seqs: number[];
  text: string;
  terminal: StreamEvent | undefined;
  cuts: number;
  /** How many times the resume loop retried. */
  retries: number;
  /** Per retry: the broken attempt noticed → the first message of the next attempt (`resumed`, or the replayed start), ms. */
  resumeMs: number[];
}

async function runOne(i: number, rnd: () => number): Promise<Outcome> {
  const name = transports[i % transports.length]!;
  const proxy: FaultProxy = await startFaultProxy({ targetPort: Number(new URL(aw.url).port) });
  const streamId = newStreamId();
  // Three distinct cut points among the first events (the answer has ~outputTokens+3 events).
  const points = new Set<number>();
  while (points.size < 3) points.add(1 + Math.floor(rnd() * (outputTokens - 5)));
  const cutAt = [...points].sort((a, b) => a - b);
  const out: Outcome = { transport: name, streamId, seqs: [], text: "", terminal: undefined, cuts: 0, retries: 0, resumeMs: [] };
  const req = create(CreateStreamRequestSchema, {
    streamId,
    request: {
      model: "simulator",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: `chaos stream ${i}` } }] }],
      metadata: { "simulator.output_tokens": String(outputTokens) },
    },
  });
  let received = 0;
  let retryAt: number | undefined;
  try {
    const s = streamWithResume(clientTransports[name](proxy.url), req, {
      backoff: { initialDelayMs: 5, maxDelayMs: 100, maxAttempts: 30, random: rnd },
      onRetry: () => {
        out.retries++;
        retryAt ??= performance.now();
      },
    });
    for await (const e of s) {
      if (retryAt !== undefined) {
        out.resumeMs.push(performance.now() - retryAt);
        retryAt = undefined;
      }
      if (e.seq === 0) continue; // resumed
      out.seqs.push(e.seq);
      if (e.event.case === "textDelta") out.text += e.event.value.text;
      received++;
      if (isTerminal(e)) {
        out.terminal = e;
        break;
      }
      if (cutAt[out.cuts] === received) {
        out.cuts++;
        proxy.faultAll(rnd() < 0.5 ? { kind: "reset" } : { kind: "close-after", bytes: Math.floor(rnd() * 64) });
      }
    }
  } finally {
    await proxy.close();
  }
  return out;
}

/** The stream's text as a clean (unproxied) watch from the start reads it. */
async function logText(
  client: ReturnType<typeof createClient<typeof StreamService>>,
  streamId: string,
): Promise<{ text: string; last: number; others: number[] }> {
  let text = "";
  let last = 0;
  const others: number[] = []; // seqs of the events that are not text deltas (never coalesced)
  for await (const res of client.watchStream({ streamId, cursor: "" })) {
    const e = res.event;
    if (!e || e.seq === 0) continue;
    last = e.seq;
    if (e.event.case === "textDelta") text += e.event.value.text;
    else others.push(e.seq);
    if (isTerminal(e)) break;
  }
  return { text, last, others };
}

describe(`${streams} concurrent streams, each cut 3 times, over ${transports.join(", ")}`, () => {
  it("every stream reaches its terminal event with every event exactly once", { timeout: 300_000 }, async () => {
    const seed = Number(process.env["AIRWAVE_CHAOS_SEED"] ?? Date.now() % 1_000_000);
    const rnd = prng(seed);
    const started = performance.now();
    const outcomes = await Promise.all(Array.from({ length: streams }, (_, i) => runOne(i, rnd)));
    const wallMs = performance.now() - started;

    const direct = createClient(StreamService, createConnectTransport({ baseUrl: aw.url, httpVersion: "1.1" }));
    let lost = 0;
    let duplicated = 0;
    let reachedTerminal = 0;
    const failures: string[] = [];
    for (const o of outcomes) {
      const ref = await logText(direct, o.streamId);
      const seen = new Set<number>();
      for (const s of o.seqs)
        if (seen.has(s)) duplicated++;
        else seen.add(s);
      // Lost: an event that is not a text delta missing, or text that differs (text deltas may be
      // coalesced for a lagging watcher: same text, fewer events).
      for (const s of ref.others) if (!seen.has(s)) lost++;
      if (o.text !== ref.text) lost++;
      if (o.terminal) reachedTerminal++;
      // Seqs only grow; a gap is a coalesced text delta (same text, checked below) or a loss.
      const inOrder = o.seqs.every((s, k) => k === 0 || s > o.seqs[k - 1]!);
      if (!o.terminal || !inOrder || o.text !== ref.text || o.cuts !== 3) {
        failures.push(
          `${o.transport} ${o.streamId}: terminal=${o.terminal?.event.case} inOrder=${inOrder} sameText=${o.text === ref.text} cuts=${o.cuts}`,
        );
      }
    }
    const all = outcomes.flatMap((o) => o.resumeMs);
    const p = percentiles(all, [50, 90, 99]);
    console.log(
      [
        `chaos (seed ${seed}): ${streams} streams over ${transports.join("/")}, ${outcomes.reduce((n, o) => n + o.cuts, 0)} cuts in ${(wallMs / 1000).toFixed(1)} s`,
        `  reached terminal: ${reachedTerminal}/${streams} (${((100 * reachedTerminal) / streams).toFixed(1)} %)`,
        `  events lost: ${lost}, duplicated at the client: ${duplicated}`,
        `  retries by the client's resume loop: ${outcomes.reduce((n, o) => n + o.retries, 0)} (streams that had to resume: ${outcomes.filter((o) => o.retries > 0).length})`,
        `  broken attempt noticed → first message of the next attempt (resume latency incl. backoff, ms): p50 ${p[50]?.toFixed(1)}, p90 ${p[90]?.toFixed(1)}, p99 ${p[99]?.toFixed(1)}, max ${Math.max(...all).toFixed(1)} (n=${all.length})`,
        ...transports.map((t) => {
          const q = percentiles(
            outcomes.filter((o) => o.transport === t).flatMap((o) => o.resumeMs),
            [50, 99],
          );
          return `    ${t.padEnd(8)} p50 ${q[50]?.toFixed(1)} ms, p99 ${q[99]?.toFixed(1)} ms`;
        }),
      ].join("\n"),
    );
    expect(failures).toEqual([]);
    expect(lost).toBe(0);
    expect(duplicated).toBe(0);
    expect(reachedTerminal).toBe(streams);
    // On a streaming transport every cut is a reset or a FIN before the next event, so each broke
    // an attempt (two cuts can land on one attempt while its buffered events drain). A long-poll
    // cut can land between polls, on an idle keep-alive connection: the next poll opens a new one
    // and nothing is retried (nothing lost either, asserted above).
    expect(outcomes.filter((o) => o.transport !== "long-poll" && o.retries === 0).map((o) => o.streamId)).toEqual([]);
  });
});
