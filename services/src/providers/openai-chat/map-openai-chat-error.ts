import { Code } from "@connectrpc/connect";
import { codeForStatus, isQuotaExhaustedCode, quotaExhaustedReason } from "../../http-provider/code-for-status.js";
import { asRecord, oneLine } from "../../json-shape.js";

/** Codes whose upstream message is about the caller's request, so it may be shown to the caller. */
const showUpstreamMessage = new Set([Code.InvalidArgument, Code.NotFound, Code.ResourceExhausted]);

/** A mid-stream `{"error": {…}}` chunk, mapped for a terminal `failed` event. */
export interface MappedStreamError {
  /** The Connect code. */
  readonly code: Code;
  /** A message safe to show to the client. */
  readonly message: string;
  /** The machine-readable reason (AIP-193). */
  readonly reason: string;
  /** False when retrying cannot help (quota or billing exhaustion); undefined: the code's default. */
  readonly retryable?: boolean;
}

/**
 * Maps a mid-stream error chunk (`data: {"error": …}`, possibly under
 * `event: error`): `error` is the chunk's `error` value, `errorType` its
 * sibling `error_type` (TGI sends `{"error": "<text>", "error_type": …}`).
 *
 * | upstream | Code | reason |
 * |---|---|---|
 * | numeric `status_code` / `status` / `code` (Groq, OpenRouter) | the runtime's HTTP status table (`codeForStatus`) | by code, as below |
 * | `type`/`code` `insufficient_quota`, `billing_hard_limit_reached`, … (`isQuotaExhaustedCode`), or numeric status 402 | ResourceExhausted, not retryable | UPSTREAM_QUOTA_EXHAUSTED |
 * | `type`/`code`/`error_type` text with `rate_limit`, `quota`, `too_many` | ResourceExhausted | UPSTREAM_RATE_LIMITED |
 * | … `invalid`, `validation` (TGI) | InvalidArgument | UPSTREAM_REJECTED |
 * | … `not_found` | NotFound | UPSTREAM_REJECTED |
 * | … `server_error`, `overloaded` (TGI, Anthropic-style), `unavailable`, `timeout`, `incomplete_generation` (TGI) | Unavailable (retryable) | UPSTREAM_ERROR |
 * | … `authentication`, `permission`, `unauthorized` | FailedPrecondition (the operator's key, as for HTTP 401/403) | UPSTREAM_ERROR |
 * | anything else (a bare string, an unknown type) | Unknown | UPSTREAM_ERROR |
 *
 * The message shows the upstream's text only for InvalidArgument, NotFound
 * and ResourceExhausted (about the caller's request), one line, ≤ 300
 * characters; never for the others, whose text may hold internals.
 *
 * @see https://platform.openai.com/docs/guides/error-codes/api-errors
 * @see https://openrouter.ai/docs/api-reference/errors#error-during-streaming
 * @see https://console.groq.com/docs/errors
 * @see https://huggingface.co/docs/text-generation-inference/en/reference/api_reference
 */
export function fromOpenAIStreamError(error: unknown, errorType?: unknown): MappedStreamError {
  const e = asRecord(error) ?? (typeof error === "string" ? { message: error } : {});
  const status = [e["status_code"], e["status"], e["code"]].find((v) => typeof v === "number");
  const text = `${String(e["type"] ?? "")} ${String(e["code"] ?? "")} ${String(errorType ?? "")}`.toLowerCase();
  const code =
    typeof status === "number"
      ? codeForStatus(status)
      : /rate_limit|quota|too_many/.test(text)
        ? Code.ResourceExhausted
        : /invalid|validation/.test(text)
          ? Code.InvalidArgument
          : /not_found/.test(text)
            ? Code.NotFound
            : /server_error|overloaded|unavailable|timeout|incomplete_generation/.test(text)
              ? Code.Unavailable
              : /authentication|permission|unauthorized/.test(text)
                ? Code.FailedPrecondition
                : Code.Unknown;
  const upstream = showUpstreamMessage.has(code) && typeof e["message"] === "string" ? oneLine(e["message"]) : "";
  const message = `the inference provider reported an error during the stream${upstream ? `: ${upstream}` : ""}`;
  if (status === 402 || (code === Code.ResourceExhausted && isQuotaExhaustedCode(text))) {
    return { code: Code.ResourceExhausted, message, reason: quotaExhaustedReason, retryable: false };
  }
  return {
    code,
    message,
    reason:
      code === Code.ResourceExhausted
        ? "UPSTREAM_RATE_LIMITED"
        : code === Code.InvalidArgument || code === Code.NotFound
          ? "UPSTREAM_REJECTED"
          : "UPSTREAM_ERROR",
  };
}
