import { describe, expect, it } from "vitest";
import { detectProtocol, h2Preface } from "./detect-protocol.js";

describe("detectProtocol", () => {
  it("waits while every byte so far matches the preface, however few", () => {
    for (let n = 0; n < h2Preface.length; n++) expect(detectProtocol(h2Preface.subarray(0, n))).toBeUndefined();
  });

  it("says HTTP/2 once the 24 bytes of the preface are in, with or without more after them", () => {
    expect(detectProtocol(h2Preface)).toBe("h2");
    expect(detectProtocol(Buffer.concat([h2Preface, Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]))).toBe("h2");
  });

  it.each(["G", "PO", "PUT /x HTTP/1.1\r\n", "PATCH", "PRI * HTTP/1.1\r\n", "PRI * HTTP/2.0\r\n\r\nXX"])(
    "says HTTP/1.1 at the first byte that differs (%j)",
    (head) => {
      expect(detectProtocol(Buffer.from(head))).toBe("h1");
    },
  );
});
