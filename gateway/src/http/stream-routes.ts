import type { IncomingMessage, ServerResponse } from "node:http";
import { fromJsonString, toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  CancelStreamResponseSchema,
  CreateStreamRequestSchema,
  GetStreamResponseSchema,
  type Cursor,
  parseCursor,
  type StreamEvent,
  type StreamInfo,
  StreamState,
} from "@airwave/proto";
import type { Hub } from "../hub.js";
import { anonymousOwner } from "../owner.js";
import { nodeSink } from "./byte-sink.js";
import { type Encoder, ndjsonEncoder, sseEncoder } from "./encoder.js";
import { publicError, serveStream } from "./serve-stream.js";
import { writeError } from "./write-error.js";

type Req = IncomingMessage;
type Res = ServerResponse;

/** Options of the HTTP stream routes; see GatewayConfig for units. */
export interface StreamRoutesOptions {
  heartbeatIdleMs: number;
  writeTimeoutMs: number;
  maxRequestBytes: number;
  onError?: (err: ConnectError) => void;
}

const eventsPath = /^\/v1\/streams\/([A-Za-z0-9_-]{1,128})\/events$/;
const cancelPath = /^\/v1\/streams\/([A-Za-z0-9_-]{1,128}):cancel$/;
const streamPath = /^\/v1\/streams\/([A-Za-z0-9_-]{1,128})$/;

/**
 * The HTTP shapes of StreamService (DESIGN §4), for EventSource, curl and
 * NDJSON readers:
 *
 * - `POST /v1/streams`: body a CreateStreamRequest in canonical Protobuf
 *   JSON; answers SSE, or NDJSON when `Accept` prefers `application/x-ndjson`.
 * - `GET /v1/streams/{id}/events`: watch or resume after `Last-Event-ID` or
 *   `?after=<epoch>:<seq>`; 204 when the cursor is already at the end.
 * - `POST /v1/streams/{id}:cancel`: cancel (also from navigator.sendBeacon;
 *   the body, if any, is ignored).
 * - `GET /v1/streams/{id}`: the stream's state (GetStreamResponse JSON).
 *
 * Errors before the stream starts: the HTTP status of the Connect code and
 * the Connect JSON error body. Returns false when the path is not a route.
 */
export function createStreamRoutes(hub: Hub, o: StreamRoutesOptions) {
  return async function handle(req: Req, res: Res): Promise<boolean> {
    const url = new URL(req.url ?? "/", "http://x");
    const path = url.pathname;
    if (!path.startsWith("/v1/streams")) return false;
    let m: RegExpExecArray | null;
    try {
      if (path === "/v1/streams") {
        allow(req, "POST");
        const body = await readBody(req, o.maxRequestBytes);
        const createReq = parseCreate(req, body);
        const enc = pickEncoder(req.headers.accept);
        const signal = responseSignal(res);
        const id = await hub.create(anonymousOwner, createReq);
        await stream(res, enc, hub.watch(anonymousOwner, id, "", signal), signal);
      } else if ((m = eventsPath.exec(path))) {
        allow(req, "GET");
        const id = m[1] as string;
        const cursor = url.searchParams.get("after") ?? header(req, "last-event-id") ?? "";
        if (cursor !== "" && isExhausted(hub.get(anonymousOwner, id), parseCursor(cursor))) {
          // Nothing will ever follow this cursor: 204 tells EventSource to
          // stop reconnecting (WHATWG HTML §9.2.3).
          res.writeHead(204).end();
          return true;
        }
        const signal = responseSignal(res);
        const events = hub.watch(anonymousOwner, id, cursor, signal);
        // Pull the first event before committing to 200, so NOT_FOUND and
        // OUT_OF_RANGE are HTTP errors, not a broken stream.
        const first = await events.next();
        const rest = first.done ? events : prepend(first.value, events);
        await stream(res, sseEncoder, rest, signal);
      } else if ((m = cancelPath.exec(path))) {
        allow(req, "POST");
        await readBody(req, o.maxRequestBytes);
        const info = await hub.cancel(anonymousOwner, m[1] as string, "client");
        json(res, toJson(CancelStreamResponseSchema, { $typeName: "airwave.v1.CancelStreamResponse", stream: info }));
      } else if ((m = streamPath.exec(path))) {
        allow(req, "GET");
        const info = hub.get(anonymousOwner, m[1] as string);
        json(res, toJson(GetStreamResponseSchema, { $typeName: "airwave.v1.GetStreamResponse", stream: info }));
      } else {
        throw new ConnectError(`no route for ${path}`, Code.NotFound);
      }
    } catch (err) {
      const e = ConnectError.from(err);
      if (publicError(e).code === Code.Internal) o.onError?.(e);
      writeError(res, e);
    }
    return true;
  };

  async function stream(res: Res, enc: Encoder, events: AsyncIterable<StreamEvent>, signal: AbortSignal) {
    res.writeHead(200, {
      "content-type": enc.contentType,
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
    });
    res.flushHeaders(); // headers at once, before the first token (DESIGN §7)
    await serveStream(events, enc, nodeSink(res, o.writeTimeoutMs), {
      idleMs: o.heartbeatIdleMs,
      signal,
      ...(o.onError ? { onError: o.onError } : {}),
    });
  }
}

/** True when the stream ended and `c` is at its last event. */
function isExhausted(info: StreamInfo, c: Cursor): boolean {
  return info.state !== StreamState.RUNNING && c.epoch === info.epoch && c.seq === info.lastSeq;
}

async function* prepend<T>(first: T, rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield first;
  try {
    for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
  } finally {
    await rest.return?.();
  }
}

function allow(req: Req, method: string): void {
  if (req.method !== method) {
    throw new ConnectError(`method ${req.method} not allowed; use ${method}`, Code.Unimplemented);
  }
}

function header(req: Req, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseCreate(req: Req, body: string) {
  const type = header(req, "content-type") ?? "";
  if (!/^application\/json(;|$)/i.test(type)) {
    throw new ConnectError("content-type must be application/json", Code.InvalidArgument);
  }
  try {
    return fromJsonString(CreateStreamRequestSchema, body);
  } catch (e) {
    throw new ConnectError(`malformed CreateStreamRequest JSON: ${e instanceof Error ? e.message : String(e)}`, Code.InvalidArgument);
  }
}

function pickEncoder(accept: string | undefined): Encoder {
  if (accept && /application\/(x-)?ndjson|application\/jsonl/i.test(accept) && !/text\/event-stream/i.test(accept)) {
    return ndjsonEncoder;
  }
  return sseEncoder;
}

/** Aborts when the client goes away (listening on the response: nodejs/node#40775). */
function responseSignal(res: Res): AbortSignal {
  const ac = new AbortController();
  res.once("close", () => ac.abort(new ConnectError("client went away", Code.Canceled)));
  return ac.signal;
}

/**
 * Reads a request body as UTF-8, up to `maxBytes`; more is
 * RESOURCE_EXHAUSTED.
 */
async function readBody(req: Req, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new ConnectError(`request body larger than ${maxBytes} bytes`, Code.ResourceExhausted);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function json(res: Res, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
