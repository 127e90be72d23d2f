import { Code, ConnectError } from "@connectrpc/connect";
import { abortError, errorFromResponse, toConnectError } from "./errors.js";
import type { WatchFilter } from "./transport.js";

/**
 * `fetch` that raises a ConnectError: for a network failure
 * (Code.Unavailable), an abort (Code.Canceled), and a non-2xx response.
 */
export async function send(
  doFetch: typeof globalThis.fetch,
  url: string,
  signal: AbortSignal | undefined,
  init: RequestInit,
): Promise<Response> {
  let res: Response;
  try {
    res = await doFetch(url, signal ? { ...init, signal } : init);
  } catch (e) {
    throw signal?.aborted ? abortError(signal) : toConnectError(e);
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}

/** The URL of a stream's HTTP routes: `<base>/v1/streams/<id>` (id URL-encoded). @private */
export function streamUrl(base: string, streamId: string): string {
  return `${base.replace(/\/+$/, "")}/v1/streams/${encodeURIComponent(streamId)}`;
}

/**
 * The watch route of a stream, `<base>/v1/streams/<id>/events`, with
 * `after=<cursor>`, `wait_ms=<ms>` (long-poll), one `agent=<id>` per
 * agent of `filter` and `coalesce_ms=<ms>` (when not 0), each only when given. @private
 */
export function eventsUrl(
  base: string,
  streamId: string,
  q: { after?: string | undefined; waitMs?: number | undefined; filter?: WatchFilter | undefined },
): string {
  const params = new URLSearchParams();
  if (q.after) params.set("after", q.after);
  if (q.waitMs !== undefined) params.set("wait_ms", String(q.waitMs));
  for (const a of q.filter?.agentIds ?? []) params.append("agent", a);
  if (q.filter?.coalesceMs) params.set("coalesce_ms", String(q.filter.coalesceMs));
  const query = params.toString();
  return `${streamUrl(base, streamId)}/events${query === "" ? "" : `?${query}`}`;
}

/**
 * `POST /v1/streams/{id}:cancel` with `{"reason": …}`: the cancel of every
 * HTTP transport. Raises a ConnectError (Code.NotFound for an unknown stream).
 */
export async function postCancel(doFetch: typeof globalThis.fetch, base: string, streamId: string, reason = ""): Promise<void> {
  const res = await send(doFetch, `${streamUrl(base, streamId)}:cancel`, undefined, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(reason ? { reason } : {}),
  });
  await res.body?.cancel().catch(() => {});
}

/**
 * `POST /v1/streams/{id}:input` with `{"inputId": …, "text": …}`, answering
 * `{"inputId": …}`: the SendInput of every HTTP transport. Resolves to the
 * input id answered (the pending one when `inputId` is empty).
 *
 * Raises a ConnectError: the gateway's (Code.NotFound, Code.InvalidArgument,
 * Code.FailedPrecondition with reason INPUT_NOT_PENDING or STREAM_ENDED, …),
 * Code.Unavailable for a network failure, Code.Internal for an answer that is
 * not `{"inputId": string}`.
 */
export async function postInput(
  doFetch: typeof globalThis.fetch,
  base: string,
  streamId: string,
  inputId: string,
  text: string,
  signal?: AbortSignal,
): Promise<string> {
  const res = await send(doFetch, `${streamUrl(base, streamId)}:input`, signal, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ inputId, text }),
  });
  let body: unknown;
  try {
    body = await res.json();
  } catch (e) {
    throw signal?.aborted
      ? abortError(signal)
      : new ConnectError("SendInput: the answer is not JSON", Code.Internal, undefined, undefined, e);
  }
  const answered = typeof body === "object" && body !== null ? (body as Record<string, unknown>)["inputId"] : undefined;
  // Canonical proto JSON omits an empty string; the gateway always names the input, but accept the request's.
  if (answered === undefined) return inputId;
  if (typeof answered !== "string") throw new ConnectError("SendInput: the answer has no inputId", Code.Internal);
  return answered;
}
