/**
 * The limits and retry budget of calls to one upstream provider. Every
 * duration is in milliseconds. Defaults come from the environment
 * (`loadConfig`: `AIRWAVE_UPSTREAM_*`), and a routing file may override
 * them per provider (`limits`).
 */
export interface UpstreamLimits {
  /**
   * Longest TCP (and TLS) connection set-up. Hitting it before anything was
   * sent: Code.Unavailable, reason UPSTREAM_CONNECT_TIMEOUT (retried).
   * @defaultValue 10_000
   */
  readonly connectTimeoutMs: number;
  /**
   * Longest wait for the response headers after the request was sent (models
   * may queue). Code.DeadlineExceeded, reason UPSTREAM_FIRST_BYTE_TIMEOUT
   * (retried). 0 disables it.
   * @defaultValue 60_000
   */
  readonly firstByteTimeoutMs: number;
  /**
   * Longest gap between two chunks of the response body. A terminal `failed`
   * DEADLINE_EXCEEDED, reason UPSTREAM_IDLE_TIMEOUT. 0 disables it.
   * @defaultValue 60_000
   */
  readonly idleTimeoutMs: number;
  /**
   * Longest whole generation, retries and their waits included.
   * Code.DeadlineExceeded / `failed` DEADLINE_EXCEEDED, reason
   * UPSTREAM_TOTAL_TIMEOUT. 0 disables it.
   * @defaultValue 600_000
   */
  readonly totalTimeoutMs: number;
  /**
   * Retries of a failed attempt before anything was yielded (connect errors
   * and timeouts, first-byte timeouts, HTTP 408, 429, 5xx). 0 disables them.
   * @defaultValue 2
   */
  readonly retries: number;
  /**
   * Longest `Retry-After` the runtime waits for before retrying; a longer one
   * ends the call at once with the hint (`retry-after-ms`).
   * @defaultValue 30_000
   */
  readonly maxRetryAfterMs: number;
}

/** The default {@link UpstreamLimits}. */
export const defaultUpstreamLimits: Readonly<UpstreamLimits> = {
  connectTimeoutMs: 10_000,
  firstByteTimeoutMs: 60_000,
  idleTimeoutMs: 60_000,
  totalTimeoutMs: 600_000,
  retries: 2,
  maxRetryAfterMs: 30_000,
};

/**
 * The ranges each limit accepts, inclusive (used to validate the
 * environment and routing files): `[min, max]`.
 */
export const upstreamLimitRanges: Readonly<Record<keyof UpstreamLimits, readonly [number, number]>> = {
  connectTimeoutMs: [1, 600_000],
  firstByteTimeoutMs: [0, 3_600_000],
  idleTimeoutMs: [0, 3_600_000],
  totalTimeoutMs: [0, 86_400_000],
  retries: [0, 10],
  maxRetryAfterMs: [0, 600_000],
};
