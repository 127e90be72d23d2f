/**
 * Redis Sentinel (AIRWAVE_REDIS_SENTINELS): two gateways find the primary
 * through a Sentinel; when the primary dies, the Sentinel promotes its
 * replica, the gateways follow it, the streams written before the failover
 * resume exactly (or say EPOCH_CHANGED), and new streams work on the new
 * primary. Real processes: redis-server ×2, a Sentinel, an inference
 * service, two gateways.
 */
import { randomUUID } from "node:crypto";
import { ResumeOutcome, type StreamEvent } from "@airwave/proto";
import { readSseEvents } from "@airwave/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody } from "../support/airwave.js";
import { type AirwaveProcess, type InferenceProcess, startAirwaveProcess, startInferenceProcess } from "../support/airwave-process.js";
import { startSentinel, startTestRedis, type TestRedis, type TestSentinel } from "../support/replica-infra.js";

let primary: TestRedis;
let replica: TestRedis;
let sentinel: TestSentinel;
let inference: InferenceProcess;
let a: AirwaveProcess;
let b: AirwaveProcess;

beforeAll(async () => {
  primary = await startTestRedis({ appendonly: true });
  replica = await startTestRedis({ appendonly: true, args: ["--replicaof", "127.0.0.1", String(primary.port)] });
  sentinel = await startSentinel(primary.port);
  inference = await startInferenceProcess({ AIRWAVE_SIM_TTFT_MS: "5" });
  const env = {
    AIRWAVE_REDIS_SENTINELS: `127.0.0.1:${sentinel.port}`,
    AIRWAVE_REDIS_SENTINEL_NAME: "mymaster",
    AIRWAVE_REDIS_PREFIX: `test-sentinel-${randomUUID()}:`,
    AIRWAVE_OWNER_LEASE_MS: "1000",
  };
  [a, b] = await Promise.all([
    startAirwaveProcess(env, { inferenceUrl: inference.url }),
    startAirwaveProcess(env, { inferenceUrl: inference.url }),
  ]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await inference?.stop();
  await sentinel?.close();
  await Promise.all([primary?.close(), replica?.close()]);
});

async function streamOn(url: string, tokens: number): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  const res = await fetch(`${url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(createBody("Tell me about rivers", {}, { metadata: { "simulator.output_tokens": String(tokens) } })),
  });
  for await (const e of readSseEvents(res.body!)) out.push(e);
  return out;
}

/** Watches `id` on `url` after `cursor`, retrying while the deployment fails over. */
async function resumeOn(url: string, id: string, cursor: string): Promise<StreamEvent[]> {
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(`${url}/v1/streams/${id}/events`, { headers: { "last-event-id": cursor } });
    if (res.status === 200) {
      const out: StreamEvent[] = [];
      for await (const e of readSseEvents(res.body!)) out.push(e);
      return out;
    }
    if (attempt > 100) throw new Error(`resume answered ${res.status}: ${await res.text()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("Redis Sentinel", () => {
  it("the gateways follow a failover: streams before it resume on the other replica, new streams work", { timeout: 60_000 }, async () => {
    const before = await streamOn(a.url, 30);
    expect(before.at(-1)?.event.case).toBe("completed");
    const id = before[0]!.streamId;
    const mid = before[9]!;
    // The primary dies; the Sentinel promotes the replica.
    await primary.kill();
    const t0 = performance.now();
    let after: StreamEvent[] = [];
    for (;;) {
      after = await streamOn(b.url, 20).catch(() => []);
      if (after.at(-1)?.event.case === "completed") break;
      if (performance.now() - t0 > 30_000) throw new Error("no new stream worked within 30 s of the primary's death");
      await new Promise((r) => setTimeout(r, 200));
    }
    console.log(`Sentinel failover: a new stream worked ${(performance.now() - t0).toFixed(0)} ms after the primary died`);
    const resumed = await resumeOn(b.url, id, `${mid.epoch}:${mid.seq}`);
    const notice = resumed[0]?.event;
    expect(notice?.case).toBe("resumed");
    const outcome = notice?.case === "resumed" ? notice.value.outcome : undefined;
    console.log(`the resume after the failover: ${outcome === ResumeOutcome.RECOVERED ? "RECOVERED (exact)" : `outcome ${outcome}`}`);
    expect([ResumeOutcome.RECOVERED, ResumeOutcome.EPOCH_CHANGED]).toContain(outcome);
    if (outcome === ResumeOutcome.RECOVERED) {
      expect(resumed.slice(1).map((e) => e.seq)).toEqual(before.slice(10).map((e) => e.seq)); // exact
    }
    expect(resumed.at(-1)?.event.case).toBe("completed");
  });
});
