import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ev, FinishReason, FramingError, type StreamEvent, type UsageInit } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { adapt, type Mapper } from "../adapt.js";
import type { HttpProviderSpec } from "../http-provider/http-provider-spec.js";

/**
 * A small made-up provider protocol for testing the HTTP runtime without
 * any real kind: `POST {baseUrl}/stream` with `{"model", "prompt"}` and
 * `Authorization: Bearer <key>`; the body is SSE whose `data` is
 * `{"text": "…"}` (a text delta), `{"usage": n}` (output tokens),
 * `{"done": true}` (completed STOP) or `{"framing": true}` (the spec throws a
 * FramingError). Events are bounded to 1 KiB (eventsource-parser ParseError
 * beyond). A body that ends without `done` ends with `failed` UNAVAILABLE
 * UPSTREAM_TRUNCATED and the usage so far, as every real mapper does. Error bodies are
 * `{"error": {"message": "…"}}`. Request id header: `x-fake-request-id`.
 * @private test support
 */
/** The fake protocol's mapper: one SSE message's JSON to events; the usage so far in its state. */
const fakeMapper: Mapper<{ data: string }, { usage: UsageInit | undefined }> = {
  init: () => ({ usage: undefined }),
  map(s, m) {
    const d = JSON.parse(m.data) as { text?: string; usage?: number; done?: boolean; framing?: boolean };
    if (d.framing) throw new FramingError("bad frame");
    const out: StreamEvent[] = [];
    if (d.text !== undefined) out.push(ev.textDelta(d.text));
    if (d.usage !== undefined) out.push(ev.usage((s.usage = { outputTokens: d.usage })));
    if (d.done) out.push(ev.completed(FinishReason.STOP, undefined, "done"));
    return out;
  },
  end: (s) => [
    ev.failed(Code.Unavailable, "the fake provider's stream ended early", "UPSTREAM_TRUNCATED", s.usage ? { usage: s.usage } : {}),
  ],
};

export const fakeSpec: HttpProviderSpec = {
  kind: "fake",
  requestIdHeader: "x-fake-request-id",
  request(req, model, endpoint) {
    const prompt = req.messages[0]?.parts[0]?.part;
    return {
      url: `${endpoint.baseUrl}/stream`,
      headers: {
        "content-type": "application/json",
        ...(endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {}),
      },
      body: JSON.stringify({ model, prompt: prompt?.case === "text" ? prompt.value : "" }),
    };
  },
  decode(body) {
    return body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream({ onError: "terminate", maxBufferSize: 1024 }))
      .pipeThrough(adapt(fakeMapper));
  },
  errorMessage(body) {
    try {
      const m = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
      return typeof m === "string" ? m : undefined;
    } catch {
      return undefined;
    }
  },
};

/** One SSE event of the fake protocol. @private test support */
export const sse = (data: unknown): string => `data: ${JSON.stringify(data)}\n\n`;

/** What the fake upstream saw of one request. @private test support */
export interface SeenRequest {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Resolves when this request's socket closed. */
  readonly socketClosed: Promise<void>;
}

/**
 * A node:http server on 127.0.0.1 whose answer each test sets with
 * `handle`; records every request and when its socket closes.
 * @private test support
 */
export async function startFakeUpstream() {
  let handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void = (_req, res) => {
    res.writeHead(500);
    res.end();
  };
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const socket = req.socket;
    requests.push({
      url: req.url ?? "",
      headers: req.headers,
      body: Buffer.concat(chunks).toString("utf8"),
      socketClosed: socket.destroyed ? Promise.resolve() : once(socket, "close").then(() => {}),
    });
    handler(req, res, requests.length);
  });
  server.on("connection", (s) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    /** Sets the answer; `n` is the 1-based number of the request. */
    handle(h: typeof handler) {
      handler = h;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, "close");
    },
  };
}
