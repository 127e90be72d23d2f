import { toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ev, StreamEventSchema, type StreamEvent } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { MemoryStreamLog } from "./memory-stream-log.js";

const all = { maxEvents: 1000, maxBytes: Number.POSITIVE_INFINITY };
const seqs = (es: StreamEvent[]) => es.map((e) => e.seq);
const text = (e: StreamEvent | undefined) => (e?.event.case === "textDelta" ? e.event.value.text : undefined);

describe("MemoryStreamLog", () => {
  it("keeps the newest maxEvents through trimming and compaction; a trimmed cursor reads from the oldest kept", () => {
    const log = new MemoryStreamLog("s", { maxEvents: 3, maxBytes: Number.POSITIVE_INFINITY });
    for (let i = 1; i <= 20; i++) {
      log.appendNow(ev.textDelta(`t${i}`));
      expect(log.top).toBe(i);
      const kept = Math.min(i, 3);
      expect(log.first).toBe(i - kept + 1);
      expect(seqs(log.readNow(0, all))).toEqual(Array.from({ length: kept }, (_, k) => i - kept + 1 + k));
      expect(text(log.readNow(i - 1, all)[0])).toBe(`t${i}`);
    }
    expect(log.readNow(20, all)).toEqual([]);
    expect(log.readNow(99, all)).toEqual([]);
  });

  it("trims by bytes of the binary encoding, but always keeps the newest event", () => {
    const log = new MemoryStreamLog("s", { maxEvents: 1000, maxBytes: 200 });
    const sizes: number[] = [];
    for (let i = 0; i < 30; i++) sizes.push(toBinary(StreamEventSchema, log.appendNow(ev.textDelta("x".repeat(i)))).length);
    const kept = log.readNow(0, all);
    expect(kept.at(-1)?.seq).toBe(30);
    expect(log.bytes).toBe(kept.reduce((n, e) => n + (sizes[e.seq - 1] ?? 0), 0));
    expect(log.bytes).toBeLessThanOrEqual(200);
    // One more event would not have fitted: the trimming is not eager.
    const before = sizes[kept[0]!.seq - 2] ?? 0;
    expect(log.bytes + before).toBeGreaterThan(200);

    const huge = log.appendNow(ev.textDelta("y".repeat(1000)));
    expect(seqs(log.readNow(0, all))).toEqual([huge.seq]);
    expect(log.bytes).toBeGreaterThan(200);
  });

  it("bounds a read by events and bytes, but returns at least one event", () => {
    const log = new MemoryStreamLog("s", { maxEvents: 100, maxBytes: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 10; i++) log.appendNow(ev.textDelta("abcdefghij"));
    expect(seqs(log.readNow(2, { maxEvents: 3, maxBytes: 1e9 }))).toEqual([3, 4, 5]);
    const one = toBinary(StreamEventSchema, log.readNow(0, all)[0]!).length;
    expect(seqs(log.readNow(0, { maxEvents: 100, maxBytes: one * 2 }))).toEqual([1, 2]);
    expect(seqs(log.readNow(0, { maxEvents: 100, maxBytes: 1 }))).toEqual([1]);
  });

  it("stamps position on the appended event and ends at the terminal event, which is never trimmed", async () => {
    const log = new MemoryStreamLog("s", { maxEvents: 2, maxBytes: Number.POSITIVE_INFINITY });
    const e = await log.append(ev.started("m", "p"));
    expect(e).toMatchObject({ streamId: "s", epoch: log.epoch, seq: 1 });
    expect(e.appendedAt).toBeDefined();
    log.appendNow(ev.textDelta("a"));
    const end = log.appendNow(ev.completed(1));
    expect(log.ended).toBe(true);
    expect(log.terminal).toBe(end);
    await expect(log.append(ev.textDelta("late"))).rejects.toThrow(ConnectError);
    try {
      log.appendNow(ev.textDelta("late"));
      expect.unreachable();
    } catch (err) {
      expect(ConnectError.from(err).code).toBe(Code.FailedPrecondition);
    }
    expect(log.trimOldest(Number.POSITIVE_INFINITY)).toBeGreaterThan(0);
    expect(seqs(log.readNow(0, all))).toEqual([3]);
  });

  it("expire drops everything but the terminal event", () => {
    const log = new MemoryStreamLog("s", { maxEvents: 100, maxBytes: Number.POSITIVE_INFINITY });
    log.appendNow(ev.textDelta("a"));
    log.expire(); // not ended: no effect
    expect(log.expired).toBe(false);
    log.appendNow(ev.textDelta("b"));
    log.appendNow(ev.completed(1));
    log.expire();
    expect(log.expired).toBe(true);
    expect(log.first).toBe(3);
    expect(seqs(log.readNow(0, all))).toEqual([3]);
  });

  it("wakes waiters on append and rejects them with the signal's reason", async () => {
    const log = new MemoryStreamLog("s", all);
    const woken = log.wait(0, new AbortController().signal);
    log.appendNow(ev.textDelta("a"));
    await expect(woken).resolves.toBeUndefined();
    const ac = new AbortController();
    const waiting = log.wait(1, ac.signal);
    ac.abort(new Error("left"));
    await expect(waiting).rejects.toThrow("left");
  });
});
