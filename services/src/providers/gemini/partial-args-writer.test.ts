import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { flattenArgs, type JsonPathSegment, PartialArgsWriter, parseJsonPath } from "./partial-args-writer.js";

describe("parseJsonPath", () => {
  it("parses dotted names, indexes and quoted names", () => {
    expect(parseJsonPath("$.recipe.ingredients[0].amount")).toEqual(["recipe", "ingredients", 0, "amount"]);
    expect(parseJsonPath("$['a.b'][\"c\"][12]")).toEqual(["a.b", "c", 12]);
    expect(parseJsonPath("$")).toEqual([]);
  });
  it("refuses what is not a normalized path", () => {
    for (const p of ["", "recipe", "$.", "$[*]", "$..a", "$[1:2]", "$.a[", "$['a]"]) expect(parseJsonPath(p)).toBeUndefined();
  });
});

describe("PartialArgsWriter", () => {
  it("writes nested values incrementally, as Vertex streams them (strings continued with willContinue)", () => {
    const w = new PartialArgsWriter();
    const parts = [
      w.apply(["recipe", "ingredients", 0, "amount"], { kind: "string", text: "16 oz", willContinue: true }),
      w.apply(["recipe", "ingredients", 0, "amount"], { kind: "string", text: "", willContinue: false }),
      w.apply(["recipe", "ingredients", 1, "name"], { kind: "string", text: "Beef", willContinue: false }),
      w.apply(["recipe", "servings"], { kind: "json", json: "4" }),
      w.apply(["recipe", "vegan"], { kind: "json", json: "false" }),
      w.finish(),
    ];
    expect(parts.every((p) => typeof p === "string")).toBe(true);
    expect(parts.join("")).toBe(w.text);
    expect(JSON.parse(w.text)).toEqual({ recipe: { ingredients: [{ amount: "16 oz" }, { name: "Beef" }], servings: 4, vegan: false } });
  });
  it("gives {} when nothing was written, and escapes strings piece by piece", () => {
    const empty = new PartialArgsWriter();
    empty.finish();
    expect(empty.text).toBe("{}");
    const w = new PartialArgsWriter();
    w.apply(["q"], { kind: "string", text: 'say "hi"\n\\', willContinue: true });
    w.apply(["q"], { kind: "string", text: "😀", willContinue: false });
    w.finish();
    expect(JSON.parse(w.text)).toEqual({ q: 'say "hi"\n\\😀' });
  });
  it("keeps the raw unclosed text while a value is still open", () => {
    const w = new PartialArgsWriter();
    w.apply(["a", "b"], { kind: "string", text: "par", willContinue: true });
    expect(w.inString).toBe(true);
    expect(w.text).toBe('{"a":{"b":"par');
  });
  it("refuses paths that go back, skip indexes or change container kinds", () => {
    const back = new PartialArgsWriter();
    back.apply(["a", "x"], { kind: "json", json: "1" });
    back.apply(["b"], { kind: "json", json: "2" });
    expect(back.apply(["a", "y"], { kind: "json", json: "3" })).toBeInstanceOf(Error);
    const skip = new PartialArgsWriter();
    expect(skip.apply(["list", 1], { kind: "json", json: "1" })).toBeInstanceOf(Error);
    const kind = new PartialArgsWriter();
    kind.apply(["list", 0], { kind: "json", json: "1" });
    expect(kind.apply(["list", "x"], { kind: "json", json: "1" })).toBeInstanceOf(Error);
    expect(new PartialArgsWriter().apply([], { kind: "json", json: "1" })).toBeInstanceOf(Error);
  });

  // Any JSON object, streamed leaf by leaf in document order with its strings cut anywhere, is rebuilt exactly.
  const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      fc.string(),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(tie("v"), { maxLength: 4 }),
      fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), tie("v"), { maxKeys: 4 }),
    ),
  })).v;
  it("rebuilds any arguments object from its leaves, with strings split at random (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), value, { maxKeys: 5 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (args, cuts) => {
          const w = new PartialArgsWriter();
          let text = "";
          for (const { path, leaf } of flattenArgs(args)) {
            const pieces = leaf.kind === "json" && leaf.json.startsWith('"') ? split(JSON.parse(leaf.json) as string, cuts) : undefined;
            if (!pieces) {
              text += ok(w.apply(path, leaf));
              continue;
            }
            for (const [i, p] of pieces.entries())
              text += ok(w.apply(path, { kind: "string", text: p, willContinue: i < pieces.length - 1 }));
          }
          text += w.finish();
          expect(text).toBe(w.text);
          expect(JSON.parse(text)).toEqual(args);
        },
      ),
      { numRuns: 300 },
    );
  });
});

function ok(r: string | Error): string {
  if (r instanceof Error) throw r;
  return r;
}

function split(s: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(s.slice(prev, c));
    prev = c;
  }
  out.push(s.slice(prev));
  return out;
}

export type { JsonPathSegment };
