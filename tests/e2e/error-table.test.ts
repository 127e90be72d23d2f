/**
 * The README's error tables as one table-driven end-to-end test: every row
 * below is driven over every transport it applies to (Connect, gRPC-Web,
 * SSE, gRPC, NDJSON, long-poll, WebSocket, and the raw HTTP route
 * `POST /v1/streams`), asserting the code, the HTTP status on the HTTP
 * route and `airwave-reason` where the README documents one.
 *
 * Rows are data (`upstreamRows`, `inStreamRows`, `malformedMessages`, the
 * parser's and the gateway's own `rows`): change a row here when the
 * README's table changes. An upstream is a fake
 * OpenAI-compatible server (127.0.0.1) behind the real inference service
 * and gateway, in process.
 *
 * "Error text is the text": the upstream's message `tricky` (`/ : ; , ? = %
 * " '`, a newline, 日本語, an emoji, 300 characters in all) must arrive
 * unchanged on every transport, except that the one-line rule of the
 * upstream table folds its newline into a space (README "Limits and
 * retries": "one line, ≤ 300 characters").
 */
import http2 from "node:http2";
import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { CreateStreamRequestSchema, OnDetach, Role, type StreamEvent, StreamService } from "@airwave/proto";
import { compressedEnvelopeMessage, malformedProtobufMessage } from "@airwave/proto/server";
import { createHttpProvider, startInferenceServer, type InferenceServer } from "@airwave/services";
import { loadGatewayConfig, startGateway } from "@airwave/gateway";
import type { StreamTransport } from "@airwave/web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { openAIChatSpec } from "../../services/src/providers/openai-chat/openai-chat-spec.js";
import { startFakeUpstream } from "../../services/src/testing/fake-upstream.js";
import { createBody, startAirwave, type TestAirwave, unlimitedOwners, unmeasuredLoop } from "../support/airwave.js";
import { type EdgeTransportName, edgeTransport, edgeTransportNames, rpcTransportNames } from "../support/transports.js";

/** 300 characters: every character that percent-encoding, JSON, SSE or HTTP could mangle. */
const trickyCore = `a/b:c;d,e?f=g%h%3A"i'j\nk 日本語 🦜 `;
const tricky = trickyCore.repeat(Math.ceil(300 / trickyCore.length)).slice(0, 300);
/** What the one-line rule makes of it (README: "one line, ≤ 300 characters"). */
const trickyOneLine = tricky.replace(/\s+/g, " ").trim();

type TransportName = EdgeTransportName;
const transportNames = edgeTransportNames;
const rpcTransports = rpcTransportNames;

const sse = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
const firstChunk = sse({ id: "c1", object: "chat.completion.chunk", choices: [{ index: 0, delta: { role: "assistant", content: "hi" } }] });

/** How the fake upstream answers a row. */
interface UpstreamAnswer {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

/** A row of the upstream table (README "Limits and retries"): refused before the first event, an RPC error. */
interface UpstreamRow {
  readonly name: string;
  readonly answer: UpstreamAnswer;
  readonly code: Code;
  readonly reason: string;
  /** Upstream requests made (1 + retries). */
  readonly attempts: number;
  /** Text the message must contain; undefined: none of the upstream's text may appear. */
  readonly shows?: string;
}

const openAIError = (message: string, type: string, code: string | null = null) =>
  JSON.stringify({ error: { message, type, param: null, code } });
const secretText = "upstream-internal-detail";

/** Retries configured for the provider: 1, so a retried row makes 2 requests. */
const retries = 1;
const upstreamRows: UpstreamRow[] = [
  {
    name: "HTTP 400",
    answer: { status: 400, body: openAIError(tricky, "invalid_request_error") },
    code: Code.InvalidArgument,
    reason: "UPSTREAM_INVALID_REQUEST",
    attempts: 1,
    shows: trickyOneLine,
  },
  {
    name: "HTTP 413",
    answer: { status: 413, body: openAIError("too big", "invalid_request_error") },
    code: Code.InvalidArgument,
    reason: "UPSTREAM_INVALID_REQUEST",
    attempts: 1,
    shows: "too big",
  },
  {
    name: "HTTP 422",
    answer: { status: 422, body: openAIError("unprocessable", "invalid_request_error") },
    code: Code.InvalidArgument,
    reason: "UPSTREAM_INVALID_REQUEST",
    attempts: 1,
    shows: "unprocessable",
  },
  {
    name: "HTTP 401",
    answer: { status: 401, body: openAIError(secretText, "invalid_api_key") },
    code: Code.FailedPrecondition,
    reason: "UPSTREAM_AUTH",
    attempts: 1,
  },
  {
    name: "HTTP 403",
    answer: { status: 403, body: openAIError(secretText, "permission") },
    code: Code.FailedPrecondition,
    reason: "UPSTREAM_AUTH",
    attempts: 1,
  },
  {
    name: "HTTP 404",
    answer: { status: 404, body: openAIError("no such model", "invalid_request_error", "model_not_found") },
    code: Code.NotFound,
    reason: "UPSTREAM_NOT_FOUND",
    attempts: 1,
    shows: "no such model",
  },
  {
    name: "HTTP 409",
    answer: { status: 409, body: openAIError(secretText, "conflict") },
    code: Code.Aborted,
    reason: "UPSTREAM_CONFLICT",
    attempts: 1,
  },
  {
    name: "HTTP 429 (rate limit)",
    answer: { status: 429, body: openAIError("slow down", "requests", "rate_limit_exceeded"), headers: { "retry-after-ms": "1" } },
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_RATE_LIMITED",
    attempts: 1 + retries,
    shows: "slow down",
  },
  {
    name: "HTTP 429 insufficient_quota",
    answer: {
      status: 429,
      body: openAIError("You exceeded your current quota", "insufficient_quota", "insufficient_quota"),
      headers: { "retry-after-ms": "1" },
    },
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_QUOTA_EXHAUSTED",
    attempts: 1,
    shows: "You exceeded your current quota",
  },
  {
    name: "HTTP 402",
    answer: { status: 402, body: openAIError("no credits left", "billing_error") },
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_QUOTA_EXHAUSTED",
    attempts: 1,
    shows: "no credits left",
  },
  {
    name: "HTTP 503",
    answer: { status: 503, body: openAIError(secretText, "server_error") },
    code: Code.Unavailable,
    reason: "UPSTREAM_UNAVAILABLE",
    attempts: 1 + retries,
  },
];

/** A row of an error inside a 200 stream: after `started`, the terminal `failed` event. */
interface InStreamRow {
  readonly name: string;
  readonly body: string;
  readonly code: Code;
  readonly reason: string;
  readonly retryable: boolean;
  readonly shows?: string;
  /** Output tokens `failed.usage` must carry. */
  readonly outputTokens?: number;
}
const inStreamRows: InStreamRow[] = [
  {
    name: "an invalid-request error chunk that carries usage",
    body:
      firstChunk +
      sse({
        error: { message: tricky, type: "invalid_request_error" },
        usage: { prompt_tokens: 3, completion_tokens: 7, total_tokens: 10 },
      }),
    code: Code.InvalidArgument,
    reason: "UPSTREAM_REJECTED",
    retryable: false,
    shows: trickyOneLine,
    outputTokens: 7,
  },
  {
    name: "a rate-limit error chunk",
    body: firstChunk + sse({ error: { message: "later", type: "rate_limit_exceeded" } }),
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_RATE_LIMITED",
    retryable: true,
    shows: "later",
  },
  {
    name: "an insufficient_quota error chunk",
    body: firstChunk + sse({ error: { message: "quota", type: "insufficient_quota", code: "insufficient_quota" } }),
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_QUOTA_EXHAUSTED",
    retryable: false,
    shows: "quota",
  },
  { name: "a body that breaks off", body: firstChunk, code: Code.Unavailable, reason: "UPSTREAM_TRUNCATED", retryable: true },
];

let up: Awaited<ReturnType<typeof startFakeUpstream>>;
let services: InferenceServer;
let gateway: Awaited<ReturnType<typeof startGateway>>;
/** Row name → answer; the row is named in the prompt. */
const answers = new Map<string, UpstreamAnswer>();

beforeAll(async () => {
  up = await startFakeUpstream();
  up.handle((req, res) => {
    const body = up.requests.at(-1)?.body ?? "";
    const row = /row=([^"\\]+?)##/.exec(body)?.[1] ?? "";
    const a = answers.get(row) ?? { status: 500, body: "" };
    res.writeHead(a.status, { "content-type": a.status === 200 ? "text/event-stream" : "application/json", ...a.headers });
    res.end(a.body);
    void req;
  });
  const provider = createHttpProvider({
    name: "up",
    spec: openAIChatSpec,
    endpoint: { baseUrl: up.baseUrl, apiKey: "k" },
    limits: { retries },
  });
  services = await startInferenceServer({ port: 0, providers: [provider] });
  gateway = await startGateway({
    ...loadGatewayConfig({}),
    ...unlimitedOwners,
    ...unmeasuredLoop,
    port: 0,
    logLevel: "silent",
    corsOrigins: ["*"],
    inferenceUrl: services.url,
  });
});
afterAll(async () => {
  await gateway?.close();
  await services?.close();
  await up?.close();
});

let serial = 0;
/** A request the fake upstream answers with `answer`; each call its own row key. */
function requestFor(rowName: string, answer: UpstreamAnswer) {
  const key = `${rowName.replace(/[^A-Za-z0-9]/g, "_")}-${++serial}`;
  answers.set(key, answer);
  return {
    key,
    request: { model: "up/m", messages: [{ role: Role.USER, parts: [{ part: { case: "text" as const, value: `row=${key}##` } }] }] },
  };
}
const requestsFor = (key: string) => up.requests.filter((r) => r.body.includes(`row=${key}##`)).length;

async function collect(it: AsyncIterable<StreamEvent>): Promise<{ events: StreamEvent[]; error: ConnectError | undefined }> {
  const events: StreamEvent[] = [];
  try {
    for await (const e of it) events.push(e);
    return { events, error: undefined };
  } catch (e) {
    return { events, error: ConnectError.from(e) };
  }
}

async function drive(t: TransportName, request: ReturnType<typeof requestFor>["request"]) {
  const transport = edgeTransport(t, gateway.url);
  try {
    const req = create(CreateStreamRequestSchema, { onDetach: OnDetach.CONTINUE, request });
    return await collect(transport.create(req, AbortSignal.timeout(15_000)));
  } finally {
    transport.close?.();
  }
}

describe.each(upstreamRows)("upstream $name", (row) => {
  it.each(transportNames)("is %s's RPC error with the documented code, reason and text", async (t) => {
    const { key, request } = requestFor(row.name, row.answer);
    const { events, error } = await drive(t, request);
    expect(events).toEqual([]);
    expect(error?.code, error?.rawMessage).toBe(row.code);
    // The RPC transports carry the reason as error metadata (the HTTP routes as a header: see the next test).
    if (rpcTransports.has(t)) expect(error?.metadata.get("airwave-reason")).toBe(row.reason);
    if (row.shows !== undefined) expect(error?.rawMessage).toContain(row.shows);
    expect(error?.rawMessage).not.toContain(secretText);
    // No percent-encoding left outside the upstream's own text (which has a literal "%3A").
    expect((error?.rawMessage ?? "").replace(row.shows ?? "\0", "")).not.toMatch(/%[0-9A-F]{2}/);
    expect(requestsFor(key)).toBe(row.attempts);
  });

  it("is the documented HTTP status with the Connect JSON error on POST /v1/streams", async () => {
    const { request } = requestFor(row.name, row.answer);
    const res = await fetch(`${gateway.url}/v1/streams`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({
        request: { model: request.model, messages: [{ role: "ROLE_USER", parts: [{ text: request.messages[0]?.parts[0]?.part.value }] }] },
      }),
    });
    const body = (await res.json()) as { code: string; message: string };
    expect(res.status).toBe(codeToHttpStatus(row.code));
    expect(res.headers.get("airwave-reason")).toBe(row.reason);
    expect(body.code).toBe(Code[row.code].replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase());
    if (row.shows !== undefined) expect(body.message).toContain(row.shows);
  });
});

describe.each(inStreamRows)("in-stream $name", (row) => {
  it.each(transportNames)("ends %s's stream with the documented failed event", async (t) => {
    const { request } = requestFor(row.name, { status: 200, body: row.body });
    const { events, error } = await drive(t, request);
    expect(error, error?.rawMessage).toBeUndefined();
    expect(events[0]?.event.case).toBe("started");
    const last = events.at(-1)?.event;
    expect(last?.case).toBe("failed");
    if (last?.case !== "failed") return;
    expect(last.value.code as number).toBe(row.code);
    expect(last.value.reason).toBe(row.reason);
    expect(last.value.retryable).toBe(row.retryable);
    if (row.shows !== undefined) expect(last.value.message).toContain(row.shows);
    if (row.outputTokens !== undefined) expect(last.value.usage?.outputTokens).toBe(row.outputTokens);
  });
});

/** Bytes that are no CreateStreamRequest: truncated (a length past the end) and an illegal tag. */
const malformedMessages: Record<string, Uint8Array> = {
  truncated: Uint8Array.of(0x0a, 0x10, 0x61),
  "illegal tag": Uint8Array.of(0x07, 0x00, 0xff, 0xff),
};
const envelope = (m: Uint8Array) => {
  const out = new Uint8Array(5 + m.byteLength);
  new DataView(out.buffer).setUint32(1, m.byteLength);
  out.set(m, 5);
  return out;
};

describe.each(Object.entries(malformedMessages))("malformed Protobuf (%s)", (_name, bytes) => {
  it("is invalid_argument with the fixed message on Connect unary (HTTP 400)", async () => {
    const res = await fetch(`${gateway.url}/airwave.v1.StreamService/CancelStream`, {
      method: "POST",
      headers: { "content-type": "application/proto", "connect-protocol-version": "1" },
      body: bytes,
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ code: "invalid_argument", message: malformedProtobufMessage });
  });

  it("is invalid_argument with the fixed message on Connect streaming", async () => {
    const res = await fetch(`${gateway.url}/airwave.v1.StreamService/CreateStream`, {
      method: "POST",
      headers: { "content-type": "application/connect+proto", "connect-protocol-version": "1" },
      body: envelope(bytes),
    });
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body[0]).toBe(0x02);
    expect(JSON.parse(new TextDecoder().decode(body.subarray(5)))).toMatchObject({
      error: { code: "invalid_argument", message: malformedProtobufMessage },
    });
  });

  it("is INVALID_ARGUMENT with the fixed message on gRPC-Web", async () => {
    const res = await fetch(`${gateway.url}/airwave.v1.StreamService/CreateStream`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: envelope(bytes),
    });
    const text = new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()).subarray(5));
    expect(text).toMatch(/grpc-status: 3\r\n/);
    expect(decodeURIComponent(/grpc-message: (.*)\r\n/.exec(text)?.[1] ?? "")).toBe(malformedProtobufMessage);
  });

  it("is INVALID_ARGUMENT with the fixed message on gRPC (h2c)", async () => {
    const session = http2.connect(gateway.url);
    try {
      const stream = session.request({
        ":method": "POST",
        ":path": "/airwave.v1.StreamService/CreateStream",
        "content-type": "application/grpc+proto",
        te: "trailers",
      });
      const trailers = new Promise<http2.IncomingHttpHeaders>((resolve) => {
        stream.on("trailers", resolve);
        stream.on("response", (h) => {
          if (h["grpc-status"] !== undefined) resolve(h);
        });
      });
      stream.end(envelope(bytes));
      stream.resume();
      const t = await trailers;
      expect(t["grpc-status"]).toBe("3");
      expect(decodeURIComponent(String(t["grpc-message"]))).toBe(malformedProtobufMessage);
    } finally {
      session.close();
    }
  });
});

describe("an envelope flagged compressed without a negotiated encoding", () => {
  const flagged = (m: Uint8Array) => {
    const e = envelope(m);
    e[0] = 0x01;
    return e;
  };
  it("is invalid_argument with the fixed message on Connect streaming (JSON and Protobuf)", async () => {
    for (const ct of ["application/connect+json", "application/connect+proto"]) {
      const res = await fetch(`${gateway.url}/airwave.v1.StreamService/WatchStream`, {
        method: "POST",
        headers: { "content-type": ct, "connect-protocol-version": "1" },
        body: flagged(new TextEncoder().encode("{}")),
      });
      const body = new Uint8Array(await res.arrayBuffer());
      expect(body[0], ct).toBe(0x02);
      expect(JSON.parse(new TextDecoder().decode(body.subarray(5))), ct).toMatchObject({
        error: { code: "invalid_argument", message: compressedEnvelopeMessage },
      });
    }
  });

  it("is INVALID_ARGUMENT with the fixed message on gRPC-Web", async () => {
    const res = await fetch(`${gateway.url}/airwave.v1.StreamService/GetStream`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: flagged(Uint8Array.of(0x0a, 0x01, 0x61)),
    });
    const text = new TextDecoder().decode(new Uint8Array(await res.arrayBuffer()).subarray(5));
    expect(text).toMatch(/grpc-status: 3\r\n/);
    expect(decodeURIComponent(/grpc-message: (.*)\r\n/.exec(text)?.[1] ?? "")).toBe(compressedEnvelopeMessage);
  });
});

/**
 * The HTTP/1.1 parser's refusals, before any route (README "Errors"): the
 * documented status and the Connect JSON error body, then the connection
 * is closed.
 */
describe("refusals of the HTTP/1.1 parser", () => {
  const rows: { name: string; request: string; status: number; code: string }[] = [
    {
      name: "a control byte in a header value",
      request: "GET /v1/streams/abc/events HTTP/1.1\r\nHost: x\r\nLast-Event-ID: a\x01b\r\n\r\n",
      status: 400,
      code: "invalid_argument",
    },
    { name: "not HTTP", request: "HELLO\r\n\r\n", status: 400, code: "invalid_argument" },
    {
      name: "headers over 16 KiB",
      request: `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(17 * 1024)}\r\n\r\n`,
      status: 431,
      code: "resource_exhausted",
    },
  ];
  it.each(rows)("$name is $status with the Connect JSON error", async (row) => {
    const { head, body } = await rawRequest(gateway.url, row.request);
    expect(head).toMatch(new RegExp(`^HTTP/1\\.1 ${row.status} `));
    expect(head.toLowerCase()).toContain("content-type: application/json");
    expect((JSON.parse(body) as { code: string }).code).toBe(row.code);
  });
});

function rawRequest(url: string, request: string): Promise<{ head: string; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => socket.write(request, "latin1"));
    const chunks: Buffer[] = [];
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const at = text.indexOf("\r\n\r\n");
      resolve({ head: text.slice(0, at), body: text.slice(at + 4) });
    });
  });
}

/**
 * The per-owner limits (README "Errors" and "Configuration"): a running-stream
 * limit and a start rate per owner, the shared anonymous owner limited like
 * any other, refused as `resource_exhausted` with `airwave-reason` and
 * `Retry-After`, while another owner creates at once.
 */
describe("per-owner limits", () => {
  const aliceKey = "alice-key-0123456789abcdef";
  let aw: TestAirwave;

  /** A simulator answer that runs for hours unless cancelled. */
  const longAnswer = { metadata: { "simulator.output_tokens": "100000", "simulator.tokens_per_s": "1" } };
  const shortAnswer = { metadata: { "simulator.output_tokens": "1" } };
  const simulatorRequest = (metadata: Record<string, string>) =>
    create(CreateStreamRequestSchema, {
      onDetach: OnDetach.CONTINUE,
      request: { model: "simulator", metadata, messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }] },
    });

  /** POST /v1/streams (SSE); reads up to the first event and leaves the stream running (ON_DETACH_CONTINUE). */
  async function startOverHttp(o: { streamId?: string; key?: string; answer: { metadata: Record<string, string> } }) {
    const ac = new AbortController();
    const res = await fetch(`${aw.url}/v1/streams`, {
      method: "POST",
      signal: ac.signal,
      headers: { "content-type": "application/json", accept: "text/event-stream", ...(o.key ? { authorization: `Bearer ${o.key}` } : {}) },
      body: JSON.stringify(createBody("hi", { onDetach: "ON_DETACH_CONTINUE", ...(o.streamId ? { streamId: o.streamId } : {}) }, o.answer)),
    });
    if (res.ok) {
      const reader = res.body!.getReader();
      await reader.read();
      ac.abort();
      return { status: res.status, headers: res.headers, body: undefined };
    }
    return { status: res.status, headers: res.headers, body: (await res.json()) as { code: string; message: string } };
  }

  /** Up to three creates on `t` (a fixed rate window may refill between two); the first refusal. */
  async function refusalOn(t: TransportName, req: ReturnType<typeof simulatorRequest>): Promise<ConnectError | undefined> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const transport = edgeTransport(t, aw.url);
      try {
        const { error } = await collect(transport.create(req, AbortSignal.timeout(15_000)));
        if (error) return error;
      } finally {
        transport.close?.();
      }
    }
    return undefined;
  }

  describe("running streams (OWNER_STREAM_LIMIT)", () => {
    const max = 3;
    const ids = Array.from({ length: max }, (_, i) => `owner-limit-running-${i}-aaaaaaaaaa`);
    beforeAll(async () => {
      aw = await startAirwave({
        gateway: { apiKeys: [{ name: "alice", key: aliceKey }], authMode: "optional", ownerMaxStreams: max, ownerStartsPerS: 0 },
      });
      for (const streamId of ids) expect((await startOverHttp({ streamId, answer: longAnswer })).status).toBe(200);
    });
    afterAll(async () => {
      await aw.close();
    });

    it.each(transportNames)("refuses the anonymous owner's next stream on %s as resource_exhausted", async (t) => {
      const error = await refusalOn(t, simulatorRequest(shortAnswer.metadata));
      expect(error?.code, error?.rawMessage).toBe(Code.ResourceExhausted);
      if (rpcTransports.has(t)) expect(error?.metadata.get("airwave-reason")).toBe("OWNER_STREAM_LIMIT");
      expect(Number(error?.metadata.get("retry-after-ms") ?? 1)).toBeGreaterThan(0);
    });

    it("is 429 with Retry-After and airwave-reason on POST /v1/streams", async () => {
      const res = await startOverHttp({ answer: shortAnswer });
      expect(res.status).toBe(429);
      expect(res.headers.get("airwave-reason")).toBe("OWNER_STREAM_LIMIT");
      expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(res.body?.code).toBe("resource_exhausted");
    });

    it("lets another owner create at once, and an ended stream frees its owner's slot", async () => {
      expect((await startOverHttp({ key: aliceKey, answer: shortAnswer })).status).toBe(200);
      // The same client-chosen id from another owner is another stream (no existence oracle).
      expect((await startOverHttp({ key: aliceKey, streamId: ids[0], answer: shortAnswer })).status).toBe(200);
      expect((await fetch(`${aw.url}/v1/streams/${ids[0]}`, { method: "DELETE" })).status).toBe(200);
      await vi.waitFor(async () => expect((await startOverHttp({ answer: shortAnswer })).status).toBe(200), {
        timeout: 10_000,
        interval: 20,
      });
    });
  });

  describe("stream starts per second (OWNER_RATE_LIMITED)", () => {
    const burst = 3;
    beforeAll(async () => {
      aw = await startAirwave({
        gateway: {
          apiKeys: [{ name: "alice", key: aliceKey }],
          authMode: "optional",
          ownerMaxStreams: 0,
          ownerStartsPerS: 1,
          ownerStartsBurst: burst,
        },
      });
    });
    afterAll(async () => {
      await aw.close();
    });

    it("is 429 with Retry-After and airwave-reason on POST /v1/streams once the burst is spent; another owner creates at once", async () => {
      const statuses: number[] = [];
      let refused: Awaited<ReturnType<typeof startOverHttp>> | undefined;
      while (!refused && statuses.length < burst + 3) {
        const res = await startOverHttp({ answer: shortAnswer });
        statuses.push(res.status);
        if (res.status !== 200) refused = res;
      }
      expect(statuses.slice(0, burst)).toEqual(Array(burst).fill(200));
      expect(refused?.status).toBe(429);
      expect(refused?.headers.get("airwave-reason")).toBe("OWNER_RATE_LIMITED");
      expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(Number(refused?.headers.get("retry-after"))).toBeLessThanOrEqual(burst);
      expect(refused?.body?.code).toBe("resource_exhausted");
      expect((await startOverHttp({ key: aliceKey, answer: shortAnswer })).status).toBe(200);
    });

    it.each(transportNames)("refuses the anonymous owner's starts past its rate on %s as resource_exhausted", async (t) => {
      const error = await refusalOn(t, simulatorRequest(shortAnswer.metadata));
      expect(error?.code, error?.rawMessage).toBe(Code.ResourceExhausted);
      if (rpcTransports.has(t)) expect(error?.metadata.get("airwave-reason")).toBe("OWNER_RATE_LIMITED");
    });
  });
});

/**
 * The gateway's own table (README "Errors"): each row driven over every
 * transport it applies to, with the documented code, `airwave-reason` where
 * the README names one (RPC transports carry it as metadata), and the HTTP
 * status with the Connect JSON error body on the HTTP routes.
 */
describe("the gateway's own refusals", () => {
  const aliceKey = "alice-key-0123456789abcdef";
  const bobKey = "bob-key-0123456789abcdefgh";
  let sim: TestAirwave;
  let keyed: TestAirwave;
  let full: TestAirwave;
  let down: Awaited<ReturnType<typeof startGateway>>;
  let held: AbortController;
  /** An ended stream on `sim`, for the HTTP rows that need one. */
  let knownId = "";
  /** A long stream on `full` from another client, for the whole describe: it holds the one slot. */
  async function holdTheOneSlot() {
    const ac = new AbortController();
    const it = edgeTransport("connect", full.url)
      .create(simulatorRequest({ metadata: { "simulator.output_tokens": "100000", "simulator.tokens_per_s": "1" } }), ac.signal)
      [Symbol.asyncIterator]();
    expect((await it.next()).value?.event.case).toBe("started");
    return ac;
  }
  beforeAll(async () => {
    sim = await startAirwave({ gateway: { maxRequestBytes: 64 * 1024, wsMaxMessageBytes: 64 * 1024 } });
    keyed = await startAirwave({
      gateway: {
        apiKeys: [
          { name: "alice", key: aliceKey },
          { name: "bob", key: bobKey },
        ],
        authMode: "required",
      },
    });
    full = await startAirwave({ gateway: { maxStreams: 1 } });
    held = await holdTheOneSlot();
    knownId =
      (await collect(edgeTransport("connect", sim.url).create(simulatorRequest(), AbortSignal.timeout(15_000)))).events[0]?.streamId ?? "";
    // An inference service that is not there: a port nothing listens on.
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    down = await startGateway({
      ...loadGatewayConfig({}),
      ...unlimitedOwners,
      ...unmeasuredLoop,
      port: 0,
      logLevel: "silent",
      corsOrigins: ["*"],
      inferenceUrl: `http://127.0.0.1:${port}`,
    });
  });
  afterAll(async () => {
    held?.abort();
    await Promise.all([sim?.close(), keyed?.close(), full?.close(), down?.close()]);
  });

  /** Runs `call` on a fresh transport and returns the ConnectError it raised (undefined: none). */
  async function refusal(
    t: TransportName,
    baseUrl: string,
    call: (tr: StreamTransport, signal: AbortSignal) => AsyncIterable<StreamEvent> | Promise<unknown>,
    key?: string,
  ) {
    const tr = edgeTransport(t, baseUrl, key);
    try {
      const r = call(tr, AbortSignal.timeout(15_000));
      if (Symbol.asyncIterator in r) return (await collect(r)).error;
      await r;
      return undefined;
    } catch (e) {
      return ConnectError.from(e);
    } finally {
      tr.close?.();
    }
  }

  const simulatorRequest = (
    o: { model?: string; streamId?: string; messages?: boolean; prompt?: string; metadata?: Record<string, string> } = {},
  ) =>
    create(CreateStreamRequestSchema, {
      onDetach: OnDetach.CONTINUE,
      ...(o.streamId !== undefined ? { streamId: o.streamId } : {}),
      request: {
        model: o.model ?? "simulator",
        metadata: { "simulator.output_tokens": "3", ...o.metadata },
        messages: o.messages === false ? [] : [{ role: Role.USER, parts: [{ part: { case: "text", value: o.prompt ?? "hi" } }] }],
      },
    });
  const unknownId = () => `unknown-${crypto.randomUUID().replaceAll("-", "")}`;

  /** A row: what a call on a transport is refused with. */
  interface Row {
    readonly name: string;
    readonly code: Code;
    readonly reason?: string;
    /** Which gateway: the plain one, the one with keys required, the full one, the one whose inference service is down. */
    readonly on?: "sim" | "keyed" | "full" | "down";
    readonly key?: string;
    /** On WebSocket: the HTTP status refusing the upgrade (docs/websocket.md), which a browser sees only as a failed socket. */
    readonly wsUpgrade?: number;
    readonly call: (tr: StreamTransport, signal: AbortSignal) => AsyncIterable<StreamEvent> | Promise<unknown>;
  }
  const rows: Row[] = [
    { name: "a missing model", code: Code.InvalidArgument, call: (tr, s) => tr.create(simulatorRequest({ model: "" }), s) },
    { name: "no messages", code: Code.InvalidArgument, call: (tr, s) => tr.create(simulatorRequest({ messages: false }), s) },
    {
      name: "a bad stream id on create",
      code: Code.InvalidArgument,
      call: (tr, s) => tr.create(simulatorRequest({ streamId: "short" }), s),
    },
    // An id of the wrong shape names no stream: on watch, cancel and input it is an unknown id.
    { name: "a bad stream id on watch", code: Code.NotFound, call: (tr, s) => tr.watch("short", undefined, s) },
    { name: "an unknown model", code: Code.NotFound, call: (tr, s) => tr.create(simulatorRequest({ model: "simulator/nope" }), s) },
    { name: "an unknown provider", code: Code.NotFound, call: (tr, s) => tr.create(simulatorRequest({ model: "nope/x" }), s) },
    { name: "an unknown stream on watch", code: Code.NotFound, call: (tr, s) => tr.watch(unknownId(), undefined, s) },
    { name: "an unknown stream on cancel", code: Code.NotFound, call: (tr) => tr.cancel(unknownId()) },
    { name: "an unknown stream on input", code: Code.NotFound, call: (tr) => tr.sendInput(unknownId(), "", "yes") },
    {
      name: "a body over the size limit",
      code: Code.ResourceExhausted,
      call: (tr, s) => tr.create(simulatorRequest({ prompt: "x".repeat(80 * 1024) }), s),
    },
    { name: "no key when keys are required", code: Code.Unauthenticated, on: "keyed", call: (tr, s) => tr.create(simulatorRequest(), s) },
    {
      name: "a wrong key",
      code: Code.Unauthenticated,
      on: "keyed",
      key: "wrong-key-0123456789abcdef",
      wsUpgrade: 401,
      call: (tr, s) => tr.create(simulatorRequest(), s),
    },
    {
      name: "too many streams",
      code: Code.ResourceExhausted,
      reason: "GATEWAY_STREAM_LIMIT",
      on: "full",
      call: (tr, s) => tr.create(simulatorRequest(), s),
    },
    { name: "the inference service down", code: Code.Unavailable, on: "down", call: (tr, s) => tr.create(simulatorRequest(), s) },
  ];

  describe.each(rows)("$name", (row) => {
    it.each(transportNames)("is refused on %s with the documented code", async (t) => {
      const baseUrl = { sim, keyed, full, down }[row.on ?? "sim"].url;
      if (t === "websocket" && row.wsUpgrade !== undefined) {
        const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}/v1/ws`, ["airwave.v1.json", `airwave.bearer.${row.key}`]);
        const status = await new Promise<number>((resolve, reject) => {
          ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
          ws.once("open", () => reject(new Error("upgraded")));
          ws.once("error", () => {});
        });
        ws.terminate();
        expect(status).toBe(row.wsUpgrade);
        return;
      }
      const error = await refusal(t, baseUrl, row.call, row.key);
      expect(error?.code, error?.rawMessage).toBe(row.code);
      if (row.reason && rpcTransports.has(t)) expect(error?.metadata.get("airwave-reason")).toBe(row.reason);
    });
  });

  it.each(transportNames)("another owner's stream is not_found on %s, like an unknown id", async (t) => {
    const owner = edgeTransport("connect", keyed.url, aliceKey);
    const events = (await collect(owner.create(simulatorRequest(), AbortSignal.timeout(15_000)))).events;
    const streamId = events[0]?.streamId ?? "";
    expect(streamId).not.toBe("");
    for (const call of [
      (tr: StreamTransport, s: AbortSignal) => tr.watch(streamId, undefined, s),
      (tr: StreamTransport) => tr.cancel(streamId),
      (tr: StreamTransport) => tr.sendInput(streamId, "", "yes"),
    ]) {
      const error = await refusal(t, keyed.url, call, bobKey);
      expect(error?.code, error?.rawMessage).toBe(Code.NotFound);
    }
  });

  it.each(transportNames)("input refusals on %s: an answer not allowed, no such input, the stream ended", async (t) => {
    const tr = edgeTransport(t, sim.url);
    try {
      const req = create(CreateStreamRequestSchema, {
        onDetach: OnDetach.CONTINUE,
        request: {
          model: "simulator/agent",
          metadata: { "simulator.tokens_per_s": "0", "simulator.input": "choice" },
          messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "How do heat pumps work?" } }] }],
        },
      });
      let streamId = "";
      const reasons: (string | null | undefined)[] = [];
      const codes: Code[] = [];
      const note = (e: unknown) => {
        const err = ConnectError.from(e);
        codes.push(err.code);
        reasons.push(rpcTransports.has(t) ? err.metadata.get("airwave-reason") : undefined);
      };
      for await (const e of tr.create(req, AbortSignal.timeout(15_000))) {
        streamId = e.streamId;
        if (e.event.case !== "inputRequested") continue;
        await tr.sendInput(streamId, e.event.value.inputId, "no such choice").then(() => codes.push(Code.Unknown), note);
        await tr.sendInput(streamId, "no-such-input", e.event.value.choices[0] ?? "").then(() => codes.push(Code.Unknown), note);
        await tr.sendInput(streamId, e.event.value.inputId, e.event.value.choices[0] ?? "");
      }
      await tr.sendInput(streamId, "", "too late").then(() => codes.push(Code.Unknown), note);
      expect(codes).toEqual([Code.InvalidArgument, Code.FailedPrecondition, Code.FailedPrecondition]);
      if (rpcTransports.has(t)) expect(reasons.slice(1)).toEqual(["INPUT_NOT_PENDING", "STREAM_ENDED"]);
    } finally {
      tr.close?.();
    }
  });

  it.each(["connect", "grpc-web", "grpc"] as const)(
    "a client deadline ends the watch on %s as deadline_exceeded, and the generation goes on",
    async (t) => {
      const holder = edgeTransport("connect", sim.url);
      const ac = new AbortController();
      const it = holder
        .create(simulatorRequest({ metadata: { "simulator.output_tokens": "20", "simulator.tokens_per_s": "20" } }), ac.signal)
        [Symbol.asyncIterator]();
      const first = await it.next();
      const streamId = first.value?.streamId ?? "";
      ac.abort();
      await it.return?.();
      const o = { baseUrl: sim.url, httpVersion: "1.1" as const };
      const transport =
        t === "grpc" ? createGrpcTransport({ baseUrl: sim.url }) : t === "connect" ? createConnectTransport(o) : createGrpcWebTransport(o);
      const client = createClient(StreamService, transport as Transport);
      const watched = await collect(client.watchStream({ streamId }, { timeoutMs: 200 }) as AsyncIterable<StreamEvent>);
      expect(watched.error?.code).toBe(Code.DeadlineExceeded);
      // Detach is not cancel: the stream still completes.
      const rest = await collect(edgeTransport("connect", sim.url).watch(streamId, undefined, AbortSignal.timeout(15_000)));
      expect(rest.events.at(-1)?.event.case).toBe("completed");
    },
  );

  describe("the HTTP routes", () => {
    const json = { "content-type": "application/json" };
    const rows: {
      name: string;
      path: string | (() => string);
      init: RequestInit;
      status: number;
      code: string;
      header?: [string, RegExp];
    }[] = [
      {
        name: "malformed JSON",
        path: "/v1/streams",
        init: { method: "POST", headers: json, body: "{" },
        status: 400,
        code: "invalid_argument",
      },
      {
        name: "an unknown field",
        path: "/v1/streams",
        init: { method: "POST", headers: json, body: JSON.stringify({ ...createBody("hi"), nope: 1 }) },
        status: 400,
        code: "invalid_argument",
      },
      {
        name: "a malformed cursor",
        path: () => `/v1/streams/${knownId}/events?after=garbage`,
        init: {},
        status: 400,
        code: "invalid_argument",
      },
      { name: "a bad mode", path: () => `/v1/streams/${knownId}/events?mode=sideways`, init: {}, status: 400, code: "invalid_argument" },
      {
        name: "a bad wait_ms",
        path: () => `/v1/streams/${knownId}/events?wait_ms=-1`,
        init: { headers: { accept: "application/json" } },
        status: 400,
        code: "invalid_argument",
      },
      {
        name: "a bad coalesce_ms",
        path: () => `/v1/streams/${knownId}/events?coalesce_ms=abc`,
        init: {},
        status: 400,
        code: "invalid_argument",
      },
      {
        name: "a coalesce_ms over 5000",
        path: "/v1/streams?coalesce_ms=5001",
        init: { method: "POST", headers: json, body: JSON.stringify(createBody("hi")) },
        status: 400,
        code: "invalid_argument",
      },
      {
        name: "no JSON content type",
        path: "/v1/streams",
        init: { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" },
        status: 415,
        code: "invalid_argument",
        header: ["accept-post", /application\/json/],
      },
      {
        name: "a wrong method",
        path: "/v1/streams",
        init: { method: "PUT" },
        status: 405,
        code: "unimplemented",
        header: ["allow", /POST/],
      },
      { name: "an unknown path", path: "/v1/nothing-here", init: {}, status: 404, code: "not_found" },
      { name: "an unknown stream", path: "/v1/streams/unknown-0123456789abcdefghij", init: {}, status: 404, code: "not_found" },
      {
        name: "a body over the size limit",
        path: "/v1/streams",
        init: { method: "POST", headers: json, body: JSON.stringify(createBody("x".repeat(80 * 1024))) },
        status: 429,
        code: "resource_exhausted",
      },
    ];
    it.each(rows)("$name is $status $code with the Connect JSON error", async (row) => {
      const res = await fetch(`${sim.url}${typeof row.path === "string" ? row.path : row.path()}`, row.init);
      expect(res.status).toBe(row.status);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      expect(((await res.json()) as { code: string }).code).toBe(row.code);
      if (row.header) expect(res.headers.get(row.header[0])).toMatch(row.header[1]);
    });
  });
});
