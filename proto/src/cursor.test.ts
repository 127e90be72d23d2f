import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { formatCursor, parseCursor } from "@airwave/proto";

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
});
