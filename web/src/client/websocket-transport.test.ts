import { create, fromBinary, fromJson, type JsonValue, type MessageInitShape, toBinary, toJson } from "@bufbuild/protobuf";
import {
  CreateStreamRequestSchema,
  ev,
  FinishReason,
  type StreamEvent,
  type WsClientMessage,
  WsClientMessageSchema,
  WsServerMessageSchema,
} from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type WebSocketServer as WsServer, WebSocketServer } from "ws";
import { codeFromCloseCode } from "./close-code.js";
import { createWebSocketTransport, type WebSocketConstructor, type WebSocketTransportOptions } from "./websocket-transport.js";

type ServerInit = MessageInitShape<typeof WsServerMessageSchema>;

/** An in-memory WebSocket: the test plays the gateway. */
class FakeSocket extends EventTarget {
  static all: FakeSocket[] = [];
  readyState = 0;
  binaryType = "blob";
  readonly sent: (string | Uint8Array)[] = [];
  closedWith: number | undefined;
  constructor(
    readonly url: string,
    readonly protocols?: string | string[],
  ) {
    super();
    FakeSocket.all.push(this);
  }
  send(data: string | Uint8Array): void {
    if (this.readyState !== 1) throw new Error("InvalidStateError: not open");
    this.sent.push(data);
  }
  close(code?: number): void {
    if (this.readyState >= 2) return;
    this.closedWith = code;
    this.drop(code ?? 1005);
  }
  // The gateway's side:
  accept(): void {
    this.readyState = 1;
    this.dispatchEvent(new Event("open"));
  }
  reply(msg: ServerInit, format: "json" | "proto" = "json"): void {
    const m = create(WsServerMessageSchema, msg);
    const data = format === "json" ? JSON.stringify(toJson(WsServerMessageSchema, m)) : toBinary(WsServerMessageSchema, m).buffer;
    this.dispatchEvent(Object.assign(new Event("message"), { data }));
  }
  raw(data: unknown): void {
    this.dispatchEvent(Object.assign(new Event("message"), { data }));
  }
  drop(code = 1006, reason = ""): void {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event("close"), { code, reason }));
  }
  /** What the client sent, decoded. */
  received(format: "json" | "proto" = "json"): WsClientMessage[] {
    return this.sent.map((d) =>
      format === "json"
        ? fromJson(WsClientMessageSchema, JSON.parse(d as string) as JsonValue)
        : fromBinary(WsClientMessageSchema, d as Uint8Array),
    );
  }
  last(): WsClientMessage {
    const all = this.received();
    return all[all.length - 1] as WsClientMessage;
  }
}

const FakeWS = FakeSocket as unknown as WebSocketConstructor;
function transport(o: Partial<WebSocketTransportOptions> = {}) {
  return createWebSocketTransport({ baseUrl: "http://127.0.0.1:8080/prefix/", WebSocket: FakeWS, ...o });
}
const socket = (i = 0) => FakeSocket.all[i] as FakeSocket;
const at = (streamId: string, seq: number, e: StreamEvent): StreamEvent => ({ ...e, streamId, epoch: "E", seq });
const text = (id: string, seq: number, t: string) => at(id, seq, ev.textDelta(t));
const done = (id: string, seq: number) => at(id, seq, ev.completed(FinishReason.STOP));
const req = (streamId: string) => create(CreateStreamRequestSchema, { streamId, request: { model: "simulator" } });
const textOf = (r: IteratorResult<StreamEvent>): string =>
  r.done ? "done" : r.value.event.case === "textDelta" ? r.value.event.value.text : (r.value.event.case ?? "unknown");

afterEach(() => {
  FakeSocket.all = [];
  vi.useRealTimers();
});

describe("createWebSocketTransport", () => {
  it("multiplexes streams over one lazily opened socket, routing events by stream id after each ack", async () => {
    const t = transport({ apiKey: "k-1" });
    expect(FakeSocket.all).toHaveLength(0);
    const a = t.create(req("A"), new AbortController().signal)[Symbol.asyncIterator]();
    const b = t.watch("B", { epoch: "E", seq: 4 }, new AbortController().signal)[Symbol.asyncIterator]();
    const [na, nb] = [a.next(), b.next()];
    expect(FakeSocket.all).toHaveLength(1);
    const s = socket();
    expect(s.url).toBe("ws://127.0.0.1:8080/prefix/v1/ws");
    expect(s.protocols).toEqual(["airwave.v1.json", "airwave.bearer.k-1"]);
    s.accept();
    const [ca, cb] = s.received();
    expect(ca?.message.case).toBe("create");
    expect(cb?.message).toMatchObject({ case: "watch", value: { streamId: "B", cursor: "E:4" } });
    s.reply({ message: { case: "event", value: text("A", 9, "stale") } }); // before A's ack: not A's
    s.reply({ message: { case: "ack", value: { requestId: ca?.requestId, streamId: "A" } } });
    s.reply({ message: { case: "ack", value: { requestId: cb?.requestId, streamId: "B" } } });
    s.reply({ message: { case: "event", value: text("B", 5, "b5") } });
    s.reply({ message: { case: "event", value: text("A", 1, "a1") } });
    expect([textOf(await na), textOf(await nb)]).toEqual(["a1", "b5"]);
    s.reply({ message: { case: "event", value: done("A", 2) } });
    expect(textOf(await a.next())).toBe("completed");
    expect(textOf(await a.next())).toBe("done");
    expect(s.received().some((m) => m.message.case === "unwatch")).toBe(false); // the gateway ended A's watch itself
    await b.return?.(undefined);
  });

  it("sends unwatch when a watch is aborted, leaving the other streams alone", async () => {
    const t = transport();
    const ctl = new AbortController();
    const a = t.watch("A", undefined, ctl.signal)[Symbol.asyncIterator]();
    const b = t.watch("B", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const [na, nb] = [a.next(), b.next()];
    const s = socket();
    s.accept();
    for (const m of s.received()) s.reply({ message: { case: "ack", value: { requestId: m.requestId } } });
    ctl.abort();
    await expect(na).rejects.toMatchObject({ code: Code.Canceled });
    expect(s.last().message).toMatchObject({ case: "unwatch", value: { streamId: "A" } });
    s.reply({ message: { case: "event", value: text("A", 1, "late") } });
    s.reply({ message: { case: "event", value: text("B", 1, "b1") } });
    expect(textOf(await nb)).toBe("b1");
    await b.return?.(undefined);
  });

  it("unwatches a watch left before its ack once the ack comes (the gateway may not have attached it yet)", async () => {
    const t = transport();
    const ctl = new AbortController();
    const a = t.watch("A", undefined, ctl.signal)[Symbol.asyncIterator]();
    const na = a.next();
    const s = socket();
    s.accept();
    const requestId = s.last().requestId;
    ctl.abort();
    await expect(na).rejects.toMatchObject({ code: Code.Canceled });
    expect(s.received().map((m) => m.message.case)).toEqual(["watch"]);
    s.reply({ message: { case: "ack", value: { requestId, streamId: "A" } } });
    expect(s.last().message).toMatchObject({ case: "unwatch", value: { streamId: "A" } });
  });

  it("unwatches the replaced watch the gateway keeps when the replacing watch fails", async () => {
    const t = transport();
    const first = t.watch("A", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const n1 = first.next();
    const s = socket();
    s.accept();
    s.reply({ message: { case: "ack", value: { requestId: s.last().requestId, streamId: "A" } } });
    const second = t.watch("A", { epoch: "E", seq: 1 }, new AbortController().signal)[Symbol.asyncIterator]();
    const n2 = second.next();
    await expect(n1).rejects.toMatchObject({ code: Code.Canceled });
    s.reply({
      message: { case: "error", value: { requestId: s.last().requestId, streamId: "A", code: "invalid_argument", message: "bad cursor" } },
    });
    await expect(n2).rejects.toMatchObject({ code: Code.InvalidArgument });
    expect(s.received().map((m) => m.message.case)).toEqual(["watch", "watch", "unwatch"]);
  });

  it("raises the close code's Connect code in every live iteration after the events received, and reopens on the next call", async () => {
    const t = transport();
    const a = t.watch("A", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const b = t.watch("B", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const [na, nb] = [a.next(), b.next()];
    const s = socket();
    s.accept();
    for (const m of s.received()) s.reply({ message: { case: "ack", value: { requestId: m.requestId } } });
    s.reply({ message: { case: "event", value: text("A", 1, "a1") } });
    s.reply({ message: { case: "event", value: text("A", 2, "a2") } });
    s.drop(1012, "restart");
    expect(textOf(await na)).toBe("a1");
    expect(textOf(await a.next())).toBe("a2");
    await expect(a.next()).rejects.toMatchObject({ code: Code.Unavailable });
    await expect(nb).rejects.toMatchObject({ code: Code.Unavailable });
    const c = t.watch("A", { epoch: "E", seq: 2 }, new AbortController().signal)[Symbol.asyncIterator]();
    void c.next().catch(() => {});
    expect(FakeSocket.all).toHaveLength(2);
    t.close();
  });

  it("raises a WsError as a ConnectError with its code, reason and retry hint", async () => {
    const t = transport();
    const a = t.watch("A", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const na = a.next();
    const s = socket();
    s.accept();
    const requestId = s.last().requestId;
    s.reply({
      message: {
        case: "error",
        value: { requestId, streamId: "A", code: "resource_exhausted", message: "busy", reason: "TOO_MANY_WATCHES", retryAfterMs: 1200 },
      },
    });
    const err = (await na.catch((e: unknown) => e)) as ConnectError;
    expect(err).toBeInstanceOf(ConnectError);
    expect([err.code, err.rawMessage, err.metadata.get("airwave-reason"), err.metadata.get("retry-after-ms")]).toEqual([
      Code.ResourceExhausted,
      "busy",
      "TOO_MANY_WATCHES",
      "1200",
    ]);
  });

  it("ends a watch that broke off later (WsError with its stream id and no request id)", async () => {
    const t = transport();
    const a = t.watch("A", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const na = a.next();
    const s = socket();
    s.accept();
    s.reply({ message: { case: "ack", value: { requestId: s.last().requestId, streamId: "A" } } });
    s.reply({ message: { case: "error", value: { streamId: "A", code: "aborted", message: "fell behind the log" } } });
    await expect(na).rejects.toMatchObject({ code: Code.Aborted });
    expect(s.received().map((m) => m.message.case)).toEqual(["watch"]); // the gateway ended it: no unwatch
  });

  it("ends a consumer that does not read with ResourceExhausted past maxQueuedEvents, and stops watching", async () => {
    const t = transport({ maxQueuedEvents: 3 });
    const a = t.watch("A", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const na = a.next();
    const s = socket();
    s.accept();
    s.reply({ message: { case: "ack", value: { requestId: s.last().requestId, streamId: "A" } } });
    for (let i = 1; i <= 6; i++) s.reply({ message: { case: "event", value: text("A", i, `a${i}`) } });
    expect(s.last().message).toMatchObject({ case: "unwatch", value: { streamId: "A" } });
    const got = [textOf(await na)];
    for (;;) {
      const r = await a.next().catch((e: unknown) => e as ConnectError);
      if (r instanceof ConnectError) {
        expect(r.code).toBe(Code.ResourceExhausted);
        break;
      }
      got.push(textOf(r));
    }
    expect(got).toEqual(["a1", "a2", "a3", "a4"]); // the bound plus the one that overflowed it
  });

  it("ends the first iteration with Code.Canceled when a second watch of the stream replaces it, without unwatching", async () => {
    const t = transport();
    const first = t.watch("A", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const n1 = first.next();
    const second = t.watch("A", { epoch: "E", seq: 1 }, new AbortController().signal)[Symbol.asyncIterator]();
    const n2 = second.next();
    await expect(n1).rejects.toMatchObject({ code: Code.Canceled });
    const s = socket();
    s.accept();
    expect(s.received().map((m) => m.message.case)).toEqual(["watch", "watch"]);
    s.reply({ message: { case: "ack", value: { requestId: s.last().requestId, streamId: "A" } } });
    s.reply({ message: { case: "event", value: text("A", 2, "a2") } });
    expect(textOf(await n2)).toBe("a2");
    await second.return?.(undefined);
  });

  it("answers cancel and input with their acks, and raises their errors", async () => {
    const t = transport();
    const cancelled = t.cancel("A", "stop");
    const s = socket();
    s.accept();
    expect(s.last().message).toMatchObject({ case: "cancel", value: { streamId: "A", reason: "stop" } });
    s.reply({ message: { case: "ack", value: { requestId: s.last().requestId, streamId: "A" } } });
    await cancelled;
    const input = t.sendInput("A", "", "yes");
    expect(s.last().message).toMatchObject({ case: "input", value: { streamId: "A", inputId: "", text: "yes" } });
    s.reply({ message: { case: "ack", value: { requestId: s.last().requestId, streamId: "A", inputId: "in-1" } } });
    expect(await input).toBe("in-1");
    const refused = t.sendInput("A", "in-1", "yes");
    s.reply({
      message: {
        case: "error",
        value: { requestId: s.last().requestId, code: "failed_precondition", message: "answered", reason: "INPUT_NOT_PENDING" },
      },
    });
    await expect(refused).rejects.toMatchObject({ code: Code.FailedPrecondition });
    const lost = t.cancel("B");
    s.drop(1006);
    await expect(lost).rejects.toMatchObject({ code: Code.Unavailable });
  });

  it("authenticates with a first auth message when the key is not a subprotocol token", async () => {
    const t = transport({ apiKey: "key with spaces" });
    void t.cancel("A").catch(() => {});
    const s = socket();
    expect(s.protocols).toEqual(["airwave.v1.json"]);
    s.accept();
    expect(s.received().map((m) => m.message.case)).toEqual(["auth", "cancel"]);
    expect(s.received()[0]?.message.value).toMatchObject({ bearer: "key with spaces" });
    t.close();
  });

  it("speaks binary Protobuf on airwave.v1.proto, and closes with Code.Internal on a text frame there", async () => {
    const t = transport({ protocol: "proto" });
    const a = t.create(req("A"), new AbortController().signal)[Symbol.asyncIterator]();
    const na = a.next();
    const s = socket();
    expect(s.protocols).toEqual(["airwave.v1.proto"]);
    expect(s.binaryType).toBe("arraybuffer");
    s.accept();
    const [m] = s.received("proto");
    expect(m?.message.case).toBe("create");
    s.reply({ message: { case: "ack", value: { requestId: m?.requestId, streamId: "A" } } }, "proto");
    s.reply({ message: { case: "event", value: text("A", 1, "a1") } }, "proto");
    expect(textOf(await na)).toBe("a1");
    s.raw("{}");
    await expect(a.next()).rejects.toMatchObject({ code: Code.Internal });
    expect(s.closedWith).toBe(1000);
  });

  it("closes a socket that stays silent for idleTimeoutMs while watching (Code.Unavailable)", async () => {
    vi.useFakeTimers();
    const t = transport({ idleTimeoutMs: 1000 });
    const a = t.watch("A", undefined, new AbortController().signal)[Symbol.asyncIterator]();
    const na = a.next();
    const s = socket();
    s.accept();
    s.reply({ message: { case: "ack", value: { requestId: s.last().requestId, streamId: "A" } } });
    vi.advanceTimersByTime(900);
    s.reply({ message: { case: "event", value: at("A", 0, ev.heartbeat()) } });
    expect((await na).value?.event.case).toBe("heartbeat");
    const nb = a.next();
    vi.advanceTimersByTime(900); // 900 ms since the heartbeat: still alive
    expect(s.readyState).toBe(1);
    vi.advanceTimersByTime(200);
    await expect(nb).rejects.toMatchObject({ code: Code.Unavailable, rawMessage: "no message from the gateway for 1000 ms" });
  });

  it("maps close codes with one table", () => {
    expect(
      [
        [1006, ""],
        [1012, ""],
        [1013, ""],
        [1008, "authentication timed out: the first message must be auth"],
        [1008, "permission_denied: not yours"],
        [1009, ""],
        [1011, ""],
        [1003, ""],
      ].map(([c, r]) => codeFromCloseCode(c as number, r as string)),
    ).toEqual([
      Code.Unavailable,
      Code.Unavailable,
      Code.Unavailable,
      Code.Unauthenticated,
      Code.PermissionDenied,
      Code.ResourceExhausted,
      Code.Internal,
      Code.Internal,
    ]);
  });
});

describe("createWebSocketTransport with a real WebSocket", () => {
  let server: WsServer | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it.each(["json", "proto"] as const)("round-trips a stream on airwave.v1.%s", async (format) => {
    const subprotocol = `airwave.v1.${format}`;
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: (ps) => (ps.has(subprotocol) ? subprotocol : false) });
    server = wss;
    await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
    const offered: string[][] = [];
    wss.on("connection", (sock, upgrade) => {
      offered.push(String(upgrade.headers["sec-websocket-protocol"]).split(/,\s*/));
      sock.on("message", (data, isBinary) => {
        expect(isBinary).toBe(format === "proto");
        const msg =
          format === "json"
            ? fromJson(WsClientMessageSchema, JSON.parse(String(data)) as JsonValue)
            : fromBinary(WsClientMessageSchema, new Uint8Array(data as Buffer));
        if (msg.message.case !== "create") return;
        const id = msg.message.value.streamId;
        for (const m of [
          { message: { case: "ack", value: { requestId: msg.requestId, streamId: id } } },
          { message: { case: "event", value: text(id, 1, "hello") } },
          { message: { case: "event", value: done(id, 2) } },
        ] as ServerInit[]) {
          const out = create(WsServerMessageSchema, m);
          if (format === "json") sock.send(JSON.stringify(toJson(WsServerMessageSchema, out)));
          else sock.send(toBinary(WsServerMessageSchema, out));
        }
      });
    });
    const { port } = wss.address() as { port: number };
    const t = createWebSocketTransport({ baseUrl: `http://127.0.0.1:${port}`, protocol: format, apiKey: "k1" });
    const got: string[] = [];
    for await (const e of t.create(req("S"), new AbortController().signal)) got.push(textOf({ done: false, value: e }));
    expect(got).toEqual(["hello", "completed"]);
    expect(offered).toEqual([[subprotocol, "airwave.bearer.k1"]]);
    t.close();
  });
});
