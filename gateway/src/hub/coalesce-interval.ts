import { Code, ConnectError } from "@connectrpc/connect";

/** Bounds of a watch's coalescing interval (`WatchOptions.coalesceMs`, `coalesce_ms`), in ms. */
export const coalesceLimits = { maxMs: 5_000 } as const;

/**
 * Checks a watch's `coalesce_ms` and returns it (0: no interval).
 * Raises INVALID_ARGUMENT for anything but a whole number from 0 to
 * {@link coalesceLimits}.maxMs.
 */
export function coalesceInterval(ms: number | undefined): number {
  if (ms === undefined) return 0;
  if (!Number.isInteger(ms) || ms < 0 || ms > coalesceLimits.maxMs) {
    throw new ConnectError(
      `coalesce_ms must be a whole number of milliseconds (0 to ${coalesceLimits.maxMs}), got ${ms}`,
      Code.InvalidArgument,
    );
  }
  return ms;
}
