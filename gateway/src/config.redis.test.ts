import { ConfigError } from "@airwave/proto/server";
import { describe, expect, it } from "vitest";
import { loadGatewayConfig } from "./config.js";

describe("the several-replicas settings in the configuration", () => {
  it("defaults: no Redis, prefix airwave:, a 5 s lease, no Sentinel", () => {
    expect(loadGatewayConfig({})).toMatchObject({
      redisUrl: undefined,
      redisPrefix: "airwave:",
      ownerLeaseMs: 5_000,
      redisSentinels: undefined,
      redisSentinelName: "mymaster",
    });
  });

  it("takes redis: and rediss: URLs with credentials, a prefix, a lease of at least 300 ms, and Sentinels", () => {
    const c = loadGatewayConfig({
      AIRWAVE_REDIS_URL: "rediss://user:pa%40ss@redis.internal:6380/2",
      AIRWAVE_REDIS_PREFIX: "prod:",
      AIRWAVE_OWNER_LEASE_MS: "100",
      AIRWAVE_REDIS_SENTINELS: "10.0.0.1:26379, sentinel-b:26380,[::1]:26381",
      AIRWAVE_REDIS_SENTINEL_NAME: "airwave",
    });
    expect(c).toMatchObject({ redisUrl: "rediss://user:pa%40ss@redis.internal:6380/2", redisPrefix: "prod:", ownerLeaseMs: 300 });
    expect(c.redisSentinels).toEqual([
      { host: "10.0.0.1", port: 26379 },
      { host: "sentinel-b", port: 26380 },
      { host: "::1", port: 26381 },
    ]);
    expect(c.redisSentinelName).toBe("airwave");
  });

  it.each([
    ["not a URL", { AIRWAVE_REDIS_URL: "::nope" }, /AIRWAVE_REDIS_URL: not a URL/],
    ["another scheme", { AIRWAVE_REDIS_URL: "http://127.0.0.1:6379" }, /the scheme must be redis: or rediss:/],
    ["a sentinel without a port", { AIRWAVE_REDIS_SENTINELS: "host-only" }, /AIRWAVE_REDIS_SENTINELS: "host-only" is not host:port/],
    ["a sentinel port out of range", { AIRWAVE_REDIS_SENTINELS: "h:70000" }, /is not host:port/],
  ])("refuses %s with a ConfigError that never shows a password", (_name, env, message) => {
    let err: unknown;
    try {
      loadGatewayConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toMatch(message);
  });

  it("never echoes the URL (it may hold a password)", () => {
    expect(() => loadGatewayConfig({ AIRWAVE_REDIS_URL: "ftp://admin:s3cret-password@h" })).toThrow(/^(?!.*s3cret)/);
  });
});
