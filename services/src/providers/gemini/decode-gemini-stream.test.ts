import { FinishReason, type StreamEvent, toProtoCode } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { expectSameEventsInPieces } from "../../testing/feed-body.js";
import { binary as wire, ofKind, reasoningOf, terminalOf as oneTerminalLast, textOf } from "../../testing/stream-events.js";
import { describeKindFixtures } from "../../testing/upstream-fixtures.js";
import { decodeGeminiStream } from "./decode-gemini-stream.js";

/** Feeds `bytes` split at `cuts` (or in chunks of `size` bytes; 0 = whole) and collects the events. */
async function decode(bytes: Uint8Array, size = 0, cuts?: number[]): Promise<StreamEvent[]> {
  const bounds = cuts ?? [];
  if (!cuts) for (let i = size || bytes.byteLength || 1; i < bytes.byteLength; i += size || bytes.byteLength) bounds.push(i);
  const at = [0, ...[...new Set(bounds)].filter((c) => c > 0 && c < bytes.byteLength).sort((a, b) => a - b), bytes.byteLength];
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i + 1 < at.length; i++) c.enqueue(bytes.slice(at[i], at[i + 1]));
      c.close();
    },
  });
  return Array.fromAsync(decodeGeminiStream(body));
}
const enc = (s: string) => new TextEncoder().encode(s);
const meta = (evs: StreamEvent[], key: string) =>
  evs.flatMap((e) => (e.providerMetadata?.[key] !== undefined ? [e.providerMetadata[key]] : []));

/** What a transcript's `data:` chunks say, read directly from its text (independent of the mapper). */
function expectations(text: string) {
  const out = {
    text: "",
    reasoning: "",
    calls: [] as string[],
    finish: undefined as string | undefined,
    usage: undefined as Record<string, number> | undefined,
  };
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const j = JSON.parse(line.slice(5));
    const c = j.candidates?.[0];
    for (const p of c?.content?.parts ?? []) {
      if (typeof p.text === "string") p.thought ? (out.reasoning += p.text) : (out.text += p.text);
      if (p.functionCall?.name) out.calls.push(p.functionCall.name);
      if (p.executableCode) out.calls.push("code_execution");
    }
    if (c?.finishReason) out.finish = c.finishReason;
    if (j.usageMetadata?.promptTokenCount !== undefined) out.usage = j.usageMetadata;
  }
  return out;
}

describeKindFixtures(
  "decodeGeminiStream over every gemini transcript",
  "gemini",
  "every",
  { project: 5, shared: 21 },
  (fixtures, source) => {
    describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (name, f) => {
      it("gives identical events fed in 1-byte, 7-byte, 64-byte chunks and whole, with one terminal, last", async () => {
        oneTerminalLast(await expectSameEventsInPieces(f.bytes, decode));
      });

      it("maps text, reasoning, calls, finish and usage as the transcript says", async () => {
        const evs = await decode(f.bytes);
        const want = expectations(new TextDecoder().decode(f.bytes));
        const end = oneTerminalLast(evs);
        expect(textOf(evs, 0)).toBe(want.text);
        expect(reasoningOf(evs)).toBe(want.reasoning);
        expect(ofKind(evs, "toolCallStarted").map((c) => c.name)).toEqual(want.calls);
        const completed = ofKind(evs, "toolCallCompleted");
        expect(new Set(completed.map((c) => c.callId)).size).toBe(completed.length);
        for (const c of completed) {
          expect(c.incomplete).toBe(false);
          expect(() => JSON.parse(c.argumentsJson)).not.toThrow();
          expect(
            ofKind(evs, "toolCallDelta")
              .filter((d) => d.callId === c.callId)
              .map((d) => d.argumentsDelta)
              .join(""),
          ).toBe(c.argumentsJson);
        }
        if (name.endsWith("vertex-error-object-mid-stream.sse") || want.finish === undefined) {
          expect(end.case).toBe("failed");
        } else {
          expect(end).toMatchObject({ case: "completed", value: { rawFinishReason: want.finish } });
        }
        const usage = end.case === "completed" || end.case === "failed" ? end.value.usage : undefined;
        if (want.usage) {
          expect(usage?.inputTokens).toBe(want.usage["promptTokenCount"]! + (want.usage["toolUsePromptTokenCount"] ?? 0));
          expect(usage?.reasoningTokens).toBe(want.usage["thoughtsTokenCount"]);
        } else {
          expect(usage).toBeUndefined();
        }
      });
    });

    const file = (n: string) => {
      const f = fixtures.find((x) => x.name === `gemini/${n}`);
      if (!f) throw new Error(`missing fixture gemini/${n}`);
      return decode(f.bytes);
    };

    if (source.name === "project") {
      it("text-stop-usage: the whole answer, usage first without output then with it, STOP", async () => {
        const evs = await file("text-stop-usage.sse");
        expect(textOf(evs)).toBe("AI learns patterns from examples, then uses them to make predictions about new data.\n");
        expect(ofKind(evs, "usage")[0]).toMatchObject({ inputTokens: 8 });
        expect(ofKind(evs, "usage")[0]?.outputTokens).toBeUndefined();
        expect(oneTerminalLast(evs)).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.STOP, rawFinishReason: "STOP", usage: { inputTokens: 8, outputTokens: 17 } },
        });
      });

      it("function-call-get-weather: one call with its arguments and thoughtSignature; STOP with a call is TOOL_CALLS", async () => {
        const evs = await file("function-call-get-weather.sse");
        const [call, ...more] = ofKind(evs, "toolCallCompleted");
        expect(more).toHaveLength(0);
        expect(call?.name).toBe("get_current_weather");
        expect(JSON.parse(call?.argumentsJson ?? "")).toEqual({ location: "Boston, MA", unit: "celsius" });
        expect(String(meta(evs, "thoughtSignature")[0])).toMatch(/^CiQB0e2Kb7/);
        expect(oneTerminalLast(evs)).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.TOOL_CALLS, usage: { inputTokens: 71, outputTokens: 24 + 48, reasoningTokens: 48 } },
        });
      });

      it("thought-summary-then-text: thought parts are reasoning, the rest text; thoughts count in the output", async () => {
        const evs = await file("thought-summary-then-text.sse");
        expect(reasoningOf(evs)).toMatch(/^\*\*Estimating the tennis balls\*\*[\s\S]*scale the volume ratio by that\.$/);
        expect(textOf(evs)).toMatch(/^Roughly \*\*100,000 to 150,000\*\* tennis balls[\s\S]*pack them\.$/);
        expect(oneTerminalLast(evs)).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.STOP, usage: { inputTokens: 15, outputTokens: 31 + 612, reasoningTokens: 612 } },
        });
      });

      it("finish-max-tokens: LENGTH with the raw MAX_TOKENS", async () => {
        expect(oneTerminalLast(await file("finish-max-tokens.sse"))).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.LENGTH, rawFinishReason: "MAX_TOKENS" },
        });
      });

      it("truncated-before-finish-reason: quotes survive; without finishReason the stream is truncated, not a normal stop", async () => {
        const evs = await file("truncated-before-finish-reason.sse");
        expect(textOf(evs)).toBe('The mitochondria is the "powerhouse" of the cell: it');
        expect(oneTerminalLast(evs)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED", retryable: true } });
      });
    } else {
      it("text-basic (CRLF CRLF): the whole answer, usage first without output then with it", async () => {
        const evs = await file("text-basic.sse");
        expect(textOf(evs)).toBe("The capital of France is Paris.\n");
        const usage = ofKind(evs, "usage");
        expect(usage[0]).toMatchObject({ inputTokens: 15 });
        expect(usage[0]?.outputTokens).toBeUndefined();
        expect(oneTerminalLast(evs)).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.STOP, usage: { inputTokens: 13, outputTokens: 8 } },
        });
        expect(meta(evs, "responseId")).toEqual(["w1peaMz6INOvnvgPgYfPiQY"]);
      });

      it("usage-per-chunk: one usage event per changed usageMetadata", async () => {
        const evs = await file("usage-per-chunk.sse");
        expect(ofKind(evs, "usage").map((u) => u.outputTokens)).toEqual([31 + 35, 79 + 35, 80 + 35]);
      });

      it("thought summaries and function calls keep their thoughtSignature", async () => {
        const thoughts = await file("thought-summaries-and-signature.sse");
        expect(ofKind(thoughts, "reasoningDelta").length).toBeGreaterThan(0);
        // Gemini 2.5 puts the signature on the first answer part after the thoughts.
        const firstText = thoughts.find((e) => e.event.case === "textDelta");
        expect(String(firstText?.providerMetadata?.["thoughtSignature"])).toMatch(/^CiIB0e2Kb6/);
        expect(ofKind(await file("code-execution-parts.sse"), "reasoningDelta").map((r) => r.signature.slice(0, 10))).toEqual([
          "EoECCv4BAQ",
        ]);
        const call = await file("function-call-with-thought-signature.sse");
        expect(String(meta(call, "thoughtSignature")[0])).toMatch(/^EpwICpkIAXLI2nx/);
        expect(oneTerminalLast(call)).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.TOOL_CALLS, usage: { reasoningTokens: 202 } },
        });
      });

      it("thought-text-then-streamed-function-calls: four calls, never merged, each with its own arguments", async () => {
        const evs = await file("thought-text-then-streamed-function-calls.sse");
        const done = ofKind(evs, "toolCallCompleted");
        expect(done.map((c) => [c.name, JSON.parse(c.argumentsJson)])).toEqual([
          ["read_theme", {}],
          ["read_screen", { id: "A" }],
          ["read_screen", { id: "B" }],
          ["read_screen", { id: "C" }],
        ]);
        expect(ofKind(evs, "toolCallStarted").map((c) => c.index)).toEqual([0, 1, 2, 3]);
      });

      it("vertex-streamed-function-call-nested-args: one call whose nested arguments are rebuilt", async () => {
        const evs = await file("vertex-streamed-function-call-nested-args.sse");
        const [call, ...more] = ofKind(evs, "toolCallCompleted");
        expect(more).toHaveLength(0);
        const args = JSON.parse(call!.argumentsJson);
        expect(call!.name).toBe("cookRecipe");
        expect(args.recipe.name).toBe("Lasagna");
        expect(args.recipe.ingredients).toHaveLength(10);
        expect(args.recipe.ingredients[0]).toEqual({ amount: "16 oz", name: "Lasagna noodles" });
        expect(args.recipe.steps[1]).toBe("Cook lasagna noodles according to package directions, drain and set aside.");
        expect(ofKind(evs, "toolCallDelta").length).toBeGreaterThan(10);
      });

      it("code execution: provider-executed calls with their results", async () => {
        for (const n of ["code-execution-parts.sse", "vertex-code-execution.sse"]) {
          const evs = await file(n);
          const [started] = ofKind(evs, "toolCallStarted");
          expect(started).toMatchObject({ name: "code_execution", providerExecuted: true });
          expect(ofKind(evs, "toolResult")).toMatchObject([{ callId: started!.callId, isError: false }]);
          expect(oneTerminalLast(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
        }
        expect(ofKind(await file("code-execution-parts.sse"), "toolResult")[0]?.callId).toBe("8xju7mua");
      });

      it("vertex-error-object-mid-stream: the bare error object ends the stream with the mapped failure", async () => {
        const evs = await file("vertex-error-object-mid-stream.sse");
        expect(textOf(evs)).toBe("First Second ");
        expect(oneTerminalLast(evs)).toMatchObject({
          case: "failed",
          value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_ERROR", retryable: true },
        });
      });

      it("vertex-finish-reason-safety: CONTENT_FILTER with the blocking safety ratings kept", async () => {
        const evs = await file("vertex-finish-reason-safety.sse");
        expect(oneTerminalLast(evs)).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.CONTENT_FILTER, rawFinishReason: "SAFETY" },
        });
        expect(JSON.stringify(meta(evs, "safetyRatings"))).toContain('"blocked":true');
      });

      it("vertex-escaped-quotes: quotes survive; a recording without finishReason is truncated, not a normal stop", async () => {
        const evs = await file("vertex-escaped-quotes.sse");
        expect(textOf(evs)).toContain('"');
        expect(oneTerminalLast(evs)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED" } });
      });

      it("keeps citations, grounding, URL context and image parts as metadata", async () => {
        expect(meta(await file("dev-citation-metadata.sse"), "citationMetadata").length).toBeGreaterThan(0);
        expect(meta(await file("google-search-grounding.sse"), "groundingMetadata").length).toBeGreaterThan(0);
        expect(meta(await file("dev-url-context-metadata.sse"), "urlContextMetadata")).toHaveLength(1);
        expect(meta(await file("dev-image-output-empty-parts.sse"), "inlineData")).toMatchObject([{ mimeType: "image/png" }]);
        expect(meta(await file("vertex-flex-tier-single-chunk.sse"), "thoughtSignature")).toHaveLength(1);
      });
    }

    it("gives the same events for any split of the bytes (property)", async () => {
      for (const f of fixtures) {
        const whole = wire(await decode(f.bytes));
        await fc.assert(
          fc.asyncProperty(fc.array(fc.integer({ min: 1, max: Math.max(1, f.bytes.byteLength - 1) }), { maxLength: 40 }), async (cuts) => {
            expect(wire(await decode(f.bytes, 0, cuts))).toEqual(whole);
          }),
          { numRuns: 15 },
        );
      }
    });

    it("never throws and ends with exactly one terminal when garbage lines are inserted (property)", async () => {
      const garbage = fc.oneof(
        fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, "")),
        fc.constantFrom("data: {not json", "data: 42", ": comment", "event: ping", "retry: x", "{", '  "error": 1', "}", "data:"),
      );
      for (const f of fixtures) {
        const lines = new TextDecoder().decode(f.bytes).split("\n");
        await fc.assert(
          fc.asyncProperty(fc.array(fc.tuple(fc.nat(lines.length), garbage), { minLength: 1, maxLength: 4 }), async (inserts) => {
            const copy = [...lines];
            for (const [at, g] of [...inserts].sort((a, b) => b[0] - a[0])) copy.splice(at, 0, g);
            const evs = await decode(enc(copy.join("\n")), 7);
            oneTerminalLast(evs);
          }),
          { numRuns: 10 },
        );
      }
    });
  },
);

describe("decodeGeminiStream framing", () => {
  const chunk = (text: string, finish?: string) =>
    JSON.stringify({ candidates: [{ content: { parts: [{ text }] }, ...(finish ? { finishReason: finish } : {}) }] });

  it("reads LF, CRLF and CR separators alike, also when a CRLF is split between chunks", async () => {
    for (const nl of ["\n", "\r\n", "\r"]) {
      const body = enc(`data: ${chunk("a")}${nl}${nl}data: ${chunk("b", "STOP")}${nl}${nl}`);
      for (const size of [0, 1, 2, 3]) {
        const evs = await decode(body, size);
        expect(textOf(evs)).toBe("ab");
        expect(oneTerminalLast(evs).case).toBe("completed");
      }
    }
  });

  it("drops an event whose blank line never came, as SSE says, and so reports truncation", async () => {
    const evs = await decode(enc(`data: ${chunk("a")}\n\ndata: ${chunk("b", "STOP")}`));
    expect(oneTerminalLast(evs)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED" } });
  });

  it("reads a compact bare error object after the events, and ignores unknown SSE fields and comments", async () => {
    const err = JSON.stringify({ error: { code: 503, message: "The model is overloaded.", status: "UNAVAILABLE" } });
    const evs = await decode(enc(`: keep-alive\nfoo: bar\ndata: ${chunk("a")}\n\n${err}\n`), 5);
    expect(ofKind(evs, "textDelta").map((t) => t.text)).toEqual(["a"]);
    expect(oneTerminalLast(evs)).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_ERROR" },
    });
  });

  it("fails non-SSE text that is not JSON as malformed", async () => {
    const evs = await decode(enc(`data: ${chunk("a", "STOP")}\n\n<html>502 Bad Gateway</html>\n`));
    expect(oneTerminalLast(evs)).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_MALFORMED" },
    });
  });

  it("errors the body with a FramingError when a line exceeds its bound", async () => {
    const { frameGeminiSse } = await import("./frame-gemini-sse.js");
    const body = new ReadableStream<string>({
      start(c) {
        c.enqueue(`data: ${"x".repeat(64)}`);
        c.close();
      },
    }).pipeThrough(frameGeminiSse(32));
    await expect(Array.fromAsync(body)).rejects.toMatchObject({ name: "FramingError" });
  });
});
