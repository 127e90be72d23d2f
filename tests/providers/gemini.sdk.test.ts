import { type GenerateContentResponse, GoogleGenAI } from "@google/genai";
import { afterAll, beforeAll, expect, vi } from "vitest";
import { geminiSpec } from "../../services/src/providers/gemini/gemini-spec.js";
import { accumulate, Code, FinishReason } from "../support/accumulate.js";
import { airwaveEvents, describeSdkComparison, plainUsage } from "../support/fixtures.js";

/**
 * Differential test: every `gemini` transcript is read by the official SDK
 * (`@google/genai`, `generateContentStream`) and by Airwave's `gemini` spec
 * from the same local replay server, and both must add up to the same text,
 * reasoning, tool calls, finish reason and usage.
 *
 * The SDK hands out the chunks as they are, so the SDK side accumulates them
 * here, independently of Airwave's mapper: `chunk.text` per chunk (it skips
 * thought parts), thought parts as reasoning, `functionCall` parts as calls —
 * a streamed call (Vertex `partialArgs`, which the SDK does not assemble) is
 * rebuilt by setting each value at its JSON path —, `executableCode` as a
 * provider-executed call, the last `finishReason` of candidate 0 and the last
 * `usageMetadata` (counted as Airwave documents: input = prompt + tool-use
 * prompt, output = candidates + thoughts). Airwave's call ids are not
 * compared: the SDK exposes Gemini's `id`, which these recordings omit.
 */

interface SdkSide {
  text: string;
  reasoning: string;
  calls: { name: string; args: Record<string, unknown>; providerExecuted: boolean }[];
  finishRaw: string | undefined;
  usage: Record<string, number> | undefined;
  error: unknown;
}

async function readWithSdk(origin: string, file: string): Promise<SdkSide> {
  const ai = new GoogleGenAI({ apiKey: "test", httpOptions: { baseUrl: origin } });
  const out: SdkSide = { text: "", reasoning: "", calls: [], finishRaw: undefined, usage: undefined, error: undefined };
  let streaming: { name: string; args: Record<string, unknown>; providerExecuted: boolean } | undefined;
  const lastPath = { path: "", open: false };
  try {
    const stream = await ai.models.generateContentStream({ model: file, contents: "hi" });
    for await (const chunk of stream) {
      out.text += chunk.text ?? "";
      collect(chunk);
    }
  } catch (e) {
    out.error = e;
  }
  return out;

  function collect(chunk: GenerateContentResponse) {
    const cand = chunk.candidates?.[0];
    for (const p of cand?.content?.parts ?? []) {
      if (p.thought && typeof p.text === "string") out.reasoning += p.text;
      if (p.executableCode) {
        out.calls.push({
          name: "code_execution",
          args: { language: p.executableCode.language ?? null, code: p.executableCode.code ?? "" },
          providerExecuted: true,
        });
      }
      const fc = p.functionCall;
      if (!fc) continue;
      if (fc.name) {
        const call = { name: fc.name, args: { ...(fc.args ?? {}) }, providerExecuted: false };
        out.calls.push(call);
        streaming = fc.willContinue ? call : undefined;
      }
      for (const pa of fc.partialArgs ?? []) {
        if (!streaming || !pa.jsonPath) throw new Error("partial arguments without a call");
        const value =
          pa.stringValue !== undefined
            ? pa.stringValue
            : pa.numberValue !== undefined
              ? pa.numberValue
              : pa.boolValue !== undefined
                ? pa.boolValue
                : null;
        const continues = lastPath.open && lastPath.path === pa.jsonPath && typeof value === "string";
        setAt(streaming.args, pa.jsonPath, value, continues);
        lastPath.path = pa.jsonPath;
        lastPath.open = pa.willContinue === true;
      }
      if (!fc.name && !fc.willContinue) streaming = undefined;
    }
    if (cand?.finishReason) out.finishRaw = cand.finishReason;
    const u = chunk.usageMetadata;
    if (u && (u.promptTokenCount ?? u.candidatesTokenCount ?? u.thoughtsTokenCount ?? u.cachedContentTokenCount) !== undefined) {
      const usage: Record<string, number> = {};
      const sum = (a?: number, b?: number) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
      const input = sum(u.promptTokenCount, u.toolUsePromptTokenCount);
      const output = sum(u.candidatesTokenCount, u.thoughtsTokenCount);
      if (input !== undefined) usage["inputTokens"] = input;
      if (output !== undefined) usage["outputTokens"] = output;
      if (u.thoughtsTokenCount !== undefined) usage["reasoningTokens"] = u.thoughtsTokenCount;
      if (u.cachedContentTokenCount !== undefined) usage["cachedInputTokens"] = u.cachedContentTokenCount;
      out.usage = usage;
    }
  }
}

/** Sets `value` at a `$.a.b[0]` path of `root`, appending to the string there when `append`. */
function setAt(root: Record<string, unknown>, path: string, value: unknown, append: boolean) {
  const steps = [...path.slice(1).matchAll(/\.([^.[\]]+)|\[(\d+)\]/g)].map((m) => (m[2] !== undefined ? Number(m[2]) : (m[1] as string)));
  let node: Record<string | number, unknown> = root;
  for (const [i, step] of steps.entries()) {
    if (i === steps.length - 1) {
      node[step] = append ? `${String(node[step] ?? "")}${String(value)}` : value;
      return;
    }
    node[step] ??= typeof steps[i + 1] === "number" ? [] : {};
    node = node[step] as Record<string | number, unknown>;
  }
}

/** The FinishReason the SDK's raw finish reason stands for (Gemini's documented enum, read independently of the mapper's table). */
const finishTable: Record<string, FinishReason> = {
  STOP: FinishReason.STOP,
  MAX_TOKENS: FinishReason.LENGTH,
  SAFETY: FinishReason.CONTENT_FILTER,
};

beforeAll(() => {
  vi.spyOn(console, "warn").mockImplementation(() => {}); // the SDK warns about non-text parts
});
afterAll(() => {
  vi.restoreAllMocks();
});

describeSdkComparison(
  "gemini: @google/genai and Airwave read the same streams alike",
  "gemini",
  ["gemini"],
  { project: 5, shared: 21 },
  async (replay, file) => {
    const sdk = await readWithSdk(replay.origin, file);
    // What the notable recordings exercise, on the SDK side (so neither side can pass by reading nothing).
    if (file === "vertex-error-object-mid-stream.sse") expect(sdk.error).toBeDefined();
    else expect(sdk.error).toBeUndefined();
    if (file.includes("function-call")) expect(sdk.calls.length).toBeGreaterThan(0);
    if (file === "vertex-streamed-function-call-nested-args.sse") {
      expect(sdk.calls[0]?.args).toMatchObject({ recipe: { name: "Lasagna" } });
    }

    const a = accumulate(
      await airwaveEvents(geminiSpec, file, { baseUrl: replay.origin, apiKey: "test", headers: { "x-replay-fixture": file } }),
    );
    expect(a.terminals).toBe(1);

    if (sdk.error !== undefined) {
      // The SDK throws on the error object in the stream (ApiError 499 CANCELLED): Airwave ends with the mapped failure.
      expect(a.failed).toMatchObject({ code: Code.Unavailable, reason: "UPSTREAM_ERROR", retryable: true });
      return;
    }
    expect(a.text).toBe(sdk.text);
    expect(a.reasoning).toBe(sdk.reasoning);
    expect(
      a.toolCalls.map((c) => ({ name: c.name, args: JSON.parse(c.arguments ?? "null"), providerExecuted: c.providerExecuted })),
    ).toEqual(sdk.calls);
    for (const c of a.toolCalls) {
      expect(c.incomplete).toBe(false);
      expect(c.streamedArguments).toBe(c.arguments);
    }
    expect(plainUsage(a.usage)).toEqual(sdk.usage);
    if (sdk.finishRaw === undefined) {
      // A recording cut before any finishReason (vertex-escaped-quotes): the SDK just stops; Airwave says it was truncated.
      expect(a.failed).toMatchObject({ code: Code.Unavailable, reason: "UPSTREAM_TRUNCATED", retryable: true });
      return;
    }
    expect(a.failed).toBeUndefined();
    expect(a.rawFinishReason).toBe(sdk.finishRaw);
    const clientCalls = sdk.calls.filter((c) => !c.providerExecuted).length;
    expect(a.finishReason).toBe(sdk.finishRaw === "STOP" && clientCalls > 0 ? FinishReason.TOOL_CALLS : finishTable[sdk.finishRaw]);
  },
);
