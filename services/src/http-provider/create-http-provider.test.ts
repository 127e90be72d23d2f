import { once } from "node:events";
import net from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code as ProtoCode, ev, GenerateRequestSchema, Role, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { fakeSpec, sse, startFakeUpstream } from "../testing/fake-upstream.js";
import { failedOf, kinds } from "../testing/stream-events.js";
import { createHttpProvider, type HttpProvider, type HttpProviderOptions } from "./create-http-provider.js";
import { headerReason, headerRetryAfterMs } from "./upstream-error.js";

const key = "sk-test-SECRET-0123456789";
const req = create(GenerateRequestSchema, {
  model: "fake/m1",
  messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }],
});

let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
const providers: HttpProvider[] = [];
beforeAll(async () => {
  upstream = await startFakeUpstream();
});
afterAll(() => upstream.close());
afterEach(async () => {
  upstream.requests.length = 0;
  await Promise.all(providers.splice(0).map((p) => p.close()));
});

/** A provider of the fake kind at the fake upstream; sleeps are recorded and instant unless given. */
function provider(o: Partial<HttpProviderOptions> = {}) {
  const sleeps: number[] = [];
  const p = createHttpProvider({
    name: "fake",
    spec: fakeSpec,
    endpoint: { baseUrl: upstream.baseUrl, apiKey: key, headers: { "x-extra": "1" } },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...o,
  });
  providers.push(p);
  return { p, sleeps };
}

/** Runs a generation to its end: the events yielded, and the error thrown (if any). */
async function run(p: HttpProvider, signal = new AbortController().signal) {
  const events: StreamEvent[] = [];
  try {
    for await (const e of p.generate(req, "m1", signal)) events.push(e);
    return { events, error: undefined };
  } catch (e) {
    return { events, error: e };
  }
}

async function refusal(p: HttpProvider): Promise<ConnectError> {
  const r = await run(p);
  expect(r.events).toEqual([]);
  expect(r.error).toBeInstanceOf(ConnectError);
  return r.error as ConnectError;
}

describe("createHttpProvider: a 2xx stream", () => {
  it("sends the spec's request and yields started (with the request id), then the decoded events", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "x-fake-request-id": "req-42" });
      res.end(sse({ text: "Hel" }) + sse({ text: "lo" }) + sse({ usage: 3 }) + sse({ done: true }));
    });
    const { events, error } = await run(provider().p);
    expect(error).toBeUndefined();
    expect(kinds(events)).toEqual(["started", "textDelta", "textDelta", "usage", "completed"]);
    expect(events[0]?.event.value).toMatchObject({ model: "m1", provider: "fake", requestId: "req-42" });
    const seen = upstream.requests[0];
    expect(seen?.url).toBe("/stream");
    expect(JSON.parse(seen?.body ?? "")).toEqual({ model: "m1", prompt: "hi" });
    expect(seen?.headers["authorization"]).toBe(`Bearer ${key}`);
    expect(seen?.headers["x-extra"]).toBe("1");
  });

  it("passes a refusal of spec.request through without calling the upstream", async () => {
    const p = createHttpProvider({
      name: "fake",
      spec: {
        ...fakeSpec,
        request() {
          throw new ConnectError("fake: audio parts are not supported", Code.InvalidArgument);
        },
      },
      endpoint: { baseUrl: upstream.baseUrl },
    });
    providers.push(p);
    const e = await refusal(p);
    expect(e.code).toBe(Code.InvalidArgument);
    expect(upstream.requests).toHaveLength(0);
  });

  it("ends a decoded stream that stops without a terminal event with failed UNAVAILABLE UPSTREAM_TRUNCATED and the usage so far", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200);
      res.end(sse({ text: "a" }) + sse({ usage: 1 }));
    });
    const { events } = await run(provider().p);
    expect(failedOf(events)).toMatchObject({
      code: ProtoCode.UNAVAILABLE,
      reason: "UPSTREAM_TRUNCATED",
      retryable: true,
      usage: { outputTokens: 1 },
    });
  });

  it("ends a body that breaks mid-stream with failed UNAVAILABLE UPSTREAM_TRUNCATED, never retrying", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200);
      res.write(sse({ text: "a" }) + sse({ usage: 2 }));
      setImmediate(() => res.socket?.destroy());
    });
    const { p, sleeps } = provider();
    const { events } = await run(p);
    expect(kinds(events)).toEqual(["started", "textDelta", "usage", "failed"]);
    expect(failedOf(events)).toMatchObject({ code: ProtoCode.UNAVAILABLE, reason: "UPSTREAM_TRUNCATED", usage: { outputTokens: 2 } });
    expect(upstream.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("gives a failed event of the spec the 2xx response's retry hint", async () => {
    const spec = {
      ...fakeSpec,
      decode: () =>
        new ReadableStream<StreamEvent>({
          start(c) {
            c.enqueue(ev.failed(Code.ResourceExhausted, "rate limited in the stream", "UPSTREAM_RATE_LIMITED"));
            c.close();
          },
        }),
    };
    upstream.handle((_req, res) => {
      res.writeHead(200, { "retry-after": "3" });
      res.end();
    });
    const { events } = await run(provider({ spec }).p);
    expect(failedOf(events)).toMatchObject({ code: ProtoCode.RESOURCE_EXHAUSTED, retryAfterMs: 3000 });
  });

  it("ends an oversized SSE event (eventsource-parser ParseError) with failed INTERNAL UPSTREAM_MALFORMED", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200);
      // an event that never ends: the parser's buffer overflows whatever the TCP reads
      res.write(`${sse({ text: "a" })}data: ${"x".repeat(4096)}`);
    });
    const { events } = await run(provider().p);
    expect(failedOf(events)).toMatchObject({ code: ProtoCode.INTERNAL, reason: "UPSTREAM_MALFORMED", retryable: false });
  });

  it("ends a FramingError thrown by the spec with failed INTERNAL UPSTREAM_MALFORMED", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200);
      res.end(sse({ text: "a" }) + sse({ framing: true }));
    });
    const { events } = await run(provider().p);
    expect(kinds(events)).toEqual(["started", "textDelta", "failed"]);
    expect(failedOf(events)).toMatchObject({ code: ProtoCode.INTERNAL, reason: "UPSTREAM_MALFORMED" });
  });
});

describe("createHttpProvider: HTTP errors before the stream", () => {
  const body = JSON.stringify({ error: { message: `the model does not exist; key ${key}` } });
  it.each([
    [400, Code.InvalidArgument, "UPSTREAM_INVALID_REQUEST", true],
    [401, Code.FailedPrecondition, "UPSTREAM_AUTH", false],
    [403, Code.FailedPrecondition, "UPSTREAM_AUTH", false],
    [404, Code.NotFound, "UPSTREAM_NOT_FOUND", true],
    [408, Code.Unavailable, "UPSTREAM_UNAVAILABLE", false],
    [409, Code.Aborted, "UPSTREAM_CONFLICT", false],
    [413, Code.InvalidArgument, "UPSTREAM_INVALID_REQUEST", true],
    [418, Code.Internal, "UPSTREAM_HTTP_ERROR", false],
    [422, Code.InvalidArgument, "UPSTREAM_INVALID_REQUEST", true],
    [429, Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED", true],
    [500, Code.Unavailable, "UPSTREAM_UNAVAILABLE", false],
    [502, Code.Unavailable, "UPSTREAM_UNAVAILABLE", false],
    [503, Code.Unavailable, "UPSTREAM_UNAVAILABLE", false],
    [504, Code.Unavailable, "UPSTREAM_UNAVAILABLE", false],
  ])("HTTP %i → %s, reason %s (upstream message shown: %s)", async (status, code, reason, shown) => {
    upstream.handle((_req, res) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
    });
    const e = await refusal(provider({ limits: { retries: 0 } }).p);
    expect(e.code).toBe(code);
    expect(e.metadata.get(headerReason)).toBe(reason);
    expect(e.rawMessage).toContain(`HTTP ${status}`);
    expect(e.rawMessage).toContain("fake provider");
    expect(e.rawMessage.includes("the model does not exist")).toBe(shown);
    if (!shown) expect(e.rawMessage).not.toContain(key);
    if (status === 401 || status === 403) {
      expect(e.rawMessage).toContain("API key");
      expect(JSON.stringify(e.cause)).not.toContain(key);
    }
  });

  it("never retries 400, 401, 403, 404, 409, 413, 422", async () => {
    const { p, sleeps } = provider();
    for (const status of [400, 401, 403, 404, 409, 413, 422]) {
      upstream.requests.length = 0;
      upstream.handle((_req, res) => {
        res.writeHead(status);
        res.end();
      });
      await refusal(p);
      expect(upstream.requests).toHaveLength(1);
    }
    expect(sleeps).toEqual([]);
  });

  it("keeps the message generic when the error body is empty or not JSON", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(400);
      res.end("<html>bad gateway</html>");
    });
    const e = await refusal(provider().p);
    expect(e.rawMessage).toBe("the fake provider refused the request (HTTP 400)");
  });
});

describe("createHttpProvider: retries before the first event", () => {
  it("retries 408, 429 and 5xx at most `retries` times with jittered exponential backoff, then throws the last error", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const { p, sleeps } = provider({ random: () => 0.5 });
    const e = await refusal(p);
    expect(e.code).toBe(Code.Unavailable);
    expect(upstream.requests).toHaveLength(3);
    // full jitter: uniform in [0, 500·2^attempt); random() = 0.5 → the middle
    expect(sleeps).toEqual([250, 500]);
  });

  it("succeeds on a retry and then streams normally", async () => {
    upstream.handle((_req, res, n) => {
      if (n < 3) {
        res.writeHead(n === 1 ? 429 : 502);
        res.end();
        return;
      }
      res.writeHead(200);
      res.end(sse({ text: "ok" }) + sse({ done: true }));
    });
    const { p, sleeps } = provider({ random: () => 0 });
    const { events, error } = await run(p);
    expect(error).toBeUndefined();
    expect(kinds(events)).toEqual(["started", "textDelta", "completed"]);
    expect(sleeps).toEqual([0, 0]);
  });

  it.each([
    ["Retry-After delta-seconds", { "retry-after": "2" }, 2000],
    ["retry-after-ms", { "retry-after-ms": "150" }, 150],
    ["Retry-After HTTP-date", { "retry-after": "Wed, 21 Oct 2015 07:28:03 GMT" }, 3000],
  ])("waits the upstream's %s before retrying", async (_what, headers, want) => {
    upstream.handle((_req, res, n) => {
      if (n === 1) {
        res.writeHead(429, headers);
        res.end();
        return;
      }
      res.writeHead(200);
      res.end(sse({ done: true }));
    });
    const { p, sleeps } = provider({ now: () => Date.parse("Wed, 21 Oct 2015 07:28:00 GMT") });
    const { error } = await run(p);
    expect(error).toBeUndefined();
    expect(sleeps).toEqual([want]);
  });

  it("gives up at once on a Retry-After beyond the cap, with the hint in retry-after-ms", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(429, { "retry-after": "120" });
      res.end(JSON.stringify({ error: { message: "slow down" } }));
    });
    const { p, sleeps } = provider();
    const e = await refusal(p);
    expect(e.code).toBe(Code.ResourceExhausted);
    expect(e.rawMessage).toContain("slow down");
    expect(e.metadata.get(headerRetryAfterMs)).toBe("120000");
    expect(upstream.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("carries the last hint when the retries are spent", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(503, { "retry-after-ms": "10" });
      res.end();
    });
    const { p, sleeps } = provider({ limits: { retries: 1 } });
    const e = await refusal(p);
    expect(sleeps).toEqual([10]);
    expect(e.metadata.get(headerRetryAfterMs)).toBe("10");
  });

  it("does not wait past the total deadline", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(503, { "retry-after": "5" });
      res.end();
    });
    const { p, sleeps } = provider({ limits: { totalTimeoutMs: 4000 } });
    const e = await refusal(p);
    expect(e.code).toBe(Code.Unavailable);
    expect(sleeps).toEqual([]);
    expect(upstream.requests).toHaveLength(1);
  });

  it("retries a refused connection, then throws UNAVAILABLE UPSTREAM_UNREACHABLE naming only the errno", async () => {
    const closed = net.createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as net.AddressInfo).port;
    closed.close();
    await once(closed, "close");
    const { p, sleeps } = provider({ endpoint: { baseUrl: `http://127.0.0.1:${port}` } });
    const e = await refusal(p);
    expect(e.code).toBe(Code.Unavailable);
    expect(e.metadata.get(headerReason)).toBe("UPSTREAM_UNREACHABLE");
    expect(e.rawMessage).toBe("the fake provider is unreachable (ECONNREFUSED)");
    expect(sleeps).toHaveLength(2);
  });

  it("stops waiting to retry when the caller aborts, throwing the signal's reason", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    const ac = new AbortController();
    const reason = new ConnectError("client went away", Code.Canceled);
    const { p } = provider({
      sleep: (_ms, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          ac.abort(reason);
        }),
    });
    const { events, error } = await run(p, ac.signal);
    expect(events).toEqual([]);
    expect(error).toBe(reason);
    expect(upstream.requests).toHaveLength(1);
  });
});

describe("createHttpProvider: limits", () => {
  // undici's own timers drive the connect, first-byte and idle limits: small
  // limits against a server that deterministically stalls.
  it("connect: a TLS handshake that never completes → UNAVAILABLE UPSTREAM_CONNECT_TIMEOUT", async () => {
    const silent = net.createServer((s) => s.on("error", () => {}));
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const { p } = provider({ endpoint: { baseUrl: `https://127.0.0.1:${port}` }, limits: { connectTimeoutMs: 100, retries: 0 } });
      const e = await refusal(p);
      expect(e.code).toBe(Code.Unavailable);
      expect(e.metadata.get(headerReason)).toBe("UPSTREAM_CONNECT_TIMEOUT");
    } finally {
      silent.close();
    }
  });

  it("first byte: no response headers → DEADLINE_EXCEEDED UPSTREAM_FIRST_BYTE_TIMEOUT, retried", async () => {
    upstream.handle(() => {}); // never answers
    const { p, sleeps } = provider({ limits: { firstByteTimeoutMs: 100, retries: 1 } });
    const e = await refusal(p);
    expect(e.code).toBe(Code.DeadlineExceeded);
    expect(e.metadata.get(headerReason)).toBe("UPSTREAM_FIRST_BYTE_TIMEOUT");
    expect(upstream.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it("idle: a body that stalls → failed DEADLINE_EXCEEDED UPSTREAM_IDLE_TIMEOUT with the usage so far", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200);
      res.write(sse({ text: "a" }) + sse({ usage: 5 }));
    });
    const { events } = await run(provider({ limits: { idleTimeoutMs: 100 } }).p);
    expect(kinds(events)).toEqual(["started", "textDelta", "usage", "failed"]);
    expect(failedOf(events)).toMatchObject({
      code: ProtoCode.DEADLINE_EXCEEDED,
      reason: "UPSTREAM_IDLE_TIMEOUT",
      retryable: true,
      usage: { outputTokens: 5 },
    });
    await upstream.requests[0]?.socketClosed;
  });

  it("total, before the first event: → DEADLINE_EXCEEDED UPSTREAM_TOTAL_TIMEOUT, and the socket is closed", async () => {
    upstream.handle(() => {});
    const e = await refusal(provider({ limits: { totalTimeoutMs: 200 } }).p);
    expect(e.code).toBe(Code.DeadlineExceeded);
    expect(e.metadata.get(headerReason)).toBe("UPSTREAM_TOTAL_TIMEOUT");
    await upstream.requests[0]?.socketClosed;
  });

  it("total, after started: a stream that keeps trickling → failed DEADLINE_EXCEEDED UPSTREAM_TOTAL_TIMEOUT", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write(sse({ text: "." })), 20);
      res.on("close", () => clearInterval(timer));
    });
    const { events } = await run(provider({ limits: { totalTimeoutMs: 300 } }).p);
    expect(events.filter((e) => e.event.case === "textDelta").length).toBeGreaterThan(0);
    expect(failedOf(events)).toMatchObject({ code: ProtoCode.DEADLINE_EXCEEDED, reason: "UPSTREAM_TOTAL_TIMEOUT" });
    await upstream.requests[0]?.socketClosed;
  });
});

describe("createHttpProvider: cancellation", () => {
  it("aborting mid-stream closes the upstream socket at once and throws the signal's reason", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200);
      res.write(sse({ text: "a" }));
    });
    const { p } = provider();
    const ac = new AbortController();
    const reason = new ConnectError("cancelled by the client", Code.Canceled);
    const it = p.generate(req, "m1", ac.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value?.event.case).toBe("started");
    expect((await it.next()).value?.event.case).toBe("textDelta");
    const pending = it.next();
    ac.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await upstream.requests[0]?.socketClosed;
  });

  it("aborting before the response closes the socket and throws the reason", async () => {
    upstream.handle(() => {});
    const { p } = provider();
    const ac = new AbortController();
    const reason = new Error("shutdown");
    const it = p.generate(req, "m1", ac.signal)[Symbol.asyncIterator]();
    const first = it.next();
    while (upstream.requests.length === 0) await new Promise((r) => setImmediate(r));
    ac.abort(reason);
    await expect(first).rejects.toBe(reason);
    await upstream.requests[0]?.socketClosed;
  });

  it("an already aborted signal sends nothing", async () => {
    const ac = new AbortController();
    ac.abort(new Error("gone"));
    const { error } = await run(provider().p, ac.signal);
    expect(error).toBe(ac.signal.reason);
    expect(upstream.requests).toHaveLength(0);
  });

  it("a consumer that stops iterating closes the upstream socket", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200);
      res.write(sse({ text: "a" }));
    });
    const { p } = provider();
    for await (const e of p.generate(req, "m1", new AbortController().signal)) {
      if (e.event.case === "textDelta") break;
    }
    await upstream.requests[0]?.socketClosed;
  });
});

describe("createHttpProvider: no secret leaves", () => {
  const extra = "x-extra-header-secret-value";
  const echo = (status: number) =>
    upstream.handle((r, res) => {
      res.writeHead(status, { "content-type": "application/json", "x-fake-request-id": `Bearer ${key}` });
      res.end(
        JSON.stringify({ error: { message: `bad key ${r.headers.authorization} ${r.headers["x-extra"]} sk-proj-abcdefghijklmnop1234` } }),
      );
    });

  it.each([400, 404, 413, 422, 429])(
    "HTTP %i: the error message shows the upstream's text without the key or a configured header",
    async (status) => {
      echo(status);
      const e = await refusal(
        provider({ endpoint: { baseUrl: upstream.baseUrl, apiKey: key, headers: { "x-extra": extra } }, limits: { retries: 0 } }).p,
      );
      expect(e.rawMessage).toMatch(/bad key/);
      expect(e.rawMessage).not.toContain(key);
      expect(e.rawMessage).not.toContain(extra);
      expect(e.rawMessage).not.toContain("sk-proj-");
      expect(JSON.stringify(e.cause)).not.toContain(key);
    },
  );

  it("drops a request id that is not a plain id, and scrubs the decoded stream's texts", async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "x-fake-request-id": `Bearer ${key}` });
      res.end(sse({ text: `model says ${key}` }) + sse({ done: true }));
    });
    const { events } = await run(provider().p);
    expect(events[0]?.event.value).toMatchObject({ requestId: "" });
    // Model output is the user's data: passed on unchanged.
    expect(events[1]?.event.value).toMatchObject({ text: `model says ${key}` });
  });
});
