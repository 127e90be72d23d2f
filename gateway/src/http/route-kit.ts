import type { GatewayMetrics, Transport } from "../metrics/gateway-metrics.js";
import type { IncomingMessage, ServerResponse } from "node:http";
import { Code, ConnectError } from "@connectrpc/connect";
import { type Cursor, type StreamEvent, type StreamInfo, StreamState } from "@airwave/proto";
import type { Authenticator } from "../auth/authenticator.js";
import type { ErrorResponse } from "../errors/http-status.js";
import { methodNotAllowed, unsupportedMediaType } from "../errors/http-status.js";
import { publicError } from "../errors/public-error.js";
import { writeError } from "../errors/write-error.js";
import { nodeSink } from "../stream/byte-sink.js";
import type { Encoder } from "../stream/encoder.js";
import { serveStream } from "../stream/serve-stream.js";
import { readBody } from "./read-body.js";

/**
 * What every HTTP route module (`http/stream-routes.ts`, `openai/`,
 * `ai-sdk/`) does the same way: methods, headers, the caller's owner, a
 * JSON body type, a JSON answer, and the answer to an error.
 */

/** Raises UNIMPLEMENTED (405 with `Allow`) unless the request's method is one of `methods`. */
export function allow(req: IncomingMessage, methods: readonly string[]): void {
  if (!methods.includes(req.method ?? "")) throw methodNotAllowed(req.method, methods);
}

/** The first value of a request header (names in lower case), or undefined. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The caller's owner, decided by the gateway's one authenticator; raises UNAUTHENTICATED (see `Authenticator.identify`). */
export function ownerOf(auth: Authenticator, req: IncomingMessage): string {
  return auth.identify({ authorization: header(req, "authorization"), cookie: header(req, "cookie") }).owner;
}

/** Raises 415 (`unsupportedMediaType`) unless the body is `application/json`. */
export function requireJsonBody(req: IncomingMessage): void {
  if (!/^application\/json\s*(;|$)/i.test(header(req, "content-type") ?? "")) throw unsupportedMediaType("application/json");
}

/**
 * Reads a JSON request body: `application/json` (else 415), at most
 * `maxBytes` (see `readBody`), parsed; raises INVALID_ARGUMENT for text that
 * is not JSON. The value is `unknown`: the route checks its shape.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  requireJsonBody(req);
  const text = await readBody(req, maxBytes);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new ConnectError(
      `the request body is not valid JSON: ${e instanceof Error ? e.message.slice(0, 200) : ""}`,
      Code.InvalidArgument,
    );
  }
}

/** Answers 200 with `body` as JSON (`raw`: `body` is JSON text already), never cached. */
export function json(res: ServerResponse, body: unknown, raw = false): void {
  const text = raw ? (body as string) : JSON.stringify(body);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text), "cache-control": "no-store" });
  res.end(text);
}

/**
 * Answers a route's error with the one error writer: INTERNAL errors are
 * reported to `onError` first (their text never reaches the client), and an
 * unread body (too large, or refused before reading) closes the connection,
 * so it is not taken for the next request. `shape` is the body's shape
 * (default the Connect JSON error; the OpenAI routes pass theirs).
 */
export function answerRouteError(
  req: IncomingMessage,
  res: ServerResponse,
  err: unknown,
  o: { onError?: ((err: ConnectError) => void) | undefined; shape?: (err: ConnectError, status?: number) => ErrorResponse },
): void {
  const e = ConnectError.from(err);
  if (publicError(e).code === Code.Internal) o.onError?.(e);
  writeError(res, e, { close: !req.readableEnded, ...(o.shape ? { shape: o.shape } : {}) });
}

/** Aborts (with CANCELED) when the client goes away: the response closes before its end. */
export function leaving(res: ServerResponse): AbortController {
  const stop = new AbortController();
  res.once("close", () => stop.abort(new ConnectError("client went away", Code.Canceled)));
  return stop;
}

/** True when the stream ended and `c` is at its last event: nothing will ever follow it (the routes answer 204). */
export function isExhausted(info: StreamInfo, c: Cursor): boolean {
  return info.state !== StreamState.RUNNING && c.epoch === info.epoch && c.seq === info.lastSeq;
}

/** Options of {@link serveWatch}; see GatewayConfig for units. */
export interface ServeWatchOptions {
  /** Heartbeat after this long without an event, in ms. */
  readonly heartbeatIdleMs: number;
  /** Where the response's bytes, heartbeats and slow-watcher close are counted. */
  readonly metrics?: { readonly metrics: GatewayMetrics; readonly transport: Transport } | undefined;
  /** A write that does not drain within this long ends the response, in ms. */
  readonly writeTimeoutMs: number;
  /** Response headers beside the streaming ones (e.g. `airwave-stream-id`). */
  readonly headers?: Readonly<Record<string, string>>;
  readonly onError?: ((err: ConnectError) => void) | undefined;
}

/**
 * Serves a watch as a streaming HTTP response in `encoder`'s format. The
 * first event is pulled before committing to 200, so NOT_FOUND,
 * OUT_OF_RANGE and INVALID_ARGUMENT are still HTTP errors (raised here),
 * not a broken stream; it is already in the log (`started`, or the
 * `resumed` result), so the headers still go out before the first token.
 * Then the one serve loop (`serveStream`) with its heartbeats, until the
 * terminal event or the client leaving (which ends the watch, never the
 * generation).
 */
export async function serveWatch(
  res: ServerResponse,
  watch: (signal: AbortSignal) => AsyncGenerator<StreamEvent>,
  encoder: Encoder,
  o: ServeWatchOptions,
): Promise<void> {
  const stop = leaving(res);
  const events = watch(stop.signal);
  const first = await events.next();
  res.writeHead(200, {
    "content-type": encoder.contentType,
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
    ...o.headers,
  });
  res.flushHeaders(); // headers at once, before the first token
  await serveStream(events, encoder, nodeSink(res, o.writeTimeoutMs), {
    idleMs: o.heartbeatIdleMs,
    signal: stop.signal,
    ...(first.done ? {} : { first: first.value }),
    ...(o.onError ? { onError: o.onError } : {}),
    metrics: o.metrics,
  });
}
