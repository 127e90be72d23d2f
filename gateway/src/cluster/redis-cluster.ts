import { createHash, randomUUID } from "node:crypto";
import { ev, type SendInputRequest } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import type { Redis } from "ioredis";
import type { ChatTurnStore } from "../ai-sdk/chat-streams.js";
import type { Cluster, OwnerHandlers, StreamEntry } from "../hub/cluster.js";
import type { RedisLogStore } from "../log/redis-log-store.js";

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** The command connection (ioredis), used as given and never closed here; the control subscriber is a `duplicate()`. */
  readonly redis: Redis;
  /** The shared logs (on the same Redis). */
  readonly logs: RedisLogStore;
  /** Prefix of every key and channel; default `airwave:` (the log store's). */
  readonly prefix?: string;
  /**
   * The owner lease, in ms: a replica that has not renewed it for this long
   * is dead, and a survivor ends its running streams with
   * `failed(UNAVAILABLE, OWNER_LOST)`. Renewed every third of it.
   */
  readonly leaseMs: number;
  /** TTL of an ended stream's registry entry, in ms: the log's `ttlMs`. */
  readonly ttlMs: number;
  /** TTL of a running stream's registry entry, in ms; default 24 h (the log's `runningTtlMs`). */
  readonly runningTtlMs?: number;
  /** How long a request to the owner (an input answer, a cancel) may take, in ms; default 5000. */
  readonly requestTimeoutMs?: number;
  /** Reports a failed background call (lease renewal, sweep); never a secret. */
  readonly onError?: (err: unknown, what: string) => void;
  /** Told of each stream of a dead replica this one ended with `failed(OWNER_LOST)` (metrics). */
  readonly onOwnerLost?: () => void;
}

/** The `airwave-reason` of the failure a survivor appends for a dead owner's running streams. */
export const OWNER_LOST = "OWNER_LOST";

/** A control message between replicas (JSON on `<prefix>replica:<id>:ctl`). */
type Control =
  | { readonly t: "cancel"; readonly o: string; readonly s: string }
  | {
      readonly t: "input";
      readonly o: string;
      readonly s: string;
      readonly i: string;
      readonly x: string;
      readonly r: string;
      readonly f: string;
    }
  | { readonly t: "reply"; readonly r: string; readonly ok?: string; readonly c?: Code; readonly m?: string; readonly why?: string }
  | { readonly t: "watch"; readonly f: string; readonly w: readonly Presence[] };

/** One watcher count in a "watch" message: owner, stream id, watchers on the sending replica. */
type Presence = readonly [o: string, s: string, n: number];

/** At most this many watcher counts go in one "watch" message. */
const presencePerMessage = 500;

/**
 * Claims a registry entry and lists it in the replica's running set, in one
 * step (so no reconnect between the two can lose the listing): KEYS[1] the
 * entry, KEYS[2] the running set, ARGV[1] the entry JSON, ARGV[2] the TTL in
 * ms. Returns nil when claimed, else the entry that holds the id.
 */
const claimScript = `
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  redis.call('SADD', KEYS[2], KEYS[1])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
  return false
end
return redis.call('GET', KEYS[1])
`;

/** Deletes a chat's turn (KEYS[1]) if it still names stream ARGV[1] (JSON-escaped). */
const forgetChatScript = `
local raw = redis.call('GET', KEYS[1])
if raw and string.find(raw, '"s":"' .. ARGV[1] .. '"', 1, true) then redis.call('DEL', KEYS[1]) end
return 0
`;

/** The cluster's scripts, as `defineCommand` adds them to the client. */
interface ClaimScript {
  airwaveClaim(entry: string, running: string, json: string, ttlMs: number): Promise<string | null>;
  airwaveForgetChat(key: string, streamId: string): Promise<number>;
}

/** The registry entry as stored (a JSON string). */
interface StoredEntry {
  l: string;
  r: string;
  m: string;
  c: number;
  d: number;
  /** The create span's traceparent, when traced. */
  t?: string;
}

/**
 * The replicas of one deployment sharing streams through Redis (a
 * {@link Cluster} for the hub). What Redis holds, under `prefix`:
 *
 * | Name | Type | Content | TTL |
 * |---|---|---|---|
 * | `stream:<owner digest>:<stream id>` | String | the {@link StreamEntry} as JSON | the log's running TTL, then `ttlMs` after the end |
 * | `replicas` | Sorted set | replica ids, score = lease deadline (ms since the epoch) | — |
 * | `replica:<id>:running` | Set | the registry keys of the streams the replica runs | the running TTL |
 * | `reap:<id>` | String | the survivor ending a dead replica's streams (a lock) | 30 s |
 * | `replica:<id>:ctl` | Pub/Sub channel | cancel, input, reply and watcher-presence messages | — |
 * | `chat:<owner digest>:<chat id>` | String | the AI SDK routes' latest turn of a chat (see {@link chats}) | `ttlMs` |
 *
 * The owner digest is the first 128 bits of SHA-256 of the owner string,
 * base64url: the key carries the owner, so a foreign id is a missing key
 * (NOT_FOUND) on every replica, and no owner string is stored.
 *
 * Watchers on other replicas count for the owner's detach policy: each
 * replica reports its watcher count of a stream when it changes, and all of
 * them every third of the lease in one message per owner replica (at most
 * 500 counts a message); a report not renewed within the lease counts as 0.
 */
export class RedisCluster implements Cluster {
  readonly replicaId = randomUUID();
  readonly logs: RedisLogStore;
  readonly chats: ChatTurnStore;
  readonly #redis: Redis & ClaimScript;
  readonly #prefix: string;
  readonly #o: RedisClusterOptions;
  readonly #runningTtlMs: number;
  readonly #requestTimeoutMs: number;
  #sub: Redis | undefined;
  #handlers: OwnerHandlers | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  /** When the command connection was last (re)connected, in ms since the epoch. */
  #readySince = Date.now();
  /** Input answers sent to an owner and not yet answered, by request id. */
  readonly #pending = new Map<string, { resolve: (id: string) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }>();
  /** Watcher counts this replica reports, by owner replica and stream. */
  readonly #reported = new Map<string, { rid: string; o: string; s: string; n: number }>();
  /** Watcher counts other replicas reported for streams run here, with their deadline. */
  readonly #presence = new Map<string, { o: string; s: string; f: string; until: number }>();

  constructor(o: RedisClusterOptions) {
    this.#o = o;
    this.#redis = o.redis as Redis & ClaimScript;
    if (!this.#redis.airwaveClaim) {
      this.#redis.defineCommand("airwaveClaim", { numberOfKeys: 2, lua: claimScript });
      this.#redis.defineCommand("airwaveForgetChat", { numberOfKeys: 1, lua: forgetChatScript });
    }
    this.logs = o.logs;
    this.#prefix = o.prefix ?? "airwave:";
    this.#runningTtlMs = o.runningTtlMs ?? 86_400_000;
    this.#requestTimeoutMs = o.requestTimeoutMs ?? 5_000;
    this.chats = this.#chatTurns();
  }

  /**
   * The chat → latest turn map in Redis: `chat:<owner digest>:<chat id>`
   * holds `{"s": stream id, "m": message id}` for the log's `ttlMs` (a turn
   * is resumable no longer than its stream). Forgetting compares and deletes
   * in one step, so a newer turn recorded meanwhile stays.
   */
  #chatTurns(): ChatTurnStore {
    const key = (owner: string, chatId: string) => `${this.#prefix}chat:${ownerDigest(owner)}:${chatId}`;
    return {
      set: async (owner, chatId, turn) => {
        await this.#call(() =>
          this.#redis.set(key(owner, chatId), JSON.stringify({ s: turn.streamId, m: turn.messageId }), "PX", this.#o.ttlMs),
        );
      },
      get: async (owner, chatId) => {
        const raw = await this.#call(() => this.#redis.get(key(owner, chatId)));
        if (raw === null) return undefined;
        try {
          const t = JSON.parse(raw) as { s: string; m: string };
          return { streamId: t.s, messageId: t.m };
        } catch {
          return undefined;
        }
      },
      forget: async (owner, chatId, streamId) => {
        await this.#call(() => this.#redis.airwaveForgetChat(key(owner, chatId), JSON.stringify(streamId).slice(1, -1)));
      },
    };
  }

  /** Subscribes the control channel and takes the first lease; then the replica is visible to the others. */
  async start(): Promise<void> {
    // See RedisLogStore's subscriber: no lazy connect and no ready check on a subscriber connection.
    const sub = this.#redis.duplicate({ autoResubscribe: true, lazyConnect: false, enableReadyCheck: false });
    sub.on("error", () => {}); // ioredis reconnects; presence renewals and retries cover the gap
    sub.on("message", (_channel: string, message: string) => this.#receive(message));
    await sub.subscribe(this.#channel(this.replicaId));
    this.#sub = sub;
    this.#redis.on("ready", () => {
      this.#readySince = Date.now();
      this.#background(this.#registerAgain(), "registering the streams again");
    });
    await this.#renew();
    const tickMs = Math.max(50, Math.min(1_000, Math.floor(this.#o.leaseMs / 3)));
    this.#timer = setInterval(() => void this.#tick(), tickMs);
    this.#timer.unref();
  }

  async claim(owner: string, streamId: string, entry: StreamEntry): Promise<StreamEntry | undefined> {
    const key = this.#entryKey(owner, streamId);
    const running = this.#runningKey(this.replicaId);
    const held = await this.#call(() => this.#redis.airwaveClaim(key, running, storedOf(entry), this.#runningTtlMs));
    if (held === null) return undefined;
    const other = entryOf(held);
    if (!other) throw new ConnectError("the stream registry holds an unreadable entry for this stream_id", Code.Internal);
    return other;
  }

  async lookup(owner: string, streamId: string): Promise<StreamEntry | undefined> {
    const raw = await this.#call(() => this.#redis.get(this.#entryKey(owner, streamId)));
    return raw === null ? undefined : entryOf(raw);
  }

  ended(owner: string, streamId: string): void {
    const key = this.#entryKey(owner, streamId);
    this.#background(
      this.#redis.multi().pexpire(key, this.#o.ttlMs).srem(this.#runningKey(this.replicaId), key).exec(),
      "registry: stream ended",
    );
  }

  forget(owner: string, streamId: string): void {
    const key = this.#entryKey(owner, streamId);
    this.#background(this.#redis.multi().del(key).srem(this.#runningKey(this.replicaId), key).exec(), "registry: stream removed");
  }

  async cancel(replicaId: string, owner: string, streamId: string): Promise<boolean> {
    return (await this.#send(replicaId, { t: "cancel", o: owner, s: streamId })) > 0;
  }

  async sendInput(replicaId: string, owner: string, req: SendInputRequest): Promise<string> {
    const r = randomUUID();
    const answered = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(r);
        reject(new ConnectError("the stream's owner replica did not answer; retry", Code.Unavailable));
      }, this.#requestTimeoutMs);
      this.#pending.set(r, { resolve, reject, timer });
    });
    const msg: Control = { t: "input", o: owner, s: req.streamId, i: req.inputId, x: req.text, r, f: this.replicaId };
    const heard = await this.#send(replicaId, msg).catch((e: unknown) => {
      this.#settle(r)?.reject(e);
      return 1;
    });
    if (heard === 0) this.#settle(r)?.reject(ownerUnreachable());
    return answered;
  }

  watching(replicaId: string, owner: string, streamId: string, n: number): void {
    const key = `${replicaId}\u0000${owner}\u0000${streamId}`;
    if (n > 0) this.#reported.set(key, { rid: replicaId, o: owner, s: streamId, n });
    else this.#reported.delete(key);
    this.#background(this.#send(replicaId, { t: "watch", f: this.replicaId, w: [[owner, streamId, n]] }), "watcher presence");
  }

  serve(handlers: OwnerHandlers): void {
    this.#handlers = handlers;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    for (const [r, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(new ConnectError("the gateway is shutting down; retry", Code.Unavailable));
      this.#pending.delete(r);
    }
    // The lease ends now: a survivor's next sweep ends whatever still runs here (nothing, after a drain).
    await this.#redis.zadd(this.#replicasKey(), 0, this.replicaId).catch(() => {});
    const sub = this.#sub;
    this.#sub = undefined;
    if (sub) await sub.quit().catch(() => sub.disconnect());
  }

  /**
   * After a reconnect: Redis may have lost everything (a restart without
   * persistence, a failover). The entries of the streams held here are set
   * again where missing, and each owned log is checked (lost history starts
   * a new epoch, so old cursors get EPOCH_CHANGED rather than NOT_FOUND).
   */
  async #registerAgain(): Promise<void> {
    const running = this.#runningKey(this.replicaId);
    let batch = this.#redis.multi();
    let n = 0;
    const logs = [];
    for (const h of this.#handlers?.held() ?? []) {
      const key = this.#entryKey(h.owner, h.streamId);
      batch.set(key, storedOf(h.entry), "PX", h.log.ended ? this.#o.ttlMs : this.#runningTtlMs, "NX");
      if (!h.log.ended) batch.sadd(running, key).pexpire(running, this.#runningTtlMs);
      logs.push(h.log);
      if (++n % 500 === 0) {
        await batch.exec();
        batch = this.#redis.multi();
      }
    }
    await batch.exec();
    for (const log of logs) await this.logs.verify(log);
  }

  // --- the lease, presence and the sweep of dead replicas ---------------------

  async #tick(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#renew();
      this.#renewPresence();
      const now = Date.now();
      for (const [key, p] of this.#presence) {
        if (p.until > now) continue;
        this.#presence.delete(key);
        this.#handlers?.watching(p.o, p.s, p.f, 0);
      }
      // After a reconnect, the others get a lease to renew theirs: an outage
      // of Redis is not the death of every replica that could not renew.
      if (now - this.#readySince < this.#o.leaseMs) return;
      const dead = await this.#redis.zrangebyscore(this.#replicasKey(), "-inf", now);
      for (const rid of dead) if (rid !== this.replicaId) await this.#reap(rid);
    } catch (e) {
      this.#o.onError?.(e, "lease");
    }
  }

  /** Reports every watcher count again, in one message per owner replica (and per {@link presencePerMessage}). */
  #renewPresence(): void {
    const byReplica = new Map<string, Presence[]>();
    for (const r of this.#reported.values()) {
      let w = byReplica.get(r.rid);
      if (!w) byReplica.set(r.rid, (w = []));
      w.push([r.o, r.s, r.n]);
    }
    for (const [rid, w] of byReplica) {
      for (let i = 0; i < w.length; i += presencePerMessage) {
        this.#background(this.#send(rid, { t: "watch", f: this.replicaId, w: w.slice(i, i + presencePerMessage) }), "watcher presence");
      }
    }
  }

  #renew(): Promise<unknown> {
    return this.#redis.zadd(this.#replicasKey(), Date.now() + this.#o.leaseMs, this.replicaId);
  }

  /**
   * Ends the running streams of dead replica `rid` with
   * `failed(UNAVAILABLE, OWNER_LOST, retryable)`, once: one survivor takes
   * the replica's reap lock, and the log refuses a second terminal event.
   */
  async #reap(rid: string): Promise<void> {
    const lock = await this.#redis.set(`${this.#prefix}reap:${rid}`, this.replicaId, "PX", 30_000, "NX");
    if (lock !== "OK") return;
    const running = this.#runningKey(rid);
    for (const key of await this.#redis.smembers(running)) {
      const raw = await this.#redis.get(key);
      const entry = raw === null ? undefined : entryOf(raw);
      if (!entry || entry.replicaId !== rid) continue;
      const viewed = this.logs.holds(entry.logId); // a watcher here holds the view: leave it held
      const log = await this.logs.open("", entry.logId);
      if (!log) continue;
      try {
        if (!log.ended) {
          await log.append(ev.failed(Code.Unavailable, "the replica running this stream stopped; retry", OWNER_LOST, { retryable: true }));
          this.#o.onOwnerLost?.();
        }
      } catch (e) {
        if (!(e instanceof ConnectError && e.code === Code.FailedPrecondition)) throw e; // it ended meanwhile: one terminal event
      } finally {
        if (!viewed) this.logs.release(log);
      }
      await this.#redis.pexpire(key, this.#o.ttlMs);
    }
    await this.#redis.multi().del(running).zrem(this.#replicasKey(), rid).exec();
  }

  // --- control messages -------------------------------------------------------

  #send(rid: string, msg: Control): Promise<number> {
    return this.#call(() => this.#redis.publish(this.#channel(rid), JSON.stringify(msg)));
  }

  #receive(message: string): void {
    let msg: Control;
    try {
      msg = JSON.parse(message) as Control;
    } catch {
      return;
    }
    const h = this.#handlers;
    switch (msg.t) {
      case "cancel":
        h?.cancel(msg.o, msg.s);
        return;
      case "watch": {
        if (!Array.isArray(msg.w)) return;
        const until = Date.now() + this.#o.leaseMs;
        for (const [o, s, n] of msg.w) {
          const key = `${msg.f}\u0000${o}\u0000${s}`;
          if (n > 0) this.#presence.set(key, { o, s, f: msg.f, until });
          else this.#presence.delete(key);
          h?.watching(o, s, msg.f, n);
        }
        return;
      }
      case "input": {
        const from = msg.f;
        const r = msg.r;
        const answer = h
          ? h.sendInput(msg.o, { streamId: msg.s, inputId: msg.i, text: msg.x } as SendInputRequest)
          : Promise.reject(ownerUnreachable());
        answer.then(
          (ok) => this.#background(this.#send(from, { t: "reply", r, ok }), "input reply"),
          (e: unknown) => {
            const err = ConnectError.from(e);
            const why = err.metadata.get("airwave-reason") ?? undefined;
            this.#background(this.#send(from, { t: "reply", r, c: err.code, m: err.rawMessage, ...(why ? { why } : {}) }), "input reply");
          },
        );
        return;
      }
      case "reply": {
        const p = this.#settle(msg.r);
        if (!p) return;
        if (msg.ok !== undefined) p.resolve(msg.ok);
        else p.reject(new ConnectError(msg.m ?? "", msg.c ?? Code.Unknown, msg.why ? { "airwave-reason": msg.why } : undefined));
        return;
      }
    }
  }

  #settle(r: string) {
    const p = this.#pending.get(r);
    if (!p) return undefined;
    clearTimeout(p.timer);
    this.#pending.delete(r);
    return p;
  }

  // --- names and calls ---------------------------------------------------------

  #entryKey(owner: string, streamId: string): string {
    return `${this.#prefix}stream:${ownerDigest(owner)}:${streamId}`;
  }

  #runningKey(rid: string): string {
    return `${this.#prefix}replica:${rid}:running`;
  }

  #replicasKey(): string {
    return `${this.#prefix}replicas`;
  }

  #channel(rid: string): string {
    return `${this.#prefix}replica:${rid}:ctl`;
  }

  /** A registry call; a Redis failure becomes UNAVAILABLE (retryable), with no Redis detail for clients. */
  async #call<T>(run: () => Promise<T>): Promise<T> {
    if (this.#redis.status !== "ready") throw registryDown();
    try {
      return await run();
    } catch (e) {
      throw registryDown(e);
    }
  }

  #background(p: Promise<unknown>, what: string): void {
    p.catch((e: unknown) => this.#o.onError?.(e, what));
  }
}

/** Starts a {@link RedisCluster}: the control channel subscribed and the first lease taken. */
export async function startRedisCluster(o: RedisClusterOptions): Promise<RedisCluster> {
  const c = new RedisCluster(o);
  await c.start();
  return c;
}

/** The first 128 bits of SHA-256 of the owner string, base64url: how keys carry the owner without storing it. */
function ownerDigest(owner: string): string {
  return createHash("sha256").update(owner).digest().subarray(0, 16).toString("base64url");
}

function storedOf(e: StreamEntry): string {
  const stored: StoredEntry = {
    l: e.logId,
    r: e.replicaId,
    m: e.model,
    c: e.createdAtMs,
    d: e.onDetach,
    ...(e.createdBy ? { t: e.createdBy } : {}),
  };
  return JSON.stringify(stored);
}

function entryOf(raw: string): StreamEntry | undefined {
  try {
    const e = JSON.parse(raw) as StoredEntry;
    return { logId: e.l, replicaId: e.r, model: e.m, createdAtMs: e.c, onDetach: e.d, ...(e.t ? { createdBy: e.t } : {}) };
  } catch {
    return undefined;
  }
}

function registryDown(cause?: unknown): ConnectError {
  return new ConnectError("the stream registry's Redis is not reachable; retry", Code.Unavailable, undefined, undefined, cause);
}

function ownerUnreachable(): ConnectError {
  return new ConnectError("the replica running this stream is unreachable; retry", Code.Unavailable);
}
