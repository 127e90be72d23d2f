import { Code, ConnectError } from "@connectrpc/connect";
import { codeToHttpStatus } from "@connectrpc/connect/protocol-connect";
import { errorJson, publicError } from "./public-error.js";

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

/** An error answered before its response started: what the error writer (`write-error.ts`) sends. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Record<string, string | number>;
  /** The Connect JSON error, `{"code":"not_found","message":"…"}`. */
  readonly body: string;
}

/**
 * The one error table of the HTTP edge: the status ({@link httpStatusOf},
 * or `status` for the parser's own 408/413/431 and the 426 of the
 * WebSocket path), the error's metadata as headers (`Allow`, `Accept-Post`,
 * `airwave-reason`, `retry-after-ms` and from it `Retry-After` in seconds,
 * RFC 9110 §10.2.3; `WWW-Authenticate: Bearer` for unauthenticated, RFC
 * 6750 §3), and the Connect JSON error body. Internal errors lose their
 * text ({@link publicError}).
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
