import { Code, ConnectError } from "@connectrpc/connect";
import { newEpoch, newStreamId } from "@airwave/proto";
import type { Socket } from "node:net";
import type { Redis } from "ioredis";
import { defineLogScripts, type LogScripts } from "./redis-log-scripts.js";
import { type RedisLogContext, type RedisLogKeys, type RedisLogLimits, RedisStreamLog } from "./redis-stream-log.js";
import type { LogLimits, StreamLog, StreamLogStore } from "./stream-log.js";

/** Options of {@link createRedisLogStore}. */
export interface RedisLogStoreOptions extends LogLimits {
  /**
   * The command connection (ioredis). Used as given, never closed here;
   * the live subscriber is a `duplicate()` of it. Without ioredis's
   * `keyPrefix`: names are under {@link prefix}.
   */
  readonly redis: Redis;
  /** Prefix of every key and channel; default `airwave:`. */
  readonly prefix?: string;
  /** Told the round trip, in seconds, and the success of each log command (metrics). */
  readonly onCommand?: (seconds: number, ok: boolean) => void;
  /**
   * TTL of a log's keys from its terminal event on, in ms: the backstop
   * when no process deletes them. The hub's lifetimes come first: set it
   * above AIRWAVE_STREAM_TTL_MS + AIRWAVE_EXPIRED_TTL_MS.
   */
  readonly ttlMs: number;
  /**
   * TTL of a running log's keys, renewed by the appends (at most every
   * eighth of it), in ms; default
   * 24 h. Longer than the longest pause between two events of a running
   * stream (AIRWAVE_GENERATION_TIMEOUT_MS bounds it); a log that outlives
   * it lost its history and changes epoch.
   */
  readonly runningTtlMs?: number;
  /** Newest events of each log kept in this process for its readers; default 256 (0: none). */
  readonly cacheEvents?: number;
  /** Bytes of that cache per log; default 1 MiB. */
  readonly cacheBytes?: number;
  /** How long a log's live channel stays subscribed after its last waiter, in ms; default 30000. */
  readonly lingerMs?: number;
}

/** Commands gathered on a corked socket (see {@link RedisLogStore.send}). */
interface WriteBatch {
  readonly socket: Socket;
  commands: number;
  flushed: boolean;
}

/**
 * The Redis stream logs of one gateway process: a {@link StreamLogStore}
 * for the hub, as {@link MemoryLogStore} is (see {@link RedisStreamLog}
 * for what Redis holds per log).
 *
 * Live delivery for logs written by other processes: one subscriber
 * connection per store (per process), made on first use; a log's channel
 * is subscribed while a reader here waits on it, and unsubscribed once the
 * log ended or no reader waited for `lingerMs`. A message wakes that log's
 * readers here (fan-out in process). After the subscriber reconnects,
 * every subscribed log is re-read.
 *
 * Memory bounds: per log by events and bytes; across logs, Redis's own
 * `maxmemory` (use `noeviction` or a `volatile-*` policy: an evicted key
 * is lost history, which is reported, but lost). `totalBytes` counts the
 * logs this process owns.
 */
export class RedisLogStore implements StreamLogStore, RedisLogContext {
  readonly redis: Redis & LogScripts;
  readonly #prefix: string;
  readonly #limits: RedisLogLimits;
  readonly #lingerMs: number;
  /** Every log held here, by log id. */
  readonly #logs = new Map<string, RedisStreamLog>();
  /** Logs whose live channel is subscribed, by channel. */
  readonly #live = new Map<string, RedisStreamLog>();
  #sub: Redis | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #total = 0;
  #closed = false;
  /** The commands being gathered on the corked command socket (see {@link send}). */
  #batch: WriteBatch | undefined;
  /** Commands written on `#flyingOn` whose replies have not come yet. */
  #flying = 0;
  #flyingOn: Socket | undefined;
  readonly #onCommand: ((seconds: number, ok: boolean) => void) | undefined;

  constructor(o: RedisLogStoreOptions) {
    if (o.redis.options.keyPrefix) throw new Error("RedisLogStore: use the prefix option, not ioredis's keyPrefix");
    this.redis = defineLogScripts(o.redis);
    this.#prefix = o.prefix ?? "airwave:";
    this.#lingerMs = o.lingerMs ?? 30_000;
    this.#onCommand = o.onCommand;
    this.#limits = {
      maxEvents: o.maxEvents,
      maxBytes: o.maxBytes,
      ttlMs: o.ttlMs,
      runningTtlMs: o.runningTtlMs ?? 86_400_000,
      cacheEvents: o.cacheEvents ?? 256,
      cacheBytes: o.cacheBytes ?? 1 << 20,
    };
  }

  /** Bytes retained by the logs this process owns (its latest view). */
  get totalBytes(): number {
    return this.#total;
  }

  /** The Redis names of log `logId`. */
  keysOf(logId: string): RedisLogKeys {
    const base = `${this.#prefix}log:{${logId}}`;
    return { stream: base, meta: `${base}:meta`, channel: `${base}:live` };
  }

  /**
   * Creates the log of a new stream, owned (written) by this process, under
   * a new random log id (`log.logId`). `limits` overrides the store's
   * per-stream limits.
   *
   * Raises Code.Unavailable (retryable) while the connection to Redis is
   * not ready.
   */
  create(streamId: string, limits?: LogLimits): RedisStreamLog {
    if (this.redis.status !== "ready" || this.#closed) {
      throw new ConnectError("the stream log's Redis is not connected; retry later", Code.Unavailable);
    }
    const logId = newStreamId();
    const log = new RedisStreamLog(
      this,
      streamId,
      logId,
      this.keysOf(logId),
      limits ? { ...this.#limits, maxEvents: limits.maxEvents, maxBytes: limits.maxBytes } : this.#limits,
      { epoch: newEpoch(), top: 0, first: 1, bytes: 0, ended: false, expired: false },
      true,
    );
    log.init();
    this.#logs.set(logId, log);
    return log;
  }

  /**
   * This process's view of log `logId` of stream `streamId`, written
   * elsewhere (or the owned log itself when it is held here); `undefined`
   * when Redis has no such log. Its state is read from Redis, with the
   * terminal event when the log ended.
   */
  async open(streamId: string, logId: string): Promise<RedisStreamLog | undefined> {
    const held = this.#logs.get(logId);
    if (held) return held;
    const keys = this.keysOf(logId);
    const r = await this.redis.airwaveLogReadBuffer(keys.stream, keys.meta, Number.MAX_SAFE_INTEGER, 0, 0, 0);
    if (r[0]?.toString() !== "ok") return undefined;
    const s = (i: number) => (r[i] as Buffer).toString();
    const log = new RedisStreamLog(
      this,
      streamId,
      logId,
      keys,
      this.#limits,
      { epoch: s(1), top: Number(s(2)), first: Number(s(3)), bytes: Number(s(4)), ended: false, expired: s(6) === "1" },
      false,
    );
    const again = this.#logs.get(logId);
    if (again) return again;
    this.#logs.set(logId, log);
    if (s(5) === "1") await log.refresh(); // learns the end, and loads the terminal event
    return log;
  }

  /** True while a log (owned, or a view opened here) is held under `logId`. */
  holds(logId: string): boolean {
    return this.#logs.has(logId);
  }

  /** Checks that Redis still holds a log owned here, starting a new epoch if its history was lost (see RedisStreamLog.verify). */
  verify(log: StreamLog): Promise<void> {
    return log instanceof RedisStreamLog ? log.verify() : Promise.resolve();
  }

  /** Re-reads a log's state from Redis (a view that no reader keeps live may lag); wakes its readers. */
  refresh(log: StreamLog): Promise<void> {
    return log instanceof RedisStreamLog ? log.refresh() : Promise.resolve();
  }

  /**
   * Forgets a log: its bytes no longer count; its live channel is dropped.
   * For a log this process owns, both keys are deleted (the stream was
   * removed); a view of another process's log only goes from here.
   */
  release(log: StreamLog): void {
    if (!(log instanceof RedisStreamLog) || this.#logs.get(log.logId) !== log || !log.markReleased(log.owned)) return;
    this.#logs.delete(log.logId);
    this.#unsubscribe(log);
    if (log.owned) this.#total -= log.bytes;
  }

  /** Closes the subscriber connection (not the command connection, which the caller owns). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    this.#live.clear();
    const sub = this.#sub;
    this.#sub = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  /** @private RedisLogContext */
  bytesChanged(log: RedisStreamLog, delta: number): void {
    if (this.#logs.get(log.logId) === log) this.#total += delta;
  }

  /**
   * @private RedisLogContext: sends a log command (`run` issues it on the
   * command connection) in the current write batch. The commands of many
   * logs go out together in one socket write (one syscall, and one read by
   * Redis, instead of one each): the socket is corked while a batch
   * gathers, and a batch is written at the end of the tick when no earlier
   * batch awaits its replies, else as soon as the last of them came. So an
   * idle log store writes at once, and a busy one in batches that grow
   * with the load, never waiting longer than one round trip. ioredis's own
   * autopipelining is not used: a pipeline caught by a long outage waits
   * instead of failing. The commands and their replies are unchanged.
   */
  send<T>(run: () => Promise<T>): Promise<T> {
    const observe = this.#onCommand;
    if (!observe) return this.#send(run);
    const t0 = performance.now();
    const p = this.#send(run);
    p.then(
      () => observe((performance.now() - t0) / 1000, true),
      () => observe((performance.now() - t0) / 1000, false),
    );
    return p;
  }

  #send<T>(run: () => Promise<T>): Promise<T> {
    const socket = (this.redis as unknown as { stream?: Socket }).stream;
    if (!socket || typeof socket.cork !== "function" || this.redis.status !== "ready") return run();
    if (this.#batch && this.#batch.socket !== socket) this.#flush(); // reconnected: a new socket
    let b = this.#batch;
    if (!b) {
      b = this.#batch = { socket, commands: 0, flushed: false };
      socket.cork();
      // After a reconnect, the old socket's commands are no reason to wait (ioredis may resend them on this one).
      if (this.#flying === 0 || this.#flyingOn !== socket) process.nextTick(() => this.#batch === b && this.#flush());
    }
    const batch = b;
    batch.commands++;
    const p = run();
    const settled = () => {
      if (!batch.flushed)
        batch.commands--; // failed before it was written
      else if (batch.socket === this.#flyingOn && --this.#flying === 0 && this.#batch) this.#flush();
    };
    p.then(settled, settled);
    return p;
  }

  /** Writes the batch being gathered. */
  #flush(): void {
    const b = this.#batch;
    if (!b) return;
    this.#batch = undefined;
    b.flushed = true;
    if (this.#flyingOn !== b.socket) {
      this.#flyingOn = b.socket;
      this.#flying = 0;
    }
    this.#flying += b.commands;
    b.socket.uncork();
  }

  /** @private RedisLogContext */
  watch(log: RedisStreamLog): void {
    if (this.#closed || this.#live.get(log.keys.channel) === log || this.#logs.get(log.logId) !== log) return;
    this.#live.set(log.keys.channel, log);
    const sub = this.#subscriber();
    sub.subscribe(log.keys.channel).then(
      () => log.refresh(), // what was appended before the subscription took effect
      () => {
        this.#live.delete(log.keys.channel);
        void log.refresh();
      },
    );
  }

  #subscriber(): Redis {
    if (this.#sub) return this.#sub;
    // A subscriber connection of its own, connected at once (not lazily,
    // whatever the command connection's options) and without a ready check:
    // the check's INFO is not valid in subscriber mode, so on a connection
    // whose first SUBSCRIBE went out before it, or on a reconnect, it failed,
    // closed the connection again and again, and lost subscriptions (found
    // under load: watchers on other replicas stopped mid-stream).
    const sub = this.redis.duplicate({ autoResubscribe: true, lazyConnect: false, enableReadyCheck: false });
    sub.on("message", (channel: string, message: string) => {
      const log = this.#live.get(channel);
      if (log) log.hint(Number.parseInt(message, 10));
    });
    // Every (re)connect: messages may have been lost meanwhile.
    sub.on("ready", () => {
      for (const log of this.#live.values()) void log.refresh();
    });
    sub.on("error", () => {}); // ioredis reconnects; reads report what matters
    this.#sub = sub;
    this.#sweep = setInterval(() => this.#sweepIdle(), Math.max(1_000, this.#lingerMs / 2));
    this.#sweep.unref();
    return sub;
  }

  /** Unsubscribes the logs that ended or had no waiter for `lingerMs`. */
  #sweepIdle(): void {
    const now = Date.now();
    for (const log of this.#live.values()) {
      if (log.waiting === 0 && (log.ended || now - log.lastWaitMs > this.#lingerMs)) this.#unsubscribe(log);
    }
  }

  #unsubscribe(log: RedisStreamLog): void {
    if (this.#live.get(log.keys.channel) !== log) return;
    this.#live.delete(log.keys.channel);
    this.#sub?.unsubscribe(log.keys.channel).catch(() => {});
  }
}

/**
 * The Redis stream logs for the hub (`HubOptions.logs`): a
 * {@link RedisLogStore} on `o.redis` under `o.prefix` (default `airwave:`).
 * See {@link RedisStreamLog} for what Redis holds per stream.
 */
export function createRedisLogStore(o: RedisLogStoreOptions): RedisLogStore {
  return new RedisLogStore(o);
}
