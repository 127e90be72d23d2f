import { ev, type StreamEvent, type UsageInit } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { ParseError } from "eventsource-parser/stream";
import { errorCodes } from "./upstream-error.js";
import { FramingError } from "@airwave/proto";

/**
 * The terminal `failed` event for a decoded body stream that errored after
 * `started` (the caller's abort is handled before), with the usage seen so far:
 *
 * | cause | code | reason |
 * |---|---|---|
 * | the total limit fired (`totalTimedOut`) | DeadlineExceeded | UPSTREAM_TOTAL_TIMEOUT |
 * | undici `UND_ERR_BODY_TIMEOUT` (idle gap between chunks) | DeadlineExceeded | UPSTREAM_IDLE_TIMEOUT |
 * | eventsource-parser `ParseError`, a {@link FramingError} | Internal | UPSTREAM_MALFORMED |
 * | anything else (connection lost, reset) | Unavailable | UPSTREAM_TRUNCATED |
 *
 * DeadlineExceeded and Unavailable are retryable; Internal is not.
 */
export function bodyFailure(err: unknown, o: { provider: string; usage?: UsageInit | undefined; totalTimedOut: boolean }): StreamEvent {
  const extra = o.usage ? { usage: o.usage } : {};
  if (o.totalTimedOut) {
    return ev.failed(
      Code.DeadlineExceeded,
      `the ${o.provider} provider took longer than the total time limit`,
      "UPSTREAM_TOTAL_TIMEOUT",
      extra,
    );
  }
  if (errorCodes(err).includes("UND_ERR_BODY_TIMEOUT")) {
    return ev.failed(
      Code.DeadlineExceeded,
      `the ${o.provider} provider stalled in the middle of its stream`,
      "UPSTREAM_IDLE_TIMEOUT",
      extra,
    );
  }
  if (isFramingError(err)) {
    return ev.failed(Code.Internal, `the ${o.provider} provider sent a malformed or oversized stream`, "UPSTREAM_MALFORMED", extra);
  }
  return ev.failed(Code.Unavailable, `the connection to the ${o.provider} provider was lost`, "UPSTREAM_TRUNCATED", extra);
}

/** True for eventsource-parser's `ParseError` and for a {@link FramingError} (by class or by name). */
export function isFramingError(err: unknown): boolean {
  return err instanceof ParseError || err instanceof FramingError || (err instanceof Error && err.name === "FramingError");
}
