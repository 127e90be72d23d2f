import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { create } from "@bufbuild/protobuf";
import { FinishReason, GenerateRequestSchema, isTerminal, Role, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeOf } from "../../testing/stream-events.js";
import { describeUpstreamFixtures } from "../../testing/upstream-fixtures.js";
import { createHttpProvider } from "../../http-provider/create-http-provider.js";
import type { UpstreamLimits } from "../../http-provider/upstream-limits.js";
import { openAIChatSpec } from "./openai-chat-spec.js";

/** The openai-chat kind served by the shared runtime, as the routing configures `openai-compatible`. */
function createOpenAICompatibleProvider(o: { baseUrl: string; apiKey?: string; limits?: Partial<UpstreamLimits> }) {
  return createHttpProvider({
    name: "openai-compatible",
    spec: openAIChatSpec,
    endpoint: { baseUrl: o.baseUrl, apiKey: o.apiKey },
    ...(o.limits ? { limits: o.limits } : {}),
  });
}

const request = (model: string) =>
  create(GenerateRequestSchema, {
    model: `openai-compatible/${model}`,
    messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }],
    maxOutputTokens: 50,
  });

const sseChunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

interface Seen {
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

/** A fake upstream: the model name picks the behaviour. */
class FakeUpstream {
  server!: Server;
  url = "";
  seen: Seen[] = [];
  fixture: Uint8Array = new Uint8Array();
  /** Resolves when a "hang" response's connection closed, with whether the body had finished. */
  hangClosed: Promise<boolean> | undefined;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const c of req) raw += String(c);
    const body = JSON.parse(raw) as { model: string };
    this.seen.push({ headers: req.headers, body });
    const json = (status: number, b: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(b));
    };
    switch (body.model) {
      case "fixture":
        res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req_123" });
        for (let i = 0; i < this.fixture.byteLength; i += 500) res.write(this.fixture.slice(i, i + 500));
        res.end();
        return;
      case "missing":
        return json(404, {
          error: { message: "The model `missing` does not exist", type: "invalid_request_error", code: "model_not_found" },
        });
      case "limited":
        return json(429, { error: { message: "Rate limit reached for requests", type: "requests" } });
      case "broken":
        res.writeHead(500).end("Traceback: secret internals");
        return;
      case "denied":
        return json(401, { error: { message: "Incorrect API key provided: sk-abc123", type: "invalid_request_error" } });
      case "cut":
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(sseChunk("partial"));
        setTimeout(() => res.destroy(), 20);
        return;
      case "hang":
        res.writeHead(200, { "content-type": "text/event-stream" });
        res.write(sseChunk("first"));
        this.hangClosed = once(res, "close").then(() => res.writableFinished);
        return; // never ends on its own
      default:
        return json(400, { error: { message: "unexpected model" } });
    }
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

describe("openai-compatible provider over HTTP", () => {
  const up = new FakeUpstream();
  beforeAll(() => up.start());
  afterAll(() => up.close());
  const provider = () => createOpenAICompatibleProvider({ baseUrl: up.url, apiKey: "sk-test", limits: { retries: 0 } });
  const run = (model: string, signal = new AbortController().signal) => Array.fromAsync(provider().generate(request(model), model, signal));

  it("maps upstream HTTP errors to codes before anything is yielded", async () => {
    const missing = await codeOf(run("missing"));
    expect(missing.code).toBe(Code.NotFound);
    expect(missing.rawMessage).toContain("does not exist");
    expect((await codeOf(run("limited"))).code).toBe(Code.ResourceExhausted);
    const broken = await codeOf(run("broken"));
    expect(broken.code).toBe(Code.Unavailable);
    expect(broken.rawMessage).not.toContain("secret");
    const denied = await codeOf(run("denied"));
    expect(denied.code).toBe(Code.FailedPrecondition);
    expect(denied.rawMessage).not.toContain("sk-abc123");
  });

  it("sends the mapped request with the bearer key", async () => {
    await run("missing").catch(() => {});
    const last = up.seen.at(-1)!;
    expect(last.headers["authorization"]).toBe("Bearer sk-test");
    expect(last.headers["accept"]).toBe("text/event-stream");
    expect(last.body).toMatchObject({
      model: "missing",
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 50,
      messages: [{ role: "user", content: "hi" }],
    });
  });

  it("ends a body cut mid-stream with failed UNAVAILABLE UPSTREAM_TRUNCATED", async () => {
    const evs = await run("cut");
    expect(evs.map((e) => e.event.case)).toEqual(["started", "textDelta", "failed"]);
    expect(evs.at(-1)?.event).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED", retryable: true } });
  });

  it("raises UNAVAILABLE when the upstream is unreachable", async () => {
    const closed = createServer();
    closed.listen(0, "127.0.0.1");
    await once(closed, "listening");
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const p = createOpenAICompatibleProvider({ baseUrl: `http://127.0.0.1:${port}/v1`, limits: { retries: 0 } });
    const e = await codeOf(Array.fromAsync(p.generate(request("x"), "x", new AbortController().signal)));
    expect(e.code).toBe(Code.Unavailable);
    expect(e.rawMessage).toContain("ECONNREFUSED");
    expect(e.rawMessage).not.toContain("127.0.0.1");
  });

  it("aborting the signal closes the upstream connection before the body finished", async () => {
    const ac = new AbortController();
    const it = provider().generate(request("hang"), "hang", ac.signal)[Symbol.asyncIterator]();
    expect((await it.next()).value?.event.case).toBe("started");
    expect((await it.next()).value?.event.case).toBe("textDelta");
    const pending = it.next();
    const reason = new ConnectError("client went away", Code.Canceled);
    ac.abort(reason);
    await expect(pending).rejects.toBe(reason);
    const finished = await Promise.race([up.hangClosed!, new Promise((r) => setTimeout(() => r("timeout"), 5000))]);
    expect(finished).toBe(false);
  });
});

describeUpstreamFixtures("openai-compatible provider serving a single tool call stream", ["openai-chat"], (fixtures, source) => {
  const up = new FakeUpstream();
  beforeAll(() => up.start());
  afterAll(() => up.close());
  const name = source.name === "shared" ? "openai-chat/tool-call-single.sse" : "openai-chat/tool-call-get-weather.sse";

  it("streams started, the tool call and completed through fetch", async () => {
    const f = fixtures.find((x) => x.name === name)!;
    up.fixture = new Uint8Array(readFileSync(f.path));
    const p = createOpenAICompatibleProvider({ baseUrl: up.url });
    const evs: StreamEvent[] = await Array.fromAsync(p.generate(request("fixture"), "fixture", new AbortController().signal));
    expect(evs[0]?.event).toMatchObject({
      case: "started",
      value: { model: "fixture", provider: "openai-compatible", requestId: "req_123" },
    });
    expect(up.seen.at(-1)?.headers["authorization"]).toBeUndefined();
    const done = evs.find((e) => e.event.case === "toolCallCompleted");
    expect(done?.event.case === "toolCallCompleted" && JSON.parse(done.event.value.argumentsJson)).toBeTypeOf("object");
    expect(evs.filter(isTerminal)).toHaveLength(1);
    expect(evs.at(-1)?.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
  });
});
