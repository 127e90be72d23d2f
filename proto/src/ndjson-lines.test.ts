import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FramingError } from "./framing-error.js";
import { NdjsonLineStream } from "./ndjson-lines.js";

/** Feeds `chunks` through a fresh stream and collects the lines. */
async function lines(chunks: readonly string[], maxLineChars?: number): Promise<string[]> {
  const input = new ReadableStream<string>({
    start(c) {
      for (const x of chunks) c.enqueue(x);
      c.close();
    },
  });
  return Array.fromAsync(input.pipeThrough(new NdjsonLineStream({ maxLineChars })));
}

/** Splits `text` at the given cut points. */
function split(text: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(text.slice(prev, c));
    prev = c;
  }
  out.push(text.slice(prev));
  return out;
}

describe("NdjsonLineStream", () => {
  it("emits each line without its terminator, LF or CRLF", async () => {
    expect(await lines(['{"a":1}\n{"b":2}\r\n{"c":3}\n'])).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it("emits a last line that has no newline", async () => {
    expect(await lines(['{"a":1}\n{"b":2}'])).toEqual(['{"a":1}', '{"b":2}']);
    expect(await lines(['{"a":1}\r'])).toEqual(['{"a":1}']);
  });

  it("skips blank and whitespace-only lines", async () => {
    expect(await lines(["\n\r\n  \n", '{"a":1}\n', "\t\n", "\n"])).toEqual(['{"a":1}']);
    expect(await lines([])).toEqual([]);
  });

  it("joins lines split across chunks, even inside a CRLF", async () => {
    expect(await lines(['{"a"', ":1}\r", '\n{"b":', "2}"])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it("gives the same lines however the text is split", async () => {
    const text = '{"a":"x"}\r\n\n{"b":[1,2]}\n  \n{"c":"ü😀"}\r\n{"d":0}';
    const whole = await lines([text]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (cuts) => {
        expect(await lines(split(text, cuts))).toEqual(whole);
      }),
    );
  });

  it("errors with a FramingError on a line over the bound, whether it arrives whole or in pieces", async () => {
    const long = `${"x".repeat(11)}\n`;
    await expect(lines([long], 10)).rejects.toBeInstanceOf(FramingError);
    await expect(lines([...long], 10)).rejects.toBeInstanceOf(FramingError);
    await expect(lines(["x".repeat(11)], 10)).rejects.toThrow(/longer than 10 characters/);
  });

  it("accepts a line exactly at the bound, its CRLF not counted", async () => {
    const ten = "y".repeat(10);
    expect(await lines([`${ten}\r\n`], 10)).toEqual([ten]);
    expect(await lines([...`${ten}\r\n${ten}`], 10)).toEqual([ten, ten]);
  });
});
