import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { errorJson } from "./encoder.js";
import { publicError } from "./serve-stream.js";

/** A wrong HTTP method: 405 with `Allow` (RFC 9110 §15.5.6), Connect code `unimplemented`. */
export function methodNotAllowed(method: string | undefined, allowed: readonly string[]): ConnectError {
  return new ConnectError(`method ${method ?? "?"} not allowed; use ${allowed.join(" or ")}`, Code.Unimplemented, {
    allow: allowed.join(", "),
  });
}

/**
 * A request body of the wrong media type: 415 with `Accept-Post` (RFC 9110
 * §15.5.16; the Connect protocol answers 415 too), Connect code
 * `invalid_argument`.
 */
export function unsupportedMediaType(accepted: string): ConnectError {
  return new ConnectError(`content-type must be ${accepted}`, Code.InvalidArgument, { "accept-post": accepted });
}

/**
 * The HTTP status of an error on the HTTP routes: 405 when it carries an
 * `Allow` header, 415 when it carries `Accept-Post`, else Connect's Code
 * table (https://connectrpc.com/docs/protocol#error-codes: invalid_argument
 * 400, unauthenticated 401, not_found 404, already_exists 409,
 * resource_exhausted 429, unimplemented 501, unavailable 503, …).
 */
export function httpStatusOf(err: ConnectError): number {
  if (err.metadata.has("allow")) return 405;
  if (err.metadata.has("accept-post")) return 415;
  return codeToHttpStatus(err.code);
}

/** An error answered before its response started: what {@link writeError} and {@link writeUpgradeError} send. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string | number>;
  /** The Connect JSON error, `{"code":"not_found","message":"…"}`. */
  readonly body: string;
}

/**
 * The one error table of the HTTP edge: the status ({@link httpStatusOf},
 * or `status` for the parser's own 408/413/431), the error's metadata as
 * headers (`Allow`, `Accept-Post`, `airwave-reason`, `retry-after-ms` and
 * from it `Retry-After` in seconds, RFC 9110 §10.2.3; `WWW-Authenticate:
 * Bearer` for unauthenticated, RFC 6750 §3), and the Connect JSON error
 * body. Internal errors lose their text (README "Errors").
 */
export function errorResponse(err: ConnectError, status?: number): ErrorResponse {
  const e = publicError(err);
  const body = errorJson(e);
  const headers: Record<string, string | number> = {};
  e.metadata.forEach((v, k) => {
    headers[k] = v;
  });
  const retryMs = Number(e.metadata.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(retryMs) && retryMs >= 0) headers["retry-after"] = String(Math.ceil(retryMs / 1000));
  if (e.code === Code.Unauthenticated) headers["www-authenticate"] ??= 'Bearer realm="airwave"';
  headers["content-type"] = "application/json";
  headers["content-length"] = Buffer.byteLength(body);
  return { status: status ?? httpStatusOf(e), headers, body };
}

/**
 * Ends a response that has not started with {@link errorResponse}: one
 * error format for every HTTP route and the Connect protocol. A response
 * already started is destroyed instead. `close` asks the client to drop the
 * connection (an unread oversized body).
 */
export function writeError(res: ServerResponse, err: ConnectError, o: { close?: boolean } = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = errorResponse(err);
  // HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2).
  if (o.close && res.req?.httpVersionMajor === 1) headers.connection = "close";
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * Refuses an HTTP/1.1 upgrade (a WebSocket handshake) before it happens
 * with {@link errorResponse} (401 with `WWW-Authenticate: Bearer`, 403, 404,
 * 400, 503 or 429 with `Retry-After`, …) and `Connection: close`; then the
 * socket is closed once the answer is written (as `ws` aborts a handshake).
 * Also answers the HTTP/1.1 parser's refusals (`parserRefusal`), whose
 * `status` (408, 413, 431) is not one of Connect's table.
 */
export function writeUpgradeError(socket: Duplex, err: ConnectError, status?: number): void {
  const { status: code, headers, body } = errorResponse(err, status);
  headers.connection = "close";
  const head = [`HTTP/1.1 ${code} ${STATUS_CODES[code] ?? ""}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once("finish", () => socket.destroy());
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}
