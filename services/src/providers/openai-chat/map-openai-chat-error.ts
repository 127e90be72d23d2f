import { Code, ConnectError } from "@connectrpc/connect";
import { asRecord } from "./openai-chat-chunk.js";

/**
 * The Connect code for an upstream HTTP status:
 *
 * | status | Code | why |
 * |---|---|---|
 * | 400, 413, 422 | InvalidArgument | the upstream refused the request |
 * | 401, 403 | Internal | *our* key is wrong or lacks access: never the caller's fault |
 * | 404 | NotFound | unknown model (or a wrong base URL) |
 * | 408, 5xx | Unavailable | retryable |
 * | 409 | Aborted | retryable conflict |
 * | 429 | ResourceExhausted | rate limit or quota |
 * | other 4xx | Internal | |
 * | anything else | Unknown | |
 *
 * @see https://platform.openai.com/docs/guides/error-codes/api-errors
 */
export function codeForStatus(status: number): Code {
  if (status === 400 || status === 413 || status === 422) return Code.InvalidArgument;
  if (status === 401 || status === 403) return Code.Internal;
  if (status === 404) return Code.NotFound;
  if (status === 408 || (status >= 500 && status <= 599)) return Code.Unavailable;
  if (status === 409) return Code.Aborted;
  if (status === 429) return Code.ResourceExhausted;
  if (status >= 400 && status <= 499) return Code.Internal;
  return Code.Unknown;
}

/** Codes whose upstream message is about the caller's request, so it may be shown to the caller. */
const showUpstreamMessage = new Set([Code.InvalidArgument, Code.NotFound, Code.ResourceExhausted]);

/**
 * Turns an upstream HTTP error response (status not 2xx, before any stream
 * was started) into the ConnectError the provider throws.
 *
 * The message names the status and, for 400/404/413/422/429, the upstream's
 * `error.message` (one line, at most 300 characters), which is about the
 * caller's request (e.g. an unknown model). For 401/403 and 5xx it says
 * nothing of the upstream's text, which may reveal our credentials or
 * internals. The status and body are kept in `cause` for logs.
 */
export function fromOpenAIHttpError(status: number, body: string): ConnectError {
  const code = codeForStatus(status);
  const upstream = showUpstreamMessage.has(code) ? upstreamMessage(body) : undefined;
  const what =
    status === 401 || status === 403
      ? "the inference provider refused the service's credentials"
      : code === Code.NotFound
        ? "the inference provider does not know this model"
        : code === Code.ResourceExhausted
          ? "the inference provider's rate limit or quota is exhausted"
          : code === Code.Unavailable
            ? "the inference provider is unavailable"
            : code === Code.InvalidArgument
              ? "the inference provider refused the request"
              : "the inference provider failed";
  const message = `${what} (HTTP ${status})${upstream ? `: ${upstream}` : ""}`;
  return new ConnectError(message, code, undefined, undefined, { status, body: body.slice(0, 4096) });
}

/** A mid-stream `{"error": {…}}` chunk, mapped for a terminal `failed` event. */
export interface MappedStreamError {
  /** The Connect code. */
  readonly code: Code;
  /** A message safe to show to the client. */
  readonly message: string;
  /** The machine-readable reason (AIP-193). */
  readonly reason: string;
}

/**
 * Maps the `error` object of a mid-stream error chunk (`data: {"error": …}`,
 * possibly under `event: error`). The code comes from a numeric
 * `status_code`/`status`/`code` via {@link codeForStatus}, else from the
 * `type`/`code` text: `rate_limit`/`quota` → ResourceExhausted,
 * `invalid_request`/`invalid` → InvalidArgument, `not_found` → NotFound,
 * `server_error`/`overloaded`/`unavailable`/`timeout` → Unavailable,
 * `authentication`/`permission` → Internal, otherwise Unknown.
 * Reasons: UPSTREAM_RATE_LIMITED, UPSTREAM_REJECTED (InvalidArgument, NotFound), UPSTREAM_ERROR.
 *
 * @see https://platform.openai.com/docs/guides/error-codes/api-errors
 */
export function fromOpenAIStreamError(error: unknown): MappedStreamError {
  const e = asRecord(error) ?? {};
  const status = [e["status_code"], e["status"], e["code"]].find((v) => typeof v === "number");
  const text = `${String(e["type"] ?? "")} ${String(e["code"] ?? "")}`.toLowerCase();
  const code =
    typeof status === "number"
      ? codeForStatus(status)
      : /rate_limit|quota|too_many/.test(text)
        ? Code.ResourceExhausted
        : /invalid/.test(text)
          ? Code.InvalidArgument
          : /not_found/.test(text)
            ? Code.NotFound
            : /server_error|overloaded|unavailable|timeout/.test(text)
              ? Code.Unavailable
              : /authentication|permission|unauthorized/.test(text)
                ? Code.Internal
                : Code.Unknown;
  const upstream = showUpstreamMessage.has(code) && typeof e["message"] === "string" ? oneLine(e["message"]) : "";
  return {
    code,
    message: `the inference provider reported an error during the stream${upstream ? `: ${upstream}` : ""}`,
    reason:
      code === Code.ResourceExhausted
        ? "UPSTREAM_RATE_LIMITED"
        : code === Code.InvalidArgument || code === Code.NotFound
          ? "UPSTREAM_REJECTED"
          : "UPSTREAM_ERROR",
  };
}

/**
 * Turns an error thrown by `fetch` (before the response arrived) into the
 * ConnectError the provider throws: the abort reason when `signal` aborted,
 * otherwise Code.Unavailable naming only the errno (`ECONNREFUSED`,
 * `ENOTFOUND`, …), never the address.
 */
export function fromFetchError(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason;
  const cause = asRecord(asRecord(err)?.["cause"]);
  const errno = typeof cause?.["code"] === "string" ? cause["code"] : undefined;
  return new ConnectError(
    `the inference provider is unreachable${errno ? ` (${errno})` : ""}`,
    Code.Unavailable,
    undefined,
    undefined,
    err,
  );
}

function upstreamMessage(body: string): string | undefined {
  try {
    const j = asRecord(JSON.parse(body));
    const e = j?.["error"];
    const m = typeof e === "string" ? e : asRecord(e)?.["message"] ?? j?.["message"] ?? j?.["detail"];
    return typeof m === "string" && m !== "" ? oneLine(m) : undefined;
  } catch {
    return undefined;
  }
}

function oneLine(s: string): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > 300 ? `${t.slice(0, 299)}…` : t;
}
