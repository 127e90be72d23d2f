import { abortError, errorFromResponse, toConnectError } from "./errors.js";

/**
 * `fetch` that raises a ConnectError: for a network failure
 * (Code.Unavailable), an abort (Code.Canceled), and a non-2xx response.
 */
export async function send(doFetch: typeof globalThis.fetch, url: string, signal: AbortSignal | undefined, init: RequestInit): Promise<Response> {
  let res: Response;
  try {
    res = await doFetch(url, signal ? { ...init, signal } : init);
  } catch (e) {
    throw signal?.aborted ? abortError(signal) : toConnectError(e);
  }
  if (!res.ok) throw await errorFromResponse(res);
  return res;
}
