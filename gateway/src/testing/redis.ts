import { Redis } from "ioredis";
import { describe, it } from "vitest";

/** The Redis the suites run against: AIRWAVE_TEST_REDIS_URL, default redis://127.0.0.1:6379. @private test support */
export const testRedisUrl = process.env.AIRWAVE_TEST_REDIS_URL || "redis://127.0.0.1:6379";

/** Why Redis cannot be used, or undefined when it answers. */
async function redisDown(): Promise<string | undefined> {
  const r = new Redis(testRedisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
  r.on("error", () => {});
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    r.disconnect();
  }
}

/**
 * Declares the suites of `name` that need a real Redis: in CI (`CI` set) a
 * Redis that does not answer fails them; elsewhere they are skipped with the
 * reason. @private test support
 */
export async function describeWithRedis(name: string, suites: () => void): Promise<void> {
  const down = await redisDown();
  if (down && process.env.CI) {
    describe(name, () => {
      it(`needs Redis at ${testRedisUrl}`, () => {
        throw new Error(`Redis at ${testRedisUrl} does not answer (${down}); CI must run the ${name} suite`);
      });
    });
  } else if (down) {
    console.warn(`${name} suite skipped: Redis at ${testRedisUrl} does not answer (${down}); with CI set this fails`);
    describe.skip(`${name}: skipped, Redis at ${testRedisUrl} does not answer (${down}); set CI to make this a failure`, () => {
      it("needs Redis", () => {});
    });
  } else {
    suites();
  }
}
