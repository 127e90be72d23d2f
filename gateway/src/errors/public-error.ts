import { type Failed, fromProtoCode } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeToString } from "@connectrpc/connect/protocol-connect";

/**
 * The error as a client may see it: INTERNAL and UNKNOWN become
 * INTERNAL "internal error" (the original kept as `cause`, for logs);
 * every other error is returned as is. Internal errors never leak their
 * text (README "Errors").
 */
export function publicError(e: ConnectError): ConnectError {
  if (e.code === Code.Internal || e.code === Code.Unknown) {
    return new ConnectError("internal error", Code.Internal, undefined, undefined, e);
  }
  return e;
}

/**
 * The Connect JSON error shape, `{"code":"unavailable","message":"…"}`
 * (https://connectrpc.com/docs/protocol#error-end-stream): the body of
 * every HTTP error answer and the payload of the SSE and NDJSON error
 * frames. Pass a {@link publicError}: the message is written as given.
 */
export function errorJson(err: ConnectError): string {
  return JSON.stringify({ code: codeToString(err.code), message: err.rawMessage });
}

/**
 * The error a `failed` event reports, for the egresses that answer it as an
 * error of their own shape (OpenAI's, the AI SDK's `errorText`): its code
 * (UNKNOWN as INTERNAL), its message, and the metadata `airwave-reason` and
 * `retry-after-ms` when set. Pass the result through {@link publicError}
 * before showing it.
 */
export function errorOfFailed(v: Failed): ConnectError {
  const meta = new Headers();
  if (v.reason !== "") meta.set("airwave-reason", v.reason);
  if (v.retryAfterMs > 0) meta.set("retry-after-ms", String(v.retryAfterMs));
  const code = fromProtoCode(v.code);
  return new ConnectError(v.message, code === Code.Unknown ? Code.Internal : code, meta);
}
