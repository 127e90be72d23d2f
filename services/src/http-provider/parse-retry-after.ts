/**
 * How long the upstream asked to wait before retrying, in milliseconds, from
 * its response headers; undefined when it did not say (or said nonsense).
 *
 * - `retry-after-ms`: milliseconds, a non-negative number (OpenAI, Azure);
 *   it wins over `Retry-After` because it is more precise.
 * - `Retry-After`: delta-seconds (`"120"`) or an HTTP-date
 *   (`"Wed, 21 Oct 2015 07:28:00 GMT"`, relative to `nowMs`; a past date is 0).
 *
 * The result is an integer, rounded up, at most 2^31 − 1.
 *
 * @param nowMs - the current time in ms since the epoch (for HTTP-dates).
 * @see https://www.rfc-editor.org/rfc/rfc9110#name-retry-after
 * @see https://learn.microsoft.com/en-us/azure/ai-services/openai/reference (retry-after-ms)
 */
export function parseRetryAfter(headers: { get(name: string): string | null }, nowMs: number): number | undefined {
  const ms = headers.get("retry-after-ms")?.trim();
  if (ms && /^\d+(\.\d+)?$/.test(ms)) return clamp(Number(ms));
  const ra = headers.get("retry-after")?.trim();
  if (!ra) return undefined;
  if (/^\d+$/.test(ra)) return clamp(Number(ra) * 1000);
  if (!/^[A-Za-z]{3}/.test(ra)) return undefined; // an HTTP-date starts with the day name; Date.parse alone accepts "-3"
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : clamp(Math.max(0, date - nowMs));
}

function clamp(ms: number): number {
  return Math.min(2 ** 31 - 1, Math.ceil(ms));
}
