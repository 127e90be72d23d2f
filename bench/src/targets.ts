/**
 * The clients the harness drives: one {@link Target} per system and
 * protocol. Every target finds tokens the same way, by scanning the raw
 * response bytes (token-clock.ts), so no client decodes JSON or Protobuf on
 * the hot path and differences between systems are the systems'.
 * @module
 */
import * as http from "node:http";
import * as http2 from "node:http2";
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import {
  CreateStreamRequestSchema,
  GenerateRequestSchema,
  OnDetach,
  Role,
  WsClientMessageSchema,
  WsServerMessageSchema,
  type CreateStreamRequest,
} from "@airwave/proto";
import { grpcFrame } from "./grpc-frame.ts";
import { nowUs, TokenScanner } from "./token-clock.ts";

/** What a stream reports to the load runner. */
export interface StreamCallbacks {
  /** One token: its emit time and the time its bytes arrived, both µs (token-clock.ts). */
  onToken(emitUs: number, recvUs: number): void;
  /** The stream ended: normally (no error) or not. */
  onEnd(err?: Error): void;
}

/** Control over one open stream. */
export interface StreamHandle {
  /** Stops reading (the socket's receive window fills up); the stream stays open. */
  pause(): void;
  /** Closes the stream from the client side. */
  abort(): void;
}

/** One system under test, reached over one protocol. */
export interface Target {
  readonly name: string;
  /** Opens a stream asking for `model` (a `paced-r<R>-n<N>` name, see paced-upstream.ts). */
  open(model: string, cb: StreamCallbacks): StreamHandle;
  /** Releases pooled connections. */
  close(): void;
}

/** The conversation every request carries. */
const prompt = "Say something.";

function generateRequest(model: string) {
  return create(GenerateRequestSchema, { model, messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: prompt } }] }] });
}

/** A CreateStreamRequest for `model`; `streamId` makes it resumable by a known id. */
export function createStreamRequest(model: string, onDetach = OnDetach.CANCEL, streamId = ""): CreateStreamRequest {
  return create(CreateStreamRequestSchema, { request: generateRequest(model), onDetach, streamId });
}

/** Feeds response chunks to a scanner, stamping each chunk's arrival once. */
/**
 * The end of one stream, once: `end` reports it to `cb.onEnd`, `abort` (the
 * harness closed the stream) does not; whichever comes first wins, and
 * `before` runs then. Transports signal an end more than once (error, then
 * close).
 */
function endOnce(cb: StreamCallbacks, before?: () => void): { end(err?: Error): void; abort(): void } {
  let done = false;
  const finish = (report: boolean, err?: Error) => {
    if (done) return;
    done = true;
    before?.();
    if (report) cb.onEnd(err);
  };
  return { end: (err) => finish(true, err), abort: () => finish(false) };
}

function scanning(cb: StreamCallbacks): (chunk: Buffer) => void {
  let recv = 0;
  const scanner = new TokenScanner((emit) => cb.onToken(emit, recv));
  return (chunk) => {
    recv = nowUs();
    scanner.feed(chunk);
  };
}

/** The floor: `@grpc/grpc-js` calling the paced InferenceService's Generate directly (one channel, raw bytes in and out). */
export function grpcFloorTarget(grpcUrl: string): Target {
  const client = new grpc.Client(grpcUrl.replace(/^http:\/\//, ""), grpc.credentials.createInsecure(), {
    "grpc.max_receive_message_length": 16 * 1024 * 1024,
  });
  const id = (b: Buffer) => b;
  return {
    name: "grpc-js direct (floor)",
    open(model, cb) {
      const call = client.makeServerStreamRequest(
        "/airwave.v1.InferenceService/Generate",
        id,
        id,
        Buffer.from(toBinary(GenerateRequestSchema, generateRequest(model))),
      );
      const feed = scanning(cb);
      const { end } = endOnce(cb);
      call.on("data", feed);
      call.on("error", (e: Error) => end(e));
      call.on("end", () => end());
      return { pause: () => call.pause(), abort: () => call.cancel() };
    },
    close: () => client.close(),
  };
}

/** Options of {@link httpTarget}. */
export interface HttpTargetOptions {
  name: string;
  baseUrl: string;
  path: string;
  headers: Record<string, string>;
  body(model: string): Buffer | string;
}

/** POST over HTTP/1.1 (keep-alive agent, no socket limit); the response body is scanned. */
export function httpTarget(o: HttpTargetOptions): Target {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024 });
  const u = new URL(o.path, o.baseUrl);
  return {
    name: o.name,
    open(model, cb) {
      const { end, abort } = endOnce(cb);
      const body = o.body(model);
      const req = http.request(
        {
          agent,
          method: "POST",
          hostname: u.hostname,
          port: u.port,
          path: u.pathname + u.search,
          headers: { ...o.headers, "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          if (res.statusCode !== 200) {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (s: string) => (text += s));
            // A refusal's Retry-After in the message, so the harness can tell a clean refusal (overload.ts).
            const retry = res.headers["retry-after"] === undefined ? "" : ` (retry-after ${res.headers["retry-after"]})`;
            res.on("end", () => end(new Error(`${o.name}: HTTP ${res.statusCode}${retry}: ${text.slice(0, 300)}`)));
            return;
          }
          res.on("data", scanning(cb));
          res.on("end", () => end());
          res.on("error", end);
          res.on("aborted", () => end(new Error("aborted")));
        },
      );
      req.on("error", end);
      req.end(body);
      return {
        pause: () => req.socket?.pause(),
        abort: () => {
          abort();
          req.destroy();
        },
      };
    },
    close: () => agent.destroy(),
  };
}

/** Options of {@link h2Target}. */
export interface H2TargetOptions extends HttpTargetOptions {
  /** Streams per HTTP/2 connection before another is opened. */
  streamsPerSession?: number;
}

/** POST over HTTP/2 cleartext (prior knowledge), several streams per connection; the response body is scanned. */
export function h2Target(o: H2TargetOptions): Target {
  const perSession = o.streamsPerSession ?? 100;
  const sessions: { s: http2.ClientHttp2Session; open: number }[] = [];
  const session = () => {
    let entry = sessions.find((e) => e.open < perSession && !e.s.closed && !e.s.destroyed);
    if (!entry) {
      const s = http2.connect(o.baseUrl);
      s.on("error", () => {});
      s.unref();
      entry = { s, open: 0 };
      sessions.push(entry);
    }
    return entry;
  };
  return {
    name: o.name,
    open(model, cb) {
      const entry = session();
      entry.open++;
      const { end, abort } = endOnce(cb, () => entry.open--);
      const req = entry.s.request({ ":method": "POST", ":path": o.path, ...o.headers });
      req.on("response", (h) => {
        const status = Number(h[":status"]);
        if (status !== 200) end(new Error(`${o.name}: HTTP ${status}`));
      });
      req.on("trailers", (t) => {
        const gs = t["grpc-status"];
        if (gs !== undefined && gs !== "0") end(new Error(`${o.name}: grpc-status ${gs} ${String(t["grpc-message"] ?? "")}`));
      });
      req.on("data", scanning(cb));
      req.on("end", () => end());
      req.on("error", end);
      req.end(o.body(model));
      return {
        pause: () => req.pause(),
        abort: () => {
          abort();
          req.close(http2.constants.NGHTTP2_CANCEL);
        },
      };
    },
    close() {
      for (const e of sessions) e.s.destroy();
    },
  };
}

/**
 * The WebSocket session (`/v1/ws`, subprotocol `airwave.v1.proto`): one
 * socket per stream, a `create` message, binary frames scanned for tokens;
 * a frame without a token is decoded to find the terminal event.
 */
export function wsTarget(name: string, baseUrl: string, onDetach = OnDetach.CANCEL): Target {
  const url = `${baseUrl.replace(/^http/, "ws")}/v1/ws`;
  return {
    name,
    open(model, cb) {
      const { end, abort } = endOnce(cb);
      const ws = new WebSocket(url, ["airwave.v1.proto"]);
      ws.binaryType = "arraybuffer";
      let recv = 0;
      let found = false;
      const scanner = new TokenScanner((emit) => {
        found = true;
        cb.onToken(emit, recv);
      });
      ws.onopen = () =>
        ws.send(
          toBinary(
            WsClientMessageSchema,
            create(WsClientMessageSchema, { requestId: "1", message: { case: "create", value: createStreamRequest(model, onDetach) } }),
          ),
        );
      ws.onmessage = (m: MessageEvent) => {
        recv = nowUs();
        const b = Buffer.from(m.data as ArrayBuffer);
        found = false;
        scanner.feed(b);
        if (found) return;
        const msg = fromBinary(WsServerMessageSchema, b);
        if (msg.message.case === "error") {
          end(new Error(`ws error ${msg.message.value.code}: ${msg.message.value.message}`));
          ws.close();
        } else if (msg.message.case === "event") {
          const k = msg.message.value.event.case;
          if (k === "completed" || k === "failed") {
            end(k === "failed" ? new Error("failed event") : undefined);
            ws.close();
          }
        }
      };
      ws.onerror = () => end(new Error("websocket error"));
      ws.onclose = (e: CloseEvent) => end(new Error(`websocket closed ${e.code} ${e.reason}`));
      return {
        pause: () => {},
        abort: () => {
          abort();
          ws.close();
        },
      };
    },
    close() {},
  };
}

const jsonHeaders = { "content-type": "application/json" };

/** The Airwave egress protocols of one gateway, by name. */
export function airwaveTargets(gatewayUrl: string, prefix = "airwave"): Record<string, Target> {
  const json = (model: string) => toJsonString(CreateStreamRequestSchema, createStreamRequest(model));
  const bin = (model: string) => grpcFrame(toBinary(CreateStreamRequestSchema, createStreamRequest(model)));
  const path = "/airwave.v1.StreamService/CreateStream";
  const connect = {
    baseUrl: gatewayUrl,
    path,
    headers: { "content-type": "application/connect+proto", "connect-protocol-version": "1" },
    body: bin,
  };
  return {
    sse: httpTarget({
      name: `${prefix} SSE`,
      baseUrl: gatewayUrl,
      path: "/v1/streams",
      headers: { ...jsonHeaders, accept: "text/event-stream" },
      body: json,
    }),
    ndjson: httpTarget({
      name: `${prefix} NDJSON`,
      baseUrl: gatewayUrl,
      path: "/v1/streams",
      headers: { ...jsonHeaders, accept: "application/x-ndjson" },
      body: json,
    }),
    "connect-h1": httpTarget({ name: `${prefix} Connect HTTP/1.1`, ...connect }),
    "connect-h2": h2Target({ name: `${prefix} Connect HTTP/2`, ...connect }),
    grpc: h2Target({
      name: `${prefix} gRPC`,
      baseUrl: gatewayUrl,
      path,
      headers: { "content-type": "application/grpc+proto", te: "trailers" },
      body: bin,
    }),
    "grpc-web": httpTarget({
      name: `${prefix} gRPC-Web`,
      baseUrl: gatewayUrl,
      path,
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: bin,
    }),
    ws: wsTarget(`${prefix} WebSocket`, gatewayUrl),
  };
}

/** OpenAI Chat Completions request body for the relays. */
export function chatBody(model: string): string {
  return JSON.stringify({ model, stream: true, messages: [{ role: "user", content: prompt }] });
}

/** The textbook Express relay. */
export function expressTarget(url: string): Target {
  return httpTarget({ name: "Express SSE relay", baseUrl: url, path: "/v1/chat/completions", headers: jsonHeaders, body: chatBody });
}

/** Portkey's gateway with the paced upstream as an OpenAI custom host. */
export function portkeyTarget(url: string, upstreamOpenaiUrl: string): Target {
  return httpTarget({
    name: "Portkey gateway",
    baseUrl: url,
    path: "/v1/chat/completions",
    headers: { ...jsonHeaders, authorization: "Bearer bench", "x-portkey-provider": "openai", "x-portkey-custom-host": upstreamOpenaiUrl },
    body: chatBody,
  });
}

/** The Vercel AI SDK UI message stream server. */
export function aiSdkTarget(url: string): Target {
  return httpTarget({
    name: "Vercel AI SDK",
    baseUrl: url,
    path: "/api/chat",
    headers: jsonHeaders,
    body: (model) => JSON.stringify({ model, prompt }),
  });
}
