import { describe, expect, it } from "vitest";
import { PushQueue } from "./push-queue.js";

async function drain<T>(q: PushQueue<T>): Promise<{ items: T[]; error: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of q) items.push(x);
    return { items, error: undefined };
  } catch (error) {
    return { items, error };
  }
}

describe("PushQueue", () => {
  it("gives pushed items in order, to a consumer that waits and to one that is behind", async () => {
    const q = new PushQueue<number>();
    const first = q.next();
    q.push(1);
    expect(await first).toEqual({ done: false, value: 1 });
    for (let i = 2; i <= 3000; i++) q.push(i);
    expect(q.length).toBe(2999);
    q.close();
    const { items, error } = await drain(q);
    expect(error).toBeUndefined();
    expect(items).toEqual(Array.from({ length: 2999 }, (_, i) => i + 2));
    expect(q.length).toBe(0);
  });

  it("drains what it holds before the failure, or drops it with drop", async () => {
    const boom = new Error("boom");
    const a = new PushQueue<string>();
    a.push("x");
    a.fail(boom);
    expect(await drain(a)).toEqual({ items: ["x"], error: boom });
    const b = new PushQueue<string>();
    b.push("x");
    b.fail(boom, { drop: true });
    expect(await drain(b)).toEqual({ items: [], error: boom });
  });

  it("wakes a waiting consumer on close and on fail; the first end wins and later pushes are ignored", async () => {
    const q = new PushQueue<string>();
    const waiting = q.next();
    q.close();
    q.fail(new Error("late"));
    q.push("late");
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(q.ended).toBe(true);
    const f = new PushQueue<string>();
    const pending = f.next();
    f.fail(new Error("gone"));
    await expect(pending).rejects.toThrow("gone");
  });
});
