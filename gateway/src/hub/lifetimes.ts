import { OnDetach } from "@airwave/proto";
import type { StreamRecord } from "./stream-record.js";

/** The timings of {@link Lifetimes}, in ms (see `HubOptions`). */
export interface LifetimeOptions {
  /** Grace period after the last watcher left (on_detach CANCEL_AFTER_GRACE). */
  readonly detachGraceMs: number;
  /** How long an ended stream keeps its events for replay. */
  readonly streamTtlMs: number;
  /** How long an expired stream's id, owner and terminal event are kept after its TTL; 0: removed at the TTL. */
  readonly expiredTtlMs: number;
  /** Expired records kept at most (the oldest are forgotten first). */
  readonly maxExpired: number;
}

/** What {@link Lifetimes} asks of the hub. */
export interface LifetimeHooks {
  /** True while `rec` is the stream held under its key (not replaced, not removed). */
  isHeld(rec: StreamRecord): boolean;
  /** Forgets `rec`: its key and its log (when it is still the one held). */
  forget(rec: StreamRecord): void;
}

/**
 * The lifetimes of the hub's streams (README "Lifetimes"): the detach
 * policy (`on_detach`) and its grace timer, the TTL of an ended stream,
 * then the TTL of its expired record (terminal event only, so a late resume
 * gets `resumed(EXPIRED)`), and removal. Every timer of a stream is armed
 * and cleared here; at most one grace and one expiry timer per stream.
 */
export class Lifetimes {
  /** Expired records, oldest first (bounded by `maxExpired`). */
  readonly #expired = new Set<StreamRecord>();
  /** Set at the end of shutdown: no timer is armed any more. */
  #closed = false;

  constructor(
    private readonly o: LifetimeOptions,
    private readonly hooks: LifetimeHooks,
  ) {}

  /** Expired streams still known (terminal event only). */
  get expiredCount(): number {
    return this.#expired.size;
  }

  /** Timers armed for `rec` (0, 1 or 2). */
  timersOf(rec: StreamRecord): number {
    return (rec.graceTimer ? 1 : 0) + (rec.expiryTimer ? 1 : 0);
  }

  /** A watcher attached: the grace period, if any, is over. */
  attached(rec: StreamRecord): void {
    clearTimeout(rec.graceTimer);
    rec.graceTimer = undefined;
  }

  /**
   * A watcher left: when it was the last and the stream still runs, applies
   * the stream's on_detach policy: CONTINUE nothing, CANCEL at once, else
   * (CANCEL_AFTER_GRACE) {@link armGrace}.
   */
  detached(rec: StreamRecord): void {
    if (rec.watchers > 0 || rec.log.ended) return;
    switch (rec.onDetach) {
      case OnDetach.CONTINUE:
        return;
      case OnDetach.CANCEL:
        rec.generation.cancel("detach");
        return;
      default:
        this.armGrace(rec);
    }
  }

  /** Cancels the generation unless a watcher attaches within the grace period. */
  armGrace(rec: StreamRecord): void {
    clearTimeout(rec.graceTimer);
    if (this.#closed) return;
    rec.graceTimer = setTimeout(() => {
      rec.graceTimer = undefined;
      if (rec.watchers === 0) rec.generation.cancel("detach");
    }, this.o.detachGraceMs);
  }

  /** The generation ended: the log is kept for the TTL, then expires. */
  ended(rec: StreamRecord): void {
    clearTimeout(rec.graceTimer);
    rec.graceTimer = undefined;
    if (!this.hooks.isHeld(rec) || this.#closed) return;
    rec.expiryTimer = setTimeout(() => this.#expire(rec), this.o.streamTtlMs);
    rec.expiryTimer.unref?.();
  }

  /** Clears the stream's timers and forgets it. */
  remove(rec: StreamRecord): void {
    clearTimeout(rec.graceTimer);
    clearTimeout(rec.expiryTimer);
    rec.graceTimer = rec.expiryTimer = undefined;
    this.#expired.delete(rec);
    this.hooks.forget(rec);
  }

  /** Shutdown's end: clears every timer of `streams`; none is armed from now on. */
  close(streams: Iterable<StreamRecord>): void {
    this.#closed = true;
    for (const r of streams) {
      clearTimeout(r.graceTimer);
      clearTimeout(r.expiryTimer);
      r.graceTimer = r.expiryTimer = undefined;
    }
  }

  /** The TTL passed: drop the events, keep the terminal event for `expiredTtlMs`. */
  #expire(rec: StreamRecord): void {
    rec.expiryTimer = undefined;
    const keepMs = this.o.expiredTtlMs;
    if (keepMs <= 0) {
      this.remove(rec);
      return;
    }
    rec.log.expire();
    this.#expired.add(rec);
    rec.expiryTimer = setTimeout(() => this.remove(rec), keepMs);
    rec.expiryTimer.unref?.();
    // Bounded: the oldest expired streams are forgotten first.
    for (const old of this.#expired) {
      if (this.#expired.size <= this.o.maxExpired) break;
      this.remove(old);
    }
  }
}
