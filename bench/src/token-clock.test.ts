import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenScanner, tokenLength, tokenText } from "./token-clock.ts";

describe("token clock", () => {
  it("formats every emit time as a token of the same length", () => {
    for (const us of [0, 1, 123_456_789, Number.MAX_SAFE_INTEGER]) expect(tokenText(us)).toHaveLength(tokenLength);
  });

  it("finds every token once, in order, however the bytes are split and whatever surrounds them", () => {
    // Framing bytes around tokens: JSON, SSE fields, binary envelopes, lone '@'s (never right before a token: no framing ends so).
    const noise = fc.oneof(
      fc.constantFrom('data: {"text":"', '"}\n\n', "@x", "a@b", "\x00\x00\x00\x13", ""),
      fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b.map((x) => (x === 0x40 ? 0x41 : x))).toString("latin1")),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: 2 ** 50 }), noise), { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat({ max: 40 }), { maxLength: 60 }),
        (tokens, cuts) => {
          const bytes = Buffer.from(tokens.map(([us, n]) => n + tokenText(us)).join(""), "latin1");
          const found: number[] = [];
          const s = new TokenScanner((us) => found.push(us));
          let at = 0;
          for (const c of cuts) {
            const end = Math.min(bytes.length, at + c);
            s.feed(bytes.subarray(at, end));
            at = end;
          }
          s.feed(bytes.subarray(at));
          expect(found).toEqual(tokens.map(([us]) => us));
          expect(s.count).toBe(tokens.length);
        },
      ),
    );
  });
});
