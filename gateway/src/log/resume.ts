import { formatCursor, parseCursor, ResumeOutcome } from "@airwave/proto";
import type { StreamLog } from "./stream-log.js";

/** Where a watch starts, and what its first `resumed` message says. */
export interface ResumeStart {
  /** The watch continues with the events after this seq of the log's current epoch. */
  readonly after: number;
  /**
   * The `resumed` message to send first: always for a watch with a cursor;
   * for a watch from the start only when its first events are gone.
   */
  readonly notice: { readonly outcome: ResumeOutcome; readonly cursor: string } | undefined;
}

/**
 * Decides where a watch of `log` starts for the cursor text `cursor`
 * (`"<epoch>:<seq>"`; empty = from the first event). Never a silent gap,
 * never a duplicate after the cursor:
 *
 * - RECOVERED: the cursor is in this epoch and every event after it is
 *   kept; the watch continues exactly after it.
 * - TRIMMED: events after the cursor (or, from the start, the first events)
 *   were trimmed; EXPIRED: the stream's events were dropped after its TTL
 *   and only the terminal event is left. The watch continues after the
 *   oldest retained event − 1, which the notice's cursor names.
 * - EPOCH_CHANGED: the cursor is of another epoch; UNKNOWN_CURSOR: it is past
 *   this epoch's last event. The watch replays from the oldest retained
 *   event, and the client must discard what it rendered.
 *
 * Raises Code.InvalidArgument when `cursor` is not a cursor.
 */
export function resolveResume(log: Pick<StreamLog, "epoch" | "top" | "first" | "expired">, cursor: string): ResumeStart {
  const oldest = Math.min(log.first, log.top + 1) - 1; // the watch continues after this when not exact
  const from = (outcome: ResumeOutcome): ResumeStart => ({
    after: oldest,
    notice: { outcome, cursor: formatCursor({ epoch: log.epoch, seq: oldest }) },
  });
  if (cursor === "") {
    if (oldest === 0) return { after: 0, notice: undefined };
    return from(log.expired ? ResumeOutcome.EXPIRED : ResumeOutcome.TRIMMED);
  }
  const c = parseCursor(cursor);
  if (c.epoch !== log.epoch) return from(ResumeOutcome.EPOCH_CHANGED);
  if (c.seq > log.top) return from(ResumeOutcome.UNKNOWN_CURSOR);
  if (c.seq < oldest) return from(log.expired ? ResumeOutcome.EXPIRED : ResumeOutcome.TRIMMED);
  return { after: c.seq, notice: { outcome: ResumeOutcome.RECOVERED, cursor: formatCursor(c) } };
}
