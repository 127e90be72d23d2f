import { describe, expect, it, vi } from "vitest";
import { delay } from "./delay.js";

describe("delay", () => {
  it("resolves after the time, and rejects with the abort reason at once", async () => {
    vi.useFakeTimers();
    try {
      let done = false;
      const p = delay(100).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(99);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await p;
      expect(done).toBe(true);

      const ac = new AbortController();
      const q = delay(10_000, ac.signal);
      ac.abort("why");
      await expect(q).rejects.toBe("why");
      expect(vi.getTimerCount()).toBe(0);
      await expect(delay(1, ac.signal)).rejects.toBe("why");
    } finally {
      vi.useRealTimers();
    }
  });
});
