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

/**
 * Ends a response that has not started with an error: the status of
 * {@link httpStatusOf}, the error's metadata as headers (`Allow`,
 * `Accept-Post`, `airwave-reason`, `retry-after-ms` and from it `Retry-After`
 * in seconds; `WWW-Authenticate: Bearer` for unauthenticated, RFC 6750 §3), and the Connect JSON error body `{"code":"not_found","message":"…"}`:
 * one error format for every HTTP route and the Connect protocol. Internal
 * errors lose their text (README "Errors"). A response already started is
 * destroyed instead. `close` asks the client to drop the connection (an
 * unread oversized body).
 */
export function writeError(res: ServerResponse, err: ConnectError, o: { close?: boolean } = {}): void {
  const e = publicError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = errorJson(e);
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
  };
  e.metadata.forEach((v, k) => {
    headers[k] = v;
  });
  // The inference service's retry hint, also as the standard header (RFC 9110 §10.2.3, seconds).
  const retryMs = Number(e.metadata.get("retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(retryMs) && retryMs >= 0) headers["retry-after"] = String(Math.ceil(retryMs / 1000));
  if (e.code === Code.Unauthenticated) headers["www-authenticate"] ??= 'Bearer realm="airwave"';
  // HTTP/2 forbids connection-specific headers (RFC 9113 §8.2.2).
  if (o.close && res.req?.httpVersionMajor === 1) headers.connection = "close";
  res.writeHead(httpStatusOf(e), headers);
  res.end(body);
}

/**
 * Refuses an HTTP/1.1 upgrade (a WebSocket handshake) before it happens, in
 * the format of {@link writeError}: the status of {@link httpStatusOf}
 * (401 with `WWW-Authenticate: Bearer`, 403, 404, 400, 503, …), the error's
 * metadata as headers, the Connect JSON error body, and `Connection: close`;
 * then the socket is closed once the answer is written (as `ws` aborts a
 * handshake). Internal errors lose their text (README "Errors"). Also answers the
 * HTTP/1.1 parser's refusals (`parserRefusal`), whose `status` (408, 413,
 * 431) is not one of Connect's table.
 */
export function writeUpgradeError(socket: Duplex, err: ConnectError, status?: number): void {
  const e = publicError(err);
  const body = errorJson(e);
  status ??= httpStatusOf(e);
  const headers: Record<string, string | number> = {};
  e.metadata.forEach((v, k) => {
    headers[k] = v;
  });
  if (e.code === Code.Unauthenticated) headers["www-authenticate"] ??= 'Bearer realm="airwave"';
  headers["content-type"] = "application/json";
  headers["content-length"] = Buffer.byteLength(body);
  headers.connection = "close";
  const head = [`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once("finish", () => socket.destroy());
  socket.end(`${head.join("\r\n")}\r\n\r\n${body}`);
}
