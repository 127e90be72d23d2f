import { describe, expect, it } from "vitest";
import { ConfigError, envNumber, envText, envUrl } from "./env.js";

describe("the environment parser", () => {
  it("takes the fallback for unset and blank variables, and trims", () => {
    expect(envText({}, "X")).toBeUndefined();
    expect(envText({ X: "  " }, "X")).toBeUndefined();
    expect(envText({ X: " a " }, "X")).toBe("a");
    expect(envNumber({}, "N", 7)).toBe(7);
    expect(envNumber({ N: "" }, "N", 7)).toBe(7);
    expect(envNumber({ N: " 12 " }, "N", 7)).toBe(12);
    expect(envUrl({ U: "http://h:1/v1//" }, "U")).toBe("http://h:1/v1");
  });

  it.each([
    ["soon", {}],
    ["-1", {}],
    ["1.5", {}],
    ["1e400", {}],
    ["70000", { min: 0, max: 65535 }],
  ])("refuses %s with a ConfigError naming the variable, the value and the range", (raw, bounds) => {
    const parse = () => envNumber({ AIRWAVE_N: raw }, "AIRWAVE_N", 1, { min: 0, max: Number.MAX_SAFE_INTEGER, ...bounds });
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(`AIRWAVE_N=${JSON.stringify(raw)}: want an integer`);
  });

  it("accepts fractions only where asked, and refuses URLs that are not http(s) without showing them", () => {
    expect(envNumber({ R: "0.5" }, "R", 1, { min: 0, max: 1, integer: false })).toBe(0.5);
    expect(() => envUrl({ U: "ftp://user:secret@h" }, "U")).toThrow("U: want an http or https URL");
    expect(() => envUrl({ U: "not a url secret" }, "U")).toThrow(/^U: not a URL$/);
  });
});
