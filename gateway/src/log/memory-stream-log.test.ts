import { Code, ConnectError } from "@connectrpc/connect";
import { ev } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { MemoryStreamLog } from "./memory-stream-log.js";

describe("MemoryStreamLog", () => {
  it("keeps the newest maxEvents through trimming and compaction, and refuses trimmed cursors", () => {
    const log = new MemoryStreamLog("s", 3);
    for (let i = 1; i <= 20; i++) {
      log.append(ev.textDelta(`t${i}`));
      expect(log.top).toBe(i);
      const kept = Math.min(i, 3);
      const oldest = i - kept; // a cursor here reads every retained event
      expect(log.read(oldest, 10).map((e) => e.seq)).toEqual(Array.from({ length: kept }, (_, k) => oldest + 1 + k));
      expect(log.read(i - 1, 10).map((e) => (e.event.case === "textDelta" ? e.event.value.text : ""))).toEqual([`t${i}`]);
      if (oldest > 0) expect(() => log.read(oldest - 1, 10)).toThrow(ConnectError);
    }
    try {
      log.read(0, 1);
      expect.unreachable();
    } catch (e) {
      expect(ConnectError.from(e).code).toBe(Code.OutOfRange);
    }
  });

  it("stamps position on the appended event and ends at the terminal event", () => {
    const log = new MemoryStreamLog("s", 10);
    const e = log.append(ev.started("m", "p"));
    expect(e).toMatchObject({ streamId: "s", epoch: log.epoch, seq: 1 });
    expect(e.appendedAt).toBeDefined();
    log.append(ev.completed(1));
    expect(log.ended).toBe(true);
    expect(() => log.append(ev.textDelta("late"))).toThrow(ConnectError);
  });
});
