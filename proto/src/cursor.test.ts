import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { formatCursor, laterCursor, parseCursor } from "@airwave/proto";

describe("cursor", () => {
  it("round-trips the text form", () => {
    expect(parseCursor(formatCursor({ epoch: "Ab_-9", seq: 42 }))).toEqual({ epoch: "Ab_-9", seq: 42 });
    expect(parseCursor("e:0")).toEqual({ epoch: "e", seq: 0 });
  });
  it.each(["", "abc", ":1", "e:-1", "e:01", "e:4294967296", "e f:1", "e:1:2"])("rejects %j with InvalidArgument", (t) => {
    try {
      parseCursor(t);
      expect.unreachable();
    } catch (e) {
      expect(ConnectError.from(e).code).toBe(Code.InvalidArgument);
    }
  });

  describe("laterCursor (?after= vs Last-Event-ID)", () => {
    it("takes the one that is given", () => {
      expect(laterCursor("e:3", undefined)).toBe("e:3");
      expect(laterCursor(undefined, "e:3")).toBe("e:3");
      expect(laterCursor("", "e:3")).toBe("e:3");
      expect(laterCursor(undefined, undefined)).toBe("");
    });
    it("takes the higher seq within one epoch, whichever carries it", () => {
      expect(laterCursor("e:3", "e:9")).toBe("e:9");
      expect(laterCursor("e:9", "e:3")).toBe("e:9");
      expect(laterCursor("e:9", "e:9")).toBe("e:9");
    });
    it("takes the header across epochs: the client learnt the new epoch after the URL was made", () => {
      expect(laterCursor("old:90", "new:2")).toBe("new:2");
    });
    it("rejects a malformed cursor in either place with InvalidArgument", () => {
      for (const [q, h] of [
        ["garbage", "e:1"],
        ["e:1", "garbage"],
      ] as const) {
        expect(() => laterCursor(q, h)).toThrow(expect.objectContaining({ code: Code.InvalidArgument }));
      }
    });
  });
});
