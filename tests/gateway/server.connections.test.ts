/**
 * Slow and idle client connections are closed, and what the gateway answers
 * before any route sees a request (issue 13): the headers, request,
 * keep-alive and HTTP/2 idle timeouts of a real gateway (short ones, so the
 * test is quick), protocol detection on requests split into 1-byte TCP
 * segments, and the parser's refusals with the Connect JSON error body.
 * Times are real (sockets, timers of the gateway); every wait is on an
 * event with a bounded deadline.
 */
import { once } from "node:events";
import { readdirSync } from "node:fs";
import http2 from "node:http2";
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { h2Preface } from "../../gateway/src/detect-protocol.js";
import { startAirwave, type TestAirwave } from "../support/airwave.js";

const headersTimeoutMs = 2_000;
const requestTimeoutMs = 3_000;
const keepAliveTimeoutMs = 1_000;
const h2IdleTimeoutMs = 1_500;
/** How late after its deadline a connection may be closed (the brief: the timeout + 1 s). */
const lateMs = 1_000;

/** An empty SETTINGS frame (RFC 9113 §6.5): length 0, type 4, flags 0, stream 0. */
const emptySettings = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);

/** A raw client connection: everything it received, and when (ms after it connected) it closed. */
interface Raw {
  socket: net.Socket;
  received(): Buffer;
  closed: Promise<number>;
}

async function connectRaw(port: number): Promise<Raw> {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  socket.on("error", () => {});
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  await once(socket, "connect");
  const t0 = performance.now();
  const closed = once(socket, "close").then(() => performance.now() - t0);
  return { socket, received: () => Buffer.concat(chunks), closed };
}

/** Parses one HTTP/1.1 response: status, headers (lower-case names) and body. */
function parseResponse(raw: Buffer): { status: number; headers: Record<string, string>; body: string } {
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: raw.subarray(Buffer.byteLength(text.slice(0, end + 4), "latin1")).toString("utf8"),
  };
}

/** The frame types in a run of HTTP/2 frames (RFC 9113 §4.1), after the server's preface-less start. */
function frameTypes(raw: Buffer): number[] {
  const types: number[] = [];
  for (let i = 0; i + 9 <= raw.length; i += 9 + raw.readUIntBE(i, 3)) types.push(raw[i + 3] as number);
  return types;
}

/** Open file descriptors of this process (the gateway runs in it). */
const fdCount = () => readdirSync("/proc/self/fd").length;

/**
 * A TCP proxy to `port` that forwards what its client sends one byte per
 * write, Nagle off, with a 2 ms pause between writes, so the gateway reads
 * it in 1-byte segments. Answers pass through unchanged.
 */
async function oneByteProxy(port: number): Promise<net.Server> {
  const proxy = net.createServer((client) => {
    client.setNoDelay(true);
    const up = net.connect(port, "127.0.0.1");
    up.setNoDelay(true);
    up.pipe(client);
    client.on("error", () => up.destroy());
    up.on("error", () => client.destroy());
    client.on("close", () => up.destroy());
    let chain = Promise.resolve();
    client.on("data", (chunk: Buffer) => {
      chain = chain.then(async () => {
        for (const byte of chunk) {
          if (up.destroyed) return;
          await new Promise<void>((resolve) => up.write(Buffer.from([byte]), () => resolve()));
          await delay(2);
        }
      });
    });
  });
  proxy.listen(0, "127.0.0.1");
  await once(proxy, "listening");
  return proxy;
}

describe("gateway client connections", () => {
  let aw: TestAirwave;
  let gw: TestAirwave["gateway"];
  beforeAll(async () => {
    aw = await startAirwave({
      services: { simTtftMs: 0, simTokensPerS: 50 },
      gateway: { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, h2IdleTimeoutMs },
    });
    gw = aw.gateway;
  });
  afterAll(async () => {
    await aw?.close();
  });

  /** A stream of `tokens` simulator tokens (50 per second) watched over SSE: every event's seq, and how it ended. */
  async function controlSse(tokens: number) {
    const res = await fetch(`${gw.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        request: {
          model: "simulator",
          messages: [{ role: "ROLE_USER", parts: [{ text: "Explain tides" }] }],
          metadata: { "simulator.output_tokens": String(tokens) },
        },
      }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    const seqs = [...text.matchAll(/^id: [^:\n]+:(\d+)$/gm)].map((m) => Number(m[1]));
    return { seqs, completed: /"completed"/.test(text), deltas: (text.match(/"textDelta"/g) ?? []).length };
  }

  /** The same over the WebSocket session: the seqs of the stream's events, and whether it completed. */
  async function controlWs(tokens: number) {
    const ws = new WebSocket(`${gw.url.replace("http", "ws")}/v1/ws`, "airwave.v1.json");
    const seqs: number[] = [];
    const done = new Promise<boolean>((resolve, reject) => {
      ws.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as { event?: { seq?: string; completed?: unknown; failed?: unknown } };
        if (msg.event?.seq !== undefined) seqs.push(Number(msg.event.seq));
        if (msg.event?.completed) resolve(true);
        if (msg.event?.failed) resolve(false);
      };
      ws.onclose = () => reject(new Error("the control WebSocket closed"));
    });
    await new Promise((resolve) => (ws.onopen = resolve));
    const start = performance.now();
    ws.send(
      JSON.stringify({
        requestId: "1",
        create: {
          request: {
            model: "simulator",
            messages: [{ role: "ROLE_USER", parts: [{ text: "Explain tides" }] }],
            metadata: { "simulator.output_tokens": String(tokens) },
          },
        },
      }),
    );
    const completed = await done;
    const ms = performance.now() - start;
    ws.close();
    return { seqs, completed, ms };
  }

  const inOrder = (seqs: number[]) => seqs.every((s, i) => i === 0 || s === (seqs[i - 1] as number) + 1);

  it("closes 100 slowloris sockets, one-byte and silent sockets and 120 idle h2c sessions within their timeout + 1 s; the fd count returns to its baseline; SSE and WebSocket streams started before run on past the request timeout, every event in order", async () => {
    // Warm up (the first stream opens the gateway's connection to the
    // inference service, the first WebSocket loads its code), then the baseline.
    await controlSse(1);
    await controlWs(1);
    const fdBefore = fdCount();

    // Control streams: 250 tokens at 50/s ≈ 5 s, longer than the request timeout (3 s) and the attack.
    const sse = controlSse(250);
    const wsStream = controlWs(250);

    // 100 slowloris sockets: a request line, then one header byte every 250 ms, never the blank line.
    const slowloris = await Promise.all(Array.from({ length: 100 }, () => connectRaw(gw.port)));
    for (const c of slowloris) {
      c.socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\nx-slow: ");
      const drip = setInterval(() => c.socket.writable && c.socket.write("a"), 250);
      void c.closed.then(() => clearInterval(drip));
    }
    // Sockets that send one byte, or the start of the preface, or nothing, and stop.
    const oneByte = await Promise.all(
      ["G", "P", "PRI * HTTP/2.0\r\n", ""].flatMap((hello) =>
        Array.from({ length: 10 }, async () => {
          const c = await connectRaw(gw.port);
          if (hello) c.socket.write(hello);
          return { hello, c };
        }),
      ),
    );
    // 120 h2c sessions that send the preface and SETTINGS and nothing else.
    const idleH2 = await Promise.all(Array.from({ length: 120 }, () => connectRaw(gw.port)));
    for (const c of idleH2) c.socket.write(Buffer.concat([h2Preface, emptySettings]));
    const opened = slowloris.length + oneByte.length + idleH2.length;
    // Both ends of every attacking connection are in this process: the gateway holds them all.
    await vi.waitFor(() => expect(fdCount()).toBeGreaterThanOrEqual(fdBefore + 2 * opened), { timeout: 2_000, interval: 10 });
    const fdDuring = fdCount();

    const deadline = headersTimeoutMs + lateMs;
    const slowClosed = await Promise.all(slowloris.map((c) => c.closed));
    const oneClosed = await Promise.all(oneByte.map(({ c }) => c.closed));
    const h2Closed = await Promise.all(idleH2.map((c) => c.closed));
    const all = [...slowClosed, ...oneClosed, ...h2Closed];
    const [sseResult, wsResult] = await Promise.all([sse, wsStream]);
    // The server's side of each socket closes with it (and the control
    // streams' connections once they are done); the fd count is back once it has.
    await vi.waitFor(() => expect(fdCount()).toBeLessThanOrEqual(fdBefore), { timeout: 3_000, interval: 20 });
    const fdAfter = fdCount();
    const range = (xs: number[]) => `${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))} ms`;
    console.log(
      `opened ${opened} sockets, closed ${all.length}: slowloris ${range(slowClosed)}, one-byte/silent ${range(oneClosed)}, idle h2c ${range(h2Closed)} ` +
        `(headers timeout ${headersTimeoutMs} ms); fd ${fdBefore} before, ${fdDuring} during, ${fdAfter} after; ` +
        `control SSE ${sseResult.seqs.length} events, WebSocket ${wsResult.seqs.length} events in ${Math.round(wsResult.ms)} ms`,
    );

    for (const ms of all) {
      expect(ms).toBeGreaterThanOrEqual(headersTimeoutMs - 50);
      expect(ms).toBeLessThanOrEqual(deadline);
    }
    // Slowloris and a lone "G" are HTTP/1.1 requests past their headers timeout: 408, the Connect JSON error.
    for (const c of [...slowloris, ...oneByte.filter((o) => o.hello === "G").map((o) => o.c)]) {
      const res = parseResponse(c.received());
      expect(res.status).toBe(408);
      expect(res.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(res.body)).toMatchObject({ code: "deadline_exceeded" });
    }
    // Undecided ones (a prefix of the preface, or nothing) are closed without a word.
    for (const { c } of oneByte.filter((o) => o.hello !== "G")) expect(c.received().length).toBe(0);
    // Idle sessions get GOAWAY (type 7) before the close.
    for (const c of idleH2) expect(frameTypes(c.received())).toContain(7);
    expect(fdAfter).toBeLessThanOrEqual(fdBefore);

    // The control streams ran through it all, longer than the request timeout.
    expect(sseResult.completed).toBe(true);
    expect(sseResult.deltas).toBe(250);
    expect(sseResult.seqs.length).toBeGreaterThan(250);
    expect(inOrder(sseResult.seqs)).toBe(true);
    expect(wsResult.completed).toBe(true);
    expect(wsResult.ms).toBeGreaterThan(requestTimeoutMs);
    expect(wsResult.seqs.length).toBeGreaterThan(250);
    expect(inOrder(wsResult.seqs)).toBe(true);
  });

  it("closes an HTTP/1.1 request whose body is too slow with 408 deadline_exceeded at the request timeout", async () => {
    const c = await connectRaw(gw.port);
    c.socket.write("POST /v1/streams HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{");
    const ms = await c.closed;
    expect(ms).toBeGreaterThanOrEqual(requestTimeoutMs - 50);
    expect(ms).toBeLessThanOrEqual(requestTimeoutMs + lateMs);
    const res = parseResponse(c.received());
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body)).toMatchObject({ code: "deadline_exceeded" });
  });

  it("closes an idle HTTP/1.1 keep-alive connection after the keep-alive timeout (+ Node's 1 s buffer)", async () => {
    const c = await connectRaw(gw.port);
    c.socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
    await once(c.socket, "data");
    const answered = performance.now();
    await c.closed;
    const idle = performance.now() - answered;
    expect(parseResponse(c.received()).status).toBe(200);
    expect(idle).toBeGreaterThanOrEqual(keepAliveTimeoutMs - 50);
    expect(idle).toBeLessThanOrEqual(keepAliveTimeoutMs + 1_000 + lateMs);
  });

  it("closes an HTTP/2 session with GOAWAY once it has had no open stream for the idle timeout, and resets a stream whose body is too slow", async () => {
    const session = http2.connect(gw.url);
    session.on("error", () => {});
    const slow = session.request({ ":method": "POST", ":path": "/v1/streams", "content-type": "application/json" }, { endStream: false });
    slow.on("error", () => {});
    slow.write("{");
    const t0 = performance.now();
    await once(slow, "close");
    const resetAfter = performance.now() - t0;
    expect(slow.rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    expect(resetAfter).toBeGreaterThanOrEqual(requestTimeoutMs - 50);
    expect(resetAfter).toBeLessThanOrEqual(requestTimeoutMs + lateMs);
    // The session outlives that stream; idle from its close, it gets GOAWAY.
    const goaway = once(session, "goaway");
    const [code] = (await goaway) as [number];
    const idle = performance.now() - t0 - resetAfter;
    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(idle).toBeGreaterThanOrEqual(h2IdleTimeoutMs - 50);
    expect(idle).toBeLessThanOrEqual(h2IdleTimeoutMs + lateMs);
    await once(session, "close");
  });

  describe("protocol detection on 1-byte TCP segments", () => {
    let proxy: net.Server;
    let proxyPort: number;
    beforeAll(async () => {
      proxy = await oneByteProxy(gw.port);
      proxyPort = (proxy.address() as net.AddressInfo).port;
    });
    afterAll(() => proxy?.close());

    it("answers an HTTP/1.1 request that starts P, PO, … (POST)", async () => {
      const c = await connectRaw(proxyPort);
      c.socket.write("POST /healthz HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
      await c.closed;
      const res = parseResponse(c.received());
      expect(res.status).toBe(200);
      expect(res.body).toContain("ok\n");
    });

    it("answers an h2c request whose preface arrives byte by byte", async () => {
      const session = http2.connect(`http://127.0.0.1:${proxyPort}`);
      session.on("error", () => {});
      try {
        const req = session.request({ ":path": "/healthz" });
        const [headers] = (await once(req, "response")) as [http2.IncomingHttpHeaders];
        let body = "";
        for await (const chunk of req) body += String(chunk);
        expect(headers[":status"]).toBe(200);
        expect(body).toBe("ok\n");
      } finally {
        session.destroy();
      }
    });
  });

  describe("refusals of the HTTP parser carry the Connect JSON error", () => {
    async function rawExchange(request: string | Buffer) {
      const c = await connectRaw(gw.port);
      c.socket.write(request);
      await c.closed;
      return parseResponse(c.received());
    }

    it("control bytes in Last-Event-ID: 400 invalid_argument", async () => {
      const res = await rawExchange("GET /v1/streams/x/events HTTP/1.1\r\nhost: x\r\nlast-event-id: 1:\x01\x02\r\n\r\n");
      expect(res.status).toBe(400);
      expect(res.headers["content-type"]).toBe("application/json");
      expect(res.headers.connection).toBe("close");
      expect(Number(res.headers["content-length"])).toBe(Buffer.byteLength(res.body));
      expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_argument", message: expect.stringMatching(/^malformed HTTP request/) });
    });

    it("20 KB of headers: 431 resource_exhausted", async () => {
      const res = await rawExchange(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(20 * 1024)}\r\n\r\n`);
      expect(res.status).toBe(431);
      expect(res.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(res.body)).toMatchObject({ code: "resource_exhausted", message: expect.stringContaining("16384 bytes") });
    });

    it("chunk extensions over 16 KiB: 413 resource_exhausted", async () => {
      const res = await rawExchange(
        `POST /v1/streams HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1;x=${"a".repeat(20 * 1024)}\r\n{\r\n`,
      );
      expect(res.status).toBe(413);
      expect(JSON.parse(res.body)).toMatchObject({ code: "resource_exhausted" });
    });

    it("a malformed request line: 400 invalid_argument", async () => {
      const res = await rawExchange("GET\x00 / HTTP/1.1\r\n\r\n");
      expect(res.status).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ code: "invalid_argument" });
    });
  });
});
