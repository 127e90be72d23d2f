import { Code } from "@connectrpc/connect";
import { geminiStreamErrorSchema } from "./gemini-chunk.js";
import { oneLine } from "../../json-shape.js";

/** The `error` value read as a google.rpc.Status; anything but an object reads as `{}` (no status, no code). */
const statusSchema = geminiStreamErrorSchema.catch(() => ({}));

/** A Gemini error object, mapped for a terminal `failed` event. */
export interface MappedGeminiError {
  /** The Connect code. */
  readonly code: Code;
  /** A message safe to show to the client. */
  readonly message: string;
  /** The machine-readable reason (AIP-193). */
  readonly reason: string;
}

/**
 * Google's canonical error `status` → Connect code and reason:
 *
 * | status (HTTP) | Code | reason |
 * |---|---|---|
 * | `INVALID_ARGUMENT` (400), `OUT_OF_RANGE` (400) | InvalidArgument | UPSTREAM_REJECTED |
 * | `FAILED_PRECONDITION` (400, e.g. free tier not available in the region) | FailedPrecondition | UPSTREAM_REJECTED |
 * | `NOT_FOUND` (404) | NotFound | UPSTREAM_REJECTED |
 * | `RESOURCE_EXHAUSTED` (429) | ResourceExhausted | UPSTREAM_RATE_LIMITED |
 * | `PERMISSION_DENIED` (403), `UNAUTHENTICATED` (401) | Internal | UPSTREAM_ERROR (the service's key: never the caller's fault) |
 * | `INTERNAL` (500), `UNAVAILABLE` (503), `UNKNOWN` (500) | Unavailable | UPSTREAM_ERROR |
 * | `CANCELLED` (499): the upstream gave up on its own (our caller's cancel aborts the fetch and never reaches here) | Unavailable | UPSTREAM_ERROR |
 * | `DEADLINE_EXCEEDED` (504) | DeadlineExceeded | UPSTREAM_ERROR |
 * | `ABORTED` (409) | Aborted | UPSTREAM_ERROR |
 *
 * Without a known `status`, the numeric `code` (an HTTP status) decides by
 * the same table; otherwise Unknown.
 *
 * @see https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes
 * @see https://cloud.google.com/apis/design/errors#handling_errors
 */
const byStatus: Readonly<Record<string, Code>> = {
  INVALID_ARGUMENT: Code.InvalidArgument,
  OUT_OF_RANGE: Code.InvalidArgument,
  FAILED_PRECONDITION: Code.FailedPrecondition,
  NOT_FOUND: Code.NotFound,
  RESOURCE_EXHAUSTED: Code.ResourceExhausted,
  PERMISSION_DENIED: Code.Internal,
  UNAUTHENTICATED: Code.Internal,
  INTERNAL: Code.Unavailable,
  UNAVAILABLE: Code.Unavailable,
  UNKNOWN: Code.Unavailable,
  CANCELLED: Code.Unavailable,
  DEADLINE_EXCEEDED: Code.DeadlineExceeded,
  ABORTED: Code.Aborted,
};

/** The Connect code for the HTTP status Google pairs with a canonical status (see {@link byStatus}). */
function codeForHttpStatus(status: number): Code {
  if (status === 400) return Code.InvalidArgument;
  if (status === 401 || status === 403) return Code.Internal;
  if (status === 404) return Code.NotFound;
  if (status === 409) return Code.Aborted;
  if (status === 429) return Code.ResourceExhausted;
  if (status === 504) return Code.DeadlineExceeded;
  if (status === 499 || (status >= 500 && status <= 599)) return Code.Unavailable;
  return Code.Unknown;
}

/** Codes whose upstream message is about the caller's request, so it may be shown. */
const showUpstreamMessage = new Set([Code.InvalidArgument, Code.FailedPrecondition, Code.NotFound, Code.ResourceExhausted]);

/**
 * Maps the `error` object (google.rpc.Status: `{code, message, status,
 * details}`, read through `geminiStreamErrorSchema`; any other value reads
 * as `{}`) found inside a 200 stream to the terminal `failed` it causes, by
 * the table above. The message says an error happened and, only for
 * InvalidArgument, FailedPrecondition, NotFound and ResourceExhausted, adds
 * the upstream's `message` (one line, at most 300 characters); internals
 * (`details`, debug info) never reach the client.
 */
export function fromGeminiStreamError(error: unknown): MappedGeminiError {
  const e = statusSchema.parse(error);
  // Own keys only: a status such as "toString" is not a canonical status.
  const status = e.status != null && Object.hasOwn(byStatus, e.status) ? byStatus[e.status] : undefined;
  const code = status ?? (e.code != null ? codeForHttpStatus(e.code) : Code.Unknown);
  const upstream = showUpstreamMessage.has(code) && e.message != null ? oneLine(e.message) : "";
  return {
    code,
    message: `the inference provider reported an error during the stream${upstream ? `: ${upstream}` : ""}`,
    reason:
      code === Code.ResourceExhausted
        ? "UPSTREAM_RATE_LIMITED"
        : code === Code.InvalidArgument || code === Code.NotFound || code === Code.FailedPrecondition
          ? "UPSTREAM_REJECTED"
          : "UPSTREAM_ERROR",
  };
}
