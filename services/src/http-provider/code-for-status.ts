import { Code } from "@connectrpc/connect";

/**
 * The Connect code for an upstream HTTP status, one table for every
 * provider kind:
 *
 * | status | Code | retried | why |
 * |---|---|---|---|
 * | 400, 413, 422 | InvalidArgument | no | the upstream refused the request |
 * | 401, 403 | FailedPrecondition | no | the *operator's* key is missing, wrong or lacks access: never the caller's fault, and retrying cannot help |
 * | 404 | NotFound | no | unknown model (or a wrong base URL) |
 * | 408, 5xx | Unavailable | yes | |
 * | 409 | Aborted | no | a conflict upstream; the caller may retry |
 * | 429 | ResourceExhausted | yes | rate limit or quota |
 * | other 4xx | Internal | no | |
 * | anything else (1xx, 3xx) | Unknown | no | redirects are not followed |
 *
 * @see https://connectrpc.com/docs/protocol/#error-codes
 * @see https://platform.openai.com/docs/guides/error-codes/api-errors
 * @see https://docs.anthropic.com/en/api/errors
 * @see https://ai.google.dev/gemini-api/docs/troubleshooting#error-codes
 */
export function codeForStatus(status: number): Code {
  if (status === 400 || status === 413 || status === 422) return Code.InvalidArgument;
  if (status === 401 || status === 403) return Code.FailedPrecondition;
  if (status === 404) return Code.NotFound;
  if (status === 408 || (status >= 500 && status <= 599)) return Code.Unavailable;
  if (status === 409) return Code.Aborted;
  if (status === 429) return Code.ResourceExhausted;
  if (status >= 400 && status <= 499) return Code.Internal;
  return Code.Unknown;
}

/** True for the statuses the runtime retries before the first event: 408, 429 and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * The machine-readable reason (AIP-193 style, UPPER_SNAKE_CASE) for an
 * upstream HTTP status, sent as the `airwave-reason` error metadata:
 * UPSTREAM_INVALID_REQUEST (400, 413, 422), UPSTREAM_AUTH (401, 403),
 * UPSTREAM_NOT_FOUND (404), UPSTREAM_CONFLICT (409), UPSTREAM_RATE_LIMITED
 * (429), UPSTREAM_UNAVAILABLE (408, 5xx), UPSTREAM_HTTP_ERROR otherwise.
 */
export function reasonForStatus(status: number): string {
  switch (codeForStatus(status)) {
    case Code.InvalidArgument:
      return "UPSTREAM_INVALID_REQUEST";
    case Code.FailedPrecondition:
      return "UPSTREAM_AUTH";
    case Code.NotFound:
      return "UPSTREAM_NOT_FOUND";
    case Code.Aborted:
      return "UPSTREAM_CONFLICT";
    case Code.ResourceExhausted:
      return "UPSTREAM_RATE_LIMITED";
    case Code.Unavailable:
      return "UPSTREAM_UNAVAILABLE";
    default:
      return "UPSTREAM_HTTP_ERROR";
  }
}
