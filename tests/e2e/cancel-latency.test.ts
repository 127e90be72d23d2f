/**
 * Cancel reaches the model: a stream is held open by a replay server playing
 * an OpenAI-compatible upstream; cancelling it from each transport must
 * close the upstream socket at the replay server, and the stream must end
 * with `completed(CANCELLED)`. Prints p50/p99 of cancel → upstream close over
 * at least 200 trials.
 */
import { join } from "node:path";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { FinishReason, newStreamId, StreamService } from "@airwave/proto";
import { readSseEvents } from "@airwave/web";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AirwaveProcess, startAirwaveProcess } from "../support/airwave-process.js";
import { fixturesRoot, haveFixtures } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";
import { percentiles } from "../support/stats.js";

const trials = Number(process.env["AIRWAVE_CANCEL_TRIALS"] ?? 200);
const concurrency = 8;
const held = "obfuscation-300-chunks.sse@hold=4";

let replay: Awaited<ReturnType<typeof startReplayServer>>;
let aw: AirwaveProcess;

const ready = haveFixtures("openai-chat");

beforeAll(async () => {
  if (!ready) return;
  replay = await startReplayServer(join(fixturesRoot, "upstream", "openai-chat"), { paceMs: 0 });
  aw = await startAirwaveProcess({ OPENAI_BASE_URL: replay.url });
});
afterAll(async () => {
  await aw?.stop();
  await replay?.close();
});

type Canceller = (streamId: string) => Promise<unknown>;

function cancellers(baseUrl: string): Record<string, Canceller> {
  const rpc = (t: Parameters<typeof createClient>[1]) => createClient(StreamService, t);
  const connect = rpc(createConnectTransport({ baseUrl, httpVersion: "1.1" }));
  const grpcWeb = rpc(createGrpcWebTransport({ baseUrl, httpVersion: "1.1" }));
  const grpc = rpc(createGrpcTransport({ baseUrl }));
  return {
    "connect CancelStream": (id) => connect.cancelStream({ streamId: id, reason: "test" }),
    "grpc-web CancelStream": (id) => grpcWeb.cancelStream({ streamId: id, reason: "test" }),
    "grpc CancelStream": (id) => grpc.cancelStream({ streamId: id, reason: "test" }),
    "POST :cancel (sendBeacon body)": (id) =>
      fetch(`${baseUrl}/v1/streams/${id}:cancel`, {
        method: "POST",
        headers: { "content-type": "text/plain;charset=UTF-8" },
        body: "",
      }).then((r) => {
        if (!r.ok) throw new Error(`cancel answered ${r.status}`);
        return r.body?.cancel();
      }),
    "DELETE /v1/streams/{id}": (id) =>
      fetch(`${baseUrl}/v1/streams/${id}`, { method: "DELETE" }).then((r) => {
        if (!r.ok) throw new Error(`DELETE answered ${r.status}`);
        return r.body?.cancel();
      }),
  };
}

/** One trial: start a held stream over SSE, wait for its first text, cancel, time until the upstream socket closes. */
async function trial(cancel: Canceller): Promise<{ ms: number; finish: FinishReason | undefined }> {
  const id = newStreamId();
  const before = replay.requests.length;
  const res = await fetch(`${aw.url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream" },
    body: JSON.stringify({
      streamId: id,
      request: { model: `openai-compatible/${held}`, messages: [{ role: "ROLE_USER", parts: [{ text: "hold" }] }] },
    }),
  });
  expect(res.status).toBe(200);
  const events = readSseEvents(res.body!);
  let finish: FinishReason | undefined;
  let ms = Number.NaN;
  for await (const e of events) {
    if (e.event.case === "textDelta" && Number.isNaN(ms)) {
      const upstream = replay.requests.slice(before).find((r) => (r.body as { model?: string }).model === held && !r.finished);
      const t0 = performance.now();
      const closed = upstream?.closedEarly.then(() => performance.now() - t0);
      await cancel(id);
      ms = (await closed) ?? Number.NaN;
    }
    if (e.event.case === "completed") finish = e.event.value.finishReason;
    if (e.event.case === "completed" || e.event.case === "failed") break;
  }
  return { ms, finish };
}

describe.skipIf(!ready)(`cancel → upstream socket closed, over ${trials} trials`, () => {
  it("closes the upstream socket and ends with completed(CANCELLED) from every transport", { timeout: 180_000 }, async () => {
    const by = cancellers(aw.url);
    const names = Object.keys(by);
    const results: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const bad: string[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < trials; i = next++) {
          const name = names[i % names.length]!;
          const r = await trial(by[name]!);
          if (Number.isNaN(r.ms) || r.finish !== FinishReason.CANCELLED) bad.push(`${name}: ms=${r.ms} finish=${r.finish}`);
          else results[name]!.push(r.ms);
        }
      }),
    );
    const all = Object.values(results).flat();
    const p = percentiles(all, [50, 99]);
    console.log(
      [
        `cancel → upstream socket closed, ${all.length}/${trials} trials: p50 ${p[50]?.toFixed(2)} ms, p99 ${p[99]?.toFixed(2)} ms, max ${Math.max(...all).toFixed(2)} ms`,
        ...names.map((n) => {
          const q = percentiles(results[n]!, [50, 99]);
          return `  ${n.padEnd(32)} n=${results[n]!.length} p50 ${q[50]?.toFixed(2)} ms, p99 ${q[99]?.toFixed(2)} ms`;
        }),
      ].join("\n"),
    );
    expect(bad).toEqual([]);
    expect(all.length).toBe(trials);
  });
});
