import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { closeCodeOf, closeReason, wsClose } from "./ws-close.js";

describe("close codes", () => {
  it("maps the socket-ending codes", () => {
    expect(closeCodeOf(Code.Unauthenticated)).toBe(wsClose.policy);
    expect(closeCodeOf(Code.ResourceExhausted)).toBe(wsClose.tryLater);
    expect(closeCodeOf(Code.Unavailable)).toBe(wsClose.restart);
    expect(closeCodeOf(Code.Internal)).toBe(wsClose.internal);
  });
  it("cuts a reason to 123 bytes on a character boundary", () => {
    expect(closeReason("short")).toBe("short");
    const cut = closeReason("é".repeat(100));
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
    expect(cut).toBe("é".repeat(61));
  });
});
