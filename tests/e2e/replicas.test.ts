/**
 * Several gateway replicas sharing streams through Redis
 * (AIRWAVE_REDIS_URL), all real processes: one inference service, gateways
 * A and B (and short-lived C), a replay server as the model. A stream
 * created on one replica is resumed, cancelled and answered through
 * another; a foreign id is NOT_FOUND everywhere; an idempotent create is one
 * stream across replicas; watchers elsewhere hold the detach grace; the
 * death of a replica that owns nothing costs its watchers nothing, and the
 * death of an owner ends its streams with `failed(OWNER_LOST)` within
 * lease + 2 s. Prints the cancel → upstream socket figures through a
 * non-owner and the owner-lost delays.
 */
import { randomUUID } from "node:crypto";
import { once } from "node:events";
import { join } from "node:path";
import { FinishReason, newStreamId, ResumeOutcome, type StreamEvent } from "@airwave/proto";
import { readSseEvents } from "@airwave/web";
import { DefaultChatTransport, type UIMessage, type UIMessageChunk } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody } from "../support/airwave.js";
import { type AirwaveProcess, type InferenceProcess, startAirwaveProcess, startInferenceProcess } from "../support/airwave-process.js";
import { fixturesRoot, haveFixtures } from "../support/fixtures.js";
import { startReplayServer } from "../support/replay-server.js";
import { parsePromText, sumOf } from "../support/prom-text.js";
import { percentiles } from "../support/stats.js";

const leaseMs = 1_000;
const graceMs = 1_500;
const held = "obfuscation-300-chunks.sse@hold=60";
const alice = { authorization: "Bearer alice-key-0123456789abcdef" };
const bob = { authorization: "Bearer bob-key-0123456789abcdefgh" };
const ready = haveFixtures("openai-chat");

let replay: Awaited<ReturnType<typeof startReplayServer>>;
let inference: InferenceProcess;
let a: AirwaveProcess;
let b: AirwaveProcess;
const env = {
  AIRWAVE_REDIS_URL: process.env.AIRWAVE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  AIRWAVE_REDIS_PREFIX: `test-replicas-${randomUUID()}:`,
  AIRWAVE_OWNER_LEASE_MS: String(leaseMs),
  AIRWAVE_DETACH_GRACE_MS: String(graceMs),
  AIRWAVE_API_KEYS: `alice:${alice.authorization.slice(7)},bob:${bob.authorization.slice(7)}`,
  AIRWAVE_AUTH: "optional",
};
const gateway = () => startAirwaveProcess(env, { inferenceUrl: inference.url });

beforeAll(async () => {
  if (!ready) return;
  replay = await startReplayServer(join(fixturesRoot, "upstream", "openai-chat"), { paceMs: 0 });
  inference = await startInferenceProcess({ OPENAI_BASE_URL: replay.url, AIRWAVE_SIM_TTFT_MS: "5" });
  [a, b] = await Promise.all([gateway(), gateway()]);
});
afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  await inference?.stop();
  await replay?.close();
});

/** POST /v1/streams on `url` (SSE); the response. */
function create(url: string, body: object, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
}

/** GET the events of `id` on `url` after `cursor` (as Last-Event-ID). */
function events(url: string, id: string, cursor?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}/v1/streams/${id}/events`, { headers: { ...headers, ...(cursor ? { "last-event-id": cursor } : {}) } });
}

const heldBody = (extra: Record<string, unknown> = {}) => createBody("hold", extra, { model: `openai-compatible/${held}` });
const cursorOf = (e: StreamEvent) => `${e.epoch}:${e.seq}`;
const isEnd = (e: StreamEvent) => e.event.case === "completed" || e.event.case === "failed";

/** The replay server's request for the newest held stream since `before`, still open. */
function upstreamSince(before: number) {
  return replay.requests.slice(before).find((r) => (r.body as { model?: string }).model === held && !r.finished);
}

describe.skipIf(!ready)("several replicas on Redis", () => {
  it("create on A; resume on B with Last-Event-ID, exact; cancel through B stops the generation on A at its upstream socket", async () => {
    const before = replay.requests.length;
    const first: StreamEvent[] = [];
    for await (const e of readSseEvents((await create(a.url, heldBody())).body!)) {
      first.push(e);
      if (first.filter((x) => x.event.case === "textDelta").length === 5) break; // the creator leaves
    }
    const id = first[0]!.streamId;
    const last = first.at(-1)!;
    const res = await events(b.url, id, cursorOf(last));
    expect(res.status).toBe(200);
    const upstream = upstreamSince(before);
    expect(upstream).toBeDefined();
    const rest: StreamEvent[] = [];
    let cancelled: Promise<Response> | undefined;
    for await (const e of readSseEvents(res.body!)) {
      rest.push(e);
      if (!cancelled && rest.filter((x) => x.event.case === "textDelta").length === 10) {
        cancelled = fetch(`${b.url}/v1/streams/${id}:cancel`, { method: "POST" });
      }
      if (isEnd(e)) break;
    }
    await upstream!.closedEarly; // the socket to the model closed: the cancel reached A's generation
    expect(((await (await cancelled!).json()) as { stream: { state: string } }).stream.state).toBe("STREAM_STATE_CANCELLED");
    expect(rest[0]?.event).toMatchObject({ case: "resumed", value: { outcome: ResumeOutcome.RECOVERED, cursor: cursorOf(last) } });
    const seqs = rest.slice(1).map((e) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => last.seq + 1 + i)); // 0 lost, 0 duplicated
    expect(rest.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.CANCELLED } });
    // GetStream answers the same on both replicas.
    const [onA, onB] = await Promise.all(
      [a, b].map(async (g) => (await (await fetch(`${g.url}/v1/streams/${id}`)).json()) as { stream: object }),
    );
    expect(onB!.stream).toMatchObject({ state: "STREAM_STATE_CANCELLED", lastSeq: rest.at(-1)!.seq, epoch: last.epoch });
    expect(onA!.stream).toMatchObject({ state: "STREAM_STATE_CANCELLED", lastSeq: rest.at(-1)!.seq, epoch: last.epoch });
  });

  it("cancel sent to a non-owner replica closes the upstream socket: p50/p99 over 40 trials", { timeout: 60_000 }, async () => {
    const ms: number[] = [];
    for (let i = 0; i < 40; i++) {
      const before = replay.requests.length;
      const ac = new AbortController();
      const body = (await create(a.url, heldBody({ onDetach: "ON_DETACH_CONTINUE" }), {}, ac.signal)).body!;
      let id = "";
      for await (const e of readSseEvents(body)) {
        id = e.streamId;
        if (e.event.case === "textDelta") break;
      }
      const upstream = upstreamSince(before)!;
      const t0 = performance.now();
      const closed = upstream.closedEarly.then(() => performance.now() - t0);
      const res = await fetch(`${b.url}/v1/streams/${id}:cancel`, { method: "POST" });
      expect(res.status).toBe(200);
      ms.push(await closed);
    }
    const p = percentiles(ms, [50, 99]);
    console.log(`cancel through a non-owner → upstream socket closed, 40 trials: p50 ${p[50]?.toFixed(2)} ms, p99 ${p[99]?.toFixed(2)} ms`);
    expect(ms).toHaveLength(40);
  });

  it("an input answer sent to a non-owner reaches the owner's generation; a wrong one gets the owner's error", async () => {
    const body = createBody("Plan a trip", {}, { model: "simulator/agent", metadata: { "simulator.input": "choice" } });
    const seen: StreamEvent[] = [];
    const answers: string[] = [];
    for await (const e of readSseEvents((await create(a.url, body, alice)).body!)) {
      seen.push(e);
      if (e.event.case !== "inputRequested") continue;
      const post = (text: string, headers = alice) =>
        fetch(`${b.url}/v1/streams/${e.streamId}:input`, {
          method: "POST",
          headers: { ...headers, "content-type": "application/json" },
          body: JSON.stringify({ inputId: (e.event.value as { inputId: string }).inputId, text }),
        });
      const wrong = await post("medium");
      answers.push(`${wrong.status} ${((await wrong.json()) as { code: string }).code}`);
      const foreign = await post("short", bob);
      answers.push(`${foreign.status} ${((await foreign.json()) as { code: string }).code}`);
      const right = await post("short");
      answers.push(`${right.status}`);
    }
    expect(answers).toEqual(["400 invalid_argument", "404 not_found", "200"]);
    expect(seen.some((e) => e.event.case === "inputAnswered" && e.event.value.text === "short")).toBe(true);
    expect(seen.at(-1)?.event.case).toBe("completed");
  });

  it("the AI SDK's DefaultChatTransport: a turn sent to A is resumed by reconnectToStream on B and stopped through B", async () => {
    const transport = (url: string) =>
      new DefaultChatTransport<UIMessage>({
        api: `${url}/v1/ai-sdk/chat`,
        headers: alice,
        body: { model: "simulator", metadata: { "simulator.output_tokens": "400", "simulator.tokens_per_s": "40" } },
      });
    const chatId = `chat-${randomUUID()}`;
    const abort = new AbortController();
    const stream = await transport(a.url).sendMessages({
      chatId,
      messages: [{ id: "u1", role: "user", parts: [{ type: "text", text: "Tell me about rivers" }] }],
      trigger: "submit-message",
      messageId: undefined,
      abortSignal: abort.signal,
    });
    const reader = stream.getReader();
    const first: UIMessageChunk[] = [];
    while (first.filter((c) => c.type === "text-delta").length < 3) first.push((await reader.read()).value!);
    abort.abort(); // a reload: the connection to A closes
    await reader.cancel().catch(() => {});
    const resumed = await transport(b.url).reconnectToStream({ chatId });
    expect(resumed).not.toBeNull();
    const again = resumed!.getReader();
    const replay: UIMessageChunk[] = [];
    while (replay.filter((c) => c.type === "text-delta").length < 6) replay.push((await again.read()).value!);
    expect(replay[0]).toEqual(first[0]); // the same start and message id, from the log
    const stop = await fetch(`${b.url}/v1/ai-sdk/chat/${chatId}/stop`, { method: "POST", headers: alice });
    expect(((await stop.json()) as { stream: { state: string } }).stream.state).toBe("STREAM_STATE_CANCELLED");
    const rest: UIMessageChunk[] = [];
    for (let r = await again.read(); !r.done; r = await again.read()) rest.push(r.value);
    expect(rest.at(-1)?.type).toBe("abort"); // a cancelled turn ends as the AI SDK says an aborted one does
    // The turn ended: a reconnect anywhere now answers 204, which the transport reports as null.
    expect(await transport(a.url).reconnectToStream({ chatId })).toBeNull();
  });

  it("a foreign id is NOT_FOUND on every replica; the owner's id works on every replica", async () => {
    let id = "";
    for await (const e of readSseEvents((await create(a.url, createBody("hi"), alice)).body!)) id = e.streamId;
    for (const g of [a, b]) {
      expect((await fetch(`${g.url}/v1/streams/${id}`, { headers: bob })).status).toBe(404);
      expect((await fetch(`${g.url}/v1/streams/${id}`)).status).toBe(404); // the anonymous owner is another owner
      expect((await events(g.url, id, undefined, bob)).status).toBe(404);
      expect((await fetch(`${g.url}/v1/streams/${id}:cancel`, { method: "POST", headers: bob })).status).toBe(404);
      expect((await fetch(`${g.url}/v1/streams/${id}`, { headers: alice })).status).toBe(200);
    }
  });

  it("an idempotent create with a client stream id, twice on one replica and once on another at once, is one stream", async () => {
    const streamId = newStreamId();
    const body = createBody("Tell me about tides", { streamId }, { metadata: { "simulator.output_tokens": "30" } });
    const read = async (url: string) => {
      const out: StreamEvent[] = [];
      for await (const e of readSseEvents((await create(url, body, alice)).body!)) out.push(e);
      return out;
    };
    const [onA, againOnA, onB] = await Promise.all([read(a.url), read(a.url), read(b.url)]);
    expect(onA.at(-1)?.event.case).toBe("completed");
    expect(againOnA.map((e) => [e.epoch, e.seq])).toEqual(onA.map((e) => [e.epoch, e.seq]));
    expect(onB.map((e) => [e.epoch, e.seq])).toEqual(onA.map((e) => [e.epoch, e.seq]));
    const started = (await (await fetch(`${b.url}/v1/streams/${streamId}`, { headers: alice })).json()) as { stream: { lastSeq: number } };
    expect(started.stream.lastSeq).toBe(onA.at(-1)!.seq);
  });

  it("a watcher on another replica holds the owner's detach grace; when it leaves, the grace runs out and the stream is cancelled", {
    timeout: 20_000,
  }, async () => {
    const before = replay.requests.length;
    let id = "";
    for await (const e of readSseEvents((await create(a.url, heldBody())).body!)) {
      id = e.streamId;
      if (e.event.case === "textDelta") break; // the creator leaves: grace starts on A
    }
    const watch = new AbortController();
    const res = await fetch(`${b.url}/v1/streams/${id}/events`, { signal: watch.signal });
    const reading = (async () => {
      try {
        for await (const _ of readSseEvents(res.body!));
      } catch {
        // aborted below
      }
    })();
    const state = async () => ((await (await fetch(`${a.url}/v1/streams/${id}`)).json()) as { stream: { state: string } }).stream.state;
    // Past the grace period with B's watcher attached: still running, the upstream still open.
    await new Promise((r) => setTimeout(r, graceMs + 1_000));
    expect(await state()).toBe("STREAM_STATE_RUNNING");
    const upstream = upstreamSince(before)!;
    expect(upstream.finished).toBe(false);
    watch.abort();
    await reading;
    await upstream.closedEarly; // the grace ran out on A once B reported no watcher
    expect(await state()).toBe("STREAM_STATE_CANCELLED");
  });

  it("a replica that owns none of the streams dies (SIGKILL): its watchers resume on another replica, 0 lost, 0 duplicated", {
    timeout: 30_000,
  }, async () => {
    const c = await gateway();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const body = createBody(
        "Tell me about rivers",
        { onDetach: "ON_DETACH_CONTINUE" },
        { metadata: { "simulator.output_tokens": "200", "simulator.tokens_per_s": "100" } },
      );
      for await (const e of readSseEvents((await create(a.url, body)).body!)) {
        ids.push(e.streamId);
        break;
      }
    }
    const got = new Map<string, StreamEvent[]>(ids.map((id) => [id, []]));
    const onC = ids.map(async (id) => {
      try {
        for await (const e of readSseEvents((await events(c.url, id)).body!)) got.get(id)!.push(e);
      } catch {
        // the replica died under this watch
      }
    });
    await new Promise((r) => setTimeout(r, 300));
    c.child.kill("SIGKILL");
    await once(c.child, "exit");
    await Promise.all(onC);
    await Promise.all(
      ids.map(async (id) => {
        const seen = got.get(id)!;
        const cursor = seen.length > 0 ? cursorOf(seen.at(-1)!) : undefined;
        for await (const e of readSseEvents((await events(b.url, id, cursor)).body!)) if (e.event.case !== "resumed") seen.push(e);
      }),
    );
    for (const id of ids) {
      const seqs = got.get(id)!.map((e) => e.seq);
      expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => i + 1));
      expect(got.get(id)!.at(-1)?.event.case).toBe("completed");
    }
  });

  it(`the owner dies (SIGKILL): every watcher elsewhere ends with failed(UNAVAILABLE, OWNER_LOST) within lease (${leaseMs} ms) + 2 s`, {
    timeout: 30_000,
  }, async () => {
    const c = await gateway();
    const ids: string[] = [];
    for (let i = 0; i < 100; i++) {
      const body = createBody(
        "Tell me about rivers",
        { onDetach: "ON_DETACH_CONTINUE" },
        { metadata: { "simulator.output_tokens": "5000", "simulator.tokens_per_s": "20" } },
      );
      for await (const e of readSseEvents((await create(c.url, body)).body!)) {
        ids.push(e.streamId);
        break;
      }
    }
    let killedAt = 0;
    const ends = ids.map(async (id) => {
      let last: StreamEvent | undefined;
      for await (const e of readSseEvents((await events(b.url, id)).body!)) last = e;
      return { last, ms: performance.now() - killedAt };
    });
    await new Promise((r) => setTimeout(r, 300));
    killedAt = performance.now();
    c.child.kill("SIGKILL");
    const results = await Promise.all(ends);
    const delays = results.map((r) => r.ms);
    console.log(
      `owner SIGKILLed: ${results.length} watchers ended in ${Math.min(...delays).toFixed(0)}–${Math.max(...delays).toFixed(0)} ms (lease ${leaseMs} ms)`,
    );
    for (const r of results) {
      expect(r.last?.event).toMatchObject({ case: "failed", value: { reason: "OWNER_LOST", retryable: true } });
    }
    expect(Math.max(...delays)).toBeLessThan(leaseMs + 2_000);
    // One survivor ended them, once each; its /metrics says so (the other's adds 0).
    const lost = await Promise.all(
      [a, b].map(async (g) => sumOf(parsePromText(await (await fetch(`${g.url}/metrics`)).text()), "airwave_owner_lost_streams_total")),
    );
    expect(lost[0]! + lost[1]!).toBe(ids.length);
  });
});
