/**
 * Fuzz suite over every surface a client can reach: JSON bodies, stream ids
 * and cursors (`?after=`, `Last-Event-ID`, raw bytes through Node's HTTP
 * parser), query parameters and `Accept`, WebSocket messages (JSON text and
 * Protobuf binary frames), Connect and gRPC-Web envelopes, gRPC over h2c.
 *
 * Each generated case must be answered within 1 s with a documented code
 * (README "Errors": the Connect JSON error with the HTTP status of its code,
 * a gRPC status, a WsError, or a documented close code) — never `internal`,
 * `unknown` or a parser's text — and a control stream watched across the
 * whole surface must receive every event in order, with no gap over 1 s.
 *
 * Cases per surface: `AIRWAVE_FUZZ_RUNS` (default 2000); a failure prints
 * fast-check's seed and the shrunk case, replayable with `AIRWAVE_FUZZ_SEED`.
 */
import http2 from "node:http2";
import net from "node:net";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventSourceParserStream } from "eventsource-parser/stream";
import fc from "fast-check";
import WebSocket from "ws";
import { createBody, startAirwave, type TestAirwave } from "../support/airwave.js";

const RUNS = Number(process.env.AIRWAVE_FUZZ_RUNS ?? 2000);
const SEED = process.env.AIRWAVE_FUZZ_SEED === undefined ? undefined : Number(process.env.AIRWAVE_FUZZ_SEED);
const CASE_MS = 1000;
const SURFACE_TIMEOUT_MS = 30_000 + RUNS * 60;

/** Connect code names a bad input may be answered with (README "Errors"). */
const DOCUMENTED = new Set([
  "invalid_argument",
  "not_found",
  "unimplemented",
  "resource_exhausted",
  "failed_precondition",
  "unauthenticated",
]);
/** The same codes as gRPC status numbers, and 0 (OK: the generated request was valid). */
const DOCUMENTED_GRPC = new Set<number>([
  0,
  Code.InvalidArgument,
  Code.NotFound,
  Code.Unimplemented,
  Code.ResourceExhausted,
  Code.FailedPrecondition,
]);
/** Texts that must never reach a client (parser internals). */
const LEAKY = /premature EOF|illegal tag|invalid wire type|parse binary|\bTypeError\b|stack/i;

let aw: TestAirwave;
let endedId = "";
let endedCursor = "";

beforeAll(async () => {
  aw = await startAirwave({ gateway: { detachGraceMs: 200 } });
  // One ended stream, so cursors and ids sometimes name something real.
  const res = await post(createBody("fuzz target", {}, { metadata: { "simulator.output_tokens": "3" } }));
  const text = await res.text();
  endedId = /"streamId":"([^"]+)"/.exec(text)?.[1] ?? "";
  endedCursor = [...text.matchAll(/^id: (.+)$/gm)].at(-1)?.[1] ?? "";
  expect(endedId).not.toBe("");
  expect(endedCursor).toMatch(/^[^:]+:\d+$/);
});
afterAll(async () => {
  await aw?.close();
});

function post(body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${aw.url}/v1/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
}

/** The run parameters of every property: `AIRWAVE_FUZZ_RUNS` cases, `AIRWAVE_FUZZ_SEED` when set, stop at the first failure. */
function fcParams(): { numRuns: number; seed?: number; endOnFailure: boolean } {
  return SEED === undefined ? { numRuns: RUNS, endOnFailure: true } : { numRuns: RUNS, seed: SEED, endOnFailure: true };
}

/**
 * A paced SSE stream watched across one surface: every event must arrive
 * in order (seq + 1), no gap over 1 s, and the stream is then cancelled and
 * must end with `completed`.
 */
async function withControlStream(run: () => Promise<void>): Promise<void> {
  const res = await post(
    createBody(
      "control stream",
      { onDetach: "ON_DETACH_CONTINUE" },
      {
        metadata: { "simulator.output_tokens": "100000", "simulator.tokens_per_s": "50" },
      },
    ),
  );
  expect(res.status).toBe(200);
  let streamId = "";
  let lastSeq = 0;
  let lastAt = performance.now();
  let maxGapMs = 0;
  let terminal = "";
  const problems: string[] = [];
  const reading = (async () => {
    const messages = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream());
    for await (const m of messages) {
      const ev = JSON.parse(m.data) as { streamId?: string; seq?: number; completed?: unknown; failed?: unknown };
      const now = performance.now();
      maxGapMs = Math.max(maxGapMs, now - lastAt);
      lastAt = now;
      streamId ||= ev.streamId ?? "";
      if (ev.seq !== lastSeq + 1) problems.push(`seq ${ev.seq} after ${lastSeq}`);
      lastSeq = ev.seq ?? lastSeq;
      if (ev.completed) terminal = "completed";
      if (ev.failed) terminal = `failed ${JSON.stringify(ev.failed)}`;
    }
  })();
  try {
    await run();
    // Still streaming after the surface: one more event within 1 s.
    const seen = lastSeq;
    const until = performance.now() + 1000;
    while (lastSeq === seen && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(lastSeq, "the control stream stopped").toBeGreaterThan(seen);
  } finally {
    const during = maxGapMs;
    await fetch(`${aw.url}/v1/streams/${streamId}:cancel`, { method: "POST" });
    await reading;
    expect(problems).toEqual([]);
    expect(during).toBeLessThan(1000);
    expect(terminal).toBe("completed");
  }
}

/** Resolves with `p`'s value or rejects once `ms` have passed. */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asserts an HTTP error answer is the Connect JSON error of its status. */
function expectConnectJsonError(status: number, contentType: string | null, body: string, what: string): void {
  expect(contentType, what).toMatch(/^application\/json/);
  const err = JSON.parse(body) as { code?: string; message?: string };
  expect(DOCUMENTED, `${what}: ${body}`).toContain(err.code);
  const expected = [codeToHttpStatus(codeOf(err.code ?? ""))];
  if (err.code === "invalid_argument") expected.push(415);
  if (err.code === "unimplemented") expected.push(405);
  if (err.code === "resource_exhausted") expected.push(413, 431);
  expect(expected, `${what}: ${status} ${body}`).toContain(status);
  expect(err.message ?? "", what).not.toMatch(LEAKY);
}

function codeOf(name: string): Code {
  const entry = Object.entries(Code).find(([k]) => k.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase() === name);
  return (entry?.[1] as Code | undefined) ?? Code.Unknown;
}

/** A fetch answered within {@link CASE_MS}: status, type and (for errors) body; streams are dropped. */
async function probe(url: string, init: RequestInit, what: string): Promise<void> {
  const ctrl = new AbortController();
  try {
    const res = await within(CASE_MS, fetch(url, { ...init, signal: ctrl.signal }), what);
    if (res.status === 200 || res.status === 204) return; // a valid request: a stream, a batch or its end
    const body = await within(CASE_MS, res.text(), what);
    expectConnectJsonError(res.status, res.headers.get("content-type"), body, `${what} → ${res.status}`);
  } finally {
    ctrl.abort();
  }
}

// ── Generators ────────────────────────────────────────────────────────────

const validRequest = () => createBody("fuzz", {}, { metadata: { "simulator.output_tokens": "2" } });

/** A valid body with one field somewhere replaced by an arbitrary JSON value (or removed). */
const mutatedBody = fc
  .tuple(
    fc.constantFrom(
      "",
      "request",
      "request.messages",
      "request.messages.0",
      "request.messages.0.parts",
      "request.messages.0.parts.0",
      "request.metadata",
      "request.sampling",
    ),
    fc.oneof(
      fc.string(),
      fc.constantFrom(
        "model",
        "streamId",
        "onDetach",
        "role",
        "text",
        "tools",
        "reasoning",
        "maxOutputTokens",
        "simulator.output_tokens",
        "__proto__",
        "constructor",
      ),
    ),
    fc.oneof(fc.jsonValue(), fc.constant(undefined)),
  )
  .map(([path, key, value]) => {
    const body = validRequest() as Record<string, unknown>;
    let at: Record<string, unknown> = body;
    for (const p of path.split(".").filter(Boolean)) {
      const next = (at as Record<string, unknown>)[p];
      if (next === null || typeof next !== "object") break;
      at = next as Record<string, unknown>;
    }
    const badLength =
      Array.isArray(at) && key === "length" && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) < 2 ** 32);
    if (value === undefined) delete at[key];
    else if (!badLength) at[key] = value; // an array takes no other length (RangeError): the body stays as it was
    return JSON.stringify(body);
  });

const anyBody = fc.oneof(
  { weight: 4, arbitrary: mutatedBody },
  { weight: 2, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string() },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: fc.stringMatching(/^\{"request":\{"model":"[ -~]{0,40}","messages":\[.{0,40}\]\}.{0,20}$/) },
);

const cursorText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.stringMatching(/^[0-9a-z]{0,12}:-?[0-9]{0,25}$/),
  fc.constantFrom("", ":", "0:0", "a:b", "1:1e9", "9999999999999999999:1", "x:-1"),
  fc.constant("ENDED"),
);

/** Bytes for a header value through a raw socket: control bytes, UTF-8, obs-text, never CR LF. */
const headerBytes = fc.oneof(
  fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a.filter((b) => b !== 13 && b !== 10))),
  cursorText.map((s) => Buffer.from(s, "utf8")),
);

const streamIdText = fc.oneof(fc.string({ maxLength: 140 }), fc.stringMatching(/^[A-Za-z0-9_-]{0,140}$/), fc.constant("ENDED"));

function resolveCursor(c: string): string {
  return c === "ENDED" ? endedCursor : c;
}
function resolveId(id: string): string {
  return id === "ENDED" ? endedId : id;
}

// ── Surfaces ──────────────────────────────────────────────────────────────

describe("fuzz: every bad input gets a documented answer within 1 s, a control stream goes on", () => {
  it(
    "POST /v1/streams bodies, content types and Accept",
    async () => {
      await withControlStream(() =>
        fc.assert(
          fc.asyncProperty(
            anyBody,
            fc.constantFrom("application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", ""),
            fc.constantFrom("text/event-stream", "application/x-ndjson", "application/json", "*/*", "text/html", ""),
            fc.constantFrom("", "?mode=sse", "?mode=ndjson", "?mode=poll", "?mode=xml", "?wait_ms=-1", "?wait_ms=abc", "?wait_ms=0"),
            async (body, contentType, accept, query) => {
              const headers: Record<string, string> = { accept };
              if (contentType) headers["content-type"] = contentType;
              await probe(
                `${aw.url}/v1/streams${query}`,
                { method: "POST", headers, body },
                `POST ${query} ${contentType} ${String(body).slice(0, 120)}`,
              );
            },
          ),
          fcParams(),
        ),
      );
    },
    SURFACE_TIMEOUT_MS,
  );

  it(
    "stream ids in paths, cursors in ?after= and Last-Event-ID, mode and wait_ms, every method",
    async () => {
      await withControlStream(() =>
        fc.assert(
          fc.asyncProperty(
            streamIdText,
            fc.constantFrom("/events", "", ":cancel", ":input", "/x"),
            fc.option(cursorText),
            fc.constantFrom("GET", "POST", "DELETE", "PUT", "PATCH"),
            fc.constantFrom("", "&mode=ndjson", "&mode=poll&wait_ms=0", "&wait_ms=99999999999", "&mode=%00"),
            async (id, suffix, cursor, method, extra) => {
              const query = cursor === null ? extra.replace(/^&/, "?") : `?after=${encodeURIComponent(resolveCursor(cursor))}${extra}`;
              const path = `/v1/streams/${encodeURIComponent(resolveId(id))}${suffix}${query}`;
              await probe(
                `${aw.url}${path}`,
                { method, headers: { accept: "application/x-ndjson" }, body: method === "POST" ? "{}" : undefined },
                `${method} ${path}`,
              );
            },
          ),
          fcParams(),
        ),
      );
    },
    SURFACE_TIMEOUT_MS,
  );

  it(
    "raw HTTP/1.1 through Node's parser: Last-Event-ID bytes, request lines, header names",
    async () => {
      const { hostname, port } = new URL(aw.url);
      await withControlStream(() =>
        fc.assert(
          fc.asyncProperty(
            headerBytes,
            fc.constantFrom("Last-Event-ID", "Accept", "X-Fuzz", "Content-Length", "Transfer-Encoding", "Bad Header", "Auth\u0000"),
            fc.constantFrom(
              "GET /v1/streams/ENDED/events HTTP/1.1",
              "GET /v1/streams/ENDED/events?after=%ZZ HTTP/1.1",
              "GET /v1/streams/%E0%A4%A/events HTTP/1.1",
              "POST /v1/streams HTTP/1.1",
              "GET /healthz HTTP/1.0",
              "BREW / HTTP/1.1",
              "GET / HTTP/9.9",
            ),
            async (value, name, requestLine) => {
              const head = Buffer.concat([
                Buffer.from(`${requestLine.replace("ENDED", endedId)}\r\nHost: ${hostname}\r\nConnection: close\r\n${name}: `, "latin1"),
                value,
                Buffer.from("\r\n\r\n", "latin1"),
              ]);
              const answer = await within(
                CASE_MS,
                rawHttp(hostname, Number(port), head),
                `${requestLine} ${name}: ${value.toString("hex")}`,
              );
              const m = /^HTTP\/1\.[01] (\d{3})/.exec(answer.head);
              expect(m, answer.head.slice(0, 200)).not.toBeNull();
              const status = Number(m![1]);
              if (status === 200 || status === 204) return;
              const type = /^content-type: *(.*)$/im.exec(answer.head)?.[1] ?? null;
              expectConnectJsonError(status, type, answer.body, `${requestLine} ${name}: ${value.toString("hex")} → ${status}`);
            },
          ),
          fcParams(),
        ),
      );
    },
    SURFACE_TIMEOUT_MS,
  );

  it(
    "WebSocket messages: JSON text frames on airwave.v1.json, Protobuf binary frames on airwave.v1.proto",
    async () => {
      const wsUrl = `${aw.url.replace("http", "ws")}/v1/ws`;
      const sockets: Record<string, WsProbe | undefined> = {};
      await withControlStream(() =>
        fc.assert(
          fc.asyncProperty(
            fc.oneof(
              { weight: 3, arbitrary: wsJsonMessage.map((text) => ({ proto: "airwave.v1.json", data: text, binary: false })) },
              {
                weight: 2,
                arbitrary: fc.uint8Array({ maxLength: 200 }).map((data) => ({ proto: "airwave.v1.proto", data, binary: true })),
              },
            ),
            async ({ proto, data, binary }) => {
              const s = (sockets[proto] ??= await WsProbe.open(wsUrl, proto));
              const outcome = await within(CASE_MS, s.exchange(data, binary), `ws ${proto} ${String(data).slice(0, 120)}`);
              for (const e of outcome.errors) {
                expect(DOCUMENTED, `ws ${proto} ${String(data).slice(0, 120)}: ${JSON.stringify(e)}`).toContain(e.code);
                expect(e.message ?? "").not.toMatch(LEAKY);
              }
              if (outcome.closed !== undefined) {
                expect([1003, 1008, 1009], `ws close for ${String(data).slice(0, 120)}`).toContain(outcome.closed);
                sockets[proto] = undefined;
              }
            },
          ),
          fcParams(),
        ),
      );
      for (const s of Object.values(sockets)) s?.ws.close();
    },
    SURFACE_TIMEOUT_MS,
  );

  it(
    "Connect and gRPC-Web envelopes (Protobuf and JSON) on every StreamService method",
    async () => {
      await withControlStream(() =>
        fc.assert(
          fc.asyncProperty(
            fc.constantFrom("CreateStream", "WatchStream", "GetStream", "CancelStream", "SendInput"),
            fc.constantFrom("connect+proto", "connect+json", "grpc-web+proto", "proto", "json"),
            envelopeBody,
            async (method, protocol, body) => {
              const what = `${method} ${protocol} ${Buffer.from(body).toString("hex").slice(0, 120)}`;
              await within(CASE_MS, connectCase(method, protocol, body, what), what);
            },
          ),
          fcParams(),
        ),
      );
    },
    SURFACE_TIMEOUT_MS,
  );

  it(
    "gRPC over h2c: random messages and frames",
    async () => {
      // One session per case, as independent clients: on one session the
      // cases' stream resets would trip the gateway's reset-flood limit
      // (Node's 1,000 burst, then 33 per second: GOAWAY), which is right
      // for a public port and not what this surface probes.
      await withControlStream(() =>
        fc.assert(
          fc.asyncProperty(
            fc.constantFrom("CreateStream", "WatchStream", "GetStream", "CancelStream", "SendInput"),
            envelopeBody,
            async (method, body) => {
              const what = `grpc ${method} ${Buffer.from(body).toString("hex").slice(0, 120)}`;
              const session = http2.connect(aw.url);
              session.on("error", () => {}); // surfaces on the case's request
              try {
                const status = await within(CASE_MS, grpcCase(session, method, body), what);
                expect(DOCUMENTED_GRPC, `${what}: ${status.code} ${status.message}`).toContain(status.code);
                expect(status.message).not.toMatch(LEAKY);
              } finally {
                session.close();
              }
            },
          ),
          fcParams(),
        ),
      );
    },
    SURFACE_TIMEOUT_MS,
  );
});

// ── WebSocket ─────────────────────────────────────────────────────────────

const wsJsonMessage = fc.oneof(
  { weight: 2, arbitrary: fc.json() },
  { weight: 1, arbitrary: fc.string() },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom("create", "watch", "cancel", "input", "unwatch", "auth", "bogus"),
        fc.oneof(fc.jsonValue(), fc.record({ streamId: streamIdText, cursor: cursorText }, { requiredKeys: [] })),
        fc.option(fc.oneof(fc.string({ maxLength: 80 }), fc.integer())),
      )
      .map(([kind, value, requestId]) => {
        const v =
          value !== null && typeof value === "object" && "streamId" in value
            ? { ...value, streamId: resolveId(String(value.streamId)) }
            : value;
        return JSON.stringify(requestId === null ? { [kind]: v } : { requestId, [kind]: v });
      }),
  },
);

interface WsErr {
  code?: string;
  message?: string;
  requestId?: string;
}

/** One socket and its decoded server messages; each exchange ends with a probe the server must answer. */
class WsProbe {
  private seen: { error?: WsErr; ack?: { requestId?: string } }[] = [];
  private waiters: (() => void)[] = [];
  closed: number | undefined;
  private n = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer, isBinary) => {
      if (!isBinary) this.seen.push(JSON.parse(data.toString("utf8")));
      else this.seen.push(decodeBinaryError(data));
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on("close", (code) => {
      this.closed = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string, protocol: string): Promise<WsProbe> {
    const ws = new WebSocket(url, protocol);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    return new WsProbe(ws);
  }

  /** Sends `data`, then a watch of an unknown stream, and collects every error until that watch's answer. */
  async exchange(data: string | Uint8Array, binary: boolean): Promise<{ errors: WsErr[]; closed?: number }> {
    const probeId = `probe-${++this.n}`;
    const from = this.seen.length;
    this.ws.send(data, { binary });
    const probe = { requestId: probeId, watch: { streamId: "fuzzprobe0000000000000000" } };
    if (this.ws.protocol === "airwave.v1.json") this.ws.send(JSON.stringify(probe));
    else this.ws.send(encodeWatchProbe(probeId));
    while (this.closed === undefined && !this.seen.slice(from).some((m) => m.error?.requestId === probeId)) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const errors = this.seen.slice(from).flatMap((m) => (m.error && m.error.requestId !== probeId ? [m.error] : []));
    return { errors, closed: this.closed };
  }
}

// Minimal Protobuf for the binary probe: WsClientMessage{request_id=1, watch=11{stream_id=1}}.
function encodeWatchProbe(requestId: string): Uint8Array {
  const id = Buffer.from(requestId);
  const sid = Buffer.from("fuzzprobe0000000000000000");
  const watch = Buffer.concat([Buffer.from([0x0a, sid.length]), sid]);
  return Buffer.concat([Buffer.from([0x0a, id.length]), id, Buffer.from([0x5a, watch.length]), watch]);
}

/** Reads a binary WsServerMessage far enough for the test: error{request_id, code, message}. */
function decodeBinaryError(data: Buffer): { error?: WsErr } {
  const fields = readFields(data);
  const err = fields.get(3);
  if (err === undefined) return {};
  const f = readFields(err);
  return { error: { requestId: f.get(1)?.toString("utf8"), code: f.get(3)?.toString("utf8"), message: f.get(4)?.toString("utf8") } };
}

function readFields(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 0;
  const varint = () => {
    let v = 0;
    let shift = 0;
    for (;;) {
      const b = buf[i++]!;
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const key = varint();
    const type = key & 7;
    if (type === 2) {
      const len = varint();
      out.set(key >>> 3, buf.subarray(i, i + len));
      i += len;
    } else if (type === 0) varint();
    else if (type === 1) i += 8;
    else if (type === 5) i += 4;
    else break;
  }
  return out;
}

// ── Connect, gRPC-Web and gRPC ───────────────────────────────────────────

/** Enveloped bodies: random bytes, truncated or lying envelopes, and valid-looking messages. */
const envelopeBody = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc
    .tuple(fc.constantFrom(0, 1, 2, 0x80, 0xff), fc.uint8Array({ maxLength: 150 }), fc.integer({ min: -5, max: 5 }))
    .map(([flags, payload, lie]) => {
      const head = Buffer.alloc(5);
      head[0] = flags;
      head.writeUInt32BE(Math.max(0, payload.length + lie), 1);
      return new Uint8Array(Buffer.concat([head, payload]));
    }),
  fc.json().map((j) => {
    const payload = Buffer.from(j);
    const head = Buffer.alloc(5);
    head.writeUInt32BE(payload.length, 1);
    return new Uint8Array(Buffer.concat([head, payload]));
  }),
);

async function connectCase(method: string, protocol: string, body: Uint8Array, what: string): Promise<void> {
  const streaming = method === "CreateStream" || method === "WatchStream";
  const headers: Record<string, string> = {};
  let type = `application/${protocol}`;
  if (protocol.startsWith("grpc-web")) headers["x-grpc-web"] = "1";
  else headers["connect-protocol-version"] = "1";
  // Unary Connect has no envelope; a streaming method with a unary type is itself a bad input.
  if (!streaming && protocol === "connect+proto") type = "application/proto";
  headers["content-type"] = type;
  const ctrl = new AbortController();
  try {
    const res = await fetch(`${aw.url}/airwave.v1.StreamService/${method}`, { method: "POST", headers, body, signal: ctrl.signal });
    if (protocol.startsWith("grpc-web")) {
      const status = await grpcWebStatus(res);
      if (status.code === undefined) return; // a data frame first: a valid request started a stream
      expect(DOCUMENTED_GRPC, `${what}: ${status.code} ${status.message}`).toContain(status.code);
      expect(status.message).not.toMatch(LEAKY);
      return;
    }
    if (res.status === 415) return; // a content type the method does not take (Connect protocol)
    if (res.status !== 200) {
      const text = await res.text();
      const err = JSON.parse(text) as WsErr;
      expect(DOCUMENTED, `${what}: ${res.status} ${text}`).toContain(err.code);
      expect(err.message ?? "").not.toMatch(LEAKY);
      return;
    }
    if (!res.headers.get("content-type")?.startsWith("application/connect+")) return; // unary success
    const first = await firstEnvelope(res);
    if (first === undefined || (first.flags & 2) === 0) return; // a message first: a stream started
    const end = JSON.parse(first.payload.toString("utf8") || "{}") as { error?: WsErr };
    if (end.error === undefined) return;
    expect(DOCUMENTED, `${what}: ${JSON.stringify(end.error)}`).toContain(end.error.code);
    expect(end.error.message ?? "").not.toMatch(LEAKY);
  } finally {
    ctrl.abort();
  }
}

async function firstEnvelope(res: Response): Promise<{ flags: number; payload: Buffer } | undefined> {
  const reader = res.body!.getReader();
  let buf = Buffer.alloc(0);
  for (;;) {
    if (buf.length >= 5) {
      const len = buf.readUInt32BE(1);
      if (buf.length >= 5 + len) {
        await reader.cancel();
        return { flags: buf[0]!, payload: buf.subarray(5, 5 + len) };
      }
    }
    const { value, done } = await reader.read();
    if (done) return undefined;
    buf = Buffer.concat([buf, value]);
  }
}

/** The gRPC-Web status: trailers-only headers, or the trailer frame; `code` undefined when a message came first. */
async function grpcWebStatus(res: Response): Promise<{ code?: number; message: string }> {
  const inHeaders = res.headers.get("grpc-status");
  if (inHeaders !== null) return { code: Number(inHeaders), message: decodeURIComponent(res.headers.get("grpc-message") ?? "") };
  if (res.status !== 200) return { code: Number.NaN, message: `HTTP ${res.status} instead of a gRPC status` };
  const first = await firstEnvelope(res);
  if (first === undefined) return { code: Number.NaN, message: "no trailers" };
  if ((first.flags & 0x80) === 0) return { message: "" };
  const text = first.payload.toString("utf8");
  const code = Number(/grpc-status: *(\d+)/i.exec(text)?.[1]);
  return { code, message: decodeURIComponent(/grpc-message: *(.*)/i.exec(text)?.[1]?.trim() ?? "") };
}

/** One gRPC call on an h2c session: the status from trailers (or trailers-only headers); 0 when a message came first. */
function grpcCase(session: http2.ClientHttp2Session, method: string, body: Uint8Array): Promise<{ code: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = session.request({
      ":method": "POST",
      ":path": `/airwave.v1.StreamService/${method}`,
      "content-type": "application/grpc",
      te: "trailers",
    });
    const finish = (headers: http2.IncomingHttpHeaders) => {
      const status = headers["grpc-status"];
      if (status === undefined) return false;
      resolve({ code: Number(status), message: decodeURIComponent(String(headers["grpc-message"] ?? "")) });
      req.close();
      return true;
    };
    req.on("response", (headers) => {
      if (headers[":status"] !== 200) {
        resolve({ code: Number.NaN, message: `HTTP ${headers[":status"]} instead of a gRPC status` });
        req.close();
        return;
      }
      finish(headers);
    });
    req.on("trailers", finish);
    req.on("data", () => {
      resolve({ code: 0, message: "" }); // a message first: the request was valid
      req.close(http2.constants.NGHTTP2_CANCEL);
    });
    req.on("error", reject);
    req.end(body);
  });
}

// ── Raw HTTP ──────────────────────────────────────────────────────────────

function rawHttp(host: string, port: number, request: Buffer): Promise<{ head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port }, () => socket.end(request));
    const chunks: Buffer[] = [];
    const parse = () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const i = text.indexOf("\r\n\r\n");
      return i < 0 ? { head: text, body: "" } : { head: text.slice(0, i), body: text.slice(i + 4) };
    };
    socket.on("data", (c) => {
      chunks.push(c);
      // A streaming answer (SSE to a valid cursor) is enough once its head arrived.
      const { head } = parse();
      if (/^HTTP\/1\.[01] 20[04]/.test(head) && head.length > 0 && Buffer.concat(chunks).includes("\r\n\r\n")) {
        socket.destroy();
        resolve(parse());
      }
    });
    socket.on("end", () => resolve(parse()));
    socket.on("close", () => resolve(parse()));
    socket.on("error", (e) => (chunks.length > 0 ? resolve(parse()) : reject(e)));
  });
}
