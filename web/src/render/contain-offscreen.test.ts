// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { containOffscreen } from "./contain-offscreen.js";

describe("containOffscreen", () => {
  it("sets content-visibility: auto and an intrinsic height the browser remembers, and returns the element", () => {
    const el = document.createElement("div");
    expect(containOffscreen(el, { estimatedHeightPx: 312.4 })).toBe(el);
    expect(el.style.getPropertyValue("content-visibility")).toBe("auto");
    expect(el.style.getPropertyValue("contain-intrinsic-size")).toBe("auto 312px");
  });

  it("takes 400 px without an estimate and at least 1 px", () => {
    const a = containOffscreen(document.createElement("div"));
    expect(a.style.getPropertyValue("contain-intrinsic-size")).toBe("auto 400px");
    const b = containOffscreen(document.createElement("div"), { estimatedHeightPx: -5 });
    expect(b.style.getPropertyValue("contain-intrinsic-size")).toBe("auto 1px");
  });
});
