import { Code, ConnectError } from "@connectrpc/connect";
import { BurstyRateLimiter, RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

/** `airwave-reason` of RESOURCE_EXHAUSTED: the owner runs its maximum number of streams. */
export const OWNER_STREAM_LIMIT = "OWNER_STREAM_LIMIT";
/** `airwave-reason` of RESOURCE_EXHAUSTED: the owner starts streams faster than its rate. */
export const OWNER_RATE_LIMITED = "OWNER_RATE_LIMITED";
/** `airwave-reason` of RESOURCE_EXHAUSTED: the gateway runs its maximum number of streams. */
export const GATEWAY_STREAM_LIMIT = "GATEWAY_STREAM_LIMIT";

/** Limits per owner (`key:<name>`, `browser:<id>`, `anonymous` alike). */
export interface OwnerLimitOptions {
  /** Running streams per owner; 0 = no limit. */
  maxStreams: number;
  /** Stream starts per owner per second (the bucket's refill); 0 = no limit. */
  startsPerS: number;
  /** Starts an owner may make at once above the rate (bucket size); at least `startsPerS`. */
  startsBurst: number;
}

/** RESOURCE_EXHAUSTED with `airwave-reason` and `retry-after-ms` (HTTP `Retry-After`, WsError `retry_after_ms`). */
export function exhausted(message: string, reason: string, retryAfterMs: number): ConnectError {
  return new ConnectError(message, Code.ResourceExhausted, {
    "airwave-reason": reason,
    "retry-after-ms": String(Math.max(1, Math.ceil(retryAfterMs))),
  });
}

/**
 * Per-owner admission: a running-stream count and a start rate (a
 * rate-limiter-flexible RateLimiterMemory of `startsPerS` points a second,
 * backed by a burst limiter of the rest of the bucket over the time it takes
 * to refill). Keys expire with their window, so idle owners hold nothing.
 */
export class OwnerLimits {
  readonly #running = new Map<string, number>();
  readonly #starts?: BurstyRateLimiter;

  constructor(private readonly o: OwnerLimitOptions) {
    if (o.startsPerS > 0) {
      const burst = Math.max(o.startsBurst, o.startsPerS);
      const rate = new RateLimiterMemory({ points: o.startsPerS, duration: 1 });
      const extra = burst - o.startsPerS;
      const burstLimiter = new RateLimiterMemory({
        keyPrefix: "burst",
        points: Math.max(extra, 0),
        duration: Math.max(1, Math.ceil(burst / o.startsPerS)),
      });
      this.#starts = new BurstyRateLimiter(rate, burstLimiter);
    }
  }

  /** Streams `owner` runs now. */
  running(owner: string): number {
    return this.#running.get(owner) ?? 0;
  }

  /**
   * Admits one start for `owner`, or raises RESOURCE_EXHAUSTED
   * (OWNER_STREAM_LIMIT, OWNER_RATE_LIMITED) with `retry-after-ms`.
   * On success the caller must call {@link ended} once the stream stops running.
   */
  async admit(owner: string): Promise<void> {
    const max = this.o.maxStreams;
    if (max > 0 && this.running(owner) >= max) {
      throw exhausted(`this caller runs its maximum of ${max} streams`, OWNER_STREAM_LIMIT, 1_000);
    }
    if (this.#starts) {
      try {
        await this.#starts.consume(owner);
      } catch (e) {
        if (!(e instanceof RateLimiterRes)) throw e;
        throw exhausted("this caller starts streams too fast", OWNER_RATE_LIMITED, e.msBeforeNext);
      }
      if (max > 0 && this.running(owner) >= max) {
        throw exhausted(`this caller runs its maximum of ${max} streams`, OWNER_STREAM_LIMIT, 1_000);
      }
    }
    this.#running.set(owner, this.running(owner) + 1);
  }

  /** One of `owner`'s admitted streams stopped running. */
  ended(owner: string): void {
    const n = this.running(owner) - 1;
    if (n > 0) this.#running.set(owner, n);
    else this.#running.delete(owner);
  }
}
