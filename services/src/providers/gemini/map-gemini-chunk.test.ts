import { FinishReason, type StreamEvent, toProtoCode } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { safeParseJson } from "../../safe-parse-json.js";
import { mapChunks, mapStream } from "../../adapt.js";
import { eventsOfKind, ofKind, terminalOf } from "../../testing/stream-events.js";
import { geminiChunkSchema } from "./gemini-chunk.js";
import { geminiChunkMapper } from "./map-gemini-chunk.js";

/** Runs the mapper over chunks (objects are JSON-encoded first, strings are raw data text), each through the parse stage. */
function run(...chunks: unknown[]): StreamEvent[] {
  return mapChunks(
    geminiChunkMapper,
    chunks.map((c) => safeParseJson(typeof c === "string" ? c : JSON.stringify(c), geminiChunkSchema)),
  );
}

const cand = (parts: object[], extra: object = {}) => ({ candidates: [{ content: { role: "model", parts }, ...extra }] });

describe("geminiChunkMapper: content (https://ai.google.dev/api/generate-content)", () => {
  it("maps text, thought summaries and their signature, with block indexes per run of parts", () => {
    const evs = run(
      cand([{ text: "Let me think", thought: true }]),
      cand([
        { text: " more", thought: true },
        { text: "", thoughtSignature: "c2ln" },
      ]),
      cand([{ text: "Answer" }], { finishReason: "STOP" }),
    );
    const reasoning = ofKind(evs, "reasoningDelta");
    expect(reasoning.map((r) => r.text).join("")).toBe("Let me think more");
    expect(reasoning.map((r) => r.blockIndex)).toEqual([0, 0, 0]);
    expect(reasoning.at(-1)?.signature).toBe("c2ln");
    expect(ofKind(evs, "textDelta")).toMatchObject([{ text: "Answer", blockIndex: 1 }]);
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP, rawFinishReason: "STOP" } });
  });

  it("keeps a text part's thoughtSignature as metadata", () => {
    const evs = run(cand([{ text: "OK", thoughtSignature: "c2ln" }], { finishReason: "STOP" }));
    expect(evs[0]?.providerMetadata).toEqual({ thoughtSignature: "c2ln" });
  });

  it("maps a whole function call to started, one delta and completed, with a derived id when Gemini sends none", () => {
    const evs = run(
      cand(
        [
          { functionCall: { name: "get_weather", args: { city: "Paris" } }, thoughtSignature: "c2ln" },
          { functionCall: { name: "get_time", args: {} } },
          { functionCall: { name: "get_news", args: { q: "x" }, id: "abc" } },
        ],
        { finishReason: "STOP" },
      ),
    );
    const started = ofKind(evs, "toolCallStarted");
    expect(started.map((c) => [c.callId, c.name, c.index])).toEqual([
      ["call_0", "get_weather", 0],
      ["call_1", "get_time", 1],
      ["abc", "get_news", 2],
    ]);
    expect(evs.find((e) => e.event.case === "toolCallStarted")?.providerMetadata).toEqual({ thoughtSignature: "c2ln" });
    expect(ofKind(evs, "toolCallCompleted").map((c) => [c.callId, JSON.parse(c.argumentsJson)])).toEqual([
      ["call_0", { city: "Paris" }],
      ["call_1", {}],
      ["abc", { q: "x" }],
    ]);
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS, rawFinishReason: "STOP" } });
  });

  it("assembles streamed partial arguments into one call (Vertex streamFunctionCallArguments)", () => {
    const evs = run(
      cand([{ functionCall: { name: "plan", willContinue: true } }]),
      cand([{ functionCall: { partialArgs: [{ jsonPath: "$.steps[0]", stringValue: "Boil", willContinue: true }], willContinue: true } }]),
      cand([{ functionCall: { partialArgs: [{ jsonPath: "$.steps[0]", stringValue: " water" }], willContinue: true } }]),
      cand([
        {
          functionCall: {
            partialArgs: [
              { jsonPath: "$.minutes", numberValue: 10 },
              { jsonPath: "$.salt", boolValue: true },
            ],
            willContinue: true,
          },
        },
      ]),
      cand([{ functionCall: { partialArgs: [{ jsonPath: "$.note", nullValue: "NULL_VALUE" }] } }]),
      cand([{ text: "" }], { finishReason: "STOP" }),
    );
    expect(ofKind(evs, "toolCallStarted")).toHaveLength(1);
    const [done] = ofKind(evs, "toolCallCompleted");
    expect(JSON.parse(done!.argumentsJson)).toEqual({ steps: ["Boil water"], minutes: 10, salt: true, note: null });
    expect(
      ofKind(evs, "toolCallDelta")
        .map((d) => d.argumentsDelta)
        .join(""),
    ).toBe(done!.argumentsJson);
  });

  it("marks a streamed call cut by MAX_TOKENS incomplete, with its raw partial text", () => {
    const evs = run(
      cand([{ functionCall: { name: "plan", willContinue: true } }]),
      cand([{ functionCall: { partialArgs: [{ jsonPath: "$.steps[0]", stringValue: "Bo", willContinue: true }], willContinue: true } }], {
        finishReason: "MAX_TOKENS",
      }),
    );
    expect(ofKind(evs, "toolCallCompleted")).toMatchObject([{ name: "plan", argumentsJson: '{"steps":["Bo', incomplete: true }]);
    expect(terminalOf(evs)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.LENGTH, rawFinishReason: "MAX_TOKENS" },
    });
  });

  it("fails partial arguments out of document order, or without a call, as malformed", () => {
    const back = run(
      cand([
        {
          functionCall: {
            name: "f",
            willContinue: true,
            partialArgs: [
              { jsonPath: "$.a.x", numberValue: 1 },
              { jsonPath: "$.b", numberValue: 2 },
            ],
          },
        },
      ]),
      cand([{ functionCall: { partialArgs: [{ jsonPath: "$.a.y", numberValue: 3 }] } }]),
    );
    expect(terminalOf(back)).toMatchObject({ case: "failed", value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_MALFORMED" } });
    const orphan = run(cand([{ functionCall: { partialArgs: [{ jsonPath: "$.a", numberValue: 1 }] } }]));
    expect(terminalOf(orphan)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_MALFORMED" } });
  });

  it("maps code execution to a provider-executed call and its result (https://ai.google.dev/gemini-api/docs/code-execution)", () => {
    const evs = run(
      cand([{ executableCode: { language: "PYTHON", code: "print(1)" } }]),
      cand([{ codeExecutionResult: { outcome: "OUTCOME_FAILED", output: "Traceback" } }], { finishReason: "STOP" }),
    );
    const [started] = ofKind(evs, "toolCallStarted");
    expect(started).toMatchObject({ name: "code_execution", providerExecuted: true });
    expect(JSON.parse(ofKind(evs, "toolCallCompleted")[0]!.argumentsJson)).toEqual({ language: "PYTHON", code: "print(1)" });
    expect(ofKind(evs, "toolResult")).toMatchObject([{ callId: started!.callId, name: "code_execution", isError: true }]);
    // Provider-executed calls do not make the finish TOOL_CALLS: the client has nothing to run.
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
  });

  it("passes parts it does not model (inlineData, …) on as metadata of an empty text delta", () => {
    const evs = run(cand([{ inlineData: { mimeType: "image/png", data: "iVBO" } }], { finishReason: "STOP" }));
    expect(evs[0]).toMatchObject({
      event: { case: "textDelta", value: { text: "" } },
      providerMetadata: { inlineData: { mimeType: "image/png" } },
    });
  });

  it("gives the events of other candidates their choice_index, and completes only when every candidate finished", () => {
    const two = (a: object, b: object) => ({
      candidates: [
        { index: 0, ...a },
        { index: 1, ...b },
      ],
    });
    const evs = run(
      two({ content: { parts: [{ text: "A" }] } }, { content: { parts: [{ text: "B" }] } }),
      two({ finishReason: "STOP" }, { finishReason: "MAX_TOKENS" }),
    );
    expect(ofKind(evs, "textDelta").map((t) => t.text)).toEqual(["A", "B"]);
    expect(eventsOfKind(evs, "textDelta").map((e) => e.choiceIndex)).toEqual([0, 1]);
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
    const cut = run(two({ content: { parts: [{ text: "A" }] }, finishReason: "STOP" }, { content: { parts: [{ text: "B" }] } }));
    expect(terminalOf(cut)).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED" } });
  });

  it("takes a candidate index outside uint32 (choice_index) for the candidate's position", () => {
    const evs = run({ candidates: [{ index: 1e300, content: { parts: [{ text: "A" }] }, finishReason: "STOP" }] });
    expect(eventsOfKind(evs, "textDelta").map((e) => e.choiceIndex)).toEqual([0]);
    expect(terminalOf(evs)).toMatchObject({ case: "completed" });
  });
});

describe("geminiChunkMapper: finish, usage, metadata and errors", () => {
  it("completes a blocked prompt (promptFeedback.blockReason) with CONTENT_FILTER and the block reason", () => {
    const evs = run({
      promptFeedback: { blockReason: "SAFETY", safetyRatings: [{ category: "HARM_CATEGORY_HARASSMENT", probability: "HIGH" }] },
      usageMetadata: { promptTokenCount: 9 },
    });
    expect(terminalOf(evs)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.CONTENT_FILTER, rawFinishReason: "SAFETY" },
    });
    expect(evs.some((e) => e.providerMetadata?.["promptFeedback"] !== undefined)).toBe(true);
  });

  it("keeps unknown finish reasons raw beside UNSPECIFIED, and fails MALFORMED_FUNCTION_CALL", () => {
    expect(terminalOf(run(cand([{ text: "x" }], { finishReason: "SOMETHING_NEW" })))).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.UNSPECIFIED, rawFinishReason: "SOMETHING_NEW" },
    });
    expect(terminalOf(run(cand([], { finishReason: "MALFORMED_FUNCTION_CALL" })))).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_INVALID_TOOL_ARGUMENTS", retryable: true },
    });
  });

  it("emits usage only when it changed, never 0 for what was not reported, and ends with the last one", () => {
    const u1 = { promptTokenCount: 15, totalTokenCount: 15 };
    const u2 = { promptTokenCount: 13, candidatesTokenCount: 8, totalTokenCount: 21 };
    const evs = run(
      { ...cand([{ text: "a" }]), usageMetadata: u1 },
      { ...cand([{ text: "b" }]), usageMetadata: u1 },
      {
        ...cand([{ text: "c" }], { finishReason: "STOP" }),
        usageMetadata: u2,
      },
    );
    const usage = ofKind(evs, "usage");
    expect(usage).toHaveLength(2);
    expect(usage[0]?.inputTokens).toBe(15);
    expect(usage[0]?.outputTokens).toBeUndefined();
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { usage: { inputTokens: 13, outputTokens: 8 } } });
    expect(evs.at(-1)?.providerMetadata?.["usageMetadata"]).toEqual(u2);
  });

  it("passes candidate and response extras on once, when present and changed", () => {
    const ratings = [{ category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" }];
    const evs = run(
      { ...cand([{ text: "a" }], { safetyRatings: ratings, groundingMetadata: {} }), modelVersion: "gemini-x", responseId: "r1" },
      { ...cand([{ text: "b" }], { safetyRatings: ratings }), modelVersion: "gemini-x", responseId: "r1" },
      { ...cand([], { citationMetadata: { citationSources: [{ uri: "https://example.com" }] }, finishReason: "STOP" }) },
    );
    expect(evs[0]?.providerMetadata).toEqual({ safetyRatings: ratings, modelVersion: "gemini-x", responseId: "r1" });
    expect(evs[1]?.providerMetadata).toBeUndefined();
    // The last chunk had no event of its own: its citations go to the terminal.
    expect(evs.at(-1)?.providerMetadata).toMatchObject({ citationMetadata: { citationSources: [{ uri: "https://example.com" }] } });
  });

  it("ends with the mapped failure, usage so far attached, on an error object", () => {
    const evs = run(
      { ...cand([{ text: "a" }]), usageMetadata: { promptTokenCount: 3 } },
      { error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" } },
      cand([{ text: "ignored" }], { finishReason: "STOP" }),
    );
    expect(ofKind(evs, "textDelta").map((t) => t.text)).toEqual(["a"]);
    expect(terminalOf(evs)).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.ResourceExhausted), reason: "UPSTREAM_RATE_LIMITED", retryable: true, usage: { inputTokens: 3 } },
    });
  });

  it("fails a chunk that is not JSON or not an object as malformed, and a stream without finish as truncated", () => {
    for (const bad of ["{not json", "42", "[1]"]) {
      expect(terminalOf(run(cand([{ text: "a" }]), bad))).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_MALFORMED" },
      });
    }
    for (const evs of [run(), run(cand([{ text: "cut" }]))]) {
      expect(terminalOf(evs)).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_TRUNCATED", retryable: true },
      });
    }
  });

  it("ignores everything after its terminal event", () => {
    const s = mapStream(geminiChunkMapper);
    s.push(safeParseJson('{"error": {"code": 500, "status": "INTERNAL"}}', geminiChunkSchema));
    expect(s.push(safeParseJson(JSON.stringify(cand([{ text: "x" }], { finishReason: "STOP" })), geminiChunkSchema))).toEqual([]);
    expect(s.end()).toEqual([]);
  });
});

describe("geminiChunkMapper: parallel calls (property)", () => {
  // Gemini sends parallel calls as whole parts (several in one chunk or one per chunk) and
  // streams one call's partial arguments at a time; however the calls are spread over chunks, none merge.
  it("keeps every call apart with its own arguments, however calls are spread over chunks and parts", async () => {
    const fc = (await import("fast-check")).default;
    const args = fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.oneof(fc.string(), fc.integer(), fc.boolean()), {
      maxKeys: 3,
    });
    const call = fc.record({
      name: fc.constantFrom("a", "b", "c"),
      args,
      streamed: fc.boolean(),
      id: fc.option(fc.uuid(), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(call, { minLength: 1, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (calls, breaks) => {
          // Parts of all calls in order; a streamed call becomes a name part, one part per argument, and a closing `{}`.
          const parts: object[] = calls.flatMap((c) =>
            c.streamed
              ? [
                  { functionCall: { name: c.name, willContinue: true, ...(c.id ? { id: c.id } : {}) } },
                  ...Object.entries(c.args).map(([k, v]) => ({
                    functionCall: {
                      willContinue: true,
                      partialArgs: [
                        {
                          jsonPath: `$['${k.replace(/['\\]/g, "\\$&")}']`,
                          ...(typeof v === "string" ? { stringValue: v } : typeof v === "number" ? { numberValue: v } : { boolValue: v }),
                        },
                      ],
                    },
                  })),
                  { functionCall: {} },
                ]
              : [{ functionCall: { name: c.name, args: c.args, ...(c.id ? { id: c.id } : {}) } }],
          );
          const chunks: object[][] = [[]];
          parts.forEach((p, i) => {
            if (i > 0 && breaks[i % breaks.length]) chunks.push([]);
            chunks.at(-1)!.push(p);
          });
          const evs = run(...chunks.map((ps) => cand(ps)), cand([], { finishReason: "STOP" }));
          const done = ofKind(evs, "toolCallCompleted");
          expect(done.map((d) => [d.name, JSON.parse(d.argumentsJson)])).toEqual(calls.map((c) => [c.name, c.args]));
          const ids = ofKind(evs, "toolCallStarted").map((s) => s.callId);
          expect(done.map((d) => d.callId)).toEqual(ids);
          for (const d of done) {
            expect(
              ofKind(evs, "toolCallDelta")
                .filter((x) => x.callId === d.callId)
                .map((x) => x.argumentsDelta)
                .join(""),
            ).toBe(d.argumentsJson);
          }
          expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
        },
      ),
      { numRuns: 200 },
    );
  });
});
