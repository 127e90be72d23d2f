import { describe, expect, it } from "vitest";
import { encodeGrpcMessage, reencodeGrpcMessage } from "./grpc-message.js";

const texts = ["plain", `a/b:c;d,e?f=g%h%3A"i'j\nk 日本語 🦜`, "100%", "%25", "\u0000\t\r\n", "#&+$@[]"];

describe("encodeGrpcMessage", () => {
  it.each(texts)("%j decodes exactly with decodeURI (grpc-js) and decodeURIComponent (connect-es)", (t) => {
    const wire = encodeGrpcMessage(t);
    expect(wire).toMatch(/^[\x20-\x7e]*$/);
    expect(decodeURI(wire)).toBe(t);
    expect(decodeURIComponent(wire)).toBe(t);
  });
  it("leaves printable ASCII but % as it is (PROTOCOL-HTTP2.md Percent-Byte-Unencoded)", () => {
    expect(encodeGrpcMessage("(HTTP 400): a/b; c, d?")).toBe("(HTTP 400): a/b; c, d?");
    expect(encodeGrpcMessage("50% 日")).toBe("50%25 %E6%97%A5");
  });
  it("re-encodes connect-es's encodeURIComponent value, and passes a value that does not decode", () => {
    for (const t of texts) expect(decodeURI(reencodeGrpcMessage(encodeURIComponent(t)))).toBe(t);
    expect(reencodeGrpcMessage("%E6%97")).toBe("%E6%97");
  });
});
