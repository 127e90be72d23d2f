import type { OnDetach, SendInputRequest } from "@airwave/proto";
import type { ChatTurnStore } from "../ai-sdk/chat-streams.js";
import type { StreamLog, StreamLogStore } from "../log/stream-log.js";

/**
 * Where a stream lives, as the shared registry holds it (README
 * "Several replicas"): its log, its owner replica, and what `StreamInfo`
 * needs on a replica that does not run it.
 */
export interface StreamEntry {
  /** The log's id in the shared store (not the stream id: those are per owner). */
  readonly logId: string;
  /** The replica that runs the generation. */
  readonly replicaId: string;
  readonly model: string;
  /** When the stream was created, in ms since the epoch. */
  readonly createdAtMs: number;
  readonly onDetach: OnDetach;
  /** The W3C `traceparent` of the create call's span, for the watch spans' links on any replica; empty when not traced. */
  readonly createdBy?: string | undefined;
}

/** A shared log store: creates owned logs under a log id and opens other replicas' logs. */
export interface SharedLogStore extends StreamLogStore {
  create(streamId: string): StreamLog & { readonly logId: string };
  /** This replica's view of log `logId`; undefined when the store has no such log. */
  open(streamId: string, logId: string): Promise<StreamLog | undefined>;
  /** Re-reads a view's state from the store (a view no reader keeps live may lag). */
  refresh(log: StreamLog): Promise<void>;
  /** Checks that the store still holds an owned log; lost history starts a new epoch. */
  verify(log: StreamLog): Promise<void>;
}

/** What the owner replica does when another replica asks (the hub's local paths). */
export interface OwnerHandlers {
  /** Cancel the stream (source "client"); unknown streams are ignored. */
  cancel(owner: string, streamId: string): void;
  /** Answer an input; resolves with the input_id or raises as `Hub.sendInput`. */
  sendInput(owner: string, req: SendInputRequest): Promise<string>;
  /** Replica `from` now has `n` watchers of the stream (0: none). */
  watching(owner: string, streamId: string, from: string, n: number): void;
  /** The streams this replica holds (running or ended), to register again when Redis lost them. */
  held(): Iterable<HeldStream>;
}

/** A stream the hub holds, as {@link OwnerHandlers.held} lists it. */
export interface HeldStream {
  readonly owner: string;
  readonly streamId: string;
  readonly entry: StreamEntry;
  readonly log: StreamLog;
}

/**
 * The hub's link to the other replicas (several gateways sharing streams
 * through Redis; `cluster/redis-cluster.ts`). Without one, the hub is a
 * single process, as in the embedded default.
 */
export interface Cluster {
  /** This replica's id (random per process). */
  readonly replicaId: string;
  /** The logs, shared by every replica. */
  readonly logs: SharedLogStore;
  /** The AI SDK routes' chat → latest turn map, shared by every replica (a reconnect by chat id may land anywhere). */
  readonly chats: ChatTurnStore;
  /**
   * Claims (owner, stream id) for a new stream run here. Resolves undefined
   * when claimed, else with the entry of the stream that holds the id.
   * Raises UNAVAILABLE (retryable) when the registry cannot be reached.
   */
  claim(owner: string, streamId: string, entry: StreamEntry): Promise<StreamEntry | undefined>;
  /** The entry of (owner, stream id); undefined when none. Raises UNAVAILABLE when the registry cannot be reached. */
  lookup(owner: string, streamId: string): Promise<StreamEntry | undefined>;
  /** A stream run here ended: its entry lives as long as its log's keys. */
  ended(owner: string, streamId: string): void;
  /** A stream run here was removed: its entry goes. */
  forget(owner: string, streamId: string): void;
  /**
   * Asks the owner replica to cancel. Resolves false when no replica
   * listens under that id (the owner is gone; the lease sweep ends its
   * streams).
   */
  cancel(replicaId: string, owner: string, streamId: string): Promise<boolean>;
  /** Passes an input answer to the owner replica; resolves or raises as the owner's `Hub.sendInput`. */
  sendInput(replicaId: string, owner: string, req: SendInputRequest): Promise<string>;
  /** This replica now has `n` watchers of a stream run by `replicaId` (kept alive until `n` is 0). */
  watching(replicaId: string, owner: string, streamId: string, n: number): void;
  /** Starts serving requests of other replicas for the streams run here. */
  serve(handlers: OwnerHandlers): void;
  /** Ends the lease and the control channel (after the hub's shutdown). */
  close(): Promise<void>;
}
