import { describe, expect, it } from "vitest";
import { backoffDelay, retryBaseDelayMs, retryMaxDelayMs } from "./backoff-delay.js";

describe("backoffDelay", () => {
  it("draws uniformly below an exponentially growing cap", () => {
    expect(backoffDelay(0, () => 0)).toBe(0);
    expect(backoffDelay(0, () => 0.999)).toBeLessThan(retryBaseDelayMs);
    expect(backoffDelay(1, () => 0.5)).toBe(retryBaseDelayMs);
    expect(backoffDelay(2, () => 0.5)).toBe(2 * retryBaseDelayMs);
  });
  it("never exceeds the largest cap", () => {
    expect(backoffDelay(30, () => 0.999)).toBeLessThan(retryMaxDelayMs);
  });
});
