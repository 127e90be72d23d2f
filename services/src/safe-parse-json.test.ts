import { describe, expect, it } from "vitest";
import { z } from "zod";
import { safeParseJson } from "./safe-parse-json.js";

describe("safeParseJson", () => {
  it("returns the value of valid JSON", () => {
    expect(safeParseJson('{"a":1}')).toEqual({ success: true, value: { a: 1 } });
  });

  it("returns the parser's message and the text for invalid JSON, never throwing", () => {
    const r = safeParseJson("{nope");
    expect(r.success).toBe(false);
    expect(r).toMatchObject({ text: "{nope" });
  });

  it("returns the schema's output when the value has its shape", () => {
    const schema = z.looseObject({ n: z.number().optional().catch(undefined) });
    expect(safeParseJson('{"n":"x","extra":true}', schema)).toEqual({ success: true, value: { n: undefined, extra: true } });
  });

  it("fails with the schema's message when the value does not have its shape", () => {
    const r = safeParseJson('{"n":"x"}', z.object({ n: z.number() }));
    expect(r.success).toBe(false);
    if (!r.success) expect(r.error).toMatch(/number/);
  });
});
