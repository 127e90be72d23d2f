import { Code } from "@connectrpc/connect";
import { quotaExhaustedReason } from "../../http-provider/code-for-status.js";
import { oneLine } from "../../json-shape.js";
import type { AnthropicError } from "./anthropic-chunk.js";

/** An Anthropic error object mapped for a terminal `failed` event. */
export interface MappedAnthropicError {
  /** The Connect code. */
  readonly code: Code;
  /** A message safe to show to the client. */
  readonly message: string;
  /** The machine-readable reason (AIP-193). */
  readonly reason: string;
  /** Whether the same request may succeed when retried. */
  readonly retryable: boolean;
}

interface Row {
  readonly code: Code;
  readonly reason: string;
  readonly what: string;
  /** The upstream `message` is about the caller's request, so it may be shown. */
  readonly show: boolean;
}

/**
 * The error table, by `error.type`:
 *
 * | type (HTTP status) | Code | reason | retryable |
 * |---|---|---|---|
 * | `overloaded_error` (529) | Unavailable | UPSTREAM_OVERLOADED | yes |
 * | `api_error` (500), `timeout_error` (504) | Unavailable | UPSTREAM_ERROR | yes |
 * | `rate_limit_error` (429) | ResourceExhausted | UPSTREAM_RATE_LIMITED | yes |
 * | `invalid_request_error` (400), `request_too_large` (413) | InvalidArgument | UPSTREAM_REJECTED | no |
 * | `not_found_error` (404) | NotFound | UPSTREAM_REJECTED | no |
 * | `authentication_error` (401), `permission_error` (403) | FailedPrecondition | UPSTREAM_AUTH | no — the operator's key, not the caller's request (as for HTTP 401/403 in the shared runtime) |
 * | `billing_error` (402) | ResourceExhausted | UPSTREAM_QUOTA_EXHAUSTED | no — the account's credit is exhausted; retrying does not restore access |
 * | anything else | Unknown | UPSTREAM_ERROR | no |
 *
 * @see https://docs.anthropic.com/en/api/errors
 */
const table: Readonly<Record<string, Row>> = {
  overloaded_error: { code: Code.Unavailable, reason: "UPSTREAM_OVERLOADED", what: "the inference provider is overloaded", show: false },
  api_error: { code: Code.Unavailable, reason: "UPSTREAM_ERROR", what: "the inference provider failed", show: false },
  timeout_error: { code: Code.Unavailable, reason: "UPSTREAM_ERROR", what: "the inference provider timed out", show: false },
  rate_limit_error: {
    code: Code.ResourceExhausted,
    reason: "UPSTREAM_RATE_LIMITED",
    what: "the inference provider's rate limit is exhausted",
    show: true,
  },
  invalid_request_error: {
    code: Code.InvalidArgument,
    reason: "UPSTREAM_REJECTED",
    what: "the inference provider refused the request",
    show: true,
  },
  request_too_large: {
    code: Code.InvalidArgument,
    reason: "UPSTREAM_REJECTED",
    what: "the request is too large for the inference provider",
    show: true,
  },
  not_found_error: {
    code: Code.NotFound,
    reason: "UPSTREAM_REJECTED",
    what: "the inference provider does not know this model or resource",
    show: true,
  },
  authentication_error: {
    code: Code.FailedPrecondition,
    reason: "UPSTREAM_AUTH",
    what: "the inference provider refused the service's credentials",
    show: false,
  },
  permission_error: {
    code: Code.FailedPrecondition,
    reason: "UPSTREAM_AUTH",
    what: "the inference provider refused the service's credentials",
    show: false,
  },
  billing_error: {
    code: Code.ResourceExhausted,
    reason: quotaExhaustedReason,
    what: "the inference provider's quota or credit is exhausted (the operator must check the account's plan and billing)",
    show: false,
  },
};

const unknownRow: Row = { code: Code.Unknown, reason: "UPSTREAM_ERROR", what: "the inference provider reported an error", show: false };

/**
 * Maps the `error` object of an `error` stream event (`{type, message}`) by
 * the table above. The message says what happened and, for the rows about
 * the caller's request (invalid request, not found, rate limit), adds the
 * upstream `message` (one line, at most 300 characters); for the others it
 * says nothing of the upstream's text, which may reveal credentials or
 * internals.
 *
 * @see https://docs.anthropic.com/en/api/errors
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#error-events
 */
export function mapAnthropicError(error: AnthropicError | undefined): MappedAnthropicError {
  const type = error?.type ?? "";
  const row = Object.hasOwn(table, type) ? (table[type] ?? unknownRow) : unknownRow;
  const upstream = row.show && error?.message !== undefined ? oneLine(error.message) : "";
  return {
    code: row.code,
    message: `${row.what} during the stream${upstream ? `: ${upstream}` : ""}`,
    reason: row.reason,
    retryable: row.code === Code.Unavailable || (row.code === Code.ResourceExhausted && row.reason !== quotaExhaustedReason),
  };
}
