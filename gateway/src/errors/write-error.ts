import { type ServerResponse, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { ConnectError } from "@connectrpc/connect";
import { type ErrorResponse, errorResponse } from "./http-status.js";

/** Options of {@link writeError}. */
export interface WriteErrorOptions {
  /** Ask the client to drop the connection (`Connection: close`, HTTP/1.1 only): an unread oversized body. */
  readonly close?: boolean;
  /** The status when it is not the error's own ({@link errorResponse}), e.g. 426 on the WebSocket path. */
  readonly status?: number;
  /** Headers added to the error's own (e.g. `Upgrade` with a 426). */
  readonly headers?: Readonly<Record<string, string>>;
  /** The body's shape; default {@link errorResponse} (the Connect JSON error). The OpenAI-compatible routes pass `openaiErrorResponse`. */
  readonly shape?: (err: ConnectError, status?: number) => ErrorResponse;
}

/**
 * The one error writer of the HTTP edge: ends a response that has not
 * started with {@link errorResponse} (one error format for every HTTP route,
 * the static files and the Connect protocol's fallback). A response already
 * started is destroyed instead.
 */
export function writeError(res: ServerResponse, err: ConnectError, o: WriteErrorOptions = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = (o.shape ?? errorResponse)(err, o.status);
  Object.assign(headers, o.headers);
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
