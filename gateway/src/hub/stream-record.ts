import type { GenerationMeter } from "../metrics/stream-meter.js";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { FinishReason, type OnDetach, type StreamInfo, StreamInfoSchema, StreamState } from "@airwave/proto";
import type { Generation } from "../generation/generation.js";
import type { StreamLog } from "../log/stream-log.js";
import type { StreamEntry } from "./cluster.js";

/** What a replica knows of a stream, wherever it runs: what `StreamInfo` says. */
export interface StreamView {
  readonly id: string;
  readonly owner: string;
  readonly model: string;
  /** When the stream was created, in ms since the epoch. */
  readonly createdAtMs: number;
  readonly log: StreamLog;
  /** Open watches of this stream (on a {@link RemoteRecord}: on this replica). */
  watchers: number;
  /** The W3C `traceparent` of the create call's span (what a watch's span links to); empty or undefined when not traced. */
  readonly createdBy?: string | undefined;
}

/** One stream the hub runs: its log, its generation, its watchers and its timers. */
export interface StreamRecord extends StreamView {
  readonly onDetach: OnDetach;
  readonly generation: Generation;
  /** Where the shared registry says the stream lives (with a cluster). */
  entry?: StreamEntry;
  /** The generation's metrics (with `HubOptions.metrics`). */
  meter?: GenerationMeter;
  /** Watchers on other replicas, by replica id (counted in {@link watchers} too). */
  remoteWatchers?: Map<string, number>;
  /** The detach grace period (set by `Lifetimes` only). */
  graceTimer?: ReturnType<typeof setTimeout>;
  /** The TTL of the ended stream, then of its expired record (set by `Lifetimes` only). */
  expiryTimer?: ReturnType<typeof setTimeout>;
}

/**
 * A stream another replica runs, viewed here through the shared log (the
 * hub's {@link Cluster}); held while `refs` calls use it.
 */
export interface RemoteRecord extends StreamView {
  /** The replica that runs the generation. */
  readonly replicaId: string;
  /** Calls using this view now; at 0 its log view is released. */
  refs: number;
}

/** The map key of a stream: client-chosen ids are scoped to their owner. */
export function streamKey(owner: string, id: string): string {
  return `${owner}\u0000${id}`;
}

/** The stream's `StreamInfo` (what GetStream and CancelStream answer). */
export function streamInfo(rec: StreamView): StreamInfo {
  return create(StreamInfoSchema, {
    streamId: rec.id,
    state: stateOf(rec),
    epoch: rec.log.epoch,
    lastSeq: rec.log.top,
    model: rec.model,
    createdAt: timestampFromMs(rec.createdAtMs),
    watchers: rec.watchers,
  });
}

/** RUNNING until the terminal event; then FAILED, CANCELLED (completed with FINISH_REASON_CANCELLED) or COMPLETED. */
function stateOf(rec: StreamView): StreamState {
  const last = rec.log.terminal;
  if (!last) return StreamState.RUNNING;
  if (last.event.case === "failed") return StreamState.FAILED;
  if (last.event.case === "completed" && last.event.value.finishReason === FinishReason.CANCELLED) {
    return StreamState.CANCELLED;
  }
  return StreamState.COMPLETED;
}
