/**
 * `coalesce_ms` (WatchStreamRequest / CreateStreamRequest, `?coalesce_ms=`
 * on the HTTP routes) over every edge transport, against a real gateway and
 * simulator: a watch that asks for an interval gets far fewer text frames
 * than one that does not, the same text, and cursors that resume exactly
 * (`resumed(RECOVERED)`, then exactly the rest); bad values are
 * INVALID_ARGUMENT before anything starts.
 */
import { create } from "@bufbuild/protobuf";
import { CreateStreamRequestSchema, type Cursor, newStreamId, OnDetach, ResumeOutcome, Role, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";
import { type EdgeTransportName, edgeTransport, edgeTransportNames } from "../support/transports.js";

let aw: TestAirwave;
beforeAll(async () => {
  aw = await startAirwave();
});
afterAll(async () => {
  await aw?.close();
});

/** ~2 s of one-token deltas: 200 tokens at 100 per second. */
const request = (streamId: string, coalesceMs = 0) =>
  create(CreateStreamRequestSchema, {
    streamId,
    onDetach: OnDetach.CONTINUE,
    coalesceMs,
    request: {
      model: "simulator",
      messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "Tell me about the tides" } }] }],
      metadata: { "simulator.tokens_per_s": "100", "simulator.output_tokens": "200", "simulator.delta_tokens": "1" },
    },
  });

const textOf = (es: readonly StreamEvent[]) => es.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");
const deltas = (es: readonly StreamEvent[]) => es.filter((e) => e.event.case === "textDelta");

async function collect(it: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

async function refusal(it: AsyncIterable<StreamEvent>): Promise<ConnectError> {
  try {
    await collect(it);
  } catch (e) {
    return ConnectError.from(e);
  }
  throw new Error("expected an error");
}

describe.each(edgeTransportNames)("coalesce_ms over %s", (name: EdgeTransportName) => {
  it("fewer frames, the same text, exact cursors: on the create and on a live watch", async () => {
    const t = edgeTransport(name, aw.url);
    const beside = edgeTransport(name, aw.url); // a WebSocket holds one watch per stream: the other watch on a socket of its own
    try {
      const signal = new AbortController().signal;
      // A create that asks for 400 ms, and a plain live watch beside it.
      const id = newStreamId();
      const created = collect(t.create(request(id, 400), signal));
      const plainWatch = (async () => {
        for (;;) {
          try {
            return await collect(beside.watch(id, undefined, signal));
          } catch (e) {
            if (ConnectError.from(e).code !== Code.NotFound) throw e; // not created yet
          }
        }
      })();
      const [coalesced, plain] = await Promise.all([created, plainWatch]);
      expect(deltas(plain).length).toBeGreaterThanOrEqual(150); // one frame per token (a few may be merged for a lagging reader)
      expect(deltas(coalesced).length).toBeGreaterThanOrEqual(2);
      expect(deltas(coalesced).length).toBeLessThanOrEqual(12); // ~2 s / 400 ms
      expect(textOf(coalesced)).toBe(textOf(plain));
      expect(coalesced.at(-1)?.event.case).toBe("completed");

      // A live watch that asks for 300 ms, beside a plain create.
      const id2 = newStreamId();
      const plainCreate = collect(t.create(request(id2), signal));
      const slowWatch = (async () => {
        for (;;) {
          try {
            return await collect(beside.watch(id2, undefined, signal, { coalesceMs: 300 }));
          } catch (e) {
            if (ConnectError.from(e).code !== Code.NotFound) throw e;
          }
        }
      })();
      const [all, watched] = await Promise.all([plainCreate, slowWatch]);
      expect(deltas(watched).length).toBeLessThanOrEqual(15);
      expect(deltas(all).length).toBeGreaterThanOrEqual(150);
      expect(textOf(watched)).toBe(textOf(all));

      // Every merged delta's cursor resumes exactly: RECOVERED, then precisely the rest.
      const full = textOf(all);
      for (const d of deltas(watched).slice(0, -1)) {
        const cursor: Cursor = { epoch: d.epoch, seq: d.seq };
        const rest = await collect(t.watch(id2, cursor, signal));
        const resumed = rest.find((e) => e.event.case === "resumed");
        expect(resumed?.event).toMatchObject({ value: { outcome: ResumeOutcome.RECOVERED } });
        const upTo = textOf(all.filter((e) => e.seq <= d.seq));
        expect(upTo + textOf(rest)).toBe(full);
        expect(rest.find((e) => e.seq > 0)?.seq).toBe(d.seq + 1);
      }
    } finally {
      t.close?.();
      beside.close?.();
    }
  });

  it("refuses an interval over 5000 ms with INVALID_ARGUMENT, on a watch and before a create starts", async () => {
    const t = edgeTransport(name, aw.url);
    try {
      const signal = new AbortController().signal;
      const id = newStreamId();
      const tooLong = await refusal(t.create(request(id, 5_001), signal));
      expect(tooLong.code).toBe(Code.InvalidArgument);
      expect(tooLong.rawMessage).toMatch(/coalesce_ms must be a whole number of milliseconds \(0 to 5000\), got 5001/);
      // Nothing started: the id is unknown.
      expect((await refusal(t.watch(id, undefined, signal))).code).toBe(Code.NotFound);
      await collect(t.create(request(id), signal));
      const watch = await refusal(t.watch(id, undefined, signal, { coalesceMs: 5_001 }));
      expect(watch.code).toBe(Code.InvalidArgument);
    } finally {
      t.close?.();
    }
  });
});

describe("?coalesce_ms= on the HTTP routes", () => {
  it.each([
    ["abc", /got "abc"/],
    ["-1", /got "-1"/],
    ["1.5", /got "1.5"/],
    ["5001", /got 5001/],
  ])("%s is 400 invalid_argument", async (value, message) => {
    const id = newStreamId();
    const created = await fetch(`${aw.url}/v1/streams?mode=ndjson`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ streamId: id, request: { model: "simulator", messages: [{ role: "ROLE_USER", parts: [{ text: "hi" }] }] } }),
    });
    await created.text();
    for (const url of [`${aw.url}/v1/streams/${id}/events?coalesce_ms=${value}`, `${aw.url}/v1/streams?coalesce_ms=${value}`]) {
      const res = await fetch(
        url,
        url.endsWith(`events?coalesce_ms=${value}`) ? {} : { method: "POST", headers: { "content-type": "application/json" }, body: "{}" },
      );
      expect(res.status).toBe(400);
      const body = (await res.json()) as { code: string; message: string };
      expect(body.code).toBe("invalid_argument");
      expect(body.message).toMatch(message);
    }
  });

  it("0 and 5000 are accepted", async () => {
    const id = newStreamId();
    await (
      await fetch(`${aw.url}/v1/streams?mode=ndjson`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ streamId: id, request: { model: "simulator", messages: [{ role: "ROLE_USER", parts: [{ text: "hi" }] }] } }),
      })
    ).text();
    for (const v of ["0", "5000"]) {
      const res = await fetch(`${aw.url}/v1/streams/${id}/events?coalesce_ms=${v}`, { headers: { accept: "application/x-ndjson" } });
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/"completed"/);
    }
  });
});
