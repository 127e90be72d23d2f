import type { StreamEvent } from "@airwave/proto";
import OpenAI from "openai";
import { expect, it } from "vitest";
import { codeForStatus } from "../../services/src/http-provider/code-for-status.js";
import { mapOpenAIFinishReason } from "../../services/src/providers/openai-chat/map-openai-chat-finish-reason.js";
import { openAIChatSpec } from "../../services/src/providers/openai-chat/openai-chat-spec.js";
import { accumulate, FinishReason } from "../support/accumulate.js";
import { airwaveEvents, describeSdkComparison, plainUsage } from "../support/fixtures.js";

/**
 * Differential test: every `openai-chat` transcript (the Chat Completions
 * files of every dialect folder, by `fixtureKind`) is read by the official
 * `openai` SDK (`client.chat.completions.create({stream: true})`, iterated
 * with the SDK's own SSE parser and error handling) and by Airwave's
 * `openai-chat` spec from the same local replay server (the body's `model`
 * names the file). Per choice, both must add up to the same text (content
 * and refusal), reasoning, tool calls (id, name, arguments), provider-run
 * tools (Groq `executed_tools`) with their results, raw finish reason, and
 * usage.
 *
 * The SDK's chunks are accumulated here the way its `ChatCompletionStream`
 * does (tool calls by `index`, the first id and name, arguments
 * concatenated), reading the dialects' fields its types do not declare from
 * the same chunk objects: `reasoning_content` / `reasoning` /
 * `reasoning_details` text, Mistral's content arrays, Groq's `x_groq.usage`
 * and `executed_tools`, DeepSeek's `prompt_cache_hit_tokens`. The
 * chunk-streaming iterator is used rather than `ChatCompletionStream`
 * because the latter drops those undeclared fields. Not compared: metadata
 * (logprobs, filter results, moderation — the decode tests check them)
 * and block indexes, which the SDK does not expose; Airwave's mapped
 * FinishReason is checked against the table applied to the SDK's raw reason.
 *
 * With `thinkTags` off, Airwave's text equals the SDK's content byte for
 * byte; with `thinkTags: true`, for the transcripts whose content holds a
 * `<think>` block, Airwave's reasoning is the block and its text the rest.
 *
 * Where the SDK throws (Groq's `event: error` in a 200 stream), Airwave
 * must end with `failed` and the code of the error's `status_code`.
 */

interface Choice {
  text: string;
  reasoning: string;
  calls: Map<number, { id: string; name: string; args: string }>;
  executed: Map<number, { name: string; args: string; output?: string }>;
  finish: string | undefined;
  refused: boolean;
}

interface Side {
  choices: Map<number, Choice>;
  usage: Record<string, number> | undefined;
  error: unknown;
}

type Loose = Record<string, unknown>;

async function readWithSdk(baseURL: string, file: string): Promise<Side> {
  const client = new OpenAI({ baseURL, apiKey: "test", maxRetries: 0 });
  const side: Side = { choices: new Map(), usage: undefined, error: undefined };
  try {
    const stream = await client.chat.completions.create({ model: file, messages: [{ role: "user", content: "hi" }], stream: true });
    for await (const chunk of stream) {
      const extra = chunk as unknown as { usage?: Loose | null; x_groq?: { usage?: Loose } };
      const u = extra.usage ?? extra.x_groq?.usage;
      if (u) side.usage = usageOf(u);
      for (const c of chunk.choices) {
        const ch = side.choices.get(c.index) ?? {
          text: "",
          reasoning: "",
          calls: new Map(),
          executed: new Map(),
          finish: undefined,
          refused: false,
        };
        side.choices.set(c.index, ch);
        const d = (c.delta ?? {}) as Loose;
        const content: unknown = d["content"];
        if (typeof content === "string") ch.text += content;
        for (const p of Array.isArray(content) ? (content as Loose[]) : []) {
          if (p["type"] === "text") ch.text += String(p["text"]);
          if (p["type"] === "thinking") ch.reasoning += (p["thinking"] as Loose[]).map((t) => String(t["text"])).join("");
        }
        if (typeof d["refusal"] === "string" && d["refusal"] !== "") {
          ch.text += d["refusal"];
          ch.refused = true;
        }
        const r = d["reasoning_content"] ?? d["reasoning"];
        if (typeof r === "string") ch.reasoning += r;
        else
          for (const det of (d["reasoning_details"] as Loose[] | undefined) ?? []) {
            const t = det["type"] === "reasoning.text" ? det["text"] : det["type"] === "reasoning.summary" ? det["summary"] : undefined;
            if (typeof t === "string") ch.reasoning += t;
          }
        for (const tc of c.delta?.tool_calls ?? []) {
          const call = ch.calls.get(tc.index) ?? { id: "", name: "", args: "" };
          call.id ||= tc.id ?? "";
          call.name ||= tc.function?.name ?? "";
          call.args += tc.function?.arguments ?? "";
          ch.calls.set(tc.index, call);
        }
        for (const t of (d["executed_tools"] as Loose[] | undefined) ?? []) {
          const e = ch.executed.get(Number(t["index"])) ?? { name: String(t["type"]), args: String(t["arguments"] ?? "") };
          if (typeof t["output"] === "string") e.output = t["output"];
          ch.executed.set(Number(t["index"]), e);
        }
        ch.finish = c.finish_reason ?? ch.finish;
      }
    }
  } catch (e) {
    side.error = e;
  }
  return side;
}

/** The SDK's `CompletionUsage` as Airwave counts it (DeepSeek's cache hits when `prompt_tokens_details` is absent). */
function usageOf(u: Loose): Record<string, number> {
  const out: Record<string, number> = {};
  const set = (k: string, v: unknown) => {
    if (typeof v === "number") out[k] = v;
  };
  set("inputTokens", u["prompt_tokens"]);
  set("outputTokens", u["completion_tokens"]);
  set("reasoningTokens", (u["completion_tokens_details"] as Loose | undefined)?.["reasoning_tokens"]);
  set("cachedInputTokens", (u["prompt_tokens_details"] as Loose | undefined)?.["cached_tokens"] ?? u["prompt_cache_hit_tokens"]);
  return out;
}

/** Airwave's reading; the upstream model is a placeholder, the `x-replay-fixture` header names the file. */
const readWithAirwave = (baseUrl: string, file: string, options?: Record<string, unknown>): Promise<StreamEvent[]> =>
  airwaveEvents(
    openAIChatSpec,
    file,
    { baseUrl, apiKey: "test", headers: { "x-replay-fixture": file }, options },
    { upstreamModel: "model-from-header" },
  );

function compare(sdk: Side, events: StreamEvent[]): void {
  const a = accumulate(events);
  expect(a.terminals).toBe(1);
  if (sdk.error) {
    expect(sdk.error).toBeInstanceOf(OpenAI.APIError);
    const status = ((sdk.error as InstanceType<typeof OpenAI.APIError>).error as Loose | undefined)?.["status_code"];
    expect(a.failed).toBeDefined();
    if (typeof status === "number") expect(a.failed?.code).toBe(codeForStatus(status));
    expect(a.text).toBe(sdk.choices.get(0)?.text ?? "");
    return;
  }
  expect(a.failed).toBeUndefined();
  const zero = sdk.choices.get(0)!;
  expect(zero.text.length + zero.reasoning.length + zero.calls.size).toBeGreaterThan(0); // never a vacuous comparison
  for (const [i, c] of sdk.choices) expect(a.textByChoice.get(i) ?? "").toBe(c.text);
  expect(a.reasoning).toBe(zero.reasoning);
  const client = a.toolCalls.filter((c) => !c.providerExecuted);
  expect(client.map((c) => ({ id: c.id, name: c.name, args: c.arguments }))).toEqual(
    [...zero.calls.values()].map((c) => ({ id: c.id || expect.any(String), name: c.name, args: c.args === "" ? "{}" : c.args })),
  );
  const executed = a.toolCalls.filter((c) => c.providerExecuted);
  expect(executed.map((c) => ({ name: c.name, args: c.arguments, output: a.toolResults.get(c.id) }))).toEqual(
    [...zero.executed.values()].map((e) => ({ name: e.name, args: e.args, output: e.output })),
  );
  expect(a.rawFinishReason).toBe(zero.finish);
  let finish = mapOpenAIFinishReason(zero.finish ?? "");
  if (finish === FinishReason.STOP && zero.calls.size > 0) finish = FinishReason.TOOL_CALLS;
  if (finish === FinishReason.STOP && zero.refused) finish = FinishReason.CONTENT_FILTER;
  expect(a.finishReason).toBe(finish);
  expect(plainUsage(a.usage)).toEqual(sdk.usage);
}

describeSdkComparison(
  "openai-chat: official SDK vs Airwave on every transcript (text, reasoning, tool calls, finish reason, usage)",
  "openai-chat",
  "every",
  { project: 6, shared: 40 },
  async (server, file) => {
    const [sdk, events] = await Promise.all([readWithSdk(server.url, file), readWithAirwave(server.url, file)]);
    compare(sdk, events);
  },
  (fixtures, source, serverFor) => {
    const thinking = fixtures.filter(
      (f) => new TextDecoder().decode(f.bytes).includes("\\u003cthink\\u003e") || new TextDecoder().decode(f.bytes).includes("<think>"),
    );

    it("finds the transcripts with <think> in their content", () => {
      const want =
        source.name === "shared"
          ? ["groq/think-tags-in-content.sse", "openai-compatible/fireworks-deepseek-r1-think-in-content.sse"]
          : ["tgi/chat-completions-think-tags.sse"];
      expect(thinking.map((f) => f.name)).toEqual(expect.arrayContaining(want));
    });

    it.each(thinking.map((f) => [f.name]))("%s with thinkTags: reasoning + text are the SDK's content without the tags", async (name) => {
      const [dir = "", file = ""] = name.split("/");
      const server = await serverFor(dir);
      const [sdk, events] = await Promise.all([readWithSdk(server.url, file), readWithAirwave(server.url, file, { thinkTags: true })]);
      const content = sdk.choices.get(0)?.text ?? "";
      const m = /^([\s\S]*?)<think>([\s\S]*?)<\/think>([\s\S]*)$/.exec(content);
      expect(m).not.toBeNull();
      const a = accumulate(events);
      expect(a.terminals).toBe(1);
      expect(a.reasoning).toBe(m![2]);
      expect(a.text).toBe(m![1]! + m![3]!);
      expect(a.failed).toBeUndefined();
    });
  },
);
