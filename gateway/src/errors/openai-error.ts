import { Code, type ConnectError } from "@connectrpc/connect";
import { type ErrorResponse, errorResponse } from "./http-status.js";
import { publicError } from "./public-error.js";

/**
 * OpenAI's error object, the body of every error of the OpenAI-compatible
 * routes (`{"error": OpenAIErrorObject}`) and the payload of their SSE error
 * frame. Shape from OpenAI's API reference and error-code guide
 * (https://platform.openai.com/docs/guides/error-codes); the official SDKs
 * read `message`, `type`, `param` and `code` from it.
 */
export interface OpenAIErrorObject {
  /** Safe to show: internal errors become "internal error" ({@link publicError}). */
  readonly message: string;
  /** The error class, e.g. `invalid_request_error`, `requests`, `server_error` (see {@link openaiErrorKinds}). */
  readonly type: string;
  /** The request parameter concerned, e.g. `"messages[2].content"` or `"model"`; null when none. */
  readonly param: string | null;
  /** A machine-readable code, e.g. `invalid_api_key`, `model_not_found`, `rate_limit_exceeded`; null when none. */
  readonly code: string | null;
}

/**
 * The OpenAI `type` and `code` of each Connect code. The HTTP status is the
 * gateway's one status table (`httpStatusOf`: 400, 401, 403, 404, 409, 429,
 * 499, 500, 501, 503, 504), which matches what OpenAI answers for the same
 * situations, so the SDKs raise the matching class (`BadRequestError` 400,
 * `AuthenticationError` 401, `PermissionDeniedError` 403, `NotFoundError`
 * 404, `ConflictError` 409, `RateLimitError` 429, `InternalServerError` ≥
 * 500) and retry what OpenAI's SDKs retry (409, 429, ≥ 500, honouring
 * `retry-after-ms` / `Retry-After`).
 *
 * | Connect code | HTTP | type | code |
 * |---|---|---|---|
 * | invalid_argument, failed_precondition, out_of_range | 400 | `invalid_request_error` | null (the routes set e.g. `unsupported_parameter`) |
 * | unauthenticated | 401 | `invalid_request_error` | `invalid_api_key` (OpenAI's answer to a wrong key) |
 * | permission_denied | 403 | `invalid_request_error` | `permission_denied` |
 * | not_found | 404 | `invalid_request_error` | `not_found` (an unknown model: `model_not_found`) |
 * | already_exists, aborted | 409 | `invalid_request_error` | `conflict` |
 * | resource_exhausted | 429 | `requests` | `rate_limit_exceeded`; `insufficient_quota` for both when `airwave-reason` is `UPSTREAM_QUOTA_EXHAUSTED` |
 * | canceled | 499 | `invalid_request_error` | `request_cancelled` |
 * | unimplemented | 501 (405 with `Allow` for a wrong method) | `invalid_request_error` | `unsupported_method` |
 * | deadline_exceeded | 504 | `server_error` | `timeout` |
 * | unavailable | 503 | `server_error` | `service_unavailable` |
 * | internal, unknown, data_loss | 500 | `server_error` | null |
 */
export const openaiErrorKinds: Readonly<Record<Code, { readonly type: string; readonly code: string | null }>> = {
  [Code.InvalidArgument]: { type: "invalid_request_error", code: null },
  [Code.FailedPrecondition]: { type: "invalid_request_error", code: null },
  [Code.OutOfRange]: { type: "invalid_request_error", code: null },
  [Code.Unauthenticated]: { type: "invalid_request_error", code: "invalid_api_key" },
  [Code.PermissionDenied]: { type: "invalid_request_error", code: "permission_denied" },
  [Code.NotFound]: { type: "invalid_request_error", code: "not_found" },
  [Code.AlreadyExists]: { type: "invalid_request_error", code: "conflict" },
  [Code.Aborted]: { type: "invalid_request_error", code: "conflict" },
  [Code.ResourceExhausted]: { type: "requests", code: "rate_limit_exceeded" },
  [Code.Canceled]: { type: "invalid_request_error", code: "request_cancelled" },
  [Code.Unimplemented]: { type: "invalid_request_error", code: "unsupported_method" },
  [Code.DeadlineExceeded]: { type: "server_error", code: "timeout" },
  [Code.Unavailable]: { type: "server_error", code: "service_unavailable" },
  [Code.Internal]: { type: "server_error", code: null },
  [Code.Unknown]: { type: "server_error", code: null },
  [Code.DataLoss]: { type: "server_error", code: null },
};

/** The `param` and `code` an error was marked with by {@link withOpenAIParam}. */
const marks = new WeakMap<ConnectError, { readonly param: string | null; readonly code: string | undefined }>();

/**
 * Marks `err` with the OpenAI request parameter it concerns (`"n"`,
 * `"messages[0].content[1].type"`) and, optionally, a more specific `code`
 * than the table's (`unsupported_parameter`, `model_not_found`). Returns
 * `err` itself, so `throw withOpenAIParam(new ConnectError(…), "n")` works.
 */
export function withOpenAIParam(err: ConnectError, param: string | null, code?: string): ConnectError {
  marks.set(err, { param, code });
  return err;
}

/**
 * The OpenAI error object of `err`: its public message ({@link publicError}),
 * the table's type and code ({@link openaiErrorKinds}) unless marked by
 * {@link withOpenAIParam}, and its param (null when unmarked).
 */
export function openaiError(err: ConnectError): OpenAIErrorObject {
  const e = publicError(err);
  const kind = openaiErrorKinds[e.code] ?? openaiErrorKinds[Code.Internal];
  const mark = e === err ? marks.get(err) : undefined;
  const quota = e.code === Code.ResourceExhausted && e.metadata.get("airwave-reason") === "UPSTREAM_QUOTA_EXHAUSTED";
  return {
    message: e.rawMessage,
    type: quota ? "insufficient_quota" : kind.type,
    param: mark?.param ?? null,
    code: mark?.code ?? (quota ? "insufficient_quota" : kind.code),
  };
}

/**
 * An error of the OpenAI-compatible routes before their response started:
 * the status and headers of the gateway's one HTTP error table
 * ({@link errorResponse}: `Allow`, `Accept-Post`, `airwave-reason`,
 * `retry-after-ms` and `Retry-After`, `WWW-Authenticate`), with the body
 * `{"error":{"message","type","param","code"}}` ({@link openaiError}).
 * Pass it to `writeError` as its `shape`.
 */
export function openaiErrorResponse(err: ConnectError, status?: number): ErrorResponse {
  const r = errorResponse(err, status);
  const body = JSON.stringify({ error: openaiError(err) });
  return { status: r.status, headers: { ...r.headers, "content-length": Buffer.byteLength(body) }, body };
}

/**
 * The SSE error frame of a started OpenAI-compatible stream:
 * `data: {"error":{…}}` (no `event:` line, no `id:`), as OpenAI-compatible
 * servers such as vLLM send it; the OpenAI SDK raises it as an `APIError`,
 * the AI SDK as an `error` part.
 */
export function openaiErrorFrame(err: ConnectError): string {
  return `data: ${JSON.stringify({ error: openaiError(err) })}\n\n`;
}
