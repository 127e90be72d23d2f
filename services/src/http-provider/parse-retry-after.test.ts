import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "./parse-retry-after.js";

const now = Date.parse("Wed, 21 Oct 2015 07:28:00 GMT");
const parse = (h: Record<string, string>) => parseRetryAfter(new Headers(h), now);

describe("parseRetryAfter", () => {
  it("reads delta-seconds, HTTP-dates and retry-after-ms", () => {
    expect(parse({ "retry-after": "7" })).toBe(7000);
    expect(parse({ "retry-after": "Wed, 21 Oct 2015 07:28:30 GMT" })).toBe(30_000);
    expect(parse({ "retry-after-ms": "12.5" })).toBe(13);
  });
  it("prefers retry-after-ms, which is more precise", () => {
    expect(parse({ "retry-after": "7", "retry-after-ms": "6500" })).toBe(6500);
  });
  it("treats a past date as 0 and ignores nonsense", () => {
    expect(parse({ "retry-after": "Wed, 21 Oct 2015 07:00:00 GMT" })).toBe(0);
    expect(parse({ "retry-after": "soon" })).toBeUndefined();
    expect(parse({ "retry-after": "-3" })).toBeUndefined();
    expect(parse({ "retry-after-ms": "x", "retry-after": "1" })).toBe(1000);
    expect(parse({})).toBeUndefined();
  });
  it("caps absurd values", () => {
    expect(parse({ "retry-after": "99999999999" })).toBe(2 ** 31 - 1);
  });
});
