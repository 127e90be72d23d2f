/**
 * The HTTP shapes of StreamService: POST /v1/streams read by plain fetch
 * (SSE, NDJSON, long-poll), GET /v1/streams/{id}/events read by a WHATWG
 * EventSource (the `eventsource` package), NDJSON and long-poll resume from
 * an SSE cursor, cancel (sendBeacon-style and DELETE), owners (browser
 * cookies and API keys, over HTTP and Connect), client deadlines, headers
 * before the first token, and bad input.
 */
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { StreamService, StreamState } from "@airwave/proto";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody, startAirwave, type TestAirwave } from "../support/airwave.js";
import { readSse, textOf } from "../support/sse.js";

let aw: TestAirwave;
beforeAll(async () => {
  aw = await startAirwave({ gateway: { maxDeadlineMs: 1000, longPollMaxWaitMs: 2000 } });
});
afterAll(async () => {
  await aw?.close();
});

function post(body: unknown, accept = "text/event-stream", contentType = "application/json") {
  return fetch(`${aw.url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": contentType, accept },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

type Ev = Record<string, unknown> & { seq?: number; epoch?: string; streamId?: string; textDelta?: { text: string } };
type Line = { cursor?: string; event?: Ev; heartbeat?: object; error?: { code: string } };
type Batch = { streamId: string; events: Ev[]; cursor: string; done: boolean };

function ndjsonLines(text: string): Line[] {
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);
}

const isTerminalEv = (e: Ev) => "completed" in e || "failed" in e;

/**
 * Sends a request that must be refused while another stream answers:
 * asserts HTTP `status` with a Connect JSON error of `code` and a message,
 * and that the other stream still completes. Returns the refusal (its body read).
 */
async function expectRefusedBesideLiveStream(send: () => Promise<Response>, status: number, code: string): Promise<Response> {
  const other = post(createBody("An answer that must survive", {}, { metadata: { "simulator.tokens_per_s": "200" } }));
  const res = await send();
  expect(res.status).toBe(status);
  const err = (await res.json()) as { code: string; message: string };
  expect(err.code).toBe(code);
  expect(err.message.length).toBeGreaterThan(0);
  expect((await readSse(await other)).at(-1)?.event).toBe("completed");
  return res;
}

/**
 * Starts a paced stream over SSE (on_detach CONTINUE), reads `n` events and
 * drops the connection like a network cut. Returns the id and those events.
 */
async function cutStream(n = 4, headers: Record<string, string> = {}, tokens = "40"): Promise<{ id: string; first: Ev[] }> {
  const id = `cut-${crypto.randomUUID().replaceAll("-", "")}`;
  const res = await fetch(`${aw.url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
    body: JSON.stringify(
      createBody(
        "A long answer about rivers",
        { streamId: id, onDetach: "ON_DETACH_CONTINUE" },
        {
          metadata: { "simulator.tokens_per_s": "100", "simulator.output_tokens": tokens },
        },
      ),
    ),
  });
  expect(res.status).toBe(200);
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  while ((buf.match(/\n\n/g) ?? []).length < n) buf += (await reader.read()).value ?? "";
  await reader.cancel();
  const first = buf
    .split("\n\n")
    .slice(0, n)
    .map(
      (b) =>
        JSON.parse(
          b
            .split("\n")
            .find((l) => l.startsWith("data: "))!
            .slice(6),
        ) as Ev,
    );
  return { id, first };
}

/** The whole logged stream, replayed over SSE once it ended. */
async function replay(id: string, headers: Record<string, string> = {}): Promise<Ev[]> {
  const res = await fetch(`${aw.url}/v1/streams/${id}/events`, { headers });
  expect(res.status).toBe(200);
  return (await readSse(res)).map((m) => JSON.parse(m.data) as Ev);
}

describe("POST /v1/streams", () => {
  it("streams SSE with id = cursor, event = kind, data = canonical JSON", async () => {
    const res = await post(createBody("What is a lighthouse?"));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(res.headers.get("cache-control")).toContain("no-cache");
    const msgs = await readSse(res);
    expect(msgs[0]?.event).toBe("started");
    expect(msgs.at(-1)?.event).toBe("completed");
    for (const [i, m] of msgs.entries()) {
      const e = JSON.parse(m.data) as Ev;
      expect(m.id).toBe(`${e.epoch}:${i + 1}`);
      expect(e.seq).toBe(i + 1);
      expect(Object.keys(e)).toContain(m.event === "text_delta" ? "textDelta" : m.event);
    }
    const text = textOf(msgs.map((m) => JSON.parse(m.data)));
    expect(text).toMatch(/lighthouse/i); // built from the prompt
  });

  it("streams NDJSON when Accept asks for it: {cursor, event} per line", async () => {
    const res = await post(createBody("Describe NDJSON"), "application/x-ndjson");
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = ndjsonLines(await res.text());
    const events = lines.map((l) => l.event as Ev);
    expect(Object.keys(events[0] ?? {})).toContain("started");
    expect(Object.keys(events.at(-1) ?? {})).toContain("completed");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (const l of lines) expect(l.cursor).toBe(`${(l.event as Ev).epoch}:${(l.event as Ev).seq}`);
  });

  it("answers a long-poll batch when Accept asks for application/json", async () => {
    const res = await post(createBody("Describe long polling"), "application/json");
    expect(res.headers.get("content-type")).toBe("application/json");
    const b = (await res.json()) as Batch;
    expect(b.streamId).toMatch(/^[A-Za-z0-9_-]{22,}$/);
    expect(Object.keys(b.events[0] ?? {})).toContain("started");
    const last = b.events.at(-1)!;
    expect(b.cursor).toBe(`${last.epoch}:${last.seq}`);
  });

  it("is deterministic for a seed and answers from the prompt", async () => {
    const read = async (prompt: string) =>
      textOf((await readSse(await post(createBody(prompt, {}, { seed: "7" })))).map((m) => JSON.parse(m.data)));
    const a = await read("Tell me about volcanoes");
    expect(await read("Tell me about volcanoes")).toBe(a);
    expect(await read("Tell me about glaciers")).not.toBe(a);
  });
});

describe("GET /v1/streams/{id}/events with EventSource", () => {
  function watch(url: string, lastEventId?: string): Promise<{ events: { type: string; id: string; data: Ev }[]; es: EventSource }> {
    return new Promise((ok, fail) => {
      const es = new EventSource(url, {
        fetch: (input, init) =>
          fetch(input, { ...init, headers: { ...init?.headers, ...(lastEventId ? { "Last-Event-ID": lastEventId } : {}) } }),
      });
      const events: { type: string; id: string; data: Ev }[] = [];
      const on = (type: string) => (m: MessageEvent) => {
        events.push({ type, id: m.lastEventId, data: JSON.parse(m.data) as Ev });
        if (type === "completed" || type === "failed") {
          es.close();
          ok({ events, es });
        }
      };
      for (const t of ["started", "text_delta", "usage", "resumed", "completed", "failed"]) es.addEventListener(t, on(t));
      es.onerror = (e) => {
        es.close();
        fail(new Error(`EventSource error: ${(e as { message?: string }).message ?? "?"}`));
      };
    });
  }

  it("resumes after Last-Event-ID exactly: no gap, no duplicate", async () => {
    const { id, first } = await cutStream();
    const last = first.at(-1)!;
    const { events } = await watch(`${aw.url}/v1/streams/${id}/events`, `${last.epoch}:${last.seq}`);
    expect(events[0]?.type).toBe("resumed");
    expect(events[0]?.data).toMatchObject({ resumed: { outcome: "RESUME_OUTCOME_RECOVERED" } });
    const seqs = events.slice(1).map((e) => e.data.seq);
    expect(seqs[0]).toBe((last.seq as number) + 1);
    expect(seqs).toEqual(seqs.map((_, i) => (last.seq as number) + 1 + i));
    expect(events.at(-1)?.type).toBe("completed");
    // The full answer = what arrived before the cut + what arrived after.
    const full = await watch(`${aw.url}/v1/streams/${id}/events`);
    expect(textOf([...first, ...events.map((e) => e.data)])).toBe(textOf(full.events.map((e) => e.data)));
  });

  it("resumes with ?after= the same way", async () => {
    const { id, first } = await cutStream();
    const last = first.at(-1)!;
    const { events } = await watch(`${aw.url}/v1/streams/${id}/events?after=${last.epoch}:${last.seq}`);
    expect(events[1]?.data.seq).toBe((last.seq as number) + 1);
  });

  it("resumes after the later of ?after= and Last-Event-ID (a native EventSource keeps its URL and sends newer positions as the header)", async () => {
    const { id, first } = await cutStream(6);
    const earlier = first[2]!;
    const later = first.at(-1)!;
    const both = (after: Ev, lastEventId: Ev) =>
      watch(`${aw.url}/v1/streams/${id}/events?after=${after.epoch}:${after.seq}`, `${lastEventId.epoch}:${lastEventId.seq}`);
    for (const { events } of [await both(earlier, later), await both(later, earlier)]) {
      expect(events[0]?.data).toMatchObject({ resumed: { outcome: "RESUME_OUTCOME_RECOVERED" } });
      expect(events[1]?.data.seq).toBe((later.seq as number) + 1);
    }
  });

  it("answers 204 once the cursor is at the end, so EventSource stops reconnecting", async () => {
    const { id } = await cutStream();
    const { events } = await watch(`${aw.url}/v1/streams/${id}/events`);
    const end = events.at(-1)!;
    const res = await fetch(`${aw.url}/v1/streams/${id}/events`, { headers: { "Last-Event-ID": end.id } });
    expect(res.status).toBe(204);
  });

  it("answers 404 not_found for an unknown stream and 400 for a malformed cursor", async () => {
    const unknown = await fetch(`${aw.url}/v1/streams/${"u".repeat(22)}/events`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "not_found" });
    const { id } = await cutStream();
    const bad = await fetch(`${aw.url}/v1/streams/${id}/events?after=garbage`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ code: "invalid_argument" });
  });
});

describe("POST /v1/streams/{id}:cancel", () => {
  it("stops the generation; the stream ends with completed(CANCELLED)", async () => {
    const id = `cancel-${crypto.randomUUID().replaceAll("-", "")}`;
    const res = await post(createBody("A very long answer", { streamId: id }, { metadata: { "simulator.tokens_per_s": "20" } }));
    const events = readSse(res);
    const c = await fetch(`${aw.url}/v1/streams/${id}:cancel`, { method: "POST" });
    expect(c.status).toBe(200);
    expect(await c.json()).toMatchObject({ stream: { state: "STREAM_STATE_CANCELLED" } });
    const msgs = await events;
    expect(msgs.at(-1)?.event).toBe("completed");
    expect(JSON.parse(msgs.at(-1)!.data)).toMatchObject({ completed: { finishReason: "FINISH_REASON_CANCELLED" } });
    // Idempotent.
    expect((await fetch(`${aw.url}/v1/streams/${id}:cancel`, { method: "POST" })).status).toBe(200);
  });
});

describe("bad input gets a documented error and loses nothing else", () => {
  it.each([
    ["malformed JSON", 400, "invalid_argument", "{not json", "application/json"],
    ["an unknown field", 400, "invalid_argument", JSON.stringify({ bogus: 1 }), "application/json"],
    ["a missing request", 400, "invalid_argument", JSON.stringify({}), "application/json"],
    ["no messages", 400, "invalid_argument", JSON.stringify({ request: { model: "simulator" } }), "application/json"],
    ["a missing model", 400, "invalid_argument", JSON.stringify(createBody("hi", {}, { model: "" })), "application/json"],
    ["an unknown model", 404, "not_found", JSON.stringify(createBody("hi", {}, { model: "nobody/nothing" })), "application/json"],
    ["a bad stream id", 400, "invalid_argument", JSON.stringify(createBody("hi", { streamId: "x" })), "application/json"],
  ])("%s → HTTP %i %s", async (_name, status, code, body, type) => {
    await expectRefusedBesideLiveStream(() => post(body, "text/event-stream", type), status, code);
  });

  it("refuses a body over the size limit with resource_exhausted", async () => {
    const res = await post(createBody("x".repeat(2 * 1024 * 1024)));
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
  });
});

describe("resume on every HTTP transport with one cursor", () => {
  it("NDJSON resumes after a cursor taken from an SSE stream, every line carrying its cursor", async () => {
    const { id, first } = await cutStream();
    const last = first.at(-1)!;
    const res = await fetch(`${aw.url}/v1/streams/${id}/events?after=${last.epoch}:${last.seq}`, {
      headers: { accept: "application/x-ndjson" },
    });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = ndjsonLines(await res.text()).filter((l) => l.heartbeat === undefined);
    expect(lines[0]?.event).toMatchObject({ resumed: { outcome: "RESUME_OUTCOME_RECOVERED", cursor: `${last.epoch}:${last.seq}` } });
    expect(lines[0]?.cursor).toBe(`${last.epoch}:${last.seq}`);
    const rest = lines.slice(1).map((l) => l.event!);
    expect(rest.map((e) => e.seq)).toEqual(rest.map((_, i) => (last.seq as number) + 1 + i));
    for (const l of lines.slice(1)) expect(l.cursor).toBe(`${l.event!.epoch}:${l.event!.seq}`);
    expect(isTerminalEv(rest.at(-1)!)).toBe(true);
    expect(textOf([...first, ...rest])).toBe(textOf(await replay(id)));
  });

  it("long-poll batches from an SSE cursor until done give every event exactly once", async () => {
    const { id, first } = await cutStream(3, {}, "60");
    const last = first.at(-1)!;
    let cursor = `${last.epoch}:${last.seq}`;
    const got: Ev[] = [...first];
    let polls = 0;
    let resumedEach = 0;
    for (let done = false; !done; ) {
      const res = await fetch(`${aw.url}/v1/streams/${id}/events?after=${cursor}&wait_ms=1000`, {
        headers: { accept: "application/json" },
      });
      expect(res.status).toBe(200);
      const b = (await res.json()) as Batch;
      polls++;
      expect(b.streamId).toBe(id);
      // Every poll is a watch: it starts with the resume result.
      expect(b.events[0]).toMatchObject({ resumed: { outcome: "RESUME_OUTCOME_RECOVERED", cursor } });
      resumedEach++;
      got.push(...b.events.slice(1));
      cursor = b.cursor;
      done = b.done;
      expect(polls).toBeLessThan(200);
    }
    console.log(`long-poll: ${polls} polls for ${got.length} events`);
    expect(resumedEach).toBe(polls);
    expect(got.map((e) => e.seq)).toEqual(got.map((_, i) => i + 1));
    expect(isTerminalEv(got.at(-1)!)).toBe(true);
    expect(textOf(got)).toBe(textOf(await replay(id)));
    // After done, a poll at the cursor answers at once: the resume result, done.
    const t0 = Date.now();
    const end = (await (await fetch(`${aw.url}/v1/streams/${id}/events?after=${cursor}&wait_ms=2000`)).json()) as Batch;
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(end).toMatchObject({ done: true, cursor });
    expect(end.events).toHaveLength(1);
  });

  it("a long-poll on a running stream waits for the next event, and caps wait_ms", async () => {
    const { id, first } = await cutStream(1, {}, "4");
    // slow stream: the simulator's first token comes after its TTFT; poll at the start
    const res = await fetch(`${aw.url}/v1/streams/${id}/events?mode=poll&after=${first[0]!.epoch}:1&wait_ms=999999`);
    const b = (await res.json()) as Batch;
    expect(b.events.length).toBeGreaterThan(1); // waited for at least one logged event
    expect(b.events[1]?.seq).toBe(2);
  });
});

describe("cancel", () => {
  async function running(headers: Record<string, string> = {}): Promise<{ id: string; events: Promise<Ev[]> }> {
    const id = `cancel-${crypto.randomUUID().replaceAll("-", "")}`;
    const res = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/x-ndjson", ...headers },
      body: JSON.stringify(createBody("A very long answer", { streamId: id }, { metadata: { "simulator.tokens_per_s": "20" } })),
    });
    return { id, events: res.text().then((t) => ndjsonLines(t).flatMap((l) => (l.event ? [l.event] : []))) };
  }

  it.each([
    ["a sendBeacon text/plain reason", { body: "user closed the tab", headers: { "content-type": "text/plain;charset=UTF-8" } }],
    ["a sendBeacon JSON blob", { body: JSON.stringify({ reason: "left" }), headers: { "content-type": "application/json" } }],
    ["an empty beacon without a content type", { body: undefined, headers: {} }],
  ])("POST :cancel accepts %s; ends with completed(CANCELLED) at once; idempotent", async (_n, init) => {
    const { id, events } = await running();
    const t0 = Date.now();
    const c = await fetch(`${aw.url}/v1/streams/${id}:cancel`, { method: "POST", ...init });
    expect(c.status).toBe(200);
    expect(await c.json()).toMatchObject({ stream: { streamId: id, state: "STREAM_STATE_CANCELLED" } });
    const evs = await events;
    expect(Date.now() - t0).toBeLessThan(2000); // 20 tokens/s would take far longer
    expect(evs.at(-1)).toMatchObject({ completed: { finishReason: "FINISH_REASON_CANCELLED" } });
    const again = await fetch(`${aw.url}/v1/streams/${id}:cancel`, { method: "POST", ...init });
    expect(again.status).toBe(200);
  });

  it("DELETE /v1/streams/{id} cancels too, idempotently", async () => {
    const { id, events } = await running();
    const d = await fetch(`${aw.url}/v1/streams/${id}`, { method: "DELETE" });
    expect(d.status).toBe(200);
    expect(await d.json()).toMatchObject({ stream: { state: "STREAM_STATE_CANCELLED" } });
    expect((await events).at(-1)).toMatchObject({ completed: { finishReason: "FINISH_REASON_CANCELLED" } });
    expect((await fetch(`${aw.url}/v1/streams/${id}`, { method: "DELETE" })).status).toBe(200);
    expect(await (await fetch(`${aw.url}/v1/streams/${id}`)).json()).toMatchObject({ stream: { state: "STREAM_STATE_CANCELLED" } });
  });
});

describe("owners", () => {
  /** A browser identity: the cookie a page load sets. */
  async function browserCookie(base = aw.url): Promise<string> {
    const res = await fetch(`${base}/`);
    await res.body?.cancel();
    const set = res.headers.get("set-cookie") ?? "";
    expect(set).toMatch(/^airwave_id=[^;]+; Path=\/; HttpOnly; SameSite=Lax$/);
    return set.split(";")[0] as string;
  }

  /** Every owner-checked HTTP call on `id`, as `who`: the statuses. */
  async function httpStatuses(id: string, headers: Record<string, string>) {
    const cursor = "AAAAAAAAAAA:1";
    const q = (path: string, init: RequestInit = {}) =>
      fetch(`${aw.url}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string>) } }).then(async (r) => {
        const body = r.status === 200 ? undefined : ((await r.json()) as { code: string }).code;
        if (r.status === 200) await r.body?.cancel();
        return `${r.status}${body ? ` ${body}` : ""}`;
      });
    return {
      get: await q(`/v1/streams/${id}`),
      watch: await q(`/v1/streams/${id}/events`),
      resume: await q(`/v1/streams/${id}/events?after=${cursor}`, { headers: { accept: "application/x-ndjson" } }),
      poll: await q(`/v1/streams/${id}/events?mode=poll&wait_ms=0`),
      input: await q(`/v1/streams/${id}:input`, { method: "POST", body: "{}" }),
      cancel: await q(`/v1/streams/${id}:cancel`, { method: "POST" }),
      delete: await q(`/v1/streams/${id}`, { method: "DELETE" }),
    };
  }

  const notFound = {
    get: "404 not_found",
    watch: "404 not_found",
    resume: "404 not_found",
    poll: "404 not_found",
    input: "404 not_found",
    cancel: "404 not_found",
    delete: "404 not_found",
  };

  it("a page load sets a signed browser cookie once; its streams are NOT_FOUND to other browsers and cookieless callers", async () => {
    const a = await browserCookie();
    const b = await browserCookie();
    expect(a).not.toBe(b);
    const again = await fetch(`${aw.url}/`, { headers: { cookie: a } });
    await again.body?.cancel();
    expect(again.headers.get("set-cookie")).toBeNull();
    const { id } = await cutStream(2, { cookie: a });
    expect(await httpStatuses(id, { cookie: b })).toEqual(notFound);
    expect(await httpStatuses(id, {})).toEqual(notFound);
    expect(await httpStatuses(id, { cookie: "airwave_id=forged.cookie" })).toEqual(notFound);
    // The same id unknown looks the same.
    expect(await httpStatuses(`nobody-${"x".repeat(30)}`, { cookie: a })).toEqual(notFound);
    // The owner still has it, and the stream was not cancelled by the others.
    const mine = await fetch(`${aw.url}/v1/streams/${id}`, { headers: { cookie: a } });
    expect(mine.status).toBe(200);
    expect(await mine.json()).not.toMatchObject({ stream: { state: "STREAM_STATE_CANCELLED" } });
    const full = await replay(id, { cookie: a });
    expect(isTerminalEv(full.at(-1)!)).toBe(true);
    expect(full.at(-1)).not.toMatchObject({ completed: { finishReason: "FINISH_REASON_CANCELLED" } });
  });

  it("cookieless callers (curl, gRPC clients) share the anonymous owner", async () => {
    const { id } = await cutStream(2);
    expect((await fetch(`${aw.url}/v1/streams/${id}`)).status).toBe(200);
  });

  it("over Connect the same cookie is the same owner, and another browser gets NOT_FOUND", async () => {
    const a = await browserCookie();
    const b = await browserCookie();
    const { id } = await cutStream(2, { cookie: a });
    const client = createClient(StreamService, createConnectTransport({ baseUrl: aw.url, httpVersion: "1.1" }));
    expect((await client.getStream({ streamId: id }, { headers: { cookie: a } })).stream?.streamId).toBe(id);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: unknown) => Code[ConnectError.from(e).code],
      );
    const drain = async (it: AsyncIterable<unknown>) => {
      for await (const _ of it);
    };
    expect(await code(client.getStream({ streamId: id }, { headers: { cookie: b } }))).toBe("NotFound");
    expect(await code(client.cancelStream({ streamId: id }, { headers: { cookie: b } }))).toBe("NotFound");
    expect(await code(drain(client.watchStream({ streamId: id }, { headers: { cookie: b } })))).toBe("NotFound");
    expect(await code(drain(client.watchStream({ streamId: id })))).toBe("NotFound");
    expect(await code(client.sendInput({ streamId: id }, { headers: { cookie: b } }))).toBe("NotFound");
  });

  describe("with API keys required", () => {
    let keyed: TestAirwave;
    const alice = { authorization: "Bearer alice-secret-key-0001" };
    const bob = { authorization: "Bearer bob-secret-key-000002" };
    beforeAll(async () => {
      keyed = await startAirwave({
        gateway: {
          apiKeys: [
            { name: "alice", key: "alice-secret-key-0001" },
            { name: "bob", key: "bob-secret-key-000002" },
          ],
          authMode: "required",
        },
      });
    });
    afterAll(async () => {
      await keyed?.close();
    });

    const create = (headers: Record<string, string>, id: string) =>
      fetch(`${keyed.url}/v1/streams`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", ...headers },
        body: JSON.stringify(createBody("hello", { streamId: id, onDetach: "ON_DETACH_CONTINUE" })),
      });

    it("a wrong or missing key is UNAUTHENTICATED (401 with WWW-Authenticate), over HTTP and Connect", async () => {
      const id = `k-${crypto.randomUUID().replaceAll("-", "")}`;
      const tries: Record<string, string>[] = [{}, { authorization: "Bearer wrong-key-0000000000" }, { authorization: "Basic YTpi" }];
      for (const h of tries) {
        const res = await create(h, id);
        expect(res.status).toBe(401);
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
        const err = (await res.json()) as { code: string; message: string };
        expect(err.code).toBe("unauthenticated");
        expect(err.message).not.toContain("wrong-key");
      }
      const client = createClient(StreamService, createConnectTransport({ baseUrl: keyed.url, httpVersion: "1.1" }));
      await expect(client.getStream({ streamId: id }, { headers: { authorization: "Bearer wrong-key-0000000000" } })).rejects.toMatchObject(
        {
          code: Code.Unauthenticated,
        },
      );
      // The page and health stay open.
      expect((await fetch(`${keyed.url}/healthz`)).status).toBe(200);
    });

    it("a stream created with one key is NOT_FOUND with another, over HTTP and Connect", async () => {
      const id = `k-${crypto.randomUUID().replaceAll("-", "")}`;
      const res = await create(alice, id);
      expect(res.status).toBe(200);
      expect(((await res.json()) as Batch).streamId).toBe(id);
      const status = async (path: string, init: RequestInit = {}) => (await fetch(`${keyed.url}${path}`, init)).status;
      expect(await status(`/v1/streams/${id}`, { headers: bob })).toBe(404);
      expect(await status(`/v1/streams/${id}/events`, { headers: bob })).toBe(404);
      expect(await status(`/v1/streams/${id}:cancel`, { method: "POST", headers: bob })).toBe(404);
      expect(await status(`/v1/streams/${id}`, { method: "DELETE", headers: bob })).toBe(404);
      const client = createClient(StreamService, createConnectTransport({ baseUrl: keyed.url, httpVersion: "1.1" }));
      await expect(client.getStream({ streamId: id }, { headers: bob })).rejects.toMatchObject({ code: Code.NotFound });
      await expect(client.cancelStream({ streamId: id }, { headers: bob })).rejects.toMatchObject({ code: Code.NotFound });
      expect((await client.getStream({ streamId: id }, { headers: alice })).stream?.streamId).toBe(id);
      // Ids are scoped per owner: bob creating the same id gets a stream of his own (no existence
      // oracle), and alice's stream is untouched by it.
      const bobs = await create(bob, id);
      expect(bobs.status).toBe(200);
      expect(((await bobs.json()) as Batch).streamId).toBe(id);
      expect(await status(`/v1/streams/${id}:cancel`, { method: "POST", headers: bob })).toBe(200);
      const alices = (await client.getStream({ streamId: id }, { headers: alice })).stream;
      expect(alices?.streamId).toBe(id);
      expect(alices?.state).not.toBe(StreamState.CANCELLED);
    });
  });
});

describe("liveness at the edge", () => {
  it("flushes headers at once, before a slow first token, on SSE, NDJSON and a watch", async () => {
    const ttft = 2500;
    for (const accept of ["text/event-stream", "application/x-ndjson"]) {
      const id = `slow-${crypto.randomUUID().replaceAll("-", "")}`;
      const t0 = performance.now();
      const res = await fetch(`${aw.url}/v1/streams`, {
        method: "POST",
        headers: { "content-type": "application/json", accept },
        body: JSON.stringify(
          createBody("slow start", { streamId: id, onDetach: "ON_DETACH_CONTINUE" }, { metadata: { "simulator.ttft_ms": String(ttft) } }),
        ),
      });
      const headersMs = performance.now() - t0;
      const w0 = performance.now();
      const watch = await fetch(`${aw.url}/v1/streams/${id}/events`, { headers: { accept } });
      const watchMs = performance.now() - w0;
      expect(res.status).toBe(200);
      expect(watch.status).toBe(200);
      const text = await res.text();
      const totalMs = performance.now() - t0;
      console.log(
        `${accept}: headers after ${headersMs.toFixed(0)} ms, watch headers after ${watchMs.toFixed(0)} ms, body done after ${totalMs.toFixed(0)} ms (ttft ${ttft} ms)`,
      );
      expect(headersMs).toBeLessThan(ttft / 2);
      expect(watchMs).toBeLessThan(ttft / 2);
      expect(totalMs).toBeGreaterThanOrEqual(ttft * 0.9); // the first token really was slow
      expect(text).toContain("textDelta");
      await watch.body?.cancel();
    }
  });

  it("SSE heartbeats are comments with retry:, NDJSON heartbeats are lines, when idle", async () => {
    const hb = await startAirwave({ gateway: { heartbeatIdleMs: 100 } });
    try {
      const send = (accept: string) =>
        fetch(`${hb.url}/v1/streams`, {
          method: "POST",
          headers: { "content-type": "application/json", accept },
          body: JSON.stringify(createBody("idle first", {}, { metadata: { "simulator.ttft_ms": "800", "simulator.output_tokens": "3" } })),
        }).then((r) => r.text());
      const sse = await send("text/event-stream");
      expect(sse).toMatch(/\n\n: heartbeat\nretry: \d+\n\n/);
      expect(sse.indexOf(": heartbeat")).toBeLessThan(sse.indexOf("event: text_delta"));
      const nd = ndjsonLines(await send("application/x-ndjson"));
      expect(nd.some((l) => l.heartbeat !== undefined)).toBe(true);
      expect(nd.at(-1)?.event).toHaveProperty("completed");
    } finally {
      await hb.close();
    }
  });

  it("a Connect watch past its deadline ends DEADLINE_EXCEEDED; a longer deadline is capped; the generation goes on", async () => {
    const { id } = await cutStream(1, {}, "200"); // about 2 s at 100 tokens/s
    const client = createClient(StreamService, createConnectTransport({ baseUrl: aw.url, httpVersion: "1.1" }));
    const watchFor = async (timeoutMs: number) => {
      const t0 = performance.now();
      let n = 0;
      try {
        for await (const _ of client.watchStream({ streamId: id }, { timeoutMs })) n++;
        return { code: "ok", n, ms: performance.now() - t0 };
      } catch (e) {
        return { code: Code[ConnectError.from(e).code], n, ms: performance.now() - t0 };
      }
    };
    const short = await watchFor(300);
    expect(short.code).toBe("DeadlineExceeded");
    expect(short.n).toBeGreaterThan(0);
    const capped = await watchFor(60_000); // the gateway caps at 1000 ms
    console.log(`deadline 300 ms: ended after ${short.ms.toFixed(0)} ms; deadline 60 s capped: ended after ${capped.ms.toFixed(0)} ms`);
    expect(capped.code).toBe("DeadlineExceeded");
    expect(capped.ms).toBeGreaterThanOrEqual(900);
    expect(capped.ms).toBeLessThan(10_000);
    // Detach is not cancel: the generation ran on to its normal end.
    const full = await replay(id);
    expect(full.at(-1)).toMatchObject({ completed: { finishReason: "FINISH_REASON_STOP" } });
  });
});

describe("bad input: one error format, a documented code, nothing else disturbed", () => {
  const id = "u".repeat(22);
  let live = "";
  beforeAll(async () => {
    live = (await cutStream(1)).id;
  });
  it.each([
    [
      "a wrong content type",
      "POST",
      "/v1/streams",
      { "content-type": "text/plain" },
      "hello",
      415,
      "invalid_argument",
      { "accept-post": "application/json" },
    ],
    ["no content type", "POST", "/v1/streams", {}, "{}", 415, "invalid_argument", {}],
    [
      "a declared body over the limit",
      "POST",
      "/v1/streams",
      { "content-type": "application/json" },
      "x".repeat(1_048_577),
      429,
      "resource_exhausted",
      {},
    ],
    ["a malformed cursor", "GET", "/v1/streams/{live}/events?after=not-a-cursor", {}, undefined, 400, "invalid_argument", {}],
    ["a malformed cursor, NDJSON", "GET", "/v1/streams/{live}/events?mode=ndjson&after=1:2:3", {}, undefined, 400, "invalid_argument", {}],
    ["a malformed cursor, long-poll", "GET", "/v1/streams/{live}/events?mode=poll&after=%00", {}, undefined, 400, "invalid_argument", {}],
    ["an unknown mode", "GET", `/v1/streams/${id}/events?mode=carrier-pigeon`, {}, undefined, 400, "invalid_argument", {}],
    ["a negative wait_ms", "GET", `/v1/streams/${id}/events?wait_ms=-5`, {}, undefined, 400, "invalid_argument", {}],
    ["an unknown stream", "GET", `/v1/streams/${id}/events`, {}, undefined, 404, "not_found", {}],
    ["an unknown stream's state", "GET", `/v1/streams/${id}`, {}, undefined, 404, "not_found", {}],
    ["an unknown stream's cancel", "POST", `/v1/streams/${id}:cancel`, {}, undefined, 404, "not_found", {}],
    ["an unknown route under /v1", "GET", "/v1/nothing/here", {}, undefined, 404, "not_found", {}],
    ["an unknown path", "GET", "/no/such/page.html", {}, undefined, 404, "not_found", {}],
    ["GET on the create route", "GET", "/v1/streams", {}, undefined, 405, "unimplemented", { allow: "POST" }],
    ["PUT on a stream", "PUT", `/v1/streams/${id}`, {}, "x", 405, "unimplemented", { allow: "GET, DELETE" }],
    ["DELETE on events", "DELETE", `/v1/streams/${id}/events`, {}, undefined, 405, "unimplemented", { allow: "GET" }],
    ["GET on cancel", "GET", `/v1/streams/${id}:cancel`, {}, undefined, 405, "unimplemented", { allow: "POST" }],
    [
      "an Authorization scheme other than Bearer",
      "GET",
      `/v1/streams/${id}`,
      { authorization: "Basic YWxpY2U6eA==" },
      undefined,
      401,
      "unauthenticated",
      {},
    ],
  ] as const)("%s", async (_name, method, pathTemplate, headers, body, status, code, extra) => {
    const path = pathTemplate.replace("{live}", live);
    const send = () => fetch(`${aw.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
    const res = await expectRefusedBesideLiveStream(send, status, code);
    expect(res.headers.get("content-type")).toBe("application/json");
    for (const [k, v] of Object.entries(extra)) expect(res.headers.get(k)).toBe(v);
  });

  it("a chunked body over the limit is refused too, and the gateway keeps serving", async () => {
    const big = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(100 * 1024).fill(0x20));
        c.close();
      },
    });
    const res = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: big,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
    const ok = await readSse(await post(createBody("still here")));
    expect(ok.at(-1)?.event).toBe("completed");
  });
});
