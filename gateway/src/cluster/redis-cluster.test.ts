/**
 * The Redis cluster's registry and control messages against a real Redis
 * (see testing/redis.ts): claims, an unreadable entry, and watcher presence
 * (reported on change, renewed in one message per owner replica, counted as
 * 0 once a replica stops renewing it). The hub over two replicas is tested
 * end to end in tests/e2e/replicas.test.ts.
 */
import { createHash, randomUUID } from "node:crypto";
import { Code, ConnectError } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { OwnerHandlers, StreamEntry } from "../hub/cluster.js";
import { createRedisLogStore } from "../log/redis-log-store.js";
import { describeWithRedis, testRedisUrl } from "../testing/redis.js";
import { type RedisCluster, startRedisCluster } from "./redis-cluster.js";

await describeWithRedis("RedisCluster", () => {
  const prefix = `airwave-test:${randomUUID()}:`;
  const leaseMs = 300;
  const conns: Redis[] = [];
  const clusters: RedisCluster[] = [];
  const watched: { at: string; owner: string; streamId: string; from: string; n: number }[] = [];

  async function replica(): Promise<RedisCluster> {
    const redis = new Redis(testRedisUrl);
    conns.push(redis);
    const logs = createRedisLogStore({ redis, prefix, maxEvents: 100, maxBytes: Number.POSITIVE_INFINITY, ttlMs: 60_000 });
    const c = await startRedisCluster({ redis, logs, prefix, leaseMs, ttlMs: 60_000 });
    clusters.push(c);
    const handlers: OwnerHandlers = {
      cancel: () => {},
      sendInput: () => Promise.reject(new ConnectError("no input here", Code.NotFound)),
      watching: (owner, streamId, from, n) => watched.push({ at: c.replicaId, owner, streamId, from, n }),
      held: () => [],
    };
    c.serve(handlers);
    return c;
  }

  const entryOf = (c: RedisCluster): StreamEntry => ({
    logId: randomUUID(),
    replicaId: c.replicaId,
    model: "m",
    createdAtMs: 1,
    onDetach: 0,
  });

  afterAll(async () => {
    for (const c of clusters) await c.close();
    const keys = await conns[0]!.keys(`${prefix}*`);
    if (keys.length) await conns[0]!.del(...keys);
    for (const r of conns) r.disconnect();
  });

  describe("claims", () => {
    it("claims an id once: a second claim gets the entry that holds it; another owner's id is another stream", async () => {
      const [a, b] = [await replica(), await replica()];
      const first = entryOf(a);
      expect(await a.claim("alice", "s-claimed", first)).toBeUndefined();
      expect(await b.claim("alice", "s-claimed", entryOf(b))).toEqual(first);
      expect(await b.claim("bob", "s-claimed", entryOf(b))).toBeUndefined();
      expect(await b.lookup("alice", "s-claimed")).toEqual(first);
    });

    it("refuses to claim over an unreadable entry (INTERNAL), and leaves it", async () => {
      const a = await replica();
      const digest = createHash("sha256").update("alice").digest().subarray(0, 16).toString("base64url");
      const key = `${prefix}stream:${digest}:s-garbled`;
      await conns[0]!.set(key, "{not json");
      const err = await a.claim("alice", "s-garbled", entryOf(a)).catch((e: unknown) => ConnectError.from(e));
      expect(err).toMatchObject({ code: Code.Internal });
      expect(await conns[0]!.get(key)).toBe("{not json");
    });
  });

  describe("watcher presence", () => {
    it("reports a change at once, renews all of a replica's counts for one owner in one message, and counts 0 when renewals stop", async () => {
      const [owner, watcher] = [await replica(), await replica()];
      const streams = ["s-1", "s-2", "s-3"];
      for (const s of streams) watcher.watching(owner.replicaId, "alice", s, 2);
      await vi.waitFor(() => expect(watched.filter((w) => w.at === owner.replicaId && w.n === 2)).toHaveLength(3));

      const spy = new Redis(testRedisUrl);
      conns.push(spy);
      const renewal = new Promise<unknown>((resolve) => spy.on("message", (_c: string, m: string) => resolve(JSON.parse(m))));
      await spy.subscribe(`${prefix}replica:${owner.replicaId}:ctl`);
      expect(await renewal).toEqual({
        t: "watch",
        f: watcher.replicaId,
        w: expect.arrayContaining(streams.map((s) => ["alice", s, 2])),
      });

      watcher.watching(owner.replicaId, "alice", "s-1", 0);
      await vi.waitFor(() => expect(watched.filter((w) => w.at === owner.replicaId && w.streamId === "s-1").at(-1)?.n).toBe(0));

      await watcher.close(); // no more renewals: within a lease the others count as 0
      await vi.waitFor(
        () => {
          for (const s of ["s-2", "s-3"]) expect(watched.filter((w) => w.at === owner.replicaId && w.streamId === s).at(-1)?.n).toBe(0);
        },
        { timeout: leaseMs * 4 },
      );
    });
  });
});
