import { once } from "node:events";
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ev, type StreamEvent } from "@airwave/proto";
import { FinishReason } from "@airwave/proto";
import { EventSourceParserStream } from "eventsource-parser/stream";
import type { HttpProviderSpec } from "../http-provider/http-provider-spec.js";
import { FramingError } from "@airwave/proto";

/**
 * A small made-up provider protocol for testing the HTTP runtime without
 * any real kind: `POST {baseUrl}/stream` with `{"model", "prompt"}` and
 * `Authorization: Bearer <key>`; the body is SSE whose `data` is
 * `{"text": "…"}` (a text delta), `{"usage": n}` (output tokens),
 * `{"done": true}` (completed STOP) or `{"framing": true}` (the spec throws a
 * FramingError). Events are bounded to 1 KiB (eventsource-parser ParseError
 * beyond). A body that ends without `done` ends the decoded stream WITHOUT a
 * terminal event (so the runtime's guard is exercised). Error bodies are
 * `{"error": {"message": "…"}}`. Request id header: `x-fake-request-id`.
 * @private test support
 */
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
      .pipeThrough(
        new TransformStream<{ data: string }, StreamEvent>({
          transform(m, out) {
            const d = JSON.parse(m.data) as { text?: string; usage?: number; done?: boolean; framing?: boolean };
            if (d.framing) throw new FramingError("bad frame");
            if (d.text !== undefined) out.enqueue(ev.textDelta(d.text));
            if (d.usage !== undefined) out.enqueue(ev.usage({ outputTokens: d.usage }));
            if (d.done) {
              out.enqueue(ev.completed(FinishReason.STOP, undefined, "done"));
              out.terminate();
            }
          },
        }),
      );
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
