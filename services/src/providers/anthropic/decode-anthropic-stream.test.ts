import { FinishReason, toProtoCode } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { decodeChunked } from "../../testing/anthropic-sse.js";
import { expectSameEventsInPieces } from "../../testing/feed-body.js";
import { completedOf, ofKind, reasoningOf, terminalOf, textOf } from "../../testing/stream-events.js";
import { describeKindFixtures } from "../../testing/upstream-fixtures.js";

/**
 * What a transcript says, read from its SSE data lines independently of the
 * decoder: the answer, thinking, signatures, tool calls in start order,
 * server tool results, the stop reason and the final raw usage counts
 * (message_delta counts overwrite message_start's, as Anthropic documents).
 */
function expectations(bytes: Uint8Array) {
  const out = {
    text: "",
    thinking: "",
    signatures: new Map<number, string>(),
    calls: [] as { index: number; id: string; name: string; json: string; serverSide: boolean }[],
    results: new Map<string, { content: string; type: string }>(),
    unknownBlocks: [] as string[],
    citations: 0,
    stopReason: undefined as string | undefined,
    usage: {} as Record<string, number>,
    stopped: false,
  };
  const text = new TextDecoder().decode(bytes);
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const d = JSON.parse(line.slice(5));
    const usage = d.type === "message_start" ? d.message.usage : d.type === "message_delta" ? d.usage : undefined;
    for (const [k, v] of Object.entries(usage ?? {})) if (typeof v === "number") out.usage[k] = v;
    if (typeof usage?.output_tokens_details?.thinking_tokens === "number")
      out.usage["thinking_tokens"] = usage.output_tokens_details.thinking_tokens;
    if (d.type === "content_block_start") {
      const b = d.content_block;
      if (["tool_use", "server_tool_use", "mcp_tool_use"].includes(b.type)) {
        out.calls.push({ index: d.index, id: b.id, name: b.name, json: "", serverSide: b.type !== "tool_use" });
      } else if (String(b.type).endsWith("_tool_result")) {
        out.results.set(b.tool_use_id, { content: JSON.stringify(b.content), type: b.type });
      } else if (!["text", "thinking", "redacted_thinking"].includes(b.type)) {
        out.unknownBlocks.push(b.type);
      }
    }
    if (d.type === "content_block_delta") {
      const x = d.delta;
      if (x.type === "text_delta") out.text += x.text;
      if (x.type === "thinking_delta") out.thinking += x.thinking;
      if (x.type === "signature_delta") out.signatures.set(d.index, x.signature);
      if (x.type === "citations_delta") out.citations++;
      if (x.type === "input_json_delta") {
        const call = out.calls.find((c) => c.index === d.index);
        if (call) call.json += x.partial_json;
      }
    }
    if (d.type === "message_delta" && d.delta.stop_reason) out.stopReason = d.delta.stop_reason;
    if (d.type === "message_stop") out.stopped = true;
  }
  return out;
}

describeKindFixtures("anthropic: every transcript", "anthropic", "every", { project: 4, shared: 15 }, (fixtures, source) => {
  describe.each(fixtures.map((f) => [f.name, f] as const))("%s", (_name, f) => {
    it("gives identical events fed in 1, 7, 64 bytes and whole, ending with exactly one terminal", async () => {
      terminalOf(await expectSameEventsInPieces(f.bytes, decodeChunked));
    });

    it("carries the transcript's text, thinking, tool calls, results, stop reason and usage", async () => {
      const x = expectations(f.bytes);
      const evs = await decodeChunked(f.bytes, 64);
      expect(textOf(evs)).toBe(x.text);
      expect(reasoningOf(evs)).toBe(x.thinking);
      for (const [index, sig] of x.signatures) {
        expect(
          ofKind(evs, "reasoningDelta")
            .filter((r) => r.blockIndex === index && r.signature !== "")
            .map((r) => r.signature),
        ).toEqual([sig]);
      }
      // Every call stays separate, in start order, and completes with its own input.
      const started = ofKind(evs, "toolCallStarted");
      expect(started.map((c) => [c.callId, c.name, c.index, c.providerExecuted])).toEqual(
        x.calls.map((c, i) => [c.id, c.name, i, c.serverSide]),
      );
      for (const c of x.calls) {
        const deltas = ofKind(evs, "toolCallDelta")
          .filter((d) => d.callId === c.id)
          .map((d) => d.argumentsDelta);
        expect(deltas.join("")).toBe(c.json);
        expect(deltas.every((d) => d !== "")).toBe(true);
        const done = ofKind(evs, "toolCallCompleted").filter((d) => d.callId === c.id);
        expect(done).toHaveLength(1);
        expect(done[0]?.incomplete).toBe(false);
        expect(done[0]?.providerExecuted).toBe(c.serverSide);
        expect(JSON.parse(done[0]?.argumentsJson ?? "")).toEqual(JSON.parse(c.json === "" ? "{}" : c.json));
      }
      const results = ofKind(evs, "toolResult");
      expect(new Map(results.map((r) => [r.callId, r.result]))).toEqual(new Map([...x.results].map(([id, r]) => [id, r.content])));
      for (const r of results) expect(r.name).toBe(x.calls.find((c) => c.id === r.callId)?.name ?? "");
      // Unknown blocks are kept in metadata, not dropped.
      const kept = evs.flatMap((e) => {
        const b = e.providerMetadata?.["content_block"];
        return typeof b === "object" && b !== null && !Array.isArray(b) ? [String(b["type"])] : [];
      });
      expect(kept).toEqual(x.unknownBlocks);
      // Citations ride on text deltas' metadata.
      const cited = evs.flatMap((e) => {
        const c = e.event.case === "textDelta" ? e.providerMetadata?.["citations"] : undefined;
        return Array.isArray(c) ? c : [];
      });
      expect(cited).toHaveLength(x.citations);

      const t = terminalOf(evs);
      expect(x.stopped).toBe(true);
      expect(t.case).toBe("completed");
      if (t.case !== "completed") return;
      expect(t.value.rawFinishReason).toBe(x.stopReason);
      const u = t.value.usage;
      const cacheRead = x.usage["cache_read_input_tokens"];
      const cacheWrite = x.usage["cache_creation_input_tokens"];
      expect(u?.inputTokens).toBe((x.usage["input_tokens"] ?? NaN) + (cacheRead ?? 0) + (cacheWrite ?? 0));
      expect(u?.outputTokens).toBe(x.usage["output_tokens"]);
      expect(u?.cachedInputTokens).toBe(cacheRead);
      expect(u?.cacheWriteInputTokens).toBe(cacheWrite);
      expect(u?.reasoningTokens).toBe(x.usage["thinking_tokens"]); // unset when the transcript has no thinking_tokens
    });
  });

  const byName = (file: string) => {
    const f = fixtures.find((x) => x.name === `anthropic/${file}`);
    if (!f) throw new Error(`missing fixture anthropic/${file}`);
    return decodeChunked(f.bytes, 7);
  };

  if (source.name === "project") {
    it("text-end-turn: the documentation's basic stream, ping ignored; STOP with message_start's input and message_delta's output", async () => {
      const evs = await byName("text-end-turn.sse");
      expect(textOf(evs)).toBe("Hello! How can I help you today?");
      expect(completedOf(evs)).toMatchObject({
        finishReason: FinishReason.STOP,
        rawFinishReason: "end_turn",
        usage: { inputTokens: 12, outputTokens: 12 },
      });
    });

    it("tool-use-input-json-delta: text then get_weather; the empty first fragment gives no delta; TOOL_CALLS", async () => {
      const evs = await byName("tool-use-input-json-delta.sse");
      expect(textOf(evs)).toBe("Okay, let's check the weather for San Francisco, CA:");
      expect(ofKind(evs, "toolCallDelta").map((d) => d.argumentsDelta)).toEqual([
        '{"location": ',
        '"San Fra',
        'ncisco, CA"',
        ', "unit": "fah',
        'renheit"}',
      ]);
      const [call, ...more] = ofKind(evs, "toolCallCompleted");
      expect(more).toHaveLength(0);
      expect([call?.callId, call?.name, call?.providerExecuted]).toEqual(["toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", false]);
      expect(JSON.parse(call?.argumentsJson ?? "")).toEqual({ location: "San Francisco, CA", unit: "fahrenheit" });
      expect(completedOf(evs)).toMatchObject({ finishReason: FinishReason.TOOL_CALLS, usage: { inputTokens: 472, outputTokens: 89 } });
    });

    it("extended-thinking-signature: reasoning in block 0 ending with its signature, the answer in block 1, STOP", async () => {
      const evs = await byName("extended-thinking-signature.sse");
      expect(new Set(ofKind(evs, "reasoningDelta").map((r) => r.blockIndex))).toEqual(new Set([0]));
      expect(new Set(ofKind(evs, "textDelta").map((r) => r.blockIndex))).toEqual(new Set([1]));
      expect(reasoningOf(evs)).toMatch(/^I need to find the GCD[\s\S]*So the GCD is 21\.$/);
      expect(ofKind(evs, "reasoningDelta").at(-1)?.signature).toMatch(/^EqQBCgIYAhIM/);
      expect(completedOf(evs).finishReason).toBe(FinishReason.STOP);
    });

    it("max-tokens-cache-usage: LENGTH; cache reads and writes count in the input and on their own", async () => {
      const done = completedOf(await byName("max-tokens-cache-usage.sse"));
      expect([done.finishReason, done.rawFinishReason]).toEqual([FinishReason.LENGTH, "max_tokens"]);
      expect(done.usage).toMatchObject({
        inputTokens: 21 + 1310 + 2048,
        cachedInputTokens: 2048,
        cacheWriteInputTokens: 1310,
        outputTokens: 32,
      });
    });
  } else {
    it("client-tool-use-input-json-delta: the empty first fragment gives no delta; get_weather completes with its parsed input; TOOL_CALLS", async () => {
      const evs = await byName("client-tool-use-input-json-delta.sse");
      const deltas = ofKind(evs, "toolCallDelta").map((d) => d.argumentsDelta);
      expect(deltas).toEqual(['{"locati', 'on": "P', "ar", 'is"}']);
      const [call] = ofKind(evs, "toolCallCompleted");
      expect(call?.name).toBe("get_weather");
      expect(JSON.parse(call?.argumentsJson ?? "")).toEqual({ location: "Paris" });
      expect(call?.providerExecuted).toBe(false);
      expect(completedOf(evs).finishReason).toBe(FinishReason.TOOL_CALLS);
      // message_delta reported only output_tokens: input comes from message_start; no thinking count → reasoning unset.
      expect(completedOf(evs).usage).toMatchObject({ inputTokens: 377, outputTokens: 65 });
      expect(completedOf(evs).usage?.reasoningTokens).toBeUndefined();
    });

    it("tool-input-long-nested-json: the nested input split at arbitrary points parses whole", async () => {
      const [call] = ofKind(await byName("tool-input-long-nested-json.sse"), "toolCallCompleted");
      const input = JSON.parse(call?.argumentsJson ?? "");
      expect(input.website_path).toBe("/home/user/pace-landing");
      expect(input.tasks[0].passes).toBe(false);
      expect(input.tasks[0].description).toContain('\\"What should I do next after this run?\\"'.replaceAll("\\", ""));
    });

    it("thinking-delta-signature-delta: reasoning in block 0 with its signature, text in block 1, STOP", async () => {
      const evs = await byName("thinking-delta-signature-delta.sse");
      expect(new Set(ofKind(evs, "reasoningDelta").map((r) => r.blockIndex))).toEqual(new Set([0]));
      expect(new Set(ofKind(evs, "textDelta").map((r) => r.blockIndex))).toEqual(new Set([1]));
      expect(reasoningOf(evs)).toMatch(/^This is a straightforward question about pedestrian safety/);
      expect(ofKind(evs, "reasoningDelta").at(-1)?.signature).toMatch(/^EvMCCkYICxgCKkCHP2cS/);
      expect(completedOf(evs).finishReason).toBe(FinishReason.STOP);
    });

    it("stop-reason-pause-turn: STOP with the raw pause_turn kept; the last search paused without result still completes", async () => {
      const evs = await byName("stop-reason-pause-turn.sse");
      const done = completedOf(evs);
      expect([done.finishReason, done.rawFinishReason]).toEqual([FinishReason.STOP, "pause_turn"]);
      const calls = ofKind(evs, "toolCallStarted");
      expect(calls.every((c) => c.providerExecuted && c.name === "web_search")).toBe(true);
      expect(ofKind(evs, "toolResult")).toHaveLength(calls.length - 1);
      expect(ofKind(evs, "toolCallCompleted").map((c) => c.callId)).toEqual(calls.map((c) => c.callId));
      expect(done.usage?.reasoningTokens).toBe(261);
    });

    it("refusal-after-thinking and refusal-during-tool-use: CONTENT_FILTER with stop_details kept", async () => {
      for (const file of ["refusal-after-thinking.sse", "refusal-during-tool-use.sse"]) {
        const evs = await byName(file);
        const t = evs.at(-1);
        const done = completedOf(evs);
        expect([done.finishReason, done.rawFinishReason]).toEqual([FinishReason.CONTENT_FILTER, "refusal"]);
        expect(t?.providerMetadata?.["stop_details"]).toMatchObject({ type: "refusal", fallback_credit_token: "tok_synthetic_fixture_a" });
      }
    });

    it("cache-read-usage-max-tokens: LENGTH; cache reads count in the input and as cached", async () => {
      const done = completedOf(await byName("cache-read-usage-max-tokens.sse"));
      expect(done.finishReason).toBe(FinishReason.LENGTH);
      expect(done.usage).toMatchObject({ inputTokens: 3 + 18639, cachedInputTokens: 18639, cacheWriteInputTokens: 0, outputTokens: 1 });
    });

    it("compaction-block-cache-usage: the compaction block is kept in metadata with its delta; usage from message_delta wins", async () => {
      const evs = await byName("compaction-block-cache-usage.sse");
      const kept = evs.find((e) => e.providerMetadata?.["content_block"] !== undefined);
      expect(kept?.event.case).toBe("textDelta");
      expect(kept?.providerMetadata?.["content_block"]).toEqual({ type: "compaction", content: null });
      const deltas = kept?.providerMetadata?.["deltas"];
      expect(Array.isArray(deltas) && deltas[0]).toMatchObject({ type: "compaction_delta" });
      expect(textOf(evs)).toBe("Hello! 👋");
      expect(completedOf(evs).usage).toMatchObject({ inputTokens: 181, cachedInputTokens: 0, outputTokens: 8 });
    });

    it("mcp-tool-use-and-result: provider-executed MCP call with its server_name, and its result", async () => {
      const evs = await byName("mcp-tool-use-and-result.sse");
      const evStarted = evs.find((e) => e.event.case === "toolCallStarted");
      expect(evStarted?.providerMetadata?.["server_name"]).toBe("deepwiki");
      const [r] = ofKind(evs, "toolResult");
      expect([r?.name, r?.isError]).toEqual(["ask_question", false]);
    });

    it("server-tool-code-execution: bash_code_execution result content as JSON", async () => {
      const [r] = ofKind(await byName("server-tool-code-execution.sse"), "toolResult");
      expect(r?.name).toBe("bash_code_execution");
      expect(JSON.parse(r?.result ?? "")).toMatchObject({ type: "bash_code_execution_result", return_code: 0 });
    });

    it("tool-search-then-client-tool-use: a server tool search then a separate client call, TOOL_CALLS", async () => {
      const evs = await byName("tool-search-then-client-tool-use.sse");
      expect(ofKind(evs, "toolCallStarted").map((c) => [c.name, c.index, c.providerExecuted])).toEqual([
        ["tool_search_tool_bm25", 0, true],
        ["get_exchange_rate", 1, false],
      ]);
      expect(completedOf(evs).finishReason).toBe(FinishReason.TOOL_CALLS);
    });
  }

  it("a transcript cut before message_stop fails UNAVAILABLE UPSTREAM_TRUNCATED with the usage so far", async () => {
    for (const f of fixtures) {
      const text = new TextDecoder().decode(f.bytes);
      const cut = new TextEncoder().encode(text.slice(0, text.lastIndexOf("event: message_stop")));
      const t = terminalOf(await decodeChunked(cut, 64));
      expect(t.case, f.name).toBe("failed");
      if (t.case !== "failed") continue;
      expect([t.value.code, t.value.reason, t.value.retryable]).toEqual([toProtoCode(Code.Unavailable), "UPSTREAM_TRUNCATED", true]);
      expect(t.value.usage?.inputTokens).toBeGreaterThan(0);
    }
  });
});
