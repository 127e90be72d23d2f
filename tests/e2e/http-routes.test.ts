/**
 * The HTTP shapes of StreamService: POST /v1/streams read by plain fetch
 * (SSE and NDJSON), GET /v1/streams/{id}/events read by a WHATWG EventSource
 * (the `eventsource` package), cancel, and bad input.
 */
import { EventSource } from "eventsource";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBody, startAirwave, type TestAirwave } from "../support/airwave.js";
import { readSse, textOf } from "../support/sse.js";

let aw: TestAirwave;
beforeAll(async () => {
  aw = await startAirwave();
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

  it("streams NDJSON when Accept asks for it, one StreamEvent per line", async () => {
    const res = await post(createBody("Describe NDJSON"), "application/x-ndjson");
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await res.text()).split("\n").filter((l) => l !== "");
    const events = lines.map((l) => JSON.parse(l) as Ev);
    expect(Object.keys(events[0] ?? {})).toContain("started");
    expect(Object.keys(events.at(-1) ?? {})).toContain("completed");
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });

  it("is deterministic for a seed and answers from the prompt", async () => {
    const read = async (prompt: string) => textOf((await readSse(await post(createBody(prompt, {}, { seed: "7" })))).map((m) => JSON.parse(m.data)));
    const a = await read("Tell me about volcanoes");
    expect(await read("Tell me about volcanoes")).toBe(a);
    expect(await read("Tell me about glaciers")).not.toBe(a);
  });
});

describe("GET /v1/streams/{id}/events with EventSource", () => {
  async function slowStream(): Promise<{ id: string; first: Ev[] }> {
    const id = `es-${crypto.randomUUID().replaceAll("-", "")}`;
    const res = await post(
      createBody("A long answer about rivers", { streamId: id, onDetach: "ON_DETACH_CONTINUE" }, {
        metadata: { "simulator.tokens_per_s": "100", "simulator.output_tokens": "40" },
      }),
    );
    // Read a few events, then drop the connection like a network cut.
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    while ((buf.match(/\n\n/g) ?? []).length < 4) buf += (await reader.read()).value ?? "";
    await reader.cancel();
    const first = buf
      .split("\n\n")
      .slice(0, 4)
      .map((b) => JSON.parse(b.split("\n").find((l) => l.startsWith("data: "))!.slice(6)) as Ev);
    return { id, first };
  }

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
    const { id, first } = await slowStream();
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
    const { id, first } = await slowStream();
    const last = first.at(-1)!;
    const { events } = await watch(`${aw.url}/v1/streams/${id}/events?after=${last.epoch}:${last.seq}`);
    expect(events[1]?.data.seq).toBe((last.seq as number) + 1);
  });

  it("answers 204 once the cursor is at the end, so EventSource stops reconnecting", async () => {
    const { id } = await slowStream();
    const { events } = await watch(`${aw.url}/v1/streams/${id}/events`);
    const end = events.at(-1)!;
    const res = await fetch(`${aw.url}/v1/streams/${id}/events`, { headers: { "Last-Event-ID": end.id } });
    expect(res.status).toBe(204);
  });

  it("answers 404 not_found for an unknown stream and 400 for a malformed cursor", async () => {
    const unknown = await fetch(`${aw.url}/v1/streams/${"u".repeat(22)}/events`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: "not_found" });
    const { id } = await slowStream();
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
    ["a wrong content type", 400, "invalid_argument", "hello", "text/plain"],
  ])("%s → HTTP %i %s", async (_name, status, code, body, type) => {
    const other = post(createBody("An answer that must survive", {}, { metadata: { "simulator.tokens_per_s": "200" } }));
    const res = await post(body, "text/event-stream", type);
    expect(res.status).toBe(status);
    const err = (await res.json()) as { code: string; message: string };
    expect(err.code).toBe(code);
    expect(err.message.length).toBeGreaterThan(0);
    const msgs = await readSse(await other);
    expect(msgs.at(-1)?.event).toBe("completed");
  });

  it("refuses a body over the size limit with resource_exhausted", async () => {
    const res = await post(createBody("x".repeat(2 * 1024 * 1024)));
    expect(res.status).toBe(429);
    expect(await res.json()).toMatchObject({ code: "resource_exhausted" });
  });
});
