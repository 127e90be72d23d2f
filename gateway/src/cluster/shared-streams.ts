import { ConfigError } from "@airwave/proto/server";
import { Redis } from "ioredis";
import { createRedisLogStore } from "../log/redis-log-store.js";
import { type RedisCluster, startRedisCluster } from "./redis-cluster.js";

/** Options of {@link startSharedStreams}; see GatewayConfig (`AIRWAVE_REDIS_*`, the log limits and TTLs). */
export interface SharedStreamsOptions {
  /** The Redis URL; with {@link redisSentinels}, only its credentials, database and TLS count. */
  readonly redisUrl: string;
  /** Redis Sentinel: the sentinels to ask for the primary named {@link redisSentinelName}. */
  readonly redisSentinels?: readonly { host: string; port: number }[] | undefined;
  readonly redisSentinelName?: string;
  readonly redisPrefix: string;
  readonly ownerLeaseMs: number;
  readonly logMaxEvents: number;
  readonly logMaxBytes: number;
  readonly streamTtlMs: number;
  readonly expiredTtlMs: number;
  /** Reports Redis errors (connection lost, a failed background call); never the URL or a secret. */
  readonly onError: (err: unknown, what: string) => void;
  /** Told the round trip (seconds) and success of each stream log command (metrics). */
  readonly onCommand?: (seconds: number, ok: boolean) => void;
  /** Told of each dead replica's stream this one ended with `failed(OWNER_LOST)` (metrics). */
  readonly onOwnerLost?: () => void;
}

/**
 * Reconnect attempts a command waits through before it fails: about 5 s of
 * outage at the backoff below (50, 100, … 500, 500 … ms). Within it a
 * running generation's appends wait in order and nothing is lost; past it
 * the generation ends with `failed(UNAVAILABLE, LOG_UNAVAILABLE)`.
 */
const commandRetries = 15;

/** Margin of the Redis TTLs over the hub's own lifetimes, in ms: the hub removes a stream first, Redis is the backstop. */
const ttlMarginMs = 60_000;

/** The shared streams of a replica: the cluster for the hub, and how to close its Redis connections. */
export interface SharedStreams {
  readonly cluster: RedisCluster;
  /** Closes the log store's and the cluster's connections (after the hub's shutdown). */
  close(): Promise<void>;
}

/**
 * Connects to Redis and starts this replica's part of the shared streams:
 * the Redis logs (`log/redis-log-store.ts`) and the registry, lease and
 * control channel (`redis-cluster.ts`). Reconnects after a loss every
 * `min(50 · attempt, 500)` ms, so a replica is back within 0.5 s of Redis;
 * commands wait through about 5 s of outage before they fail.
 *
 * Raises ConfigError when Redis cannot be reached at start (the gateway
 * does not start half-shared); the message names host and port, never the
 * URL's password.
 */
export async function startSharedStreams(o: SharedStreamsOptions): Promise<SharedStreams> {
  const sentinel = o.redisSentinels?.length ? { sentinels: [...o.redisSentinels], name: o.redisSentinelName ?? "mymaster" } : {};
  const redis = new Redis(o.redisUrl, {
    ...sentinel,
    lazyConnect: true,
    maxRetriesPerRequest: commandRetries,
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
    connectionName: "airwave-gateway",
    // No autopipelining: a pipeline caught by a long outage is not failed
    // after maxRetriesPerRequest like a lone command, so appends would wait
    // forever instead of ending the generation (see commandRetries).
  });
  let lastError: unknown;
  const onStartError = (err: unknown) => {
    lastError = err;
  };
  redis.on("error", onStartError);
  try {
    await redis.connect();
  } catch (e) {
    redis.disconnect();
    const { host, port } = redis.options; // never the URL: it may hold a password
    const where = o.redisSentinels?.length
      ? `the primary "${o.redisSentinelName ?? "mymaster"}" of the sentinels ${o.redisSentinels.map((s) => `${s.host}:${s.port}`).join(",")}`
      : `Redis at ${host}:${port}`;
    throw new ConfigError(`AIRWAVE_REDIS_URL: cannot connect to ${where}: ${((lastError ?? e) as Error).message}`);
  }
  redis.off("error", onStartError);
  redis.on("error", (err: unknown) => o.onError(err, "redis"));
  const ttlMs = o.streamTtlMs + o.expiredTtlMs + ttlMarginMs;
  const logs = createRedisLogStore({
    ...(o.onCommand ? { onCommand: o.onCommand } : {}),
    redis,
    prefix: o.redisPrefix,
    maxEvents: o.logMaxEvents,
    maxBytes: o.logMaxBytes > 0 ? o.logMaxBytes : Number.POSITIVE_INFINITY,
    ttlMs,
  });
  const cluster = await startRedisCluster({
    redis,
    logs,
    prefix: o.redisPrefix,
    leaseMs: o.ownerLeaseMs,
    ttlMs,
    onError: o.onError,
    ...(o.onOwnerLost ? { onOwnerLost: o.onOwnerLost } : {}),
  });
  return {
    cluster,
    async close() {
      await cluster.close();
      await logs.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
