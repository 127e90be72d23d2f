import type { Duplex } from "node:stream";
import { Code, ConnectError } from "@connectrpc/connect";
import { writeUpgradeError } from "./write-error.js";

/** The limits a parser refusal names in its message. */
export interface ParserLimits {
  /** Largest header block Node's parser accepts, in bytes (`http.maxHeaderSize`, 16384 by default). */
  readonly maxHeaderBytes: number;
  /** AIRWAVE_HEADERS_TIMEOUT_MS, in ms (0 = off). */
  readonly headersTimeoutMs: number;
  /** AIRWAVE_REQUEST_TIMEOUT_MS, in ms (0 = off). */
  readonly requestTimeoutMs: number;
}

/** A refusal of the HTTP/1.1 parser: the Connect error, and its HTTP status when Connect's table has none for it. */
export interface ParserRefusal {
  readonly error: ConnectError;
  /** 408, 413 or 431; undefined: the error's code's status (`httpStatusOf`: 400 for `invalid_argument`). */
  readonly status?: number;
}

/**
 * What the gateway answers when Node's HTTP/1.1 parser refuses a request
 * before any route sees it (the server's `clientError`), by the error's
 * `code` (llhttp's `HPE_*` codes and Node's `ERR_HTTP_REQUEST_TIMEOUT`; the
 * statuses are those Node itself answers, without a body):
 *
 * | error | HTTP | Connect code |
 * |---|---|---|
 * | `HPE_HEADER_OVERFLOW` (headers over {@link ParserLimits.maxHeaderBytes}) | 431 | `resource_exhausted` |
 * | `HPE_CHUNK_EXTENSIONS_OVERFLOW` | 413 | `resource_exhausted` |
 * | `ERR_HTTP_REQUEST_TIMEOUT` (headers or whole request too slow) | 408 | `deadline_exceeded` |
 * | any other `HPE_*` (a malformed request: control bytes in a header value, a bad method, …) | 400 | `invalid_argument` |
 *
 * 431 and 413 are not in Connect's HTTP→code table: a size limit of the
 * server is `resource_exhausted`, as the gateway's other size limits are
 * (gRPC's "some resource has been exhausted", here the header or chunk
 * buffer). The messages are fixed text (llhttp's reason for a 400, one of
 * its constant strings), safe to show. Undefined for errors of the
 * connection itself (`ECONNRESET`, `EPIPE`, …): nothing to answer.
 */
export function parserRefusal(err: Error & { code?: string; reason?: string }, limits: ParserLimits): ParserRefusal | undefined {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return { status: 431, error: new ConnectError(`request headers larger than ${limits.maxHeaderBytes} bytes`, Code.ResourceExhausted) };
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return { status: 413, error: new ConnectError("chunk extensions too large", Code.ResourceExhausted) };
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return {
        status: 408,
        error: new ConnectError(
          `request not received in time (headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms)`,
          Code.DeadlineExceeded,
        ),
      };
    default:
      if (!err.code?.startsWith("HPE_")) return undefined;
      return {
        error: new ConnectError(
          `malformed HTTP request${typeof err.reason === "string" ? `: ${err.reason.slice(0, 100)}` : ""}`,
          Code.InvalidArgument,
        ),
      };
  }
}

/**
 * The HTTP/1.1 server's `clientError` listener: answers a
 * {@link parserRefusal} with the Connect JSON error body and
 * `Connection: close`, then closes the connection; a connection error, a
 * socket no longer writable, or a response already started (its bytes are
 * on the wire) is only closed.
 */
export function answerClientError(err: Error & { code?: string; reason?: string }, socket: Duplex, limits: ParserLimits): void {
  const refusal = parserRefusal(err, limits);
  // The response in flight on this connection, if any (Node's own clientError default checks it too).
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } | null })._httpMessage;
  if (refusal === undefined || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  writeUpgradeError(socket, refusal.error, refusal.status);
}
