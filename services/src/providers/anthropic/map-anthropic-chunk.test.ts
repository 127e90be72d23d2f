import { FinishReason, type StreamEvent, toProtoCode } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import {
  blockDelta,
  blockStart,
  blockStop,
  decodeText,
  messageDelta,
  messageStart,
  messageStop,
  ping,
  sse,
} from "../../testing/anthropic-sse.js";
import { completedOf, failedOf, ofKind, reasoningOf, textOf } from "../../testing/stream-events.js";
import { mapChunks, mapStream } from "../../adapt.js";
import { toAnthropicSseEvent } from "./decode-anthropic-stream.js";
import { anthropicChunkMapper } from "./map-anthropic-chunk.js";

/** Runs the mapper over events given as objects (or raw data text), parsed as the decoder parses them, then ends the stream. */
function run(...events: (object | string)[]): StreamEvent[] {
  return mapChunks(
    anthropicChunkMapper,
    events.map((e) =>
      typeof e === "string"
        ? toAnthropicSseEvent(undefined, e)
        : toAnthropicSseEvent(String((e as { type?: unknown }).type), JSON.stringify(e)),
    ),
  );
}

// The basic streaming request example of https://docs.anthropic.com/en/docs/build-with-claude/streaming#basic-streaming-request
const basic = [
  messageStart(),
  blockStart(0, { type: "text", text: "" }),
  ping,
  blockDelta(0, { type: "text_delta", text: "Hello" }),
  blockDelta(0, { type: "text_delta", text: "!" }),
  blockStop(0),
  messageDelta("end_turn"),
  messageStop,
];

describe("anthropicChunkMapper", () => {
  it("maps the documentation's basic stream: text, ping ignored, STOP with usage", () => {
    const evs = run(...basic);
    expect(evs.map((e) => e.event.case)).toEqual(["usage", "textDelta", "textDelta", "usage", "completed"]);
    expect(textOf(evs)).toBe("Hello!");
    const done = completedOf(evs);
    expect([done.finishReason, done.rawFinishReason]).toEqual([FinishReason.STOP, "end_turn"]);
    expect(done.usage).toEqual(expect.objectContaining({ inputTokens: 25, outputTokens: 15 }));
    // Not reported: unset, never 0.
    expect(done.usage?.cachedInputTokens).toBeUndefined();
    expect(done.usage?.reasoningTokens).toBeUndefined();
    // The message's id and model ride on the first usage event.
    expect(evs[0]?.providerMetadata).toEqual({ id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", model: "claude-opus-4-20250514" });
  });

  it("decodes the same stream from SSE text, with the event names", async () => {
    expect(textOf(await decodeText(sse(...basic)))).toBe("Hello!");
  });

  it("maps thinking and its signature to reasoning deltas of the block's index", () => {
    // https://docs.anthropic.com/en/docs/build-with-claude/streaming#streaming-request-with-extended-thinking
    const evs = run(
      messageStart(),
      blockStart(0, { type: "thinking", thinking: "" }),
      blockDelta(0, { type: "thinking_delta", thinking: "Let me solve this step by step:\n\n1. First break down 27 * 453" }),
      blockDelta(0, { type: "thinking_delta", thinking: "\n2. 453 = 400 + 50 + 3" }),
      blockDelta(0, { type: "signature_delta", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..." }),
      blockStop(0),
      blockStart(1, { type: "text", text: "" }),
      blockDelta(1, { type: "text_delta", text: "27 * 453 = 12,231" }),
      blockStop(1),
      messageDelta("end_turn"),
      messageStop,
    );
    expect(reasoningOf(evs)).toBe("Let me solve this step by step:\n\n1. First break down 27 * 453\n2. 453 = 400 + 50 + 3");
    const r = ofKind(evs, "reasoningDelta");
    expect(r.every((x) => x.blockIndex === 0 && !x.redacted)).toBe(true);
    expect(r.at(-1)).toMatchObject({ text: "", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..." });
    expect(ofKind(evs, "textDelta")).toEqual([expect.objectContaining({ text: "27 * 453 = 12,231", blockIndex: 1 })]);
  });

  it("maps redacted thinking to a redacted reasoning delta carrying its data as the signature", () => {
    const evs = run(
      messageStart(),
      blockStart(0, { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4a" }),
      blockStop(0),
      messageDelta("end_turn"),
      messageStop,
    );
    expect(ofKind(evs, "reasoningDelta")).toEqual([
      expect.objectContaining({ text: "", signature: "EmwKAhgBEgy3va3pzix/LafPsn4a", redacted: true, blockIndex: 0 }),
    ]);
  });

  it("streams a tool_use input: the empty first fragment gives no delta, the call completes with parsed JSON, TOOL_CALLS", () => {
    // https://docs.anthropic.com/en/docs/build-with-claude/streaming#streaming-request-with-tool-use
    const evs = run(
      messageStart(),
      blockStart(0, { type: "text", text: "" }),
      blockDelta(0, { type: "text_delta", text: "Okay, let's check the weather for San Francisco, CA:" }),
      blockStop(0),
      blockStart(1, { type: "tool_use", id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", input: {} }),
      blockDelta(1, { type: "input_json_delta", partial_json: "" }),
      blockDelta(1, { type: "input_json_delta", partial_json: '{"location":' }),
      blockDelta(1, { type: "input_json_delta", partial_json: ' "San Francisc' }),
      blockDelta(1, { type: "input_json_delta", partial_json: 'o, CA", "unit": "fahrenheit"}' }),
      blockStop(1),
      messageDelta("tool_use", { output_tokens: 89 }),
      messageStop,
    );
    expect(ofKind(evs, "toolCallStarted")).toEqual([
      expect.objectContaining({ callId: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", name: "get_weather", index: 0, providerExecuted: false }),
    ]);
    expect(ofKind(evs, "toolCallDelta").map((d) => d.argumentsDelta)).toEqual([
      '{"location":',
      ' "San Francisc',
      'o, CA", "unit": "fahrenheit"}',
    ]);
    const [done] = ofKind(evs, "toolCallCompleted");
    expect(JSON.parse(done?.argumentsJson ?? "")).toEqual({ location: "San Francisco, CA", unit: "fahrenheit" });
    expect(done?.incomplete).toBe(false);
    // The call completes at its block's stop, before the stop reason arrives.
    expect(evs.findIndex((e) => e.event.case === "toolCallCompleted")).toBeLessThan(
      evs.findIndex((e) => e.event.case === "usage" && e !== evs[0]),
    );
    expect(completedOf(evs).finishReason).toBe(FinishReason.TOOL_CALLS);
  });

  it("keeps parallel tool_use blocks apart by index, even when their deltas interleave", () => {
    const evs = run(
      messageStart(),
      blockStart(0, { type: "tool_use", id: "toolu_a", name: "get_weather", input: {} }),
      blockStart(1, { type: "tool_use", id: "toolu_b", name: "get_time", input: {} }),
      blockDelta(1, { type: "input_json_delta", partial_json: '{"tz": "Europe/' }),
      blockDelta(0, { type: "input_json_delta", partial_json: '{"location": ' }),
      blockDelta(1, { type: "input_json_delta", partial_json: 'Paris"}' }),
      blockDelta(0, { type: "input_json_delta", partial_json: '"Paris"}' }),
      blockStop(1),
      blockStop(0),
      messageDelta("tool_use"),
      messageStop,
    );
    const done = ofKind(evs, "toolCallCompleted");
    expect(done.map((c) => [c.callId, JSON.parse(c.argumentsJson)])).toEqual([
      ["toolu_b", { tz: "Europe/Paris" }],
      ["toolu_a", { location: "Paris" }],
    ]);
    expect(ofKind(evs, "toolCallStarted").map((c) => c.index)).toEqual([0, 1]);
  });

  it("completes a tool call without input as {}", () => {
    const evs = run(
      messageStart(),
      blockStart(0, { type: "tool_use", id: "toolu_x", name: "now", input: {} }),
      blockDelta(0, { type: "input_json_delta", partial_json: "" }),
      blockStop(0),
      messageDelta("tool_use"),
      messageStop,
    );
    expect(ofKind(evs, "toolCallCompleted")).toEqual([expect.objectContaining({ argumentsJson: "{}", incomplete: false })]);
  });

  it("passes on an input sent whole at the block's start as its one fragment", () => {
    const evs = run(
      messageStart(),
      blockStart(0, { type: "tool_use", id: "toolu_x", name: "f", input: { a: 1 } }),
      blockStop(0),
      messageDelta("tool_use"),
      messageStop,
    );
    expect(ofKind(evs, "toolCallDelta").map((d) => d.argumentsDelta)).toEqual(['{"a":1}']);
    expect(ofKind(evs, "toolCallCompleted")).toEqual([expect.objectContaining({ argumentsJson: '{"a":1}' })]);
  });

  it("marks a tool input cut by max_tokens incomplete, with the raw partial text, and ends with LENGTH", () => {
    const evs = run(
      messageStart(),
      blockStart(0, { type: "tool_use", id: "toolu_cut", name: "write_file", input: {} }),
      blockDelta(0, { type: "input_json_delta", partial_json: '{"path": "a.txt", "content": "lorem ip' }),
      blockStop(0),
      messageDelta("max_tokens", { output_tokens: 1024 }),
      messageStop,
    );
    expect(ofKind(evs, "toolCallCompleted")).toEqual([
      expect.objectContaining({ callId: "toolu_cut", argumentsJson: '{"path": "a.txt", "content": "lorem ip', incomplete: true }),
    ]);
    const done = completedOf(evs);
    expect([done.finishReason, done.rawFinishReason]).toEqual([FinishReason.LENGTH, "max_tokens"]);
  });

  it("marks an empty tool input at max_tokens incomplete, and one cut by model_context_window_exceeded too", () => {
    const empty = run(
      messageStart(),
      blockStart(0, { type: "tool_use", id: "t", name: "f", input: {} }),
      blockStop(0),
      messageDelta("max_tokens"),
      messageStop,
    );
    expect(ofKind(empty, "toolCallCompleted")).toEqual([expect.objectContaining({ argumentsJson: "", incomplete: true })]);
    const ctx = run(
      messageStart(),
      blockStart(0, { type: "tool_use", id: "t", name: "f", input: {} }),
      blockDelta(0, { type: "input_json_delta", partial_json: '{"q": [1, 2' }),
      messageDelta("model_context_window_exceeded"),
      messageStop,
    );
    expect(ofKind(ctx, "toolCallCompleted")).toEqual([expect.objectContaining({ argumentsJson: '{"q": [1, 2', incomplete: true })]);
    expect(completedOf(ctx).finishReason).toBe(FinishReason.LENGTH);
  });

  it("keeps a complete input complete at max_tokens", () => {
    const evs = run(
      messageStart(),
      blockStart(0, { type: "tool_use", id: "t", name: "f", input: {} }),
      blockDelta(0, { type: "input_json_delta", partial_json: '{"q": 1}' }),
      messageDelta("max_tokens"),
      messageStop,
    );
    expect(ofKind(evs, "toolCallCompleted")).toEqual([expect.objectContaining({ argumentsJson: '{"q": 1}', incomplete: false })]);
  });

  it("fails UPSTREAM_INVALID_TOOL_ARGUMENTS when an input does not parse and the model was not cut", () => {
    const evs = run(
      messageStart(),
      blockStart(0, { type: "tool_use", id: "t", name: "f", input: {} }),
      blockDelta(0, { type: "input_json_delta", partial_json: '{"q": ' }),
      blockStop(0),
      messageDelta("tool_use", { output_tokens: 7 }),
      messageStop,
    );
    const f = failedOf(evs);
    expect([f.code, f.reason, f.retryable]).toEqual([toProtoCode(Code.Internal), "UPSTREAM_INVALID_TOOL_ARGUMENTS", true]);
    expect(ofKind(evs, "toolCallCompleted")).toHaveLength(0);
    expect(f.usage?.inputTokens).toBe(25);
  });

  it("maps server tools to provider-executed calls and their results, errors flagged", () => {
    // https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/web-search-tool
    const evs = run(
      messageStart(),
      blockStart(0, { type: "server_tool_use", id: "srvtoolu_01", name: "web_search", input: {} }),
      blockDelta(0, { type: "input_json_delta", partial_json: '{"query": "weather"}' }),
      blockStop(0),
      blockStart(1, {
        type: "web_search_tool_result",
        tool_use_id: "srvtoolu_01",
        content: { type: "web_search_tool_result_error", error_code: "max_uses_exceeded" },
      }),
      blockStop(1),
      blockStart(2, { type: "mcp_tool_use", id: "mcptoolu_01", name: "echo", server_name: "example", input: {} }),
      blockStop(2),
      blockStart(3, { type: "mcp_tool_result", tool_use_id: "mcptoolu_01", is_error: false, content: [{ type: "text", text: "ok" }] }),
      blockStop(3),
      messageDelta("end_turn"),
      messageStop,
    );
    expect(ofKind(evs, "toolCallCompleted").map((c) => [c.name, c.providerExecuted, c.argumentsJson])).toEqual([
      ["web_search", true, '{"query": "weather"}'],
      ["echo", true, "{}"],
    ]);
    expect(ofKind(evs, "toolResult").map((r) => [r.callId, r.name, r.isError, JSON.parse(r.result)])).toEqual([
      ["srvtoolu_01", "web_search", true, { type: "web_search_tool_result_error", error_code: "max_uses_exceeded" }],
      ["mcptoolu_01", "echo", false, [{ type: "text", text: "ok" }]],
    ]);
    expect(completedOf(evs).finishReason).toBe(FinishReason.STOP);
  });

  it("attaches citations to the block's next text delta, or to an empty one at its stop", () => {
    const citation = {
      type: "char_location",
      cited_text: "The grass is green.",
      document_index: 0,
      start_char_index: 0,
      end_char_index: 20,
    };
    const evs = run(
      messageStart(),
      blockStart(0, { type: "text", text: "", citations: [] }),
      blockDelta(0, { type: "citations_delta", citation }),
      blockDelta(0, { type: "text_delta", text: "the grass is green" }),
      blockDelta(0, { type: "citations_delta", citation }),
      blockStop(0),
      messageDelta("end_turn"),
      messageStop,
    );
    const texts = evs.filter((e) => e.event.case === "textDelta");
    expect(texts.map((e) => [e.event.value && "text" in e.event.value ? e.event.value.text : "?", e.providerMetadata])).toEqual([
      ["the grass is green", { citations: [citation] }],
      ["", { citations: [citation] }],
    ]);
  });

  it("keeps an unknown block type and unknown delta types in metadata, never crashing", () => {
    const evs = run(
      messageStart(),
      blockStart(0, { type: "compaction", content: null }),
      blockDelta(0, { type: "compaction_delta", content: "summary" }),
      blockStop(0),
      blockStart(1, { type: "text", text: "" }),
      blockDelta(1, { type: "future_delta", value: 1 }),
      blockStop(1),
      { type: "future_event", whatever: true },
      messageDelta("end_turn"),
      messageStop,
    );
    const meta = evs.filter((e) => e.providerMetadata !== undefined && e.event.case === "textDelta").map((e) => e.providerMetadata);
    expect(meta).toEqual([
      { content_block: { type: "compaction", content: null }, deltas: [{ type: "compaction_delta", content: "summary" }] },
      { delta: { type: "future_delta", value: 1 } },
    ]);
    expect(completedOf(evs).finishReason).toBe(FinishReason.STOP);
  });

  it("maps pause_turn to STOP, refusal to CONTENT_FILTER with stop_details, keeping the raw reasons", () => {
    const paused = completedOf(run(messageStart(), messageDelta("pause_turn"), messageStop));
    expect([paused.finishReason, paused.rawFinishReason]).toEqual([FinishReason.STOP, "pause_turn"]);
    const evs = run(
      messageStart(),
      messageDelta("refusal", { output_tokens: 3 }, { stop_details: { type: "refusal", category: "cyber" } }),
      messageStop,
    );
    expect([completedOf(evs).finishReason, completedOf(evs).rawFinishReason]).toEqual([FinishReason.CONTENT_FILTER, "refusal"]);
    expect(evs.at(-1)?.providerMetadata).toEqual({ stop_details: { type: "refusal", category: "cyber" } });
  });

  it("keeps the stop_sequence that ended the answer", () => {
    const evs = run(messageStart(), messageDelta("stop_sequence", { output_tokens: 2 }, { stop_sequence: "###" }), messageStop);
    expect(evs.at(-1)?.providerMetadata).toEqual({ stop_sequence: "###" });
    expect(completedOf(evs).finishReason).toBe(FinishReason.STOP);
  });

  it("ends an error event (overloaded) with failed UNAVAILABLE, retryable, usage so far, nothing after", () => {
    // https://docs.anthropic.com/en/docs/build-with-claude/streaming#error-events
    const evs = run(
      messageStart(),
      blockStart(0, { type: "text", text: "" }),
      blockDelta(0, { type: "text_delta", text: "Hel" }),
      { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
      blockDelta(0, { type: "text_delta", text: "lo" }),
      messageStop,
    );
    const f = failedOf(evs);
    expect([f.code, f.reason, f.retryable]).toEqual([toProtoCode(Code.Unavailable), "UPSTREAM_OVERLOADED", true]);
    expect(f.usage?.inputTokens).toBe(25);
    expect(textOf(evs)).toBe("Hel");
  });

  it("fails UPSTREAM_MALFORMED on data that is not JSON, not an object, or out of protocol", () => {
    const cases: (object | string)[][] = [
      [messageStart(), "{not json"],
      [messageStart(), "[1, 2]"],
      [messageStart(), { no_type: true }],
      [messageStart(), blockDelta(3, { type: "text_delta", text: "x" })],
      [messageStart(), blockStart(0, { type: "text", text: "" }), blockStart(0, { type: "text", text: "" })],
      [messageStart(), blockStart(0, { type: "text", text: "" }), blockDelta(0, { type: "input_json_delta", partial_json: "{" })],
      [messageStart(), { type: "content_block_start", index: -1, content_block: { type: "text" } }],
      [messageStart(), messageStart()],
    ];
    for (const c of cases) {
      const f = failedOf(run(...c));
      expect([f.code, f.reason], JSON.stringify(c.at(-1))).toEqual([toProtoCode(Code.Internal), "UPSTREAM_MALFORMED"]);
      expect(f.message).not.toContain("not json");
    }
  });

  it("fails UPSTREAM_TRUNCATED (retryable) when the stream ends without message_stop, even after message_delta", () => {
    const f = failedOf(run(...basic.slice(0, -1)));
    expect([f.code, f.reason, f.retryable]).toEqual([toProtoCode(Code.Unavailable), "UPSTREAM_TRUNCATED", true]);
    expect(f.usage).toEqual(expect.objectContaining({ inputTokens: 25, outputTokens: 15 }));
    expect(failedOf(run()).usage).toBeUndefined();
  });

  it("ignores everything after the terminal event", () => {
    const s = mapStream(anthropicChunkMapper);
    for (const e of basic) s.push(toAnthropicSseEvent(undefined, JSON.stringify(e)));
    expect(s.push(toAnthropicSseEvent(undefined, JSON.stringify(blockDelta(0, { type: "text_delta", text: "x" }))))).toEqual([]);
    expect(s.end()).toEqual([]);
  });
});
