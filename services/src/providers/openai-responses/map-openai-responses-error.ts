import { Code } from "@connectrpc/connect";
import { isQuotaExhaustedCode, quotaExhaustedReason } from "../../http-provider/code-for-status.js";
import { asRecord, oneLine } from "../../json-shape.js";

/** An upstream error inside a 200 stream, mapped for a terminal `failed` event. */
export interface MappedResponsesError {
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
 * The one table of this provider's in-stream error codes: the `code` of an
 * `error` event or of `response.error` in `response.failed`.
 *
 * | upstream `code` | Code | reason |
 * |---|---|---|
 * | `server_error`, `vector_store_timeout` | Unavailable (retryable) | UPSTREAM_ERROR |
 * | `rate_limit_exceeded` | ResourceExhausted (retryable) | UPSTREAM_RATE_LIMITED |
 * | `insufficient_quota`, `billing_hard_limit_reached`, … (`isQuotaExhaustedCode`) | ResourceExhausted (not retryable) | UPSTREAM_QUOTA_EXHAUSTED |
 * | `invalid_prompt`, `context_length_exceeded`, `data_residency_mismatch`, the image codes (`invalid_image`, `invalid_image_format`, `invalid_base64_image`, `invalid_image_url`, `image_too_large`, `image_too_small`, `image_parse_error`, `invalid_image_mode`, `image_file_too_large`, `unsupported_image_media_type`, `empty_image_file`, `failed_to_download_image`, `image_file_not_found`) | InvalidArgument | UPSTREAM_REJECTED |
 * | `bio_policy`, `misalignment_policy_violation`, `image_content_policy_violation` | InvalidArgument | UPSTREAM_POLICY_VIOLATION |
 *
 * A code not in the table is classified by its text (and the error's
 * `type`): `rate_limit`/`quota` → ResourceExhausted, `invalid`/`not_found`/
 * `too_large`/`unsupported` → InvalidArgument, `policy` → InvalidArgument
 * (policy), `server`/`overloaded`/`unavailable`/`timeout` → Unavailable;
 * anything else (including no code) → Unavailable UPSTREAM_ERROR, because an
 * error the API does not explain happened on its side.
 *
 * @see https://platform.openai.com/docs/api-reference/responses-streaming/error
 * @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-error
 * @see https://platform.openai.com/docs/guides/error-codes
 */
const table: Readonly<Record<string, readonly [Code, string]>> = {
  server_error: [Code.Unavailable, "UPSTREAM_ERROR"],
  vector_store_timeout: [Code.Unavailable, "UPSTREAM_ERROR"],
  rate_limit_exceeded: [Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED"],
  invalid_prompt: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  context_length_exceeded: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  data_residency_mismatch: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  invalid_image: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  invalid_image_format: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  invalid_base64_image: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  invalid_image_url: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  image_too_large: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  image_too_small: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  image_parse_error: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  invalid_image_mode: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  image_file_too_large: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  unsupported_image_media_type: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  empty_image_file: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  failed_to_download_image: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  image_file_not_found: [Code.InvalidArgument, "UPSTREAM_REJECTED"],
  bio_policy: [Code.InvalidArgument, "UPSTREAM_POLICY_VIOLATION"],
  misalignment_policy_violation: [Code.InvalidArgument, "UPSTREAM_POLICY_VIOLATION"],
  image_content_policy_violation: [Code.InvalidArgument, "UPSTREAM_POLICY_VIOLATION"],
};

/** Codes whose upstream message is about the caller's request, so it may be shown. */
const showUpstreamMessage = new Set([Code.InvalidArgument, Code.ResourceExhausted]);

/**
 * Maps an in-stream error — the `error` event itself (`{type: "error",
 * code, message, param}`, or with those fields under `error`) or the
 * `response.error` object of `response.failed` — by the table above. The
 * upstream message is passed on (one line, at most 300 characters) only for
 * InvalidArgument and ResourceExhausted, which are about the caller's
 * request; otherwise it may reveal internals and is left out.
 */
export function fromOpenAIResponsesError(error: unknown): MappedResponsesError {
  const top = asRecord(error) ?? {};
  const e = asRecord(top["error"]) ?? top;
  const codeText = typeof e["code"] === "string" ? e["code"] : "";
  const typeText = typeof e["type"] === "string" && e["type"] !== "error" ? e["type"] : "";
  const quota = isQuotaExhaustedCode(`${codeText} ${typeText}`);
  const [code, reason] = quota
    ? [Code.ResourceExhausted, quotaExhaustedReason]
    : (table[codeText] ?? classify(`${codeText} ${typeText}`.toLowerCase()));
  const upstream = showUpstreamMessage.has(code) && typeof e["message"] === "string" ? oneLine(e["message"]) : "";
  return {
    code,
    reason,
    message: `the inference provider reported an error during the stream${upstream ? `: ${upstream}` : ""}`,
    ...(quota ? { retryable: false } : {}),
  };
}

function classify(text: string): readonly [Code, string] {
  if (/rate_limit|quota|too_many/.test(text)) return [Code.ResourceExhausted, "UPSTREAM_RATE_LIMITED"];
  if (/policy/.test(text)) return [Code.InvalidArgument, "UPSTREAM_POLICY_VIOLATION"];
  if (/invalid|not_found|too_large|unsupported/.test(text)) return [Code.InvalidArgument, "UPSTREAM_REJECTED"];
  return [Code.Unavailable, "UPSTREAM_ERROR"];
}
