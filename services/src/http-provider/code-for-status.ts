import { Code } from "@connectrpc/connect";

/**
 * The Connect code for an upstream HTTP status, one table for every
 * provider kind:
 *
 * | status | Code | retried | why |
 * |---|---|---|---|
 * | 400, 413, 422 | InvalidArgument | no | the upstream refused the request |
 * | 401, 403 | FailedPrecondition | no | the *operator's* key is missing, wrong or lacks access: never the caller's fault, and retrying cannot help |
 * | 402 | ResourceExhausted | no | the account's credit or quota is exhausted (Anthropic `billing_error`, OpenRouter): retrying does not restore access |
 * | 404 | NotFound | no | unknown model (or a wrong base URL) |
 * | 408, 5xx | Unavailable | yes | |
 * | 409 | Aborted | no | a conflict upstream; the caller may retry |
 * | 429 | ResourceExhausted | yes | rate limit; not when the body says the quota is exhausted ({@link isQuotaExhausted}) |
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
  if (status === 402) return Code.ResourceExhausted;
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
 * (429), UPSTREAM_QUOTA_EXHAUSTED (402), UPSTREAM_UNAVAILABLE (408, 5xx),
 * UPSTREAM_HTTP_ERROR otherwise. A 429 whose body says the quota is
 * exhausted is UPSTREAM_QUOTA_EXHAUSTED too: see {@link isQuotaExhausted}.
 */
export function reasonForStatus(status: number): string {
  if (status === 402) return quotaExhaustedReason;
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

/** The reason of an upstream failure that retrying cannot fix: the account's quota, credit or billing is exhausted. */
export const quotaExhaustedReason = "UPSTREAM_QUOTA_EXHAUSTED";

/**
 * Provider error codes and types that mean the account's quota, credit or
 * billing is exhausted (not a rate limit: waiting does not restore access):
 * OpenAI `insufficient_quota`, `billing_hard_limit_reached`,
 * `billing_not_active` (sent with HTTP 429, or as an in-stream error code);
 * Anthropic `billing_error` (HTTP 402); OpenRouter and others
 * `insufficient_credits` / `payment_required` (HTTP 402).
 *
 * @see https://platform.openai.com/docs/guides/error-codes/api-errors
 * @see https://docs.anthropic.com/en/api/errors
 * @see https://openrouter.ai/docs/api-reference/errors
 */
const quotaCodes =
  /\b(insufficient_quota|billing_hard_limit_reached|billing_not_active|billing_error|insufficient_credits|payment_required)\b/;

/** True when a provider's error `code` or `type` text (any case) names quota or billing exhaustion (see {@link quotaCodes}). */
export function isQuotaExhaustedCode(text: string): boolean {
  return quotaCodes.test(text.toLowerCase());
}

/**
 * True when an upstream error response means quota or billing exhaustion:
 * HTTP 402, or a 4xx whose JSON body's `error.code`, `error.type`,
 * `error.status` or top-level `code`/`type` is one of the quota codes
 * (OpenAI answers `insufficient_quota` with HTTP 429, like a rate limit).
 * Never retried, reason {@link quotaExhaustedReason}.
 */
export function isQuotaExhausted(status: number, body: string): boolean {
  if (status === 402) return true;
  if (status < 400 || status > 499 || !body) return false;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return false;
  }
  if (typeof v !== "object" || v === null) return false;
  const top = v as Record<string, unknown>;
  const e = typeof top["error"] === "object" && top["error"] !== null ? (top["error"] as Record<string, unknown>) : {};
  return [e["code"], e["type"], e["status"], top["code"], top["type"]].some((x) => typeof x === "string" && isQuotaExhaustedCode(x));
}

/** True when the runtime retries this upstream error response: {@link isRetryableStatus}, unless {@link isQuotaExhausted}. */
export function isRetryableResponse(status: number, body: string): boolean {
  return isRetryableStatus(status) && !isQuotaExhausted(status, body);
}
