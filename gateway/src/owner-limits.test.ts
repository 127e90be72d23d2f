import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OwnerLimits } from "./owner-limits.js";

const refusal = (p: Promise<void>) =>
  p.then(
    () => undefined,
    (e: unknown) => ConnectError.from(e),
  );

describe("OwnerLimits", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("admits an owner's burst, refuses the next start with OWNER_RATE_LIMITED and its wait, and refills with time", async () => {
    const limits = new OwnerLimits({ maxStreams: 0, startsPerS: 2, startsBurst: 5 });
    for (let i = 0; i < 5; i++) await limits.admit("key:alice");
    const err = await refusal(limits.admit("key:alice"));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.metadata.get("airwave-reason")).toBe("OWNER_RATE_LIMITED");
    const wait = Number(err?.metadata.get("retry-after-ms"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(1_000);
    // Another owner, the shared anonymous one included, has its own bucket.
    await expect(limits.admit("anonymous")).resolves.toBeUndefined();
    await vi.advanceTimersByTimeAsync(wait);
    // The rate's next window: 2 more starts, then refused again.
    await limits.admit("key:alice");
    await limits.admit("key:alice");
    expect((await refusal(limits.admit("key:alice")))?.metadata.get("airwave-reason")).toBe("OWNER_RATE_LIMITED");
    // Idle owners hold nothing once their windows expire.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("counts running streams per owner; an ended one frees its slot", async () => {
    const limits = new OwnerLimits({ maxStreams: 2, startsPerS: 0, startsBurst: 0 });
    await limits.admit("anonymous");
    await limits.admit("anonymous");
    const err = await refusal(limits.admit("anonymous"));
    expect(err?.code).toBe(Code.ResourceExhausted);
    expect(err?.metadata.get("airwave-reason")).toBe("OWNER_STREAM_LIMIT");
    await expect(limits.admit("browser:b1")).resolves.toBeUndefined();
    limits.ended("anonymous");
    expect(limits.running("anonymous")).toBe(1);
    await expect(limits.admit("anonymous")).resolves.toBeUndefined();
  });

  it("refuses a start at the running limit without spending the owner's rate", async () => {
    const limits = new OwnerLimits({ maxStreams: 1, startsPerS: 1, startsBurst: 2 });
    await limits.admit("anonymous");
    for (let i = 0; i < 5; i++)
      expect((await refusal(limits.admit("anonymous")))?.metadata.get("airwave-reason")).toBe("OWNER_STREAM_LIMIT");
    limits.ended("anonymous");
    await expect(limits.admit("anonymous")).resolves.toBeUndefined();
  });
});
