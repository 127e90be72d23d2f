import { FinishReason, isTerminal, type StreamEvent, toProtoCode } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { expectSameEventsInPieces } from "../../testing/feed-body.js";
import { binary, eventsOfKind as of, reasoningOf, textOf } from "../../testing/stream-events.js";
import { describeKindFixtures, type UpstreamFixture } from "../../testing/upstream-fixtures.js";
import { openAIChatSpec } from "./openai-chat-spec.js";

/**
 * Bodies up to this size are fed 1 byte at a time whole; larger ones (up to
 * 278 KB) 1 byte at a time over their first and last {@link edgeBytes} bytes
 * and in one piece between (1-byte feeding costs ~0.3 ms a byte on the CI
 * machine; the property test splits every body at random points besides).
 */
const oneByteWhole = 32 * 1024;
const edgeBytes = 8 * 1024;

/** Feeds `bytes` to the spec's decoder in pieces of `size` bytes (0 = whole) and collects the events. */
async function decode(bytes: Uint8Array, size: number, options?: Record<string, unknown>): Promise<StreamEvent[]> {
  const step = size > 0 ? size : bytes.byteLength || 1;
  const edges = size === 1 && bytes.byteLength > oneByteWhole;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (let i = 0; i < bytes.byteLength; ) {
        if (edges && i === edgeBytes) {
          c.enqueue(bytes.slice(i, bytes.byteLength - edgeBytes));
          i = bytes.byteLength - edgeBytes;
          continue;
        }
        c.enqueue(bytes.slice(i, i + step));
        i += step;
      }
      c.close();
    },
  });
  return Array.fromAsync(openAIChatSpec.decode(body, { baseUrl: "http://x", options }));
}

/** What a transcript says, read from its text independently of the mapper (assumes its tool calls never reuse an index). */
function expectations(text: string) {
  const out = {
    text: new Map<number, string>(),
    reasoning: "",
    calls: new Map<number, { id: string; name: string; args: string }>(),
    executed: 0,
    finish: new Map<number, string>(),
    refused: false,
    usage: undefined as Record<string, unknown> | undefined,
    error: undefined as Record<string, unknown> | undefined,
  };
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === "[DONE]") break;
    const j = JSON.parse(data);
    if (j.error) {
      out.error = j.error;
      break;
    }
    const u = j.usage ?? j.x_groq?.usage;
    if (u) out.usage = u;
    for (const c of j.choices ?? []) {
      if (out.finish.has(c.index)) continue;
      const d = c.delta ?? {};
      let t = out.text.get(c.index) ?? "";
      if (typeof d.content === "string") t += d.content;
      for (const p of Array.isArray(d.content) ? d.content : []) {
        if (p.type === "text") t += p.text;
        if (p.type === "thinking" && c.index === 0) out.reasoning += p.thinking.map((x: { text: string }) => x.text).join("");
      }
      if (typeof d.refusal === "string" && d.refusal !== "") {
        t += d.refusal;
        if (c.index === 0) out.refused = true;
      }
      out.text.set(c.index, t);
      if (c.index === 0) {
        out.reasoning += d.reasoning_content ?? d.reasoning ?? "";
        for (const tc of d.tool_calls ?? []) {
          const call = out.calls.get(tc.index) ?? { id: tc.id ?? "", name: tc.function?.name ?? "", args: "" };
          call.args += tc.function?.arguments ?? "";
          out.calls.set(tc.index, call);
        }
        out.executed = Math.max(out.executed, (d.executed_tools ?? []).length);
      }
      if (c.finish_reason) out.finish.set(c.index, c.finish_reason);
    }
  }
  return out;
}

const finishTable: Record<string, FinishReason> = {
  stop: FinishReason.STOP,
  eos: FinishReason.STOP,
  eos_token: FinishReason.STOP,
  length: FinishReason.LENGTH,
  tool_calls: FinishReason.TOOL_CALLS,
};

describeKindFixtures(
  "openai-chat spec over every Chat Completions stream",
  "openai-chat",
  "every",
  { project: 6, shared: 40 },
  (fixtures, source) => {
    const byName = (name: string): UpstreamFixture => {
      const f = fixtures.find((x) => x.name === name);
      if (!f) throw new Error(`fixture ${name} missing`);
      return f;
    };

    it("finds the Chat Completions transcripts of every dialect folder", () => {
      const folders =
        source.name === "shared"
          ? ["openai-chat/", "openai-compatible/", "groq/", "mistral/", "deepseek/", "vllm/", "tgi/chat-"]
          : ["openai-chat/", "tgi/chat-"];
      for (const d of folders) expect(fixtures.some((f) => f.name.startsWith(d))).toBe(true);
      expect(fixtures.some((f) => f.name.includes("responses-api"))).toBe(false);
    });

    describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (_, f) => {
      it("gives identical events fed in 1-byte, 7-byte, 64-byte pieces and whole", async () => {
        await expectSameEventsInPieces(f.bytes, decode);
      });

      it("maps text, reasoning, tool calls, finish and usage as the transcript says", async () => {
        const want = expectations(new TextDecoder().decode(f.bytes));
        const evs = await decode(f.bytes, 0);
        expect(evs.filter(isTerminal)).toHaveLength(1);
        expect(isTerminal(evs.at(-1)!)).toBe(true);
        for (const [i, t] of want.text) expect(textOf(evs, i)).toBe(t);
        expect(reasoningOf(evs, 0)).toBe(want.reasoning);

        const client = of(evs, "toolCallStarted").filter((e) => !e.event.value.providerExecuted && e.choiceIndex === 0);
        expect(client.map((e) => [e.event.value.callId, e.event.value.name])).toEqual(
          [...want.calls.values()].map((c) => [c.id || expect.any(String), c.name]),
        );
        expect(new Set(client.map((e) => e.event.value.callId)).size).toBe(client.length); // never merged, never duplicated
        expect(of(evs, "toolCallStarted").filter((e) => e.event.value.providerExecuted)).toHaveLength(want.executed);
        for (const done of of(evs, "toolCallCompleted")) {
          const v = done.event.value;
          if (!v.incomplete) expect(() => JSON.parse(v.argumentsJson)).not.toThrow();
          const deltas = of(evs, "toolCallDelta")
            .filter((d) => d.event.value.callId === v.callId)
            .map((d) => d.event.value.argumentsDelta);
          if (v.incomplete) expect(v.argumentsJson).toBe(deltas.join(""));
          else expect(deltas.join("") || "{}").toBe(v.argumentsJson);
        }

        const end = evs.at(-1)!.event;
        if (want.error) {
          expect(end.case).toBe("failed");
          return;
        }
        expect(end.case).toBe("completed");
        if (end.case !== "completed") return;
        const raw = want.finish.get(0)!;
        expect(end.value.rawFinishReason).toBe(raw);
        const expected = want.calls.size > 0 ? FinishReason.TOOL_CALLS : want.refused ? FinishReason.CONTENT_FILTER : finishTable[raw];
        expect(end.value.finishReason).toBe(expected);
        expect(of(evs, "toolCallCompleted").filter((e) => !e.event.value.providerExecuted)).toHaveLength(want.calls.size);
        if (want.usage) {
          expect(end.value.usage?.inputTokens).toBe(want.usage["prompt_tokens"]);
          expect(end.value.usage?.outputTokens).toBe(want.usage["completion_tokens"]);
          const details = want.usage["completion_tokens_details"] as { reasoning_tokens?: number } | undefined;
          expect(end.value.usage?.reasoningTokens).toBe(details?.reasoning_tokens);
          expect(of(evs, "usage").length).toBeGreaterThan(0);
        } else {
          expect(end.value.usage).toBeUndefined();
          expect(of(evs, "usage")).toHaveLength(0);
        }
        expect(JSON.stringify(evs.map((e) => e.providerMetadata ?? {}))).not.toContain("obfuscation");
      });
    });

    const thinkTagged = (names: readonly string[]) =>
      it.each(names)("%s: with thinkTags the <think> block is reasoning, chunking-independent, and the tags are gone", async (name) => {
        const f = byName(name);
        const content = textOf(await decode(f.bytes, 0), 0);
        const m = /^([\s\S]*?)<think>([\s\S]*?)<\/think>([\s\S]*)$/.exec(content);
        expect(m).not.toBeNull();
        const runs = await Promise.all([0, 1, 7, 64].map((n) => decode(f.bytes, n, { thinkTags: true })));
        for (const r of runs.slice(1)) expect(binary(r)).toEqual(binary(runs[0]!));
        expect(reasoningOf(runs[0]!, 0)).toBe(m![2]);
        expect(textOf(runs[0]!, 0)).toBe(m![1]! + m![3]!);
      });

    if (source.name === "project") {
      describe("the project's transcripts", () => {
        it("text-with-usage-chunk: the text, STOP, usage from the choices-less last chunk, obfuscation dropped", async () => {
          const evs = await decode(byName("openai-chat/text-with-usage-chunk.sse").bytes, 0);
          expect(textOf(evs, 0)).toBe("The Eiffel Tower is about 330 metres tall.");
          expect(evs.at(-1)!.event).toMatchObject({
            case: "completed",
            value: { finishReason: FinishReason.STOP, rawFinishReason: "stop", usage: { inputTokens: 14, outputTokens: 9 } },
          });
        });

        it("tool-call-get-weather: one call with its id, name and arguments, TOOL_CALLS", async () => {
          const evs = await decode(byName("openai-chat/tool-call-get-weather.sse").bytes, 0);
          const done = of(evs, "toolCallCompleted").map((e) => e.event.value);
          expect(done.map((d) => [d.callId, d.name])).toEqual([["call_Yc4JfQ8s2LwN7tV0bKx1mR3e", "get_weather"]]);
          expect(JSON.parse(done[0]!.argumentsJson)).toEqual({ location: "Paris, France", unit: "celsius" });
          expect(evs.at(-1)!.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
        });

        it("parallel-tool-calls-weather-time: two separate calls whose arguments parse to their own values", async () => {
          const evs = await decode(byName("openai-chat/parallel-tool-calls-weather-time.sse").bytes, 0);
          const done = of(evs, "toolCallCompleted").map((e) => e.event.value);
          expect(done.map((d) => [d.name, JSON.parse(d.argumentsJson)])).toEqual([
            ["get_weather", { location: "Tokyo" }],
            ["get_local_time", { timezone: "Asia/Tokyo" }],
          ]);
          expect(done[0]!.callId).not.toBe(done[1]!.callId);
          expect(of(evs, "toolCallStarted").map((e) => e.event.value.index)).toEqual([0, 1]);
        });

        it("reasoning-tokens-finish-length: LENGTH, with the hidden reasoning counted", async () => {
          const evs = await decode(byName("openai-chat/reasoning-tokens-finish-length.sse").bytes, 0);
          expect(evs.at(-1)!.event).toMatchObject({
            case: "completed",
            value: { finishReason: FinishReason.LENGTH, rawFinishReason: "length", usage: { outputTokens: 200, reasoningTokens: 192 } },
          });
        });

        it("error-server-error-mid-stream: the error chunk ends the stream UNAVAILABLE (retryable) after the text", async () => {
          const evs = await decode(byName("openai-chat/error-server-error-mid-stream.sse").bytes, 0);
          expect(textOf(evs, 0)).toBe("Sure, here");
          expect(evs.at(-1)!.event).toMatchObject({
            case: "failed",
            value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_ERROR", retryable: true },
          });
        });

        thinkTagged(["tgi/chat-completions-think-tags.sse"]);
      });
      return;
    }

    describe("notable transcripts", () => {
      it("multiple-choices-n3: three choices, each tagged, each finished; the others' reasons in the terminal's metadata", async () => {
        const evs = await decode(byName("openai-chat/multiple-choices-n3.sse").bytes, 0);
        for (const i of [0, 1, 2]) expect(() => JSON.parse(textOf(evs, i))).not.toThrow();
        expect(new Set(of(evs, "textDelta").map((e) => e.choiceIndex))).toEqual(new Set([0, 1, 2]));
        const end = evs.at(-1)!;
        expect(end.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP, rawFinishReason: "stop" } });
        expect(end.providerMetadata?.["choices"]).toEqual([
          { index: 1, finish_reason: "stop" },
          { index: 2, finish_reason: "stop" },
        ]);
      });

      it("parallel-tool-calls-2: two separate calls whose arguments parse", async () => {
        const evs = await decode(byName("openai-chat/parallel-tool-calls-2.sse").bytes, 0);
        const done = of(evs, "toolCallCompleted").map((e) => e.event.value);
        expect(done.map((d) => d.name)).toEqual(["get_country", "get_product_name"]);
        expect(done[0]!.callId).not.toBe(done[1]!.callId);
        for (const d of done) expect(JSON.parse(d.argumentsJson)).toBeTypeOf("object");
        expect(of(evs, "toolCallStarted").map((e) => e.event.value.index)).toEqual([0, 1]);
      });

      it("content-logprobs: each text delta carries its logprobs; none empty", async () => {
        const evs = await decode(byName("openai-chat/content-logprobs.sse").bytes, 0);
        for (const e of of(evs, "textDelta")) {
          const lp = e.providerMetadata?.["logprobs"] as { content: { token: string }[] };
          expect(lp.content.map((x) => x.token).join("")).toBe(e.event.value.text);
        }
      });

      it("refusal-logprobs: the refusal is text marked as refusal, with refusal logprobs; CONTENT_FILTER with raw stop", async () => {
        const evs = await decode(byName("openai-chat/refusal-logprobs.sse").bytes, 0);
        const texts = of(evs, "textDelta");
        expect(texts.length).toBeGreaterThan(0);
        for (const e of texts) {
          expect(e.providerMetadata?.["refusal"]).toBe(true);
          expect((e.providerMetadata!["logprobs"] as { refusal: unknown[] }).refusal.length).toBeGreaterThan(0);
        }
        expect(evs.at(-1)!.event).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.CONTENT_FILTER, rawFinishReason: "stop" },
        });
      });

      it("moderation-chunk-and-obfuscation: moderation kept on the terminal, obfuscation dropped, duplicate finish ignored", async () => {
        const evs = await decode(byName("openai-chat/moderation-chunk-and-obfuscation.sse").bytes, 0);
        expect(textOf(evs, 0)).toBe("Paris.");
        const meta = evs.at(-1)!.providerMetadata;
        expect(meta?.["moderation"]).toMatchObject({ input: { type: "moderation_results" }, output: { type: "moderation_results" } });
        expect(meta?.["service_tier"]).toBe("default");
      });

      it("novita-content-filter-results: the filter results reach the text's metadata", async () => {
        const evs = await decode(byName("openai-compatible/novita-content-filter-results.sse").bytes, 0);
        const first = of(evs, "textDelta")[0]!;
        expect(first.providerMetadata?.["content_filter_results"]).toMatchObject({ hate: { filtered: false } });
      });

      it("openrouter-o3-reasoning-details: the encrypted reasoning is one redacted fragment with its data in metadata", async () => {
        const evs = await decode(byName("openai-compatible/openrouter-o3-reasoning-details.sse").bytes, 0);
        const redacted = of(evs, "reasoningDelta").filter((e) => e.event.value.redacted);
        expect(redacted).toHaveLength(1);
        expect(redacted[0]!.event.value.text).toBe("");
        expect(redacted[0]!.providerMetadata?.["reasoning_details"]).toMatchObject([
          { type: "reasoning.encrypted", format: "openai-responses-v1" },
        ]);
        expect(evs.at(-1)!.providerMetadata).toMatchObject({ native_finish_reason: "completed", provider: "OpenAI" });
        expect(of(evs, "usage")[0]!.providerMetadata?.["usage"]).toMatchObject({ cost: 0.00085 });
      });

      it("vllm reasoning-field-include-usage: the reasoning sent in two fields is streamed once", async () => {
        const text = new TextDecoder().decode(byName("vllm/reasoning-field-include-usage.sse").bytes);
        const evs = await decode(byName("vllm/reasoning-field-include-usage.sse").bytes, 0);
        const once = [...text.matchAll(/"reasoning_content":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1]}"`) as string).join("");
        expect(once.length).toBeGreaterThan(0);
        expect(reasoningOf(evs, 0)).toBe(once);
      });

      it("groq midstream-error-after-text: the error event ends the stream with INVALID_ARGUMENT (status_code 400)", async () => {
        const evs = await decode(byName("groq/midstream-error-after-text.sse").bytes, 0);
        expect(textOf(evs, 0).length).toBeGreaterThan(0);
        expect(evs.at(-1)!.event).toMatchObject({
          case: "failed",
          value: { code: toProtoCode(Code.InvalidArgument), reason: "UPSTREAM_REJECTED", retryable: false },
        });
      });

      it("groq compound-executed-tools: the search Groq ran is a provider-executed call with its result", async () => {
        const evs = await decode(byName("groq/compound-executed-tools.sse").bytes, 0);
        const started = of(evs, "toolCallStarted").map((e) => e.event.value);
        expect(started).toMatchObject([{ name: "search", providerExecuted: true }]);
        const done = of(evs, "toolCallCompleted").map((e) => e.event.value);
        expect(JSON.parse(done[0]!.argumentsJson)).toHaveProperty("query");
        const results = of(evs, "toolResult").map((e) => e.event.value);
        expect(results).toHaveLength(1);
        expect(results[0]).toMatchObject({ callId: started[0]!.callId, name: "search" });
        expect(results[0]!.result).toContain("San Francisco");
        expect(evs.at(-1)!.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
      });

      it.each([
        ["tgi/chat-v1.4.3-finish-length-no-done.sse", "length"],
        ["tgi/chat-v2.0.1-object-text-completion.sse", "eos_token"],
      ])("%s: completes without [DONE] (finish_reason is the marker)", async (name, raw) => {
        const evs = await decode(byName(name).bytes, 0);
        expect(evs.at(-1)!.event).toMatchObject({ case: "completed", value: { rawFinishReason: raw } });
      });

      it("together-finish-eos-token-id: eos is STOP, the raw reason kept, token ids in metadata", async () => {
        const evs = await decode(byName("openai-compatible/together-finish-eos-token-id.sse").bytes, 0);
        expect(evs.at(-1)!.event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP, rawFinishReason: "eos" } });
        expect(of(evs, "textDelta")[0]!.providerMetadata).toEqual({ token_id: 17 });
      });

      thinkTagged(["groq/think-tags-in-content.sse", "openai-compatible/fireworks-deepseek-r1-think-in-content.sse"]);
    });
  },
);
