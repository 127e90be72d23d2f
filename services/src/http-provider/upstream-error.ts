import { Code, ConnectError } from "@connectrpc/connect";
import { codeForStatus, isQuotaExhausted, quotaExhaustedReason, reasonForStatus } from "./code-for-status.js";

/** Error metadata (a gRPC trailer) carrying the machine-readable reason of an upstream failure, e.g. `UPSTREAM_RATE_LIMITED`. */
export const headerReason = "airwave-reason";
/** Error metadata (a gRPC trailer) carrying the upstream's retry hint in milliseconds (from `Retry-After` / `retry-after-ms`). */
export const headerRetryAfterMs = "retry-after-ms";

/**
 * A ConnectError for an upstream failure before the first event: `message`
 * (safe to show to callers), `code`, and the metadata
 * {@link headerReason}: `reason` and, when known, {@link headerRetryAfterMs}.
 * `cause` is for logs only.
 */
export function upstreamError(
  message: string,
  code: Code,
  reason: string,
  o: { retryAfterMs?: number | undefined; cause?: unknown } = {},
): ConnectError {
  const metadata = new Headers({ [headerReason]: reason });
  if (o.retryAfterMs !== undefined) metadata.set(headerRetryAfterMs, String(o.retryAfterMs));
  return new ConnectError(message, code, metadata, undefined, o.cause);
}

/** What {@link fromUpstreamHttpError} needs of a non-2xx response. */
export interface UpstreamHttpFailure {
  /** The provider's configured name, e.g. `"anthropic"`. */
  readonly provider: string;
  /** The HTTP status. */
  readonly status: number;
  /** The error body text (bounded), possibly empty or not JSON. */
  readonly body: string;
  /** The parsed `Retry-After` / `retry-after-ms`, in milliseconds. */
  readonly retryAfterMs?: number | undefined;
  /** The spec's reader of a caller-safe message in the body (`HttpProviderSpec.errorMessage`). */
  readonly errorMessage: (body: string) => string | undefined;
}

/** Statuses whose upstream message is about the caller's request, so it may be shown to the caller. */
const showUpstreamMessage = new Set([400, 402, 404, 413, 422, 429]);

/**
 * Turns an upstream HTTP error response (status not 2xx, before any event)
 * into the ConnectError the provider throws. Code and reason by
 * {@link codeForStatus} / {@link reasonForStatus}; the retry hint, when the
 * upstream gave one, in the `retry-after-ms` metadata.
 *
 * The message names the provider and the status, and for 400/404/413/422/429
 * the spec's caller-safe message (one line, at most 300 characters). For
 * 401/403 it says the operator must check the provider's key, and carries
 * nothing of the body (which may echo part of the key); for 5xx and others
 * nothing of the body either. The status (and, except for 401/403, the first
 * 4 KiB of the body) are kept in `cause`, for logs.
 */
export function fromUpstreamHttpError(f: UpstreamHttpFailure): ConnectError {
  const { provider, status } = f;
  const code = codeForStatus(status);
  // Quota or billing exhaustion (HTTP 402, or 429 with `insufficient_quota`): a distinct reason, never retried.
  const quota = isQuotaExhausted(status, f.body);
  const shown = showUpstreamMessage.has(status) ? safeMessage(f.errorMessage, f.body) : undefined;
  const auth = status === 401 || status === 403;
  const what = auth
    ? `the ${provider} provider refused the inference service's credentials (the operator must check its API key)`
    : code === Code.InvalidArgument
      ? `the ${provider} provider refused the request`
      : code === Code.NotFound
        ? `the ${provider} provider does not know this model`
        : quota
          ? `the ${provider} provider's quota or credit is exhausted (the operator must check the account's plan and billing)`
          : code === Code.ResourceExhausted
            ? `the ${provider} provider's rate limit is exhausted`
            : code === Code.Unavailable
              ? `the ${provider} provider is unavailable`
              : code === Code.Aborted
                ? `the ${provider} provider reported a conflict`
                : `the ${provider} provider failed`;
  return upstreamError(
    `${what} (HTTP ${status})${shown ? `: ${shown}` : ""}`,
    code,
    quota ? quotaExhaustedReason : reasonForStatus(status),
    {
      retryAfterMs: f.retryAfterMs,
      cause: auth ? { status } : { status, body: f.body.slice(0, 4096) },
    },
  );
}

function safeMessage(errorMessage: (body: string) => string | undefined, body: string): string | undefined {
  let m: string | undefined;
  try {
    m = errorMessage(body);
  } catch {
    return undefined;
  }
  if (typeof m !== "string") return undefined;
  const t = m.replace(/\s+/g, " ").trim();
  if (t === "") return undefined;
  return t.length > 300 ? `${t.slice(0, 299)}…` : t;
}

/** The result of {@link fromUpstreamFetchError}. */
export interface FetchFailure {
  /** The error to throw when giving up. */
  readonly error: ConnectError;
  /** True when another attempt may succeed (every fetch failure before a response is). */
  readonly retryable: true;
}

/**
 * Classifies an error thrown by undici's `fetch` before the response
 * arrived (the caller's abort and the total timeout are handled by the
 * caller), by the undici error codes in its `cause` chain:
 *
 * - `UND_ERR_CONNECT_TIMEOUT` → Code.Unavailable, reason
 *   UPSTREAM_CONNECT_TIMEOUT (nothing reached the upstream);
 * - `UND_ERR_HEADERS_TIMEOUT` → Code.DeadlineExceeded, reason
 *   UPSTREAM_FIRST_BYTE_TIMEOUT;
 * - anything else (ECONNREFUSED, ECONNRESET, ENOTFOUND, TLS, socket closed)
 *   → Code.Unavailable, reason UPSTREAM_UNREACHABLE, naming only the errno,
 *   never the address.
 *
 * @see https://undici.nodejs.org/#/docs/api/Errors
 */
export function fromUpstreamFetchError(err: unknown, provider: string): FetchFailure {
  const codes = errorCodes(err);
  if (codes.includes("UND_ERR_CONNECT_TIMEOUT")) {
    return {
      error: upstreamError(`the ${provider} provider did not accept the connection in time`, Code.Unavailable, "UPSTREAM_CONNECT_TIMEOUT", {
        cause: err,
      }),
      retryable: true,
    };
  }
  if (codes.includes("UND_ERR_HEADERS_TIMEOUT")) {
    return {
      error: upstreamError(
        `the ${provider} provider did not start answering in time`,
        Code.DeadlineExceeded,
        "UPSTREAM_FIRST_BYTE_TIMEOUT",
        { cause: err },
      ),
      retryable: true,
    };
  }
  const errno = codes.find((c) => /^E[A-Z0-9_]+$/.test(c));
  return {
    error: upstreamError(`the ${provider} provider is unreachable${errno ? ` (${errno})` : ""}`, Code.Unavailable, "UPSTREAM_UNREACHABLE", {
      cause: err,
    }),
    retryable: true,
  };
}

/** The string `code` properties along an error's `cause` chain (at most 8 deep). */
export function errorCodes(err: unknown): string[] {
  const out: string[] = [];
  let e: unknown = err;
  for (let i = 0; i < 8 && typeof e === "object" && e !== null; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") out.push(code);
    e = (e as { cause?: unknown }).cause;
  }
  return out;
}
