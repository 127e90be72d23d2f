/**
 * The paced upstream: a stand-in for a continuous-batching serving engine.
 *
 * One {@link PacedEngine} per token rate R: every 1/R s one decode step
 * emits one token to every active stream. A stream is admitted at once
 * (prefill is instant: `started` and the first token go out on admission)
 * and then joins the batch at the next step. Each token's text is its emit
 * time (see token-clock.ts), stamped just before that stream's write.
 *
 * The same engines are reachable two ways, so every system under test reads
 * the same tokens:
 * - `airwave.v1.InferenceService` over gRPC (h2c): `Generate` and `Interact`
 *   (the first request message `start` is the GenerateRequest; later input
 *   messages are read and ignored). Served by node:http2 directly with
 *   pre-encoded frames, so the upstream's own cost per token is a few
 *   microseconds and the harness (which shares its CPU) is not slowed down.
 * - OpenAI Chat Completions (`POST /v1/chat/completions`, `stream: true`)
 *   over HTTP/1.1 SSE: role chunk, one content chunk per token, a
 *   `finish_reason: "stop"` chunk, a usage chunk, `data: [DONE]`.
 *
 * The model name picks the rate and length: any name containing
 * `paced-r<R>-n<N>` (R tokens/s, N tokens; e.g. `openai-compatible/paced-r50-n200`).
 * @module
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { FinishReason, GenerateRequestSchema, GenerateResponseSchema, InteractRequestSchema, type GenerateRequest } from "@airwave/proto";
import { grpcFrame } from "./grpc-frame.ts";
import { nowUs, tokenLength, tokenText } from "./token-clock.ts";

/** Where tokens of one stream go. */
export interface TokenSink {
  /** Writes one token (its text is {@link tokenText} of the emit time). */
  token(text: string): void;
  /** Ends the stream normally after `tokens` tokens. */
  end(tokens: number): void;
  /** True once the client went away; the engine then drops the stream. */
  readonly closed: boolean;
}

interface Active {
  sink: TokenSink;
  remaining: number;
  total: number;
}

/** Rate and length asked for by a model name. */
export interface PacedModel {
  /** Tokens per second per stream (decode steps per second). */
  rate: number;
  /** Tokens in the answer. */
  tokens: number;
}

/** Parses `paced-r<R>-n<N>` anywhere in a model name; defaults R=50, N=100. */
export function parsePacedModel(model: string): PacedModel {
  const m = /paced-r(\d+)-n(\d+)/.exec(model);
  return { rate: m ? Math.max(1, Number(m[1])) : 50, tokens: m ? Math.max(1, Number(m[2])) : 100 };
}

/**
 * A continuous-batching decode loop at `rate` steps per second. Late timers
 * do not catch up (a real engine that falls behind just steps later); the
 * achieved rate is what the clients observe.
 */
export class PacedEngine {
  readonly #periodUs: number;
  readonly #active: Active[] = [];
  #nextUs = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Tokens emitted so far. */
  emitted = 0;
  constructor(rate: number) {
    this.#periodUs = 1_000_000 / rate;
  }
  /** Admits a stream: its first token now, then one per step. */
  add(sink: TokenSink, tokens: number): void {
    sink.token(tokenText(nowUs()));
    this.emitted++;
    if (tokens <= 1) {
      sink.end(1);
      return;
    }
    this.#active.push({ sink, remaining: tokens - 1, total: tokens });
    if (this.#timer === undefined) {
      this.#nextUs = nowUs() + this.#periodUs;
      this.#schedule();
    }
  }
  #schedule(): void {
    const delayMs = Math.max(0, (this.#nextUs - nowUs()) / 1000);
    this.#timer = setTimeout(() => this.#step(), delayMs);
  }
  #step(): void {
    const a = this.#active;
    for (let i = a.length - 1; i >= 0; i--) {
      const s = a[i] as Active;
      if (s.sink.closed) {
        a[i] = a[a.length - 1] as Active;
        a.pop();
        continue;
      }
      s.sink.token(tokenText(nowUs()));
      this.emitted++;
      if (--s.remaining === 0) {
        s.sink.end(s.total);
        a[i] = a[a.length - 1] as Active;
        a.pop();
      }
    }
    if (a.length === 0) {
      this.#timer = undefined;
      return;
    }
    const now = nowUs();
    this.#nextUs += this.#periodUs;
    if (this.#nextUs < now) this.#nextUs = now;
    this.#schedule();
  }
  /** Stops the loop (streams are left as they are). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** The running upstream. */
export interface PacedUpstream {
  /** gRPC base URL (h2c), e.g. `http://127.0.0.1:40001`. */
  readonly grpcUrl: string;
  /** OpenAI-compatible base URL including `/v1`. */
  readonly openaiUrl: string;
  /** Tokens emitted by all engines. */
  emitted(): number;
  close(): Promise<void>;
}

// GenerateResponse{event(1): StreamEvent{text_delta(11): TextDelta{text(1)}}},
// in one gRPC frame: 5-byte prefix + 25 bytes. InteractResponse has the same
// field number and shape, so the bytes serve both methods.
const textFrameHead = Buffer.from([0, 0, 0, 0, 25, 0x0a, 23, 0x5a, 21, 0x0a, tokenLength]);

function eventFrame(value: Parameters<typeof create<typeof GenerateResponseSchema>>[1]): Buffer {
  return grpcFrame(toBinary(GenerateResponseSchema, create(GenerateResponseSchema, value)));
}

/**
 * Starts the upstream on 127.0.0.1 (ephemeral ports). Rejects with the
 * listen error.
 */
export async function startPacedUpstream(): Promise<PacedUpstream> {
  const engines = new Map<number, PacedEngine>();
  const engine = (rate: number) => {
    let e = engines.get(rate);
    if (!e) engines.set(rate, (e = new PacedEngine(rate)));
    return e;
  };

  const h2 = http2.createServer();
  h2.on("stream", (stream, headers) => {
    stream.on("error", () => {});
    const path = headers[":path"] ?? "";
    const interact = path === "/airwave.v1.InferenceService/Interact";
    if (!interact && path !== "/airwave.v1.InferenceService/Generate") {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "unimplemented" },
        { endStream: true },
      );
      return;
    }
    let buf = Buffer.alloc(0);
    let started = false;
    const onData = (chunk: Buffer) => {
      if (started) return; // later Interact messages (inputs) are ignored
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 5) return;
      const len = buf.readUInt32BE(1);
      if (buf.length < 5 + len) return;
      started = true;
      const msg = buf.subarray(5, 5 + len);
      let req: GenerateRequest | undefined;
      try {
        if (interact) {
          const r = fromBinary(InteractRequestSchema, msg);
          req = r.message.case === "start" ? r.message.value : undefined;
        } else req = fromBinary(GenerateRequestSchema, msg);
      } catch {
        req = undefined;
      }
      if (!req) {
        stream.respond(
          { ":status": 200, "content-type": "application/grpc", "grpc-status": "3", "grpc-message": "bad request" },
          { endStream: true },
        );
        return;
      }
      serveGrpc(stream, req);
    };
    stream.on("data", onData);
  });

  const serveGrpc = (stream: http2.ServerHttp2Stream, req: GenerateRequest) => {
    const { rate, tokens } = parsePacedModel(req.model);
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.write(eventFrame({ event: { event: { case: "started", value: { model: req.model, provider: "paced" } } } }));
    let closed = false;
    stream.once("close", () => (closed = true));
    engine(rate).add(
      {
        get closed() {
          return closed;
        },
        token(text) {
          const b = Buffer.allocUnsafe(textFrameHead.length + tokenLength);
          textFrameHead.copy(b, 0);
          b.write(text, textFrameHead.length, "latin1");
          stream.write(b);
        },
        end(n) {
          if (closed) return;
          stream.write(
            eventFrame({
              event: {
                event: {
                  case: "completed",
                  value: { finishReason: FinishReason.STOP, rawFinishReason: "stop", usage: { inputTokens: 1, outputTokens: n } },
                },
              },
            }),
          );
          stream.end();
        },
      },
      tokens,
    );
  };

  const chunkHead = '{"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"paced","choices":[{"index":0,"delta":{';
  const h1 = http.createServer((req, res) => {
    if (req.method !== "POST" || !(req.url ?? "").endsWith("/chat/completions")) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":{"message":"not found"}}');
      return;
    }
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      let model = "";
      try {
        model = String((JSON.parse(Buffer.concat(parts).toString("utf8")) as { model?: unknown }).model ?? "");
      } catch {
        res.writeHead(400, { "content-type": "application/json" }).end('{"error":{"message":"bad json"}}');
        return;
      }
      const { rate, tokens } = parsePacedModel(model);
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
      res.write(`data: ${chunkHead}"role":"assistant","content":""},"finish_reason":null}]}\n\n`);
      let closed = false;
      res.once("close", () => (closed = true));
      engine(rate).add(
        {
          get closed() {
            return closed;
          },
          token(text) {
            res.write(`data: ${chunkHead}"content":"${text}"},"finish_reason":null}]}\n\n`);
          },
          end(n) {
            if (closed) return;
            res.end(
              `data: ${chunkHead}},"finish_reason":"stop"}]}\n\n` +
                `data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1,"model":"paced","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":${n},"total_tokens":${n + 1}}}\n\n` +
                "data: [DONE]\n\n",
            );
          },
        },
        tokens,
      );
    });
  });
  h1.keepAliveTimeout = 60_000;

  const listen = async (s: http.Server | http2.Http2Server) => {
    await new Promise<void>((ok, fail) => {
      s.once("error", fail);
      s.listen(0, "127.0.0.1", () => ok());
    });
    return (s.address() as AddressInfo).port;
  };
  const p2 = await listen(h2);
  const p1 = await listen(h1);
  return {
    grpcUrl: `http://127.0.0.1:${p2}`,
    openaiUrl: `http://127.0.0.1:${p1}/v1`,
    emitted: () => [...engines.values()].reduce((s, e) => s + e.emitted, 0),
    async close() {
      for (const e of engines.values()) e.stop();
      h1.closeAllConnections();
      await Promise.all([new Promise((r) => h1.close(r)), new Promise((r) => h2.close(r))]);
    },
  };
}
