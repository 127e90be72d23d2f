import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString, codeToString } from "@connectrpc/connect/protocol-connect";

/**
 * The snake_case name of a code, as in the Connect protocol's JSON errors:
 * `Code.InvalidArgument` → `"invalid_argument"` (connect's `codeToString`).
 */
export const codeName: (code: Code) => string = codeToString;

/**
 * Parses a snake_case code name (`"invalid_argument"`); `undefined` when
 * unknown (connect's `codeFromString`).
 */
export const parseCodeName: (name: string) => Code | undefined = codeFromString;

/**
 * Normalises anything thrown by fetch, a stream or a transport into a
 * ConnectError: an AbortError becomes `Code.Canceled`, a `TypeError` (how
 * `fetch` and body reads report a network failure) becomes
 * `Code.Unavailable`, anything else that is not already a ConnectError
 * becomes `Code.Unknown`, with the original kept in `cause`.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof TypeError) return new ConnectError(`network error: ${err.message}`, Code.Unavailable, undefined, undefined, err);
  return ConnectError.from(err);
}

/**
 * Reads a Connect JSON error `{"code":"invalid_argument","message":"…"}`, the
 * body of a failed HTTP route and the data of an SSE `event: error`. A
 * missing or unknown code becomes `fallback`.
 */
export function errorFromJson(json: unknown, fallback: Code = Code.Unknown): ConnectError {
  const o = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
  const code = typeof o["code"] === "string" ? (parseCodeName(o["code"]) ?? fallback) : fallback;
  const message = typeof o["message"] === "string" ? o["message"] : "";
  return new ConnectError(message, code);
}

/**
 * Turns a non-2xx response of an HTTP route into a ConnectError: the code
 * and message of its JSON body, or else a code from the HTTP status
 * ({@link codeFromHttpStatus}). The response's `Airwave-Reason` and retry
 * hint become the error's metadata, as the RPC transports carry them:
 * `airwave-reason`, and `retry-after-ms` from the gateway's `retry-after-ms`
 * header or else `Retry-After` (delta-seconds or an HTTP-date, RFC 9110
 * §10.2.3; the one a cross-origin page can read), so the resume loop waits
 * as long as a 429 or 503 asks on every transport.
 */
export async function errorFromResponse(res: Response): Promise<ConnectError> {
  const fallback = codeFromHttpStatus(res.status);
  const meta = hintsOf(res.headers);
  let text = "";
  try {
    text = await res.text();
  } catch {
    // The body is lost; the status still says enough.
  }
  try {
    const err = errorFromJson(JSON.parse(text), fallback);
    return new ConnectError(err.rawMessage === "" ? `HTTP ${res.status}` : err.rawMessage, err.code, meta);
  } catch {
    return new ConnectError(`HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ""}`, fallback, meta);
  }
}

/** `airwave-reason` and `retry-after-ms` (whole ms; none without a hint) of a refusal's headers, at `now` (ms since the epoch). */
function hintsOf(h: Headers, now = Date.now()): Record<string, string> {
  const meta: Record<string, string> = {};
  const reason = h.get("airwave-reason");
  if (reason) meta["airwave-reason"] = reason;
  let ms = Number(h.get("retry-after-ms") || Number.NaN);
  if (!(ms > 0)) {
    const v = h.get("retry-after")?.trim() ?? "";
    ms = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v) - now;
  }
  if (Number.isFinite(ms) && ms > 0) meta["retry-after-ms"] = String(Math.ceil(ms));
  return meta;
}

/**
 * Maps an HTTP status without a JSON error body to a code, following the
 * Connect protocol's table (https://connectrpc.com/docs/protocol#http-to-error-code)
 * except that 404 is `NotFound`: the HTTP routes name resources.
 */
export function codeFromHttpStatus(status: number): Code {
  return codeByHttpStatus[status] ?? Code.Unknown;
}

const codeByHttpStatus: Readonly<Record<number, Code>> = {
  400: Code.InvalidArgument,
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  404: Code.NotFound,
  408: Code.DeadlineExceeded,
  409: Code.Aborted,
  429: Code.Unavailable,
  499: Code.Canceled,
  501: Code.Unimplemented,
  502: Code.Unavailable,
  503: Code.Unavailable,
  504: Code.Unavailable,
};

/** The ConnectError for an aborted signal: its reason when that is one, else `Code.Canceled`. */
export function abortError(signal: AbortSignal): ConnectError {
  const r: unknown = signal.reason;
  return r instanceof ConnectError ? r : new ConnectError("the operation was aborted", Code.Canceled, undefined, undefined, r);
}
