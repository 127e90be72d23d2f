import { ev, FinishReason, type StreamEvent } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { MemoryStreamLog } from "./memory-stream-log.js";
import { describeStreamLogContract } from "./stream-log.contract.js";

describeStreamLogContract("MemoryStreamLog", {
  create: (streamId, limits) => new MemoryStreamLog(streamId, limits),
  trimOldest: (log, bytes) => (log as MemoryStreamLog).trimOldest(bytes),
});

const all = { maxEvents: 1000, maxBytes: Number.POSITIVE_INFINITY };
const seqs = (es: StreamEvent[]) => es.map((e) => e.seq);

describe("MemoryStreamLog beyond the contract", () => {
  it("appendNow and readNow are the synchronous forms of append and read", async () => {
    const log = new MemoryStreamLog("s", { maxEvents: 3, maxBytes: Number.POSITIVE_INFINITY });
    for (let i = 1; i <= 20; i++) expect(log.appendNow(ev.textDelta(`t${i}`)).seq).toBe(i);
    expect(seqs(log.readNow(0, all))).toEqual(seqs(await log.read(0, all)));
    log.appendNow(ev.completed(FinishReason.STOP));
    expect(() => log.appendNow(ev.textDelta("late"))).toThrow("stream already ended");
  });

  it("trimOldest frees at least the bytes asked, oldest first, never the newest event", () => {
    const log = new MemoryStreamLog("s", all);
    for (let i = 0; i < 10; i++) log.appendNow(ev.textDelta("abcdefghij"));
    const before = log.bytes;
    const freed = log.trimOldest(1);
    expect(freed).toBeGreaterThan(0);
    expect(log.bytes).toBe(before - freed);
    expect(log.first).toBe(2);
    log.trimOldest(Number.POSITIVE_INFINITY);
    expect(seqs(log.readNow(0, all))).toEqual([10]);
    expect(log.trimOldest(1)).toBe(0);
  });
});
