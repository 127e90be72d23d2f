import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createThinkTagState, flushThinkTags, splitThinkTags, type ThinkPiece } from "./think-tags.js";

function run(deltas: readonly string[], startInside = false): { text: string; reasoning: string } {
  const s = createThinkTagState({ startInside });
  const pieces: ThinkPiece[] = [];
  for (const d of deltas) pieces.push(...splitThinkTags(s, d));
  pieces.push(...flushThinkTags(s));
  return {
    text: pieces
      .filter((p) => !p.reasoning)
      .map((p) => p.text)
      .join(""),
    reasoning: pieces
      .filter((p) => p.reasoning)
      .map((p) => p.text)
      .join(""),
  };
}

describe("splitThinkTags", () => {
  it("separates reasoning from the answer and drops the tags", () => {
    expect(run(["<think>\nplan</think>\n\nAnswer."])).toEqual({ reasoning: "\nplan", text: "\n\nAnswer." });
  });

  it("recognises tags split across deltas", () => {
    expect(run(["<", "th", "ink>a", "b</", "think", ">c"])).toEqual({ reasoning: "ab", text: "c" });
  });

  it("keeps an unfinished tag at the end as text", () => {
    expect(run(["hello <thi"])).toEqual({ reasoning: "", text: "hello <thi" });
  });

  it("keeps a stray closing tag outside a block as text", () => {
    expect(run(["a</think>b"])).toEqual({ reasoning: "", text: "a</think>b" });
  });

  it("starts inside when the template opened the block", () => {
    expect(run(["why", "</think>", "ok"], true)).toEqual({ reasoning: "why", text: "ok" });
  });

  it("gives the same result however the text is split (property)", () => {
    const alphabet = fc.constantFrom("<think>", "</think>", "<", "/", "t", "h", "i", "n", "k", ">", "a", " ", "é");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 10 }), (parts, cuts) => {
        const whole = parts.join("");
        const at = [...new Set(cuts.map((c) => c % (whole.length + 1)))].sort((a, b) => a - b);
        const deltas: string[] = [];
        let prev = 0;
        for (const c of at) {
          deltas.push(whole.slice(prev, c));
          prev = c;
        }
        deltas.push(whole.slice(prev));
        expect(run(deltas)).toEqual(run([whole]));
      }),
    );
  });
});
