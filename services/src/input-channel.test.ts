import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { createInputChannel } from "./input-channel.js";
import { codeOf } from "./testing/stream-events.js";

const never = () => new AbortController().signal;

describe("createInputChannel", () => {
  it("resolves a wait with the answer that arrives later, and one that arrived before", async () => {
    const ch = createInputChannel();
    const later = ch.wait("a", never());
    expect(ch.answer("a", "yes")).toBe(true);
    await expect(later).resolves.toBe("yes");
    expect(ch.answer("b", "early")).toBe(true);
    await expect(ch.wait("b", never())).resolves.toBe("early");
    // A repeated wait gets the same answer.
    await expect(ch.wait("b", never())).resolves.toBe("early");
  });

  it("keys answers by input id: an answer to another id does not resolve a wait", async () => {
    const ch = createInputChannel();
    let got: string | undefined;
    const p = ch.wait("a", never()).then((t) => (got = t));
    ch.answer("b", "for b");
    await Promise.resolve();
    expect(got).toBeUndefined();
    ch.answer("a", "for a");
    await p;
    expect(got).toBe("for a");
  });

  it("keeps the first answer per id; later ones are ignored", async () => {
    const ch = createInputChannel();
    expect(ch.answer("a", "first")).toBe(true);
    expect(ch.answer("a", "second")).toBe(false);
    await expect(ch.wait("a", never())).resolves.toBe("first");
    expect(ch.answer("a", "third")).toBe(false);
  });

  it("holds at most maxUnclaimed answers nobody waited for; extra ones are ignored", async () => {
    const ch = createInputChannel({ maxUnclaimed: 3 });
    expect([1, 2, 3, 4].map((i) => ch.answer(`id${i}`, `t${i}`))).toEqual([true, true, true, false]);
    await expect(ch.wait("id1", never())).resolves.toBe("t1");
    // Claiming one frees a place.
    expect(ch.answer("id5", "t5")).toBe(true);
    // A wait already pending takes its answer even when the unclaimed ones are full.
    const w = ch.wait("id9", never());
    expect(ch.answer("id6", "t6")).toBe(false);
    expect(ch.answer("id9", "t9")).toBe(true);
    await expect(w).resolves.toBe("t9");
  });

  it("rejects a wait with the signal's reason when it aborts, and forgets the waiter", async () => {
    const ch = createInputChannel();
    const ac = new AbortController();
    const w = ch.wait("a", ac.signal);
    const reason = new ConnectError("gone", Code.Canceled);
    ac.abort(reason);
    await expect(w).rejects.toBe(reason);
    // The answer is now kept for a later wait.
    expect(ch.answer("a", "late")).toBe(true);
    await expect(ch.wait("a", never())).resolves.toBe("late");
    await expect(ch.wait("x", ac.signal)).rejects.toBe(reason);
  });

  it("close rejects pending and later waits with FailedPrecondition; answers received stay claimable", async () => {
    const ch = createInputChannel();
    ch.answer("kept", "k");
    const pending = ch.wait("a", never());
    ch.close();
    ch.close();
    expect(ch.closed).toBe(true);
    expect((await codeOf(pending)).code).toBe(Code.FailedPrecondition);
    expect((await codeOf(ch.wait("b", never()))).code).toBe(Code.FailedPrecondition);
    await expect(ch.wait("kept", never())).resolves.toBe("k");
    expect(ch.answer("c", "after close")).toBe(false);
  });
});
