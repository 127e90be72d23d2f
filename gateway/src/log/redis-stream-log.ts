import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { isTerminal, newEpoch, type StreamEvent, StreamEventSchema, utf8Length } from "@airwave/proto";
import type { Redis } from "ioredis";
import { encodedSize } from "./encoded-size.js";
import { laggedError } from "./follow-log.js";
import type { LogScripts } from "./redis-log-scripts.js";
import type { LogLimits, ReadLimits, StreamLog } from "./stream-log.js";

/** The Redis names of one log (see {@link RedisStreamLog}). */
export interface RedisLogKeys {
  /** The Redis Stream of the events: `<prefix>log:{<logId>}`. */
  readonly stream: string;
  /** The meta hash: `<prefix>log:{<logId>}:meta`. */
  readonly meta: string;
  /** The live channel (PUBLISH/SUBSCRIBE, not a key): `<prefix>log:{<logId>}:live`. */
  readonly channel: string;
}

/** Per-log settings of a {@link RedisStreamLog}; see {@link RedisLogStoreOptions} for the defaults. */
export interface RedisLogLimits extends LogLimits {
  /** TTL of both keys from the terminal event on, in ms (0: none). */
  readonly ttlMs: number;
  /** TTL of both keys while running, renewed by the appends (at most every eighth of it), in ms (0: none). */
  readonly runningTtlMs: number;
  /** Newest events this process keeps beside Redis for its readers (0: every read goes to Redis). */
  readonly cacheEvents: number;
  /** Bytes of that cache (the newest cached event is kept whatever its size). */
  readonly cacheBytes: number;
}

/** What a {@link RedisStreamLog} needs from its store (redis-log-store.ts). */
export interface RedisLogContext {
  /** The command connection, with the log's scripts defined. */
  readonly redis: Redis & LogScripts;
  /** The retained bytes of an owned log changed by `delta`. */
  bytesChanged(log: RedisStreamLog, delta: number): void;
  /** `log` (not owned here) has a waiter: keep its live channel subscribed. */
  watch(log: RedisStreamLog): void;
  /** Sends a command (`run` issues it) in the current write batch: the commands of many logs share one socket write. */
  send<T>(run: () => Promise<T>): Promise<T>;
}

/** The state a view starts from: a new log's, or what the meta hash says. */
export interface RedisLogState {
  readonly epoch: string;
  readonly top: number;
  readonly first: number;
  readonly bytes: number;
  readonly ended: boolean;
  readonly expired: boolean;
}

/** The machine-readable reason of a read whose history is gone from Redis and that this process cannot restore. */
export const LOG_LOST = "LOG_LOST";

type Append = {
  readonly k: "append";
  readonly event: StreamEvent;
  readonly payload: Buffer;
  readonly terminal: boolean;
  readonly resolve: (e: StreamEvent) => void;
  readonly reject: (e: unknown) => void;
};
type Op = { readonly k: "op"; readonly run: () => Promise<void> };

/** Most events of one append script call. */
const maxBatch = 256;

let lastMs = Number.NaN;
let lastTime: Timestamp | undefined;

/** Now as `appended_at`, one Timestamp per ms (as in memory-stream-log.ts: logged events are immutable). */
function appendTime(): Timestamp {
  const ms = Date.now();
  if (ms !== lastMs || !lastTime) {
    lastMs = ms;
    lastTime = timestampFromMs(ms);
  }
  return lastTime;
}

/** Bytes of a proto3 string field with a 1-byte tag holding `s`. */
function stringFieldSize(s: string): number {
  const n = utf8Length(s);
  return n === 0 ? 0 : 1 + varintSize(n) + n;
}

/** Bytes of a varint holding the non-negative integer `v`. */
function varintSize(v: number): number {
  let n = 1;
  for (let l = v; l >= 128; l = Math.floor(l / 128)) n++;
  return n;
}

/** A limit as the scripts take it: -1 for none. */
function limitArg(n: number): number {
  return Number.isFinite(n) ? Math.max(0, Math.floor(n)) : -1;
}

function unavailable(cause: unknown): ConnectError {
  return new ConnectError("the stream log's Redis is unavailable; retry", Code.Unavailable, undefined, undefined, cause);
}

function alreadyEnded(): ConnectError {
  return new ConnectError("stream already ended", Code.FailedPrecondition);
}

/**
 * A {@link StreamLog} in Redis (issue 16, item 2): this process's view of
 * one log, the same contract as the memory log, so the hub takes either.
 * Made by {@link RedisLogStore} (`create` for a log this process writes,
 * its owner; `open` for one written elsewhere).
 *
 * What Redis holds per log (names under the store's prefix, `airwave:` by
 * default; `{…}` is a cluster hash tag, so both keys are in one slot):
 *
 * - `<prefix>log:{<logId>}`, a Redis Stream: one entry per retained event,
 *   entry id `<seq>-0`, one field `d` = the event's Protobuf binary
 *   (`toBinary(StreamEventSchema, …)`) without `stream_id`, `epoch` and
 *   `seq`, which the key, the meta hash and the entry id hold (a reader
 *   stamps them back; about 35 bytes less per event).
 * - `<prefix>log:{<logId>}:meta`, a hash: `e` epoch, `t` top (last seq),
 *   `f` first (oldest retained seq), `b` retained bytes (the sum of the
 *   positioned events' binary sizes, what `maxBytes` bounds), `d` = `1` once
 *   the terminal event is in, `z` = `1` once expired, `c` the id of the
 *   last append call (a resent call is not applied twice).
 * - TTL: both keys get `runningTtlMs`, renewed by the first append after
 *   an eighth of it passed (keys an append re-creates get it at once), and
 *   `ttlMs` from the terminal event on (PEXPIRE). The owner's `release`
 *   deletes both at once.
 * - `<prefix>log:{<logId>}:live`, a Pub/Sub channel (no memory): every
 *   append publishes `"<top> <ended>"` on it.
 *
 * The `logId` is random per log (128 bits), not the stream id: stream ids
 * are chosen by clients and scoped to their owner, so two owners' streams,
 * or a stream re-created after it was forgotten, never share keys. The
 * stream registry (item 3) maps (owner, stream id) to it.
 *
 * Appends: one Lua script call (`defineCommand`) checks and appends
 * atomically: refused after the terminal event, seqs assigned by Redis
 * (top + 1, gapless), trimmed to `maxEvents` and `maxBytes` (never the
 * newest event, so never the terminal one), TTL set, live channel told.
 * Appends of one log are sent one call at a time and in order: those made
 * while a call is in flight go together in the next call (a batch), so
 * the order is the call order even across a reconnect or a NOSCRIPT retry,
 * and a burst costs one round trip per batch. `append` resolves once Redis
 * has the event. A call resent after a reconnect is recognised by its id
 * and not applied twice.
 *
 * Epoch: stored in the meta hash. When the history is found lost (the meta
 * hash gone, the stream not holding `[first, top]`, or a `top` below what
 * this process was told: a Redis restart without persistence, an eviction,
 * a failover to a lagging replica), the next append, or the owner's next
 * read, starts a new epoch (fresh, never an old one), seqs continuing above
 * the highest known; an ended log gets its terminal event back from its
 * owner. A resume with the old epoch is then `resumed(EPOCH_CHANGED)`;
 * a reader in the middle of lost history gets the lagged ABORTED and
 * resumes so: never a silent short replay.
 *
 * Reads: `XRANGE` inside the read script (with the meta, atomically),
 * answered from a small cache of the newest events when it holds them
 * (`cacheEvents`): the owner's appends fill it, so this process's live
 * readers need no round trip; a read from Redis fills it too, and
 * concurrent readers at one position share one read.
 *
 * Live: an owned log wakes its waiters when its own append is confirmed.
 * A log written elsewhere is woken by its live channel: the store keeps
 * one subscriber connection per process and subscribes a log's channel
 * while a local reader waits on it (and a little longer), so thousands of
 * watched streams cost one connection and one message per append per
 * watching process, not a blocking call per watcher. Not `XREAD BLOCK`:
 * one XREAD over N keys re-registers all N keys on every wake-up, O(N) per
 * event. A message only wakes readers, which then read the events; after
 * a resubscription every watched log is re-read, so a lost message costs a
 * read, never an event.
 *
 * The synchronous getters are this view's latest state: an owner's is
 * exact once its appends resolved; another process's follows reads and
 * live messages.
 */
export class RedisStreamLog implements StreamLog {
  readonly #ctx: RedisLogContext;
  readonly #limits: RedisLogLimits;
  readonly #owner: boolean;
  /** The stream id's field in a positioned event (the scripts' `x`). */
  readonly #x: number;
  /** Makes the unique id of each append or recover call (also its candidate epoch). */
  readonly #nonce = newEpoch().slice(0, 8);
  #calls = 0;
  #epoch: string;
  readonly #oldEpochs = new Set<string>();
  #top: number;
  /** Top as of the last meta applied: a reply older than that is stale. */
  #metaTop: number;
  #first: number;
  #bytes: number;
  #ended: boolean;
  #expired: boolean;
  #terminal: StreamEvent | undefined;
  #terminalPayload: Buffer | undefined;
  /** A terminal append was made (and has not failed): later appends are refused. */
  #closing = false;
  #released = false;
  /** When an append last set the running TTL, in ms since the epoch. */
  #ttlAt = 0;
  #tasks: (Append | Op)[] = [];
  #busy = false;
  readonly #waiters = new Set<{ readonly after: number; readonly wake: () => void }>();
  /** When a reader last waited (the store unsubscribes idle logs). */
  lastWaitMs = 0;
  /** The cache: events `#cache[#cHead..]`, contiguous seqs from `#cFirst`. */
  #cache: (StreamEvent | undefined)[] = [];
  #cSizes: number[] = [];
  #cHead = 0;
  #cFirst = 0;
  #cBytes = 0;
  /** Reads from Redis in flight, by their first seq. */
  readonly #reading = new Map<number, Promise<unknown>>();

  /**
   * Use {@link RedisLogStore.create} or {@link RedisLogStore.open}.
   *
   * @param owner true for a log this process created (and writes).
   */
  constructor(
    ctx: RedisLogContext,
    readonly streamId: string,
    readonly logId: string,
    readonly keys: RedisLogKeys,
    limits: RedisLogLimits,
    state: RedisLogState,
    owner: boolean,
  ) {
    this.#ctx = ctx;
    this.#limits = limits;
    this.#owner = owner;
    this.#x = stringFieldSize(streamId);
    this.#epoch = state.epoch;
    this.#top = this.#metaTop = state.top;
    this.#first = state.first;
    this.#bytes = state.bytes;
    this.#ended = state.ended;
    this.#expired = state.expired;
  }

  get epoch(): string {
    return this.#epoch;
  }

  get top(): number {
    return this.#top;
  }

  get first(): number {
    return this.#first;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get expired(): boolean {
    return this.#expired;
  }

  get terminal(): StreamEvent | undefined {
    return this.#terminal;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** True for a log this process created. */
  get owned(): boolean {
    return this.#owner;
  }

  /** Readers waiting now. */
  get waiting(): number {
    return this.#waiters.size;
  }

  append(event: StreamEvent): Promise<StreamEvent> {
    if (this.#closing || this.#ended || this.#released) return Promise.reject(alreadyEnded());
    const terminal = isTerminal(event);
    if (terminal) this.#closing = true;
    const e = event;
    e.streamId = "";
    e.epoch = "";
    e.seq = 0;
    e.appendedAt = appendTime();
    const bin = toBinary(StreamEventSchema, e);
    const payload = Buffer.from(bin.buffer, bin.byteOffset, bin.byteLength); // ioredis sends Buffers as bytes
    e.streamId = this.streamId;
    return new Promise((resolve, reject) => {
      this.#tasks.push({ k: "append", event: e, payload, terminal, resolve, reject });
      this.#drain();
    });
  }

  read(afterSeq: number, limits: ReadLimits): Promise<StreamEvent[]> {
    if (afterSeq >= this.#top) return Promise.resolve([]);
    if (this.#expired && this.#terminal) return Promise.resolve([this.#terminal]);
    const cached = this.#fromCache(Math.max(afterSeq + 1, this.#first), limits);
    if (cached) return Promise.resolve(cached);
    return this.#readShared(afterSeq, limits, true);
  }

  wait(afterSeq: number, signal: AbortSignal): Promise<void> {
    if (this.#top > afterSeq || this.#ended) return Promise.resolve();
    if (signal.aborted) return Promise.reject(signal.reason);
    this.lastWaitMs = Date.now();
    const done = new Promise<void>((resolve, reject) => {
      const w = {
        after: afterSeq,
        wake: () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#waiters.delete(w);
        reject(signal.reason);
      };
      this.#waiters.add(w);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    if (!this.#owner) this.#ctx.watch(this);
    return done;
  }

  expire(): void {
    if (!this.#ended || this.#expired) return;
    this.#expired = true;
    this.#applyExpired();
    this.#cacheClear();
    this.#enqueue(async () => {
      try {
        this.#applyReply(await this.#ctx.redis.airwaveLogExpire(this.keys.stream, this.keys.meta, this.#x));
      } catch {
        // The view is expired already; Redis catches up on the next write or at its TTL.
      }
    });
  }

  /**
   * Drops the oldest retained events until at least `bytes` were freed (all
   * but the newest for Infinity), never the newest event; resolves with the
   * bytes freed. A store-wide memory bound, as MemoryStreamLog.trimOldest.
   */
  trimOldest(bytes: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#enqueue(async () => {
        try {
          const r = await this.#ctx.redis.airwaveLogTrim(this.keys.stream, this.keys.meta, limitArg(bytes), this.#x);
          this.#applyReply(r);
          resolve(r[0] === "ok" ? Number(r[5]) : 0);
        } catch (e) {
          reject(unavailable(e));
        }
      });
    });
  }

  /**
   * A live message: the log's top is now `top` (woken readers read the
   * events from Redis). From the store's subscriber.
   */
  hint(top: number): void {
    if (top <= this.#top) return;
    this.#top = top;
    this.#wake();
  }

  /**
   * Checks that Redis still holds this owned log (after a reconnect):
   * lost history starts a new epoch, with the terminal event kept, as the
   * next append or read would. A no-op for a view.
   */
  async verify(): Promise<void> {
    if (!this.#owner || this.#released) return;
    try {
      await this.#readRedis(this.#top, { maxEvents: 0, maxBytes: 0 }, true);
    } catch {
      // The next read or append reports it.
    }
    this.#wake();
  }

  /** Re-reads the meta (after a subscription, or a reconnect of the subscriber) and wakes readers. */
  async refresh(): Promise<void> {
    try {
      await this.#readRedis(this.#top, { maxEvents: 0, maxBytes: 0 }, false);
      if (this.#ended && !this.#terminal) await this.#loadTerminal();
    } catch {
      // The next read reports it.
    }
    this.#wake();
  }

  /**
   * The store forgot this log: no more appends, no recovery; with `remove`,
   * both keys are deleted after the writes already queued (so none of them
   * re-creates the keys). Returns whether it was held.
   */
  markReleased(remove: boolean): boolean {
    if (this.#released) return false;
    this.#released = true;
    if (remove) {
      this.#enqueue(async () => {
        await this.#ctx.redis.unlink(this.keys.stream, this.keys.meta).catch(() => {}); // else the TTL does it
      });
    }
    return true;
  }

  // --- writes: one call at a time, in order -------------------------------

  /** Queues a write that is not an append (create, expire, trim, recover). */
  #enqueue(run: () => Promise<void>): void {
    this.#tasks.push({ k: "op", run });
    this.#drain();
  }

  /** Queues the creation of a new log's meta hash (RedisLogStore.create). */
  init(): void {
    this.#enqueue(async () => {
      const { meta } = this.keys;
      try {
        const m = this.#ctx.redis.multi().hset(meta, "e", this.#epoch, "t", 0, "f", 1, "b", 0);
        if (this.#limits.runningTtlMs > 0) m.pexpire(meta, this.#limits.runningTtlMs);
        await m.exec();
      } catch {
        // The first append finds the meta missing and starts a new epoch.
      }
    });
  }

  #drain(): void {
    if (this.#busy) return;
    this.#busy = true;
    void (async () => {
      try {
        for (let t = this.#tasks[0]; t; t = this.#tasks[0]) {
          if (t.k === "op") {
            this.#tasks.shift();
            await t.run().catch(() => {}); // each op reports its own failure
            continue;
          }
          let n = 1;
          while (n < maxBatch && this.#tasks[n]?.k === "append") n++;
          await this.#sendBatch(this.#tasks.splice(0, n) as Append[]);
        }
      } finally {
        this.#busy = false;
      }
    })();
  }

  #callId(): string {
    return `${this.#nonce}${(++this.#calls).toString(36)}`;
  }

  async #sendBatch(batch: Append[]): Promise<void> {
    const last = batch[batch.length - 1] as Append;
    const l = this.#limits;
    const now = Date.now();
    const renew = now - this.#ttlAt >= l.runningTtlMs / 8;
    let r: string[];
    try {
      r = await this.#ctx.send(() =>
        this.#ctx.redis.airwaveLogAppend(
          this.keys.stream,
          this.keys.meta,
          this.#callId(),
          this.#top,
          this.#x,
          limitArg(l.maxEvents),
          limitArg(l.maxBytes),
          renew ? l.runningTtlMs : -l.runningTtlMs,
          l.ttlMs,
          this.keys.channel,
          last.terminal ? 1 : 0,
          ...batch.map((a) => a.payload),
        ),
      );
    } catch (e) {
      if (last.terminal) this.#closing = false; // the terminal may be appended again
      for (const a of batch) a.reject(unavailable(e));
      return;
    }
    if (r[0] === "ended") {
      // Another writer ended it (item 3: the OWNER_LOST failure).
      this.#applyReply(r, true);
      for (const a of batch) a.reject(alreadyEnded());
      return;
    }
    if (renew) this.#ttlAt = now;
    const epoch = r[1] as string;
    const top = Number(r[2]);
    let seq = top - batch.length;
    for (const a of batch) {
      a.event.epoch = epoch;
      a.event.seq = ++seq;
    }
    this.#applyReply(r);
    for (const a of batch) this.#cachePush(a.event, this.#sizeOf(a.payload.length, epoch, a.event.seq));
    if (last.terminal) {
      this.#ended = true;
      this.#terminal = last.event;
      this.#terminalPayload = last.payload;
    }
    this.#wake();
    for (const a of batch) a.resolve(a.event);
  }

  /** The history is gone from Redis: an owner starts a new epoch (keeping its terminal event); resolves when done. */
  #recover(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#enqueue(async () => {
        const l = this.#limits;
        const args: (string | number | Buffer)[] = [
          this.#callId(),
          this.#top,
          this.#x,
          l.runningTtlMs,
          l.ttlMs,
          this.keys.channel,
          this.#expired ? 1 : 0,
        ];
        if (this.#ended && this.#terminalPayload) args.push(this.#terminalPayload);
        try {
          this.#applyReply(await this.#ctx.redis.airwaveLogRecover(this.keys.stream, this.keys.meta, ...args));
          if (this.#terminal) {
            this.#terminal.epoch = this.#epoch; // the same event, now of the new epoch
            const size = this.#sizeOf((this.#terminalPayload as Buffer).length, this.#epoch, this.#terminal.seq);
            this.#cachePush(this.#terminal, size);
          }
          this.#wake();
          resolve();
        } catch (e) {
          reject(unavailable(e));
        }
      });
    });
  }

  // --- reads ----------------------------------------------------------------

  /** A read from Redis, shared by the readers that want the same first seq at once. */
  async #readShared(afterSeq: number, limits: ReadLimits, recover: boolean): Promise<StreamEvent[]> {
    const from = Math.max(afterSeq + 1, this.#first);
    const pending = this.#reading.get(from);
    if (pending && this.#limits.cacheEvents > 0) {
      await pending.catch(() => {});
      if (afterSeq >= this.#top) return [];
      const cached = this.#fromCache(Math.max(afterSeq + 1, this.#first), limits);
      if (cached) return cached;
    }
    const p = this.#readRedis(afterSeq, limits, recover);
    this.#reading.set(from, p);
    try {
      return await p;
    } finally {
      if (this.#reading.get(from) === p) this.#reading.delete(from);
    }
  }

  async #readRedis(afterSeq: number, limits: ReadLimits, recover: boolean): Promise<StreamEvent[]> {
    let r: Buffer[];
    try {
      r = await this.#ctx.send(() =>
        this.#ctx.redis.airwaveLogReadBuffer(
          this.keys.stream,
          this.keys.meta,
          afterSeq,
          limitArg(limits.maxEvents),
          limitArg(limits.maxBytes),
          this.#x,
        ),
      );
    } catch (e) {
      throw unavailable(e);
    }
    const s = (i: number) => (r[i] as Buffer).toString();
    const epoch = r[0]?.toString() === "ok" ? s(1) : undefined;
    const lost = epoch === undefined || (this.#owner && epoch === this.#epoch && Number(s(2)) < this.#metaTop);
    if (lost) {
      if (!recover) return [];
      if (!this.#owner || this.#released) {
        throw new ConnectError("the stream's history is gone from Redis; resume from the last cursor", Code.Unavailable, {
          "airwave-reason": LOG_LOST,
        });
      }
      await this.#recover();
      return this.#readRedis(afterSeq, limits, false);
    }
    if (this.#oldEpochs.has(epoch)) return []; // a reply that predates a new epoch (reordered by a retry)
    const top = Number(s(2));
    this.#apply(epoch, top, Number(s(3)), Number(s(4)), s(5) === "1", s(6) === "1");
    const from = Number(s(7));
    const out: StreamEvent[] = [];
    for (let i = 8; i < r.length; i++) {
      const e = fromBinary(StreamEventSchema, r[i] as Buffer);
      e.streamId = this.streamId;
      e.epoch = epoch;
      e.seq = from + i - 8;
      out.push(e);
      this.#cachePush(e, this.#sizeOf((r[i] as Buffer).length, epoch, e.seq));
      if (isTerminal(e) && epoch === this.#epoch && !this.#terminal) this.#terminal = e;
    }
    if (out.length === 0 && afterSeq < this.#top && from > top && limits.maxEvents > 0) {
      // Nothing retained after the cursor, yet events were: lost with an
      // old epoch. The lagged error sends the reader to resume (EPOCH_CHANGED).
      throw laggedError(afterSeq);
    }
    return out;
  }

  /** The binary size of the positioned event whose payload (without stream id, epoch, seq) has `payload` bytes. */
  #sizeOf(payload: number, epoch: string, seq: number): number {
    return payload + this.#x + stringFieldSize(epoch) + 1 + varintSize(seq);
  }

  // --- state ----------------------------------------------------------------

  /** Applies a write script's reply `{status, epoch, top, first, bytes}`. */
  #applyReply(r: string[], ended = false): void {
    if (r[0] === "lost") return;
    this.#apply(r[1] as string, Number(r[2]), Number(r[3]), Number(r[4]), ended, false);
    if (this.#ended && !this.#terminal) void this.#loadTerminal().then(() => this.#wake());
  }

  /** Applies the state Redis reported, unless an older reply than one applied already. */
  #apply(epoch: string, top: number, first: number, bytes: number, ended: boolean, expired: boolean): void {
    if (this.#oldEpochs.has(epoch)) return;
    if (epoch !== this.#epoch) {
      this.#oldEpochs.add(this.#epoch);
      this.#epoch = epoch;
      this.#cacheClear();
    } else if (top < this.#metaTop || first < this.#first) {
      return;
    }
    this.#metaTop = top;
    if (top > this.#top) this.#top = top;
    this.#first = first;
    this.#setBytes(bytes);
    if (expired) this.#expired = true;
    if (ended) this.#ended = true;
    if (this.#expired) this.#applyExpired();
    this.#cacheDropBelow(this.#first);
  }

  /** An expired log retains its terminal event only. */
  #applyExpired(): void {
    this.#first = this.#top;
    if (this.#terminal) this.#setBytes(encodedSize(this.#terminal));
  }

  #setBytes(bytes: number): void {
    const delta = bytes - this.#bytes;
    this.#bytes = bytes;
    if (delta !== 0 && this.#owner && !this.#released) this.#ctx.bytesChanged(this, delta);
  }

  /** Reads the terminal event of a log that ended elsewhere (the newest retained event). */
  async #loadTerminal(): Promise<void> {
    try {
      await this.#readRedis(this.#metaTop - 1, { maxEvents: 1, maxBytes: Number.POSITIVE_INFINITY }, false);
    } catch {
      // A reader's next read gets it.
    }
  }

  /** Wakes the waiters that have something to read. */
  #wake(): void {
    for (const w of this.#waiters) {
      if (this.#top > w.after || this.#ended) {
        this.#waiters.delete(w);
        w.wake();
      }
    }
  }

  // --- the cache of the newest events ---------------------------------------

  get #cCount(): number {
    return this.#cache.length - this.#cHead;
  }

  #cachePush(e: StreamEvent, size: number): void {
    const l = this.#limits;
    if (l.cacheEvents <= 0 || e.epoch !== this.#epoch) return;
    const n = this.#cCount;
    if (n > 0 && e.seq < this.#cFirst + n) return; // held, or older: a replay never displaces the newest
    if (n === 0 || e.seq !== this.#cFirst + n) {
      this.#cacheClear();
      this.#cFirst = e.seq;
    }
    this.#cache.push(e);
    this.#cSizes.push(size);
    this.#cBytes += size;
    while (this.#cCount > 1 && (this.#cCount > l.cacheEvents || this.#cBytes > l.cacheBytes)) this.#cacheDropOldest();
  }

  #cacheDropBelow(seq: number): void {
    while (this.#cCount > 0 && this.#cFirst < seq) this.#cacheDropOldest();
  }

  #cacheDropOldest(): void {
    this.#cBytes -= this.#cSizes[this.#cHead] ?? 0;
    this.#cache[this.#cHead] = undefined;
    this.#cHead++;
    this.#cFirst++;
    if (this.#cHead * 2 > this.#cache.length) {
      this.#cache = this.#cache.slice(this.#cHead);
      this.#cSizes = this.#cSizes.slice(this.#cHead);
      this.#cHead = 0;
    }
  }

  #cacheClear(): void {
    this.#cache = [];
    this.#cSizes = [];
    this.#cHead = 0;
    this.#cBytes = 0;
  }

  /** The events from seq `from` within `limits`, when the cache holds `from`. */
  #fromCache(from: number, limits: ReadLimits): StreamEvent[] | undefined {
    const n = this.#cCount;
    if (n === 0 || from < this.#cFirst || from >= this.#cFirst + n) return undefined;
    const start = this.#cHead + (from - this.#cFirst);
    const end = Math.min(this.#cache.length, start + Math.max(1, limits.maxEvents));
    let to = start + 1;
    let bytes = this.#cSizes[start] ?? 0;
    while (to < end) {
      bytes += this.#cSizes[to] ?? 0;
      if (bytes > limits.maxBytes) break;
      to++;
    }
    return this.#cache.slice(start, to) as StreamEvent[];
  }
}
