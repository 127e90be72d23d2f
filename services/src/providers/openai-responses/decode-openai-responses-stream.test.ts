import { FinishReason, type StreamEvent } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { expectSameEventsInPieces } from "../../testing/feed-body.js";
import { ofKind, reasoningOf, terminalEventOf as end, textOf } from "../../testing/stream-events.js";
import { describeKindFixtures, type UpstreamFixture } from "../../testing/upstream-fixtures.js";
import { decodeOpenAIResponsesStream } from "./decode-openai-responses-stream.js";

/**
 * Feeds `bytes` in chunks of `size` bytes (0 = whole) and collects the
 * events. The body is pulled chunk by chunk: enqueueing every 1-byte chunk
 * up front makes the stream machinery itself quadratic (~20 s for 100 KB).
 */
async function decode(bytes: Uint8Array, size = 0): Promise<StreamEvent[]> {
  const step = size > 0 ? size : bytes.byteLength || 1;
  let at = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(c) {
        if (at >= bytes.byteLength) return c.close();
        c.enqueue(bytes.slice(at, at + step));
        at += step;
      },
    },
    { highWaterMark: 0 },
  );
  return Array.fromAsync(decodeOpenAIResponsesStream(body));
}

type Json = Record<string, unknown>;

/** The fixture's events (JSON of each `data:` line until `[DONE]`), read independently of the decoder. */
function upstreamEvents(f: UpstreamFixture): Json[] {
  const out: Json[] = [];
  let last = -1;
  for (const line of new TextDecoder().decode(f.bytes).split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === "[DONE]") break;
    const j = JSON.parse(data) as Json;
    const seq = j["sequence_number"];
    if (typeof seq === "number") {
      if (seq <= last) continue;
      last = seq;
    }
    out.push(j);
  }
  return out;
}

/** What a fixture says, computed from its events independently of the mapper. */
function expectations(events: Json[]) {
  const want = {
    text: "",
    reasoning: "",
    items: [] as Json[],
    terminal: undefined as Json | undefined,
    terminalType: "",
  };
  for (const e of events) {
    const t = e["type"];
    if (t === "response.output_text.delta" || t === "response.refusal.delta") want.text += e["delta"] as string;
    if (t === "response.reasoning_summary_text.delta" || t === "response.reasoning_text.delta") want.reasoning += e["delta"] as string;
    if (t === "response.output_item.done") want.items.push(e["item"] as Json);
    if (t === "response.completed" || t === "response.incomplete" || t === "response.failed" || t === "error") {
      want.terminal = e;
      want.terminalType = t;
      break;
    }
  }
  return want;
}

const clientItemTypes = new Set([
  "function_call",
  "custom_tool_call",
  "apply_patch_call",
  "shell_call",
  "local_shell_call",
  "computer_call",
]);
const providerItemTypes = new Set([
  "web_search_call",
  "file_search_call",
  "code_interpreter_call",
  "image_generation_call",
  "mcp_call",
  "mcp_list_tools",
]);

describeKindFixtures(
  "decodeOpenAIResponsesStream over Responses streams",
  "openai-responses",
  "every",
  { project: 4, shared: 17 },
  (fixtures, source) => {
    const byName = new Map(fixtures.map((f) => [f.name, f]));
    const named = (name: string) => {
      const f = byName.get(name);
      if (!f) throw new Error(`fixture ${name} is missing`);
      return f;
    };

    it("finds the Responses-shaped fixtures (the shared recordings: including the ones outside openai-responses/)", () => {
      expect(fixtures.some((f) => f.name.startsWith(source.name === "shared" ? "deepseek/" : "openai-responses/"))).toBe(true);
    });

    describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (_, f) => {
      it("gives the same events for 1-byte, 7-byte, 64-byte and whole chunks", async () => {
        await expectSameEventsInPieces(f.bytes, decode);
      });

      it("maps text, reasoning, tool calls, finish reason and usage as the fixture says", async () => {
        const want = expectations(upstreamEvents(f));
        const evs = await decode(f.bytes);
        expect(textOf(evs)).toBe(want.text);
        expect(reasoningOf(evs)).toBe(want.reasoning);
        const callItems = want.items.filter((i) => clientItemTypes.has(i["type"] as string) || providerItemTypes.has(i["type"] as string));
        expect(ofKind(evs, "toolCallStarted").map((c) => c.callId)).toEqual(callItems.map((i) => (i["call_id"] ?? i["id"]) as string));
        expect(ofKind(evs, "toolCallStarted").map((c) => c.providerExecuted)).toEqual(
          callItems.map((i) => providerItemTypes.has(i["type"] as string)),
        );
        expect(ofKind(evs, "toolCallStarted").map((c) => c.index)).toEqual(callItems.map((_, i) => i));
        for (const c of ofKind(evs, "toolCallCompleted")) {
          expect(c.incomplete).toBe(false);
          expect(() => JSON.parse(c.argumentsJson)).not.toThrow();
          const deltas = evs.flatMap((e) =>
            e.event.case === "toolCallDelta" && e.event.value.callId === c.callId ? [e.event.value.argumentsDelta] : [],
          );
          expect(deltas.join("")).toBe(c.argumentsJson);
        }
        for (const item of callItems.filter((i) => i["type"] === "function_call")) {
          const c = ofKind(evs, "toolCallCompleted").find((x) => x.callId === item["call_id"]);
          expect(c?.name).toBe(item["name"]);
          expect(c && JSON.parse(c.argumentsJson)).toEqual(JSON.parse(item["arguments"] as string));
        }
        const signatures = evs.flatMap((e) =>
          e.event.case === "reasoningDelta" && e.event.value.signature ? [e.event.value.signature] : [],
        );
        expect(signatures).toEqual(
          want.items.filter((i) => i["type"] === "reasoning" && i["encrypted_content"]).map((i) => i["encrypted_content"]),
        );

        const last = end(evs);
        // Every stream here ends with response.completed, or response.incomplete (a stop at max_output_tokens).
        expect(["response.completed", "response.incomplete"]).toContain(want.terminalType);
        if (source.name === "shared") expect(want.terminalType).toBe("response.completed"); // every recorded stream completed
        expect(last.event.case).toBe("completed");
        if (last.event.case !== "completed") return;
        const response = want.terminal!["response"] as Json;
        if (want.terminalType === "response.completed") {
          const hasClientCalls = callItems.some((i) => clientItemTypes.has(i["type"] as string));
          expect(last.event.value.finishReason).toBe(hasClientCalls ? FinishReason.TOOL_CALLS : FinishReason.STOP);
          expect(last.event.value.rawFinishReason).toBe("completed");
        } else {
          const reason = (response["incomplete_details"] as Json)["reason"];
          expect(last.event.value.rawFinishReason).toBe(reason);
          expect(last.event.value.finishReason).toBe(reason === "max_output_tokens" ? FinishReason.LENGTH : FinishReason.CONTENT_FILTER);
        }
        const u = response["usage"] as Json | null;
        expect(last.providerMetadata?.["id"]).toBe(response["id"]);
        if (!u) {
          expect(last.event.value.usage).toBeUndefined();
          return;
        }
        const details = (k: string) => (u[k] ?? {}) as Json;
        expect(last.event.value.usage).toMatchObject({
          inputTokens: u["input_tokens"],
          outputTokens: u["output_tokens"],
          reasoningTokens: details("output_tokens_details")["reasoning_tokens"],
          cachedInputTokens: details("input_tokens_details")["cached_tokens"],
        });
        expect(last.event.value.usage?.cacheWriteInputTokens).toBe(details("input_tokens_details")["cache_write_tokens"]);
        expect(evs.at(-2)?.event.case).toBe("usage");
      });
    });

    if (source.name === "project") {
      it("text-with-usage: the text of one message, STOP, usage with its details", async () => {
        const evs = await decode(named("openai-responses/text-with-usage.sse").bytes, 7);
        expect(textOf(evs)).toBe("Under the harvest moon, a fox naps in the hay.");
        expect(end(evs).event).toMatchObject({
          case: "completed",
          value: {
            finishReason: FinishReason.STOP,
            usage: { inputTokens: 37, outputTokens: 12, reasoningTokens: 0, cachedInputTokens: 0 },
          },
        });
      });

      it("function-call-get-weather: one client call, its arguments streamed across a UTF-8 character, TOOL_CALLS", async () => {
        const evs = await decode(named("openai-responses/function-call-get-weather.sse").bytes, 1);
        expect(ofKind(evs, "toolCallCompleted").map((c) => [c.callId, c.name, JSON.parse(c.argumentsJson), c.providerExecuted])).toEqual([
          ["call_Qm3Rt7Vx1Zb5Df9Hj2Lp6Ns0", "get_weather", { city: "Bogotá" }, false],
        ]);
        expect(end(evs).event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
      });

      it("reasoning-summary-encrypted: the summary is reasoning, signed with the item's encrypted content, before the answer", async () => {
        const evs = await decode(named("openai-responses/reasoning-summary-encrypted.sse").bytes);
        expect(reasoningOf(evs)).toBe(
          "**Comparing fractions**\n\nI convert both to twelfths: 3/4 is 9/12 and 2/3 is 8/12, so 3/4 is larger.",
        );
        expect(ofKind(evs, "reasoningDelta").at(-1)?.signature).toMatch(/^gAAAAABoyaPR/);
        expect(textOf(evs)).toBe("3/4 is larger: 9/12 > 8/12.");
        expect(evs.findIndex((e) => e.event.case === "textDelta")).toBeGreaterThan(
          evs.findLastIndex((e) => e.event.case === "reasoningDelta"),
        );
        expect(end(evs).event).toMatchObject({ case: "completed", value: { usage: { outputTokens: 214, reasoningTokens: 192 } } });
      });

      it("incomplete-max-output-tokens: response.incomplete is a LENGTH stop with the raw reason and the usage", async () => {
        const evs = await decode(named("openai-responses/incomplete-max-output-tokens.sse").bytes);
        expect(textOf(evs)).toBe("Once upon a time, in a valley full of lanterns, there lived a clock");
        expect(end(evs).event).toMatchObject({
          case: "completed",
          value: { finishReason: FinishReason.LENGTH, rawFinishReason: "max_output_tokens", usage: { inputTokens: 21, outputTokens: 16 } },
        });
      });
    } else {
      it("openrouter: data-only SSE without event: lines, ending with [DONE], still maps reasoning_text", async () => {
        const f = named("openai-responses/openrouter-no-event-lines-reasoning-text.sse");
        expect(new TextDecoder().decode(f.bytes)).not.toMatch(/^event:/m);
        const evs = await decode(f.bytes);
        expect(reasoningOf(evs).length).toBeGreaterThan(0);
        expect(end(evs).event.case).toBe("completed");
      });

      it("background resume: starts at sequence_number 1 with response.queued, no response.created", async () => {
        const f = named("openai-responses/background-resume-starting-after.sse");
        const [first] = upstreamEvents(f);
        expect(first).toMatchObject({ type: "response.queued", sequence_number: 1 });
        const evs = await decode(f.bytes);
        expect(textOf(evs)).not.toBe("");
        expect(end(evs).event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
      });

      it("logprobs: every text delta keeps its logprobs as metadata", async () => {
        const f = named("openai-responses/output-text-logprobs.sse");
        const deltas = upstreamEvents(f).filter((e) => e["type"] === "response.output_text.delta");
        const evs = (await decode(f.bytes)).filter((e) => e.event.case === "textDelta");
        expect(evs.map((e) => e.providerMetadata?.["logprobs"])).toEqual(deltas.map((d) => d["logprobs"]));
      });

      it("moderation and Azure content_filters reach the terminal's metadata", async () => {
        const mod = end(await decode(named("openai-responses/moderation-in-completed.sse").bytes));
        expect(mod.providerMetadata?.["moderation"]).toMatchObject({ input: { type: "moderation_result" } });
        const az = end(await decode(named("openai-responses/azure-function-call-content-filters.sse").bytes));
        expect(Array.isArray(az.providerMetadata?.["content_filters"])).toBe(true);
      });

      it("commentary phase: the message's phase is kept on its first text delta", async () => {
        const evs = await decode(named("openai-responses/commentary-phase-text-and-function-call.sse").bytes);
        const texts = evs.filter((e) => e.event.case === "textDelta");
        expect(texts[0]?.providerMetadata).toEqual({ phase: "commentary" });
        expect(texts.slice(1).every((e) => e.providerMetadata === undefined)).toBe(true);
        expect(end(evs).event).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
      });

      it("12 summary parts: each part's first delta names its summary_index, then the signature", async () => {
        const evs = await decode(named("openai-responses/reasoning-12-summary-parts-encrypted.sse").bytes);
        const indexes = evs.flatMap((e) =>
          e.event.case === "reasoningDelta" && e.providerMetadata?.["summary_index"] !== undefined
            ? [e.providerMetadata["summary_index"]]
            : [],
        );
        expect(indexes).toEqual([...Array(12).keys()]);
      });

      it("MCP: list_tools and the call are provider-executed, with their results", async () => {
        const evs = await decode(named("openai-responses/mcp-list-tools-and-call.sse").bytes);
        expect(ofKind(evs, "toolCallStarted").map((c) => [c.name, c.providerExecuted])).toEqual([
          ["mcp_list_tools", true],
          ["ask_question", true],
        ]);
        const [list, call] = ofKind(evs, "toolResult");
        expect(JSON.parse(list!.result).tools.map((t: { name: string }) => t.name)).toEqual(["read_wiki_structure", "ask_question"]);
        expect(call?.result).toMatch(/pydantic-ai/);
        expect(call?.isError).toBe(false);
      });

      it("web search and code interpreter: provider-executed, STOP", async () => {
        const ws = await decode(named("openai-responses/web-search-call-then-text.sse").bytes);
        expect(ofKind(ws, "toolCallCompleted")).toMatchObject([{ name: "web_search", providerExecuted: true }]);
        expect(JSON.parse(ofKind(ws, "toolCallCompleted")[0]!.argumentsJson)).toMatchObject({
          action: { type: "search", query: "weather: San Francisco, CA" },
        });
        const ci = await decode(named("openai-responses/reasoning-summary-and-code-interpreter.sse").bytes);
        expect(ofKind(ci, "toolCallCompleted").map((c) => c.name)).toEqual(["code_interpreter", "code_interpreter", "code_interpreter"]);
        expect(JSON.parse(ofKind(ci, "toolCallCompleted")[0]!.argumentsJson).code).toBe("n = pow(123456, 123)\nlen(str(n))");
        expect(ofKind(ci, "toolResult")).toHaveLength(3);
      });

      it("apply_patch: a client call carrying the whole operation, TOOL_CALLS", async () => {
        const evs = await decode(named("openai-responses/apply-patch-diff-delta.sse").bytes);
        const [call] = ofKind(evs, "toolCallCompleted");
        expect(call).toMatchObject({ name: "apply_patch", providerExecuted: false });
        expect(JSON.parse(call!.argumentsJson).operation).toMatchObject({ type: "create_file", path: "shopping-checklist.md" });
        expect(JSON.parse(call!.argumentsJson).operation.diff).toContain("- [ ] Milk");
      });
    }

    it("a cut-off copy of a recorded stream ends UPSTREAM_TRUNCATED, never completed", async () => {
      for (const f of fixtures) {
        const text = new TextDecoder().decode(f.bytes);
        const cut = text.slice(0, text.search(/"type":\s*"response\.(completed|incomplete)"/));
        const evs = await decode(new TextEncoder().encode(cut.slice(0, cut.lastIndexOf("\n\n") + 2)));
        expect(end(evs).event, f.name).toMatchObject({ case: "failed", value: { reason: "UPSTREAM_TRUNCATED", retryable: true } });
      }
    });
  },
);
