/**
 * The WebSocket session at /v1/ws, with the `ws` client against a real
 * gateway and inference service: many streams on one socket (create, cancel,
 * resume on a new socket after a cut, nothing lost and no duplicates), the
 * binary subprotocol, authentication (header, subprotocol token, first
 * message), Origin checks, caps, bad input (each with a bystander stream on
 * another socket that must complete unaffected), heartbeats and dead peers,
 * shutdown, and answering an agent's input request.
 */
import { create, fromBinary, fromJsonString, type MessageInitShape, toBinary, toJsonString } from "@bufbuild/protobuf";
import {
  FinishReason,
  ResumeOutcome,
  Role,
  type StreamEvent,
  StreamState,
  WsClientMessageSchema,
  type WsServerMessage,
  WsServerMessageSchema,
} from "@airwave/proto";
import { loadGatewayConfig } from "@airwave/gateway";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { startAirwave, type TestAirwave } from "../support/airwave.js";

type ClientInit = MessageInitShape<typeof WsClientMessageSchema>;
type Format = "json" | "proto";

/** What an upgrade that was refused answered. */
interface Refusal {
  status: number;
  body: string;
}

/** A test client on one socket: every server message decoded and kept, condition waits on them. */
class Client {
  readonly messages: WsServerMessage[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private constructor(
    readonly ws: WebSocket,
    readonly format: Format,
  ) {
    ws.on("message", (data: Buffer, isBinary) => {
      this.messages.push(isBinary ? fromBinary(WsServerMessageSchema, data) : fromJsonString(WsServerMessageSchema, data.toString("utf8")));
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Opens a socket; rejects with the {@link Refusal} when the upgrade is refused. */
  static open(
    url: string,
    o: { format?: Format; protocols?: string[]; headers?: Record<string, string>; origin?: string; autoPong?: boolean } = {},
  ): Promise<Client> {
    const format = o.format ?? "json";
    const protocols = o.protocols ?? [format === "json" ? "airwave.v1.json" : "airwave.v1.proto"];
    const ws = new WebSocket(`${url.replace(/^http/, "ws")}/v1/ws`, protocols, {
      headers: o.headers ?? {},
      ...(o.origin ? { origin: o.origin } : {}),
      autoPong: o.autoPong ?? true,
    });
    const client = new Client(ws, format);
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(client));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => reject({ status: res.statusCode ?? 0, body } satisfies Refusal));
      });
      ws.once("error", (err) => reject(err));
    });
  }

  send(m: ClientInit): void {
    const msg = create(WsClientMessageSchema, m);
    if (this.format === "json") this.ws.send(toJsonString(WsClientMessageSchema, msg));
    else this.ws.send(toBinary(WsClientMessageSchema, msg));
  }

  /** Waits until a message satisfies `pred`; returns it. */
  async waitFor(pred: (m: WsServerMessage) => boolean, timeout = 15_000): Promise<WsServerMessage> {
    return vi.waitFor(
      () => {
        const m = this.messages.find(pred);
        if (!m) throw new Error("not yet");
        return m;
      },
      { timeout, interval: 10 },
    );
  }

  ack(requestId: string) {
    return this.waitFor((m) => m.message.case === "ack" && m.message.value.requestId === requestId);
  }

  error(requestId: string) {
    return this.waitFor((m) => m.message.case === "error" && m.message.value.requestId === requestId);
  }

  /** The events of `streamId` received so far (heartbeats left out). */
  events(streamId: string): StreamEvent[] {
    return this.messages.flatMap((m) =>
      m.message.case === "event" && m.message.value.streamId === streamId && m.message.value.event.case !== "heartbeat"
        ? [m.message.value]
        : [],
    );
  }

  /** Waits for the terminal event of `streamId`; returns the stream's events. */
  async finished(streamId: string, timeout = 20_000): Promise<StreamEvent[]> {
    await this.waitFor(
      (m) =>
        m.message.case === "event" &&
        m.message.value.streamId === streamId &&
        ["completed", "failed"].includes(m.message.value.event.case ?? ""),
      timeout,
    );
    return this.events(streamId);
  }

  /** Sends a create and waits for its ack; returns the stream id. */
  async create(
    requestId: string,
    o: { model?: string; meta?: Record<string, string>; onDetach?: number; streamId?: string } = {},
  ): Promise<string> {
    this.send({
      requestId,
      message: {
        case: "create",
        value: {
          ...(o.streamId ? { streamId: o.streamId } : {}),
          onDetach: o.onDetach ?? 0,
          request: {
            model: o.model ?? "simulator",
            messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: `question ${requestId}` } }] }],
            metadata: o.meta ?? {},
          },
        },
      },
    });
    const ack = await Promise.race([this.ack(requestId), this.error(requestId)]);
    if (ack.message.case !== "ack") throw new Error(`create ${requestId} failed: ${JSON.stringify(ack.message.value)}`);
    return ack.message.value.streamId;
  }
}

const paced = (tokensPerS: number, tokens: number) => ({
  "simulator.tokens_per_s": String(tokensPerS),
  "simulator.output_tokens": String(tokens),
  "simulator.ttft_ms": "20",
});

const textOf = (events: StreamEvent[]) => events.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");
const seqsOf = (events: StreamEvent[]) => events.filter((e) => e.seq > 0).map((e) => e.seq);
const terminalOf = (events: StreamEvent[]) => events.at(-1)?.event;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Asserts one stream as a client must see it: stream ids set, gapless seqs from 1, one terminal event at the end. */
function expectWhole(events: StreamEvent[], streamId: string): void {
  expect(events.every((e) => e.streamId === streamId)).toBe(true);
  const seqs = seqsOf(events);
  expect(seqs).toEqual(range(1, seqs.length));
  expect(events.filter((e) => e.event.case === "completed" || e.event.case === "failed")).toHaveLength(1);
  expect(["completed", "failed"]).toContain(terminalOf(events)?.case);
}

/**
 * Runs `bad` while a paced stream runs on another socket, then asserts that
 * stream completed normally and whole: bad input on one socket affects no
 * other.
 */
async function withBystander(url: string, bad: () => Promise<void>, o: { headers?: Record<string, string>; tokens?: number } = {}) {
  const other = await Client.open(url, o.headers ? { headers: o.headers } : {});
  const id = await other.create("bystander", { meta: paced(80, o.tokens ?? 60) });
  await bad();
  const events = await other.finished(id);
  expectWhole(events, id);
  expect(terminalOf(events)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
  other.ws.close();
}

describe("WebSocket session", () => {
  let aw: TestAirwave;
  beforeAll(async () => {
    aw = await startAirwave({
      gateway: { corsOrigins: ["http://allowed.example"], wsMaxMessageBytes: 16 * 1024, wsMaxStreams: 4, heartbeatIdleMs: 200 },
    });
  });
  afterAll(async () => {
    await aw?.close();
  });

  it("carries three concurrent streams on one socket: an agent answered through an input request, one cancelled, one resumed on a new socket after a cut", async () => {
    const a = await Client.open(aw.url);
    const [s1, s2, s3] = await Promise.all([
      a.create("one", { model: "simulator/agent", meta: { "simulator.tokens_per_s": "200", "simulator.ttft_ms": "20" }, onDetach: 1 }),
      a.create("two", { meta: paced(20, 200), onDetach: 1 }),
      a.create("three", { meta: paced(30, 120), onDetach: 1 }),
    ]);
    expect(new Set([s1, s2, s3]).size).toBe(3);
    // Each create is acked before the first event of its stream.
    for (const [rid, id] of [
      ["one", s1],
      ["two", s2],
      ["three", s3],
    ] as const) {
      const ackAt = a.messages.findIndex((m) => m.message.case === "ack" && m.message.value.requestId === rid);
      const firstAt = a.messages.findIndex((m) => m.message.case === "event" && m.message.value.streamId === id);
      expect(firstAt === -1 || ackAt < firstAt).toBe(true);
    }

    // Stream one (an agent) asks a question: answer it on the same socket.
    const asked = await a.waitFor(
      (m) => m.message.case === "event" && m.message.value.streamId === s1 && m.message.value.event.case === "inputRequested",
    );
    const inputId =
      asked.message.case === "event" && asked.message.value.event.case === "inputRequested" ? asked.message.value.event.value.inputId : "";
    a.send({ requestId: "answer-one", message: { case: "input", value: { streamId: s1, inputId, text: "no" } } });
    expect((await a.ack("answer-one")).message.value).toMatchObject({ streamId: s1, inputId });

    // Cancel stream two once it produced text.
    await a.waitFor((m) => m.message.case === "event" && m.message.value.streamId === s2 && m.message.value.event.case === "textDelta");
    a.send({ requestId: "cancel-two", message: { case: "cancel", value: { streamId: s2 } } });
    const cancelAck = await a.ack("cancel-two");
    expect(cancelAck.message.value).toMatchObject({ streamId: s2, stream: { streamId: s2, state: StreamState.CANCELLED } });

    // Cut the socket in the middle of stream three.
    await vi.waitFor(() => expect(a.events(s3).filter((e) => e.event.case === "textDelta").length).toBeGreaterThanOrEqual(5));
    a.ws.terminate();
    await a.closed;
    const before = a.events(s3);
    expect(terminalOf(before)?.case).not.toBe("completed");
    const last = before.filter((e) => e.seq > 0).at(-1)!;

    // Resume on a new socket from the last cursor.
    const b = await Client.open(aw.url);
    b.send({ requestId: "resume-three", message: { case: "watch", value: { streamId: s3, cursor: `${last.epoch}:${last.seq}` } } });
    await b.ack("resume-three");
    const after = await b.finished(s3);
    expect(after[0]?.event).toMatchObject({ case: "resumed", value: { outcome: ResumeOutcome.RECOVERED } });
    expect(after[0]?.streamId).toBe(s3);

    // Nothing lost, nothing twice: before + after is the whole logged stream.
    const c = await Client.open(aw.url);
    c.send({ requestId: "replay-three", message: { case: "watch", value: { streamId: s3 } } });
    const whole = await c.finished(s3);
    expectWhole(whole, s3);
    const joined = [...before, ...after.slice(1)];
    expect(seqsOf(joined)).toEqual(seqsOf(whole));
    expect(textOf(joined)).toBe(textOf(whole));
    expect(terminalOf(whole)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });

    // Stream one took the answer and went on to complete (ON_DETACH_CONTINUE: the cut did not stop it).
    c.send({ requestId: "replay-one", message: { case: "watch", value: { streamId: s1 } } });
    const one = await c.finished(s1);
    expectWhole(one, s1);
    expect(one.filter((e) => e.event.case === "inputAnswered")).toMatchObject([{ event: { value: { inputId, text: "no" } } }]);
    expect(new Set(one.map((e) => e.agentId))).toEqual(new Set(["", "planner", "researcher", "writer"]));
    expect(terminalOf(one)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    // Stream two ended cancelled.
    c.send({ requestId: "replay-two", message: { case: "watch", value: { streamId: s2 } } });
    const two = await c.finished(s2);
    expectWhole(two, s2);
    expect(terminalOf(two)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.CANCELLED } });
    b.ws.close();
    c.ws.close();
  });

  it("speaks binary Protobuf on airwave.v1.proto", async () => {
    const p = await Client.open(aw.url, { format: "proto" });
    expect(p.ws.protocol).toBe("airwave.v1.proto");
    const id = await p.create("bin", { model: "simulator/fast" });
    const events = await p.finished(id);
    expectWhole(events, id);
    expect(events[0]?.event.case).toBe("started");
    expect(textOf(events).length).toBeGreaterThan(0);
    p.ws.close();
  });

  it("answers a watch of an unknown stream with NOT_FOUND, keeping the request and stream ids", async () => {
    const c = await Client.open(aw.url);
    c.send({ requestId: "nf", message: { case: "watch", value: { streamId: "no-such-stream-0000000000" } } });
    const err = await c.error("nf");
    expect(err.message.value).toMatchObject({ code: "not_found", streamId: "no-such-stream-0000000000" });
    expect(c.messages.some((m) => m.message.case === "ack")).toBe(false);
    c.ws.close();
  });

  it("unwatches without cancelling, and a second watch of a stream replaces the first", async () => {
    const c = await Client.open(aw.url);
    const id = await c.create("uw", { meta: paced(50, 60), onDetach: 1 });
    await vi.waitFor(() => expect(c.events(id).length).toBeGreaterThan(2));
    c.send({ requestId: "uw-1", message: { case: "unwatch", value: { streamId: id } } });
    await c.ack("uw-1");
    const at = c.messages.length;
    const seen = c.events(id).length;
    // Another stream's messages still arrive; none of this one after its unwatch ack.
    const other = await c.create("uw-other", { model: "simulator/fast" });
    await c.finished(other);
    expect(c.messages.slice(at).some((m) => m.message.case === "event" && m.message.value.streamId === id)).toBe(false);
    expect(c.events(id)).toHaveLength(seen);

    // Watch it again twice: the second replaces the first; the stream was not cancelled.
    c.send({ requestId: "w-1", message: { case: "watch", value: { streamId: id } } });
    await c.ack("w-1");
    c.send({ requestId: "w-2", message: { case: "watch", value: { streamId: id } } });
    await c.ack("w-2");
    const w2At = c.messages.findIndex((m) => m.message.case === "ack" && m.message.value.requestId === "w-2");
    await c.finished(id);
    const afterW2 = c.messages
      .slice(w2At + 1)
      .flatMap((m) =>
        m.message.case === "event" && m.message.value.streamId === id && m.message.value.event.case !== "heartbeat"
          ? [m.message.value]
          : [],
      );
    expectWhole(afterW2, id);
    expect(terminalOf(afterW2)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    c.ws.close();
  });

  it("refuses a stream beyond AIRWAVE_WS_MAX_STREAMS with RESOURCE_EXHAUSTED for that message only", async () => {
    const c = await Client.open(aw.url);
    const ids = await Promise.all([1, 2, 3, 4].map((i) => c.create(`cap-${i}`, { meta: paced(40, 40), onDetach: 3 })));
    c.send({
      requestId: "cap-5",
      message: {
        case: "create",
        value: { request: { model: "simulator/fast", messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "x" } }] }] } },
      },
    });
    expect((await c.error("cap-5")).message.value).toMatchObject({ code: "resource_exhausted" });
    for (const id of ids) expect(terminalOf(await c.finished(id))?.case).toBe("completed");
    // Slots free up as streams end.
    const again = await c.create("cap-6", { model: "simulator/fast" });
    expect(terminalOf(await c.finished(again))?.case).toBe("completed");
    c.ws.close();
  });

  it("sends heartbeat events of idle streams and pings; terminates a peer that does not answer pings", async () => {
    const live = await Client.open(aw.url);
    const idle = await live.create("idle", { meta: { "simulator.ttft_ms": "4000" }, onDetach: 3 });
    const dead = await Client.open(aw.url, { autoPong: false });
    let pings = 0;
    dead.ws.on("ping", () => pings++);
    // The live socket gets heartbeat events of its idle stream (with its stream id) and stays open.
    await live.waitFor(
      () =>
        live.messages.filter(
          (m) => m.message.case === "event" && m.message.value.event.case === "heartbeat" && m.message.value.streamId === idle,
        ).length >= 3,
    );
    // The dead one was pinged and then cut (1006: no close frame).
    const closed = await dead.closed;
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(closed.code).toBe(1006);
    expect(live.ws.readyState).toBe(WebSocket.OPEN);
    live.ws.close();
  });

  describe("bad input: documented errors, the socket or the gateway goes on, other sockets unaffected", () => {
    it("wrong Origin → 403 before the upgrade; an allowed, a same-origin and no Origin are accepted", async () => {
      await withBystander(aw.url, async () => {
        const refused = await Client.open(aw.url, { origin: "http://evil.example" }).catch((e: Refusal) => e);
        expect(refused).toMatchObject({ status: 403 });
        expect(JSON.parse((refused as Refusal).body)).toMatchObject({ code: "permission_denied" });
        for (const origin of ["http://allowed.example", aw.url, undefined]) {
          const c = await Client.open(aw.url, origin ? { origin } : {});
          c.ws.close();
        }
      });
    });

    it("a plain GET of /v1/ws → 426 Upgrade Required", async () => {
      const res = await fetch(`${aw.url}/v1/ws`);
      expect(res.status).toBe(426);
      expect(res.headers.get("upgrade")).toBe("websocket");
      expect(((await res.json()) as { code: string }).code).toBe("failed_precondition");
    });

    it("no airwave subprotocol → 400; another path → 404", async () => {
      await withBystander(aw.url, async () => {
        const none = await Client.open(aw.url, { protocols: ["chat"] }).catch((e: Refusal) => e);
        expect(none).toMatchObject({ status: 400 });
        expect(JSON.parse((none as Refusal).body)).toMatchObject({ code: "invalid_argument" });
        const ws = new WebSocket(`${aw.url.replace("http", "ws")}/v1/other`, ["airwave.v1.json"]);
        const status = await new Promise<number>((resolve) => {
          ws.once("unexpected-response", (_q, res) => resolve(res.statusCode ?? 0));
          ws.once("error", () => {});
        });
        expect(status).toBe(404);
      });
    });

    it("bad JSON and an unknown message type → WsError INVALID_ARGUMENT, and the socket still works", async () => {
      await withBystander(aw.url, async () => {
        const c = await Client.open(aw.url);
        c.ws.send("{not json");
        c.ws.send(JSON.stringify({ requestId: "unknown", launch: { rocket: true } }));
        c.ws.send(JSON.stringify({ requestId: "empty" }));
        await vi.waitFor(() => expect(c.messages.filter((m) => m.message.case === "error")).toHaveLength(3));
        const errors = c.messages.flatMap((m) => (m.message.case === "error" ? [m.message.value] : []));
        expect(errors.map((e) => e.code)).toEqual(["invalid_argument", "invalid_argument", "invalid_argument"]);
        expect(errors.map((e) => e.requestId)).toEqual(["", "unknown", "empty"]);
        const id = await c.create("after-bad", { model: "simulator/fast" });
        expect(terminalOf(await c.finished(id))?.case).toBe("completed");
        c.ws.close();
      });
    });

    it("a binary frame on airwave.v1.json → close 1003", async () => {
      await withBystander(aw.url, async () => {
        const c = await Client.open(aw.url);
        c.ws.send(Buffer.from([1, 2, 3]), { binary: true });
        expect((await c.closed).code).toBe(1003);
      });
    });

    it("a message over AIRWAVE_WS_MAX_MESSAGE_BYTES → close 1009", async () => {
      await withBystander(aw.url, async () => {
        const c = await Client.open(aw.url);
        c.ws.send(JSON.stringify({ requestId: "big", cancel: { streamId: "x".repeat(32 * 1024) } }));
        expect((await c.closed).code).toBe(1009);
      });
    });
  });

  it("answers an agent's input request sent over the socket", async () => {
    const c = await Client.open(aw.url);
    const id = await c.create("agent", { model: "simulator/agent", meta: { "simulator.tokens_per_s": "0" } });
    const asked = await c.waitFor(
      (m) => m.message.case === "event" && m.message.value.streamId === id && m.message.value.event.case === "inputRequested",
    );
    const inputId =
      asked.message.case === "event" && asked.message.value.event.case === "inputRequested" ? asked.message.value.event.value.inputId : "";
    expect(inputId).not.toBe("");
    c.send({ requestId: "answer", message: { case: "input", value: { streamId: id, inputId, text: "yes" } } });
    expect((await c.ack("answer")).message.value).toMatchObject({ streamId: id, inputId });
    const events = await c.finished(id);
    expect(events.some((e) => e.event.case === "inputAnswered" && e.event.value.inputId === inputId && e.event.value.text === "yes")).toBe(
      true,
    );
    expect(terminalOf(events)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    // A watch of one agent gets that agent's events and the whole stream's, in the log's order.
    c.send({ requestId: "writer-only", message: { case: "watch", value: { streamId: id, agentIds: ["writer"] } } });
    await c.ack("writer-only");
    const at = c.messages.findIndex((m) => m.message.case === "ack" && m.message.value.requestId === "writer-only");
    await vi.waitFor(() =>
      expect(terminalOf(c.messages.slice(at).flatMap((m) => (m.message.case === "event" ? [m.message.value] : [])))?.case).toBe(
        "completed",
      ),
    );
    const writer = c.messages
      .slice(at + 1)
      .flatMap((m) => (m.message.case === "event" && m.message.value.event.case !== "heartbeat" ? [m.message.value] : []));
    expect(new Set(writer.map((e) => e.agentId))).toEqual(new Set(["", "writer"]));
    expect(writer.some((e) => e.event.case === "textDelta")).toBe(true);
    const seqs = seqsOf(writer);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    c.ws.close();
  });
});

describe("WebSocket authentication (keys required)", () => {
  const key = "alice-key-0123456789";
  let aw: TestAirwave;
  beforeAll(async () => {
    const keys = loadGatewayConfig({ AIRWAVE_API_KEYS: `alice:${key}` });
    aw = await startAirwave({ gateway: { apiKeys: keys.apiKeys, authMode: "required", wsAuthTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await aw?.close();
  });

  async function works(c: Client, rid: string) {
    const id = await c.create(rid, { model: "simulator/fast" });
    expect(terminalOf(await c.finished(id))?.case).toBe("completed");
  }

  it("accepts the key in the Authorization header", async () => {
    const c = await Client.open(aw.url, { headers: { authorization: `Bearer ${key}` } });
    await works(c, "header");
    c.ws.close();
  });

  it("accepts the key as an airwave.bearer.<key> subprotocol, never echoing it", async () => {
    const c = await Client.open(aw.url, { protocols: [`airwave.bearer.${key}`, "airwave.v1.json"] });
    expect(c.ws.protocol).toBe("airwave.v1.json");
    await works(c, "subprotocol");
    c.ws.close();
  });

  it("accepts an auth message as the first message", async () => {
    const c = await Client.open(aw.url);
    c.send({ requestId: "auth", message: { case: "auth", value: { bearer: key } } });
    await c.ack("auth");
    await works(c, "first-message");
    // auth later is refused, the socket goes on.
    c.send({ requestId: "auth-again", message: { case: "auth", value: { bearer: key } } });
    expect((await c.error("auth-again")).message.value).toMatchObject({ code: "invalid_argument" });
    await works(c, "still");
    c.ws.close();
  });

  it("refuses a wrong key on the upgrade with 401", async () => {
    await withBystanderAuth(async () => {
      for (const o of [
        { headers: { authorization: "Bearer wrong-key-0123456789" } },
        { protocols: ["airwave.v1.json", "airwave.bearer.wrong-key-0123456789"] },
      ]) {
        const refused = await Client.open(aw.url, o).catch((e: Refusal) => e);
        expect(refused).toMatchObject({ status: 401 });
        expect(JSON.parse((refused as Refusal).body)).toMatchObject({ code: "unauthenticated" });
      }
    });
  });

  it("closes with 1008 without auth: another first message, a wrong key, or none in time", async () => {
    await withBystanderAuth(async () => {
      const other = await Client.open(aw.url);
      other.send({ requestId: "x", message: { case: "watch", value: { streamId: "abcdefghijklmnopqrstuv" } } });
      expect((await other.closed).code).toBe(1008);
      const wrong = await Client.open(aw.url);
      wrong.send({ requestId: "auth", message: { case: "auth", value: { bearer: "wrong-key-0123456789" } } });
      expect((await wrong.closed).code).toBe(1008);
      const silent = await Client.open(aw.url);
      expect(await silent.closed).toMatchObject({ code: 1008 });
    });
  });

  /** withBystander with an authenticated bystander. */
  function withBystanderAuth(bad: () => Promise<void>) {
    return withBystander(aw.url, bad, { headers: { authorization: `Bearer ${key}` }, tokens: 50 });
  }
});

describe("WebSocket sockets cap and shutdown", () => {
  it("closes a socket beyond AIRWAVE_WS_MAX_SOCKETS with 1013, and every socket with 1012 at shutdown", async () => {
    const aw = await startAirwave({ gateway: { wsMaxSockets: 1 } });
    let closing: Promise<void> | undefined;
    try {
      const c = await Client.open(aw.url);
      const id = await c.create("long", { meta: paced(20, 2000) });
      const extra = await Client.open(aw.url);
      expect((await extra.closed).code).toBe(1013);
      await vi.waitFor(() => expect(c.events(id).some((e) => e.event.case === "textDelta")).toBe(true));
      closing = aw.close();
      const closed = await c.closed;
      await closing;
      expect(closed.code).toBe(1012);
      // The stream's last message before the close: its end (GATEWAY_SHUTDOWN, retryable) or a retryable WsError.
      const lastOfStream = c.messages
        .filter((m) => m.message.case === "error" || (m.message.case === "event" && m.message.value.streamId === id))
        .at(-1);
      if (lastOfStream?.message.case === "event") {
        expect(lastOfStream.message.value.event).toMatchObject({ case: "failed", value: { reason: "GATEWAY_SHUTDOWN", retryable: true } });
      } else {
        expect(lastOfStream?.message.value).toMatchObject({ code: "unavailable", streamId: id });
      }
    } finally {
      await (closing ?? aw.close());
    }
  });
});
