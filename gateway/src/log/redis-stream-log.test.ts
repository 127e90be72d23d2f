/**
 * The Redis stream log against a real Redis (AIRWAVE_TEST_REDIS_URL,
 * default redis://127.0.0.1:6379): the StreamLog contract and its
 * model-based property, with and without the read cache, then what only a
 * shared log has (keys, TTLs, lost history and epochs, batching, a second
 * process's view and its live delivery).
 *
 * Every run uses its own key prefix and deletes its keys afterwards. In CI
 * (`CI` set) a Redis that does not answer fails the suite; elsewhere the
 * suite is skipped and says why.
 */
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ev, FinishReason, ResumeOutcome, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { followLog } from "./follow-log.js";
import { createRedisLogStore, type RedisLogStore } from "./redis-log-store.js";
import type { RedisStreamLog } from "./redis-stream-log.js";
import { resolveResume } from "./resume.js";
import { describeStreamLogContract } from "./stream-log.contract.js";
import { describeWithRedis, testRedisUrl } from "../testing/redis.js";

const url = testRedisUrl;

await describeWithRedis("RedisStreamLog", redisSuites);

function redisSuites(): void {
  const prefix = `airwave-test:${crypto.randomUUID()}:`;
  const redis = new Redis(url);
  const other = new Redis(url); // a second process's connection
  const stores: RedisLogStore[] = [];
  const storeOf = (o: { cacheEvents?: number; on?: Redis; lingerMs?: number } = {}) => {
    const s = createRedisLogStore({
      redis: o.on ?? redis,
      prefix,
      maxEvents: 1000,
      maxBytes: Number.POSITIVE_INFINITY,
      ttlMs: 60_000,
      runningTtlMs: 600_000,
      ...(o.cacheEvents !== undefined && { cacheEvents: o.cacheEvents }),
      ...(o.lingerMs !== undefined && { lingerMs: o.lingerMs }),
    });
    stores.push(s);
    return s;
  };

  // create() refuses while a connection is not ready.
  const ready = (r: Redis) => (r.status === "ready" ? Promise.resolve() : new Promise<void>((res) => r.once("ready", () => res())));
  beforeAll(() => Promise.all([ready(redis), ready(other)]));

  afterAll(async () => {
    for (const s of stores) await s.close();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
    await Promise.all([redis.quit(), other.quit()]);
  });

  for (const [name, cacheEvents] of [
    ["RedisStreamLog", 256],
    ["RedisStreamLog without its cache", 0],
  ] as const) {
    const store = storeOf({ cacheEvents });
    describeStreamLogContract(name, {
      create: (streamId, limits) => store.create(streamId, limits),
      trimOldest: (log, bytes) => (log as RedisStreamLog).trimOldest(bytes),
    });
  }

  const all = { maxEvents: 1000, maxBytes: Number.POSITIVE_INFINITY };
  const seqs = (es: readonly StreamEvent[]) => es.map((e) => e.seq);
  const id = () => `s-${crypto.randomUUID()}`;
  const text = (es: readonly StreamEvent[]) => es.map((e) => (e.event.case === "textDelta" ? e.event.value.text : "")).join("");

  async function drain(log: RedisStreamLog, after: number): Promise<StreamEvent[]> {
    const out: StreamEvent[] = [];
    for await (const e of followLog(log, after, { signal: AbortSignal.timeout(10_000), coalesceLagEvents: 0 })) out.push(e);
    return out;
  }

  describe("RedisStreamLog beyond the contract", () => {
    const store = storeOf();

    it("holds a Redis Stream (entry id = seq, the event's binary without stream id, epoch, seq) and a meta hash, under the prefix", async () => {
      const log = store.create(id());
      await log.append(ev.started("m", "p"));
      await log.append(ev.textDelta("hello"));
      expect(log.keys).toEqual({
        stream: `${prefix}log:{${log.logId}}`,
        meta: `${prefix}log:{${log.logId}}:meta`,
        channel: `${prefix}log:{${log.logId}}:live`,
      });
      const entries = await redis.xrangeBuffer(log.keys.stream, "-", "+");
      expect(entries.map(([k]: [Buffer, Buffer[]]) => k.toString())).toEqual(["1-0", "2-0"]);
      const stored = fromBinary(StreamEventSchema, entries[1]?.[1][1] as Buffer);
      expect(stored).toMatchObject({ streamId: "", epoch: "", seq: 0, event: { case: "textDelta", value: { text: "hello" } } });
      expect(stored.appendedAt).toBeDefined();
      const meta = await redis.hgetall(log.keys.meta);
      expect(meta).toMatchObject({ e: log.epoch, t: "2", f: "1", b: String(log.bytes) });
      // Running: the running TTL, renewed by appends once an eighth of it passed.
      for (const k of [log.keys.stream, log.keys.meta]) expect(await redis.pttl(k)).toBeGreaterThan(590_000);
      for (const k of [log.keys.stream, log.keys.meta]) await redis.pexpire(k, 400_000);
      await log.append(ev.textDelta("not due"));
      expect(await redis.pttl(log.keys.stream)).toBeLessThanOrEqual(400_000);
      vi.useFakeTimers({ now: Date.now() + 600_000 / 8, toFake: ["Date"] });
      await log.append(ev.textDelta("due"));
      vi.useRealTimers();
      for (const k of [log.keys.stream, log.keys.meta]) expect(await redis.pttl(k)).toBeGreaterThan(590_000);
      await log.append(ev.completed(FinishReason.STOP));
      expect(await redis.hget(log.keys.meta, "d")).toBe("1");
      for (const k of [log.keys.stream, log.keys.meta]) {
        const ttl = await redis.pttl(k);
        expect(ttl).toBeGreaterThan(50_000);
        expect(ttl).toBeLessThanOrEqual(60_000);
      }
    });

    it("release of an owned log deletes its keys; the store counts the bytes of the logs it owns", async () => {
      const s = storeOf();
      const a = s.create(id());
      const b = s.create(id());
      await a.append(ev.textDelta("a"));
      await b.append(ev.textDelta("bb"));
      expect(s.totalBytes).toBe(a.bytes + b.bytes);
      s.release(a);
      expect(s.totalBytes).toBe(b.bytes);
      await redis.ping(); // after the UNLINK
      expect(await redis.exists(a.keys.stream, a.keys.meta)).toBe(0);
      await expect(a.append(ev.textDelta("late"))).rejects.toSatisfy((e) => ConnectError.from(e).code === Code.FailedPrecondition);
      // An append still in flight does not re-create the keys after the release.
      const pending = b.append(ev.textDelta("in flight"));
      s.release(b);
      await pending;
      await vi.waitFor(async () => expect(await redis.exists(b.keys.stream, b.keys.meta)).toBe(0));
      await new Promise((r) => setTimeout(r, 20));
      expect(await redis.exists(b.keys.stream, b.keys.meta)).toBe(0); // and stays so
      expect(s.totalBytes).toBe(0);
    });

    it("keys gone while running (restart without persistence): a new epoch; the old cursor is EPOCH_CHANGED, a reader in the gap is told", async () => {
      const log = store.create(id());
      for (const t of ["a", "b", "c"]) await log.append(ev.textDelta(t));
      const old = log.epoch;
      const one = { maxEvents: 1, maxBytes: Number.POSITIVE_INFINITY }; // a batch of one: nothing held beyond seq 2
      const reader = followLog(log, 1, { signal: AbortSignal.timeout(5_000), coalesceLagEvents: 0, limits: one });
      expect((await reader.next()).value?.seq).toBe(2);
      await redis.del(log.keys.stream, log.keys.meta);
      const d = await log.append(ev.textDelta("d"));
      expect(d.epoch).not.toBe(old);
      // Re-created keys get the running TTL at once, though no renewal was due.
      for (const k of [log.keys.stream, log.keys.meta]) expect(await redis.pttl(k)).toBeGreaterThan(590_000);
      expect([d.seq, log.epoch, log.first, log.top]).toEqual([4, d.epoch, 4, 4]);
      expect(seqs(await log.read(0, all))).toEqual([4]);
      expect(resolveResume(log, `${old}:3`)).toEqual({
        after: 3,
        notice: { outcome: ResumeOutcome.EPOCH_CHANGED, cursor: `${d.epoch}:3` },
      });
      // The reader was at seq 2; 3 is gone: ABORTED (resume), never a silent gap.
      await expect(reader.next()).rejects.toSatisfy((e) => ConnectError.from(e).code === Code.Aborted);
      // A reader exactly at the old top lost nothing: it goes on into the new epoch.
      expect(seqs(await drainUntil(log, 3, 4))).toEqual([4]);
    });

    it("only the stream key evicted: lost history, a new epoch", async () => {
      const log = store.create(id());
      await log.append(ev.textDelta("a"));
      await log.append(ev.textDelta("b"));
      const old = log.epoch;
      await redis.del(log.keys.stream);
      const c = await log.append(ev.textDelta("c"));
      expect(c.epoch).not.toBe(old);
      expect(seqs(await log.read(0, all))).toEqual([3]);
      expect(resolveResume(log, `${old}:2`).notice?.outcome).toBe(ResumeOutcome.EPOCH_CHANGED);
    });

    it("acknowledged writes gone (failover to a replica that lagged): a new epoch, not a rewrite of seqs readers saw", async () => {
      const log = store.create(id());
      await log.append(ev.textDelta("a"));
      await log.append(ev.textDelta("b"));
      const [s, m] = await Promise.all([redis.dumpBuffer(log.keys.stream), redis.dumpBuffer(log.keys.meta)]);
      await log.append(ev.textDelta("c"));
      await log.append(ev.textDelta("d"));
      const old = log.epoch;
      await redis.restore(log.keys.stream, 0, s, "REPLACE");
      await redis.restore(log.keys.meta, 0, m, "REPLACE");
      const e = await log.append(ev.textDelta("e"));
      expect(e.epoch).not.toBe(old);
      expect(e.seq).toBe(5);
      expect(seqs(await log.read(0, all))).toEqual([5]);
      expect(resolveResume(log, `${old}:4`).notice?.outcome).toBe(ResumeOutcome.EPOCH_CHANGED);
    });

    it("an ended log whose keys are gone: the owner's read restores its terminal event under a new epoch", async () => {
      const s = storeOf({ cacheEvents: 0 });
      const log = s.create(id());
      await log.append(ev.textDelta("a"));
      const end = await log.append(ev.completed(FinishReason.STOP));
      const old = log.epoch;
      await redis.del(log.keys.stream, log.keys.meta);
      const got = await log.read(0, all);
      expect(seqs(got)).toEqual([2]);
      expect(got[0]?.event.case).toBe("completed");
      expect(log.epoch).not.toBe(old);
      expect(log.terminal).toBe(end);
      expect([log.first, log.top, log.ended]).toEqual([2, 2, true]);
      expect(await redis.hget(log.keys.meta, "d")).toBe("1");
      expect(await redis.pttl(log.keys.stream)).toBeGreaterThan(50_000);
      expect(resolveResume(log, `${old}:1`)).toMatchObject({ after: 1, notice: { outcome: ResumeOutcome.EPOCH_CHANGED } });
      expect(seqs(await drain(log, 1))).toEqual([2]);
    });

    it("appends made without waiting keep their order and go in batches", async () => {
      const log = store.create(id());
      const spy = vi.spyOn(store.redis, "airwaveLogAppend");
      try {
        const texts = Array.from({ length: 400 }, (_, i) => `t${i},`);
        const done = await Promise.all(texts.map((t) => log.append(ev.textDelta(t))));
        expect(seqs(done)).toEqual(texts.map((_, i) => i + 1));
        expect(spy.mock.calls.length).toBeLessThan(20);
      } finally {
        spy.mockRestore();
      }
      const replay = await storeOf({ cacheEvents: 0, on: other }).open(log.streamId, log.logId);
      expect(text(await (replay as RedisStreamLog).read(0, all))).toBe(Array.from({ length: 400 }, (_, i) => `t${i},`).join(""));
    });

    it("a resent append call (after a reconnect) is not applied twice", async () => {
      const log = store.create(id());
      await log.append(ev.textDelta("a"));
      const { stream, meta, channel } = log.keys;
      const call = (payload: string) => store.redis.airwaveLogAppend(stream, meta, "callX", 1, 0, -1, -1, 0, 60_000, channel, 0, payload);
      expect((await call("p"))[0]).toBe("ok");
      expect((await call("p"))[0]).toBe("dup");
      expect(await redis.xlen(stream)).toBe(2);
    });

    it("another process's view: opens from Redis, gets live appends without polling, ends at the terminal event", async () => {
      const s2 = storeOf({ on: other });
      const log = store.create(id());
      await log.append(ev.textDelta("a"));
      const view = (await s2.open(log.streamId, log.logId)) as RedisStreamLog;
      expect([view.epoch, view.top, view.first, view.ended, view.owned]).toEqual([log.epoch, 1, 1, false, false]);
      const got = drain(view, 0);
      await vi.waitFor(async () => expect(await redis.pubsub("NUMSUB", log.keys.channel)).toEqual([log.keys.channel, 1]));
      for (const t of ["b", "c", "d"]) {
        await log.append(ev.textDelta(t));
        await new Promise((r) => setTimeout(r, 5));
      }
      await log.append(ev.completed(FinishReason.STOP));
      const events = await got;
      expect(seqs(events)).toEqual([1, 2, 3, 4, 5]);
      expect(text(events)).toBe("abcd");
      expect(events.every((e) => e.epoch === log.epoch && e.streamId === log.streamId)).toBe(true);
      expect([view.top, view.ended, view.terminal?.seq, view.bytes]).toEqual([5, true, 5, log.bytes]);
      // The same view for every reader of this process; released, it unsubscribes and leaves the keys.
      expect(await s2.open(log.streamId, log.logId)).toBe(view);
      s2.release(view);
      await vi.waitFor(async () => expect(await redis.pubsub("NUMSUB", log.keys.channel)).toEqual([log.keys.channel, 0]));
      expect(await redis.exists(log.keys.stream, log.keys.meta)).toBe(2);
    });

    it("another process's view: messages lost while its subscriber reconnects cost a read, not an event", async () => {
      const name = `airwave-test-${crypto.randomUUID()}`;
      // As the gateway connects (cluster/shared-streams.ts): lazily, with a name; the subscriber must still work.
      const conn = new Redis(url, { connectionName: name, lazyConnect: true });
      await conn.connect();
      await ready(conn);
      try {
        const s2 = storeOf({ on: conn });
        const log = store.create(id());
        await log.append(ev.textDelta("a"));
        const view = (await s2.open(log.streamId, log.logId)) as RedisStreamLog;
        const got = drain(view, 0);
        await vi.waitFor(async () => expect(await redis.pubsub("NUMSUB", log.keys.channel)).toEqual([log.keys.channel, 1]));
        const subs = ((await redis.call("CLIENT", "LIST", "TYPE", "pubsub")) as string)
          .split("\n")
          .filter((l) => l.includes(`name=${name} `));
        expect(subs).toHaveLength(1);
        await redis.call("CLIENT", "KILL", "ID", /id=(\d+)/.exec(subs[0] as string)?.[1] as string);
        await log.append(ev.textDelta("b")); // published while nobody listens
        await log.append(ev.completed(FinishReason.STOP));
        expect(text(await got)).toBe("ab");
      } finally {
        conn.disconnect();
      }
    });

    it("another process's view: an ended log opens with its terminal event; appending there is refused", async () => {
      const s2 = storeOf({ on: other });
      const log = store.create(id());
      await log.append(ev.textDelta("a"));
      await log.append(ev.failed(Code.Unavailable, "x", "R"));
      const view = (await s2.open(log.streamId, log.logId)) as RedisStreamLog;
      expect([view.ended, view.terminal?.seq, view.terminal?.event.case]).toEqual([true, 2, "failed"]);
      expect(await s2.open(log.streamId, "no-such-log")).toBeUndefined();
      await expect(view.append(ev.textDelta("late"))).rejects.toSatisfy((e) => ConnectError.from(e).code === Code.FailedPrecondition);
    });

    it("two writers race for the terminal event: exactly one wins", async () => {
      const s2 = storeOf({ on: other });
      const log = store.create(id());
      await log.append(ev.textDelta("a"));
      const view = (await s2.open(log.streamId, log.logId)) as RedisStreamLog;
      const results = await Promise.allSettled([
        log.append(ev.completed(FinishReason.STOP)),
        view.append(ev.failed(Code.Unavailable, "owner lost", "OWNER_LOST")),
      ]);
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(ConnectError.from(rejected.reason).code).toBe(Code.FailedPrecondition);
      const events = await (await storeOf({ on: other, cacheEvents: 0 }).open(log.streamId, log.logId))?.read(0, all);
      expect(seqs(events ?? [])).toEqual([1, 2]);
    });

    it("another process's view of lost history says so (UNAVAILABLE, LOG_LOST)", async () => {
      const s2 = storeOf({ on: other, cacheEvents: 0 });
      const log = store.create(id());
      await log.append(ev.textDelta("a"));
      const view = (await s2.open(log.streamId, log.logId)) as RedisStreamLog;
      await redis.del(log.keys.stream, log.keys.meta);
      const err = await view.read(0, all).catch((e: unknown) => ConnectError.from(e));
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.Unavailable);
      expect((err as ConnectError).metadata.get("airwave-reason")).toBe("LOG_LOST");
    });

    it("refuses new streams while the connection is not ready, and ioredis's keyPrefix", async () => {
      const idle = new Redis(url, { lazyConnect: true });
      try {
        const s = createRedisLogStore({ redis: idle, prefix, maxEvents: 10, maxBytes: 1e6, ttlMs: 1_000 });
        expect(() => s.create(id())).toThrow(expect.objectContaining({ code: Code.Unavailable }));
        expect(() =>
          createRedisLogStore({ redis: new Redis(url, { lazyConnect: true, keyPrefix: "x:" }), maxEvents: 1, maxBytes: 1, ttlMs: 1 }),
        ).toThrow("keyPrefix");
      } finally {
        idle.disconnect();
      }
    });
  });

  /** Reads `log` after `after` until seq `until` (no terminal needed). */
  async function drainUntil(log: RedisStreamLog, after: number, until: number): Promise<StreamEvent[]> {
    const out: StreamEvent[] = [];
    for await (const e of followLog(log, after, { signal: AbortSignal.timeout(5_000), coalesceLagEvents: 0 })) {
      out.push(e);
      if (e.seq >= until) break;
    }
    return out;
  }
}
