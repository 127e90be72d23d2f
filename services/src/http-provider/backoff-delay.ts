/** The first retry's backoff cap, in milliseconds. */
export const retryBaseDelayMs = 500;
/** The largest backoff cap, in milliseconds. */
export const retryMaxDelayMs = 8_000;

/**
 * The wait before retry number `attempt + 1` (attempt 0 = the first retry),
 * in milliseconds: exponential backoff with full jitter, a uniform draw from
 * `[0, min(retryMaxDelayMs, retryBaseDelayMs · 2^attempt))`.
 *
 * @param random - a uniform draw from [0, 1) (`Math.random`; tests inject one).
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(attempt: number, random: () => number): number {
  const cap = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}
