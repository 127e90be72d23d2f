import { Code } from "@connectrpc/connect";
import { FinishReason, type StreamEvent, toProtoCode } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { safeParseJson } from "../../safe-parse-json.js";
import { mapChunks } from "../../adapt.js";
import { eventsOfKind, kinds, ofKind, reasoningOf, terminalEventOf, terminalOf, textOf } from "../../testing/stream-events.js";
import { openAIResponsesMapper } from "./map-openai-responses-chunk.js";
import { openaiResponsesChunkSchema } from "./openai-responses-chunk.js";

// Hand-written events shaped after https://platform.openai.com/docs/api-reference/responses-streaming.

/** Runs the mapper over events (objects, or raw data text) and returns all events, including `end`. */
function run(...chunks: (object | string)[]): StreamEvent[] {
  return mapChunks(
    openAIResponsesMapper,
    chunks.map((c) => safeParseJson(typeof c === "string" ? c : JSON.stringify(c), openaiResponsesChunkSchema)),
  );
}

const usage = {
  input_tokens: 36,
  input_tokens_details: { cached_tokens: 4 },
  output_tokens: 87,
  output_tokens_details: { reasoning_tokens: 20 },
  total_tokens: 123,
};
const created = { type: "response.created", response: { id: "resp_1", status: "in_progress", output: [], usage: null } };
const completed = (extra: object = {}) => ({
  type: "response.completed",
  response: { id: "resp_1", status: "completed", usage, ...extra },
});
const message = (outputIndex: number, id = `msg_${outputIndex}`, extra: object = {}) => ({
  type: "response.output_item.added",
  output_index: outputIndex,
  item: { id, type: "message", status: "in_progress", role: "assistant", content: [], ...extra },
});
const text = (outputIndex: number, delta: string, extra: object = {}) => ({
  type: "response.output_text.delta",
  item_id: `msg_${outputIndex}`,
  output_index: outputIndex,
  content_index: 0,
  delta,
  ...extra,
});
const fnAdded = (outputIndex: number, callId: string, name: string) => ({
  type: "response.output_item.added",
  output_index: outputIndex,
  item: { id: `fc_${outputIndex}`, type: "function_call", status: "in_progress", call_id: callId, name, arguments: "" },
});
const fnDelta = (outputIndex: number, delta: string) => ({
  type: "response.function_call_arguments.delta",
  item_id: `fc_${outputIndex}`,
  output_index: outputIndex,
  delta,
});
const fnDone = (outputIndex: number, args: string) => ({
  type: "response.function_call_arguments.done",
  item_id: `fc_${outputIndex}`,
  output_index: outputIndex,
  arguments: args,
});

describe("openAIResponsesMapper", () => {
  it("maps text deltas at the item's output index, with usage and STOP", () => {
    const evs = run(
      created,
      { type: "response.in_progress", response: { id: "resp_1" } },
      message(0),
      text(0, "Hi"),
      text(0, " there"),
      completed(),
    );
    expect(kinds(evs)).toEqual(["textDelta", "textDelta", "usage", "completed"]);
    expect(textOf(evs)).toBe("Hi there");
    expect(evs[0]?.event.case === "textDelta" && evs[0].event.value.blockIndex).toBe(0);
    const end = terminalEventOf(evs);
    expect(end.event).toMatchObject({
      case: "completed",
      value: {
        finishReason: FinishReason.STOP,
        rawFinishReason: "completed",
        usage: { inputTokens: 36, outputTokens: 87, reasoningTokens: 20, cachedInputTokens: 4 },
      },
    });
    expect(end.providerMetadata).toEqual({ id: "resp_1" });
  });

  it("keeps logprobs and the message phase as provider metadata", () => {
    const lp = [{ token: "Hi", logprob: -0.1, bytes: [72, 105], top_logprobs: [] }];
    const evs = run(
      message(0, "msg_0", { phase: "commentary" }),
      text(0, "Hi", { logprobs: lp }),
      text(0, "!", { logprobs: [] }),
      completed(),
    );
    expect(evs[0]?.providerMetadata).toEqual({ phase: "commentary", logprobs: lp });
    expect(evs[1]?.providerMetadata).toBeUndefined();
  });

  it("streams reasoning summaries and raw reasoning text, with the encrypted content as signature", () => {
    const rs = { id: "rs_1", type: "reasoning", summary: [] };
    const evs = run(
      { type: "response.output_item.added", output_index: 0, item: rs },
      {
        type: "response.reasoning_summary_part.added",
        item_id: "rs_1",
        output_index: 0,
        summary_index: 0,
        part: { type: "summary_text", text: "" },
      },
      { type: "response.reasoning_summary_text.delta", item_id: "rs_1", output_index: 0, summary_index: 0, delta: "**Plan**" },
      { type: "response.reasoning_summary_text.delta", item_id: "rs_1", output_index: 0, summary_index: 1, delta: "Then" },
      { type: "response.reasoning_summary_text.delta", item_id: "rs_1", output_index: 0, summary_index: 1, delta: " act" },
      { type: "response.reasoning_text.delta", item_id: "rs_1", output_index: 0, content_index: 0, delta: " raw" },
      {
        type: "response.output_item.done",
        output_index: 0,
        item: {
          ...rs,
          encrypted_content: "gAAA-enc",
          summary: [
            { type: "summary_text", text: "**Plan**" },
            { type: "summary_text", text: "Then act" },
          ],
        },
      },
      message(1),
      text(1, "ok"),
      completed(),
    );
    expect(reasoningOf(evs)).toBe("**Plan**Then act raw");
    const reasoning = eventsOfKind(evs, "reasoningDelta");
    expect(reasoning.map((e) => e.providerMetadata)).toEqual([
      { summary_index: 0 },
      { summary_index: 1 },
      undefined,
      undefined,
      { id: "rs_1" },
    ]);
    expect(reasoning.at(-1)?.event.value).toMatchObject({ text: "", signature: "gAAA-enc", blockIndex: 0 });
    expect(evs.find((e) => e.event.case === "textDelta")?.event.value).toMatchObject({ blockIndex: 1 });
  });

  it("emits from .done events what was not streamed, and ignores a conflicting whole text", () => {
    const evs = run(
      message(0),
      text(0, "Hel"),
      { type: "response.output_text.done", item_id: "msg_0", output_index: 0, content_index: 0, text: "Hello" },
      message(1),
      text(1, "abc"),
      { type: "response.output_text.done", item_id: "msg_1", output_index: 1, content_index: 0, text: "xyz" },
      completed(),
    );
    expect(textOf(evs)).toBe("Helloabc");
  });

  it("streams parallel function calls by output index, never merging them, and finishes with TOOL_CALLS", () => {
    const evs = run(
      fnAdded(0, "call_a", "get_weather"),
      fnAdded(1, "call_b", "get_time"),
      fnDelta(1, '{"tz":'),
      fnDelta(0, '{"city":'),
      fnDelta(0, '"Oslo"}'),
      fnDelta(1, '"CET"}'),
      fnDone(1, '{"tz":"CET"}'),
      fnDone(0, '{"city":"Oslo"}'),
      {
        type: "response.output_item.done",
        output_index: 0,
        item: {
          id: "fc_0",
          type: "function_call",
          call_id: "call_a",
          name: "get_weather",
          arguments: '{"city":"Oslo"}',
          status: "completed",
        },
      },
      completed(),
    );
    expect(evs.filter((e) => e.event.case === "toolCallStarted").map((e) => e.event.value)).toMatchObject([
      { callId: "call_a", name: "get_weather", index: 0, providerExecuted: false },
      { callId: "call_b", name: "get_time", index: 1, providerExecuted: false },
    ]);
    expect(ofKind(evs, "toolCallCompleted").map((c) => [c.callId, c.argumentsJson, c.incomplete])).toEqual([
      ["call_b", '{"tz":"CET"}', false],
      ["call_a", '{"city":"Oslo"}', false],
    ]);
    expect(terminalOf(evs)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.TOOL_CALLS, rawFinishReason: "completed" },
    });
  });

  it("takes arguments that only came whole (no deltas), and {} for empty ones", () => {
    const evs = run(fnAdded(0, "c1", "f"), fnDone(0, '{"a":1}'), fnAdded(1, "c2", "g"), fnDone(1, ""), completed());
    const deltas = evs.flatMap((e) => (e.event.case === "toolCallDelta" ? [e.event.value.argumentsDelta] : []));
    expect(deltas).toEqual(['{"a":1}']);
    expect(ofKind(evs, "toolCallCompleted").map((c) => c.argumentsJson)).toEqual(['{"a":1}', "{}"]);
  });

  it("marks a call cut by max_output_tokens as incomplete with its raw arguments, finishing LENGTH", () => {
    const evs = run(fnAdded(0, "c1", "f"), fnDelta(0, '{"city":"Os'), {
      type: "response.incomplete",
      response: { id: "resp_1", status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, usage },
    });
    expect(ofKind(evs, "toolCallCompleted")).toMatchObject([{ callId: "c1", argumentsJson: '{"city":"Os', incomplete: true }]);
    expect(terminalOf(evs)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.LENGTH, rawFinishReason: "max_output_tokens" },
    });
  });

  it("maps incomplete for content_filter to CONTENT_FILTER, keeping the raw reason", () => {
    const evs = run(message(0), text(0, "a"), {
      type: "response.incomplete",
      response: { incomplete_details: { reason: "content_filter" } },
    });
    expect(terminalOf(evs)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.CONTENT_FILTER, rawFinishReason: "content_filter" },
    });
    const end = terminalOf(evs);
    expect(end.case === "completed" && end.value.usage).toBeUndefined();
  });

  it("fails a completed response whose call arguments are not JSON", () => {
    const evs = run(fnAdded(0, "c1", "f"), fnDelta(0, '{"a":'), fnDone(0, '{"a":'), completed());
    expect(kinds(evs)).toEqual(["toolCallStarted", "toolCallDelta", "usage", "failed"]);
    expect(terminalOf(evs)).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_INVALID_TOOL_ARGUMENTS", retryable: true, usage: { inputTokens: 36 } },
    });
  });

  it('streams custom tool input as JSON {"input": …} whose deltas concatenate to the arguments', () => {
    const evs = run(
      {
        type: "response.output_item.added",
        output_index: 0,
        item: { id: "ctc_1", type: "custom_tool_call", call_id: "call_c", name: "code_exec", input: "" },
      },
      { type: "response.custom_tool_call_input.delta", item_id: "ctc_1", output_index: 0, delta: 'print("hi' },
      { type: "response.custom_tool_call_input.delta", item_id: "ctc_1", output_index: 0, delta: ' 😀")\n' },
      { type: "response.custom_tool_call_input.done", item_id: "ctc_1", output_index: 0, input: 'print("hi 😀")\n' },
      completed(),
    );
    const deltas = evs.flatMap((e) => (e.event.case === "toolCallDelta" ? [e.event.value.argumentsDelta] : []));
    const [call] = ofKind(evs, "toolCallCompleted");
    expect(call?.argumentsJson).toBe(deltas.join(""));
    expect(JSON.parse(call!.argumentsJson)).toEqual({ input: 'print("hi 😀")\n' });
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
  });

  it("maps built-in tools to provider-executed calls with their results, finishing STOP", () => {
    const ws = { id: "ws_1", type: "web_search_call", status: "in_progress" };
    const ci = { id: "ci_1", type: "code_interpreter_call", status: "in_progress", code: "", container_id: "cntr_1", outputs: null };
    const mcp = { id: "mcp_1", type: "mcp_call", name: "ask", server_label: "wiki", arguments: "", output: null, error: null };
    const evs = run(
      { type: "response.output_item.added", output_index: 0, item: ws },
      { type: "response.web_search_call.searching", output_index: 0, item_id: "ws_1" },
      { type: "response.output_item.done", output_index: 0, item: { ...ws, status: "completed", action: { type: "search", query: "q" } } },
      { type: "response.output_item.added", output_index: 1, item: ci },
      { type: "response.code_interpreter_call_code.delta", output_index: 1, item_id: "ci_1", delta: "1+1" },
      {
        type: "response.output_item.done",
        output_index: 1,
        item: { ...ci, status: "completed", code: "1+1", outputs: [{ type: "logs", logs: "2" }] },
      },
      { type: "response.output_item.added", output_index: 2, item: mcp },
      { type: "response.mcp_call_arguments.delta", output_index: 2, item_id: "mcp_1", delta: '{"q":' },
      { type: "response.mcp_call_arguments.delta", output_index: 2, item_id: "mcp_1", delta: "1}" },
      {
        type: "response.output_item.done",
        output_index: 2,
        item: { ...mcp, arguments: '{"q":1}', error: { type: "http_error", code: 500, message: "down" } },
      },
      completed(),
    );
    const calls = ofKind(evs, "toolCallCompleted");
    expect(calls.map((c) => [c.callId, c.name, JSON.parse(c.argumentsJson), c.providerExecuted])).toEqual([
      ["ws_1", "web_search", { action: { type: "search", query: "q" } }, true],
      ["ci_1", "code_interpreter", { code: "1+1", container_id: "cntr_1" }, true],
      ["mcp_1", "ask", { q: 1 }, true],
    ]);
    const results = evs.flatMap((e) => (e.event.case === "toolResult" ? [e.event.value] : []));
    expect(results.map((r) => [r.callId, r.name, r.isError])).toEqual([
      ["ws_1", "web_search", false],
      ["ci_1", "code_interpreter", false],
      ["mcp_1", "ask", true],
    ]);
    expect(JSON.parse(results[1]!.result)).toEqual({ status: "completed", outputs: [{ type: "logs", logs: "2" }] });
    expect(evs.find((e) => e.event.case === "toolCallStarted" && e.event.value.callId === "mcp_1")?.providerMetadata).toEqual({
      server_label: "wiki",
    });
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.STOP } });
  });

  it("treats apply_patch as a client tool call (TOOL_CALLS)", () => {
    const item = {
      id: "apc_1",
      type: "apply_patch_call",
      call_id: "call_p",
      status: "in_progress",
      operation: { type: "create_file", path: "a.md", diff: "" },
    };
    const evs = run(
      { type: "response.output_item.added", output_index: 0, item },
      { type: "response.apply_patch_call_operation_diff.delta", output_index: 0, item_id: "apc_1", delta: "+x" },
      {
        type: "response.output_item.done",
        output_index: 0,
        item: { ...item, status: "completed", operation: { ...item.operation, diff: "+x\n" } },
      },
      completed(),
    );
    expect(ofKind(evs, "toolCallCompleted")).toMatchObject([{ callId: "call_p", name: "apply_patch", providerExecuted: false }]);
    expect(JSON.parse(ofKind(evs, "toolCallCompleted")[0]!.argumentsJson)).toEqual({
      operation: { type: "create_file", path: "a.md", diff: "+x\n" },
    });
    expect(evs.some((e) => e.event.case === "toolResult")).toBe(false);
    expect(terminalOf(evs)).toMatchObject({ case: "completed", value: { finishReason: FinishReason.TOOL_CALLS } });
  });

  it("maps a refusal to text and CONTENT_FILTER", () => {
    const evs = run(
      message(0),
      { type: "response.refusal.delta", item_id: "msg_0", output_index: 0, content_index: 0, delta: "I can't" },
      completed(),
    );
    expect(textOf(evs)).toBe("I can't");
    expect(terminalOf(evs)).toMatchObject({
      case: "completed",
      value: { finishReason: FinishReason.CONTENT_FILTER, rawFinishReason: "completed" },
    });
  });

  it("ends at an error event with its mapped code, ignoring the response.failed that follows", () => {
    const evs = run(
      message(0),
      text(0, "a"),
      { type: "error", code: "rate_limit_exceeded", message: "Slow down", param: null, sequence_number: 5 },
      { type: "response.failed", response: { status: "failed", error: { code: "server_error", message: "x" } }, sequence_number: 6 },
    );
    expect(kinds(evs)).toEqual(["textDelta", "failed"]);
    expect(terminalOf(evs)).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.ResourceExhausted), reason: "UPSTREAM_RATE_LIMITED", retryable: true },
    });
  });

  it("maps response.failed alone by response.error, with its usage, without leaking the message", () => {
    const evs = run(message(0), {
      type: "response.failed",
      response: { status: "failed", error: { code: "server_error", message: "node 7 exploded" }, usage },
    });
    const end = terminalOf(evs);
    expect(end).toMatchObject({
      case: "failed",
      value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_ERROR", retryable: true, usage: { outputTokens: 87 } },
    });
    expect(end.case === "failed" && end.value.message).not.toContain("exploded");
  });

  it("ignores duplicate and older sequence numbers", () => {
    const evs = run(
      { ...message(0), sequence_number: 1 },
      { ...text(0, "a"), sequence_number: 2 },
      { ...text(0, "a"), sequence_number: 2 },
      { ...text(0, "old"), sequence_number: 1 },
      { ...text(0, "b"), sequence_number: 3 },
      { ...completed(), sequence_number: 4 },
    );
    expect(textOf(evs)).toBe("ab");
  });

  it("fails with UNAVAILABLE UPSTREAM_TRUNCATED when no terminal event came", () => {
    for (const evs of [run(message(0), text(0, "cut")), run()]) {
      expect(terminalOf(evs)).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Unavailable), reason: "UPSTREAM_TRUNCATED", retryable: true },
      });
    }
  });

  it("turns malformed events into failed INTERNAL UPSTREAM_MALFORMED and stops there", () => {
    for (const bad of ["{not json", "42", JSON.stringify({ no: "type" }), JSON.stringify(text(0, 7 as unknown as string))]) {
      const evs = run(message(0), text(0, "a"), bad, text(0, "b"), completed());
      expect(kinds(evs)).toEqual(["textDelta", "failed"]);
      expect(terminalOf(evs)).toMatchObject({
        case: "failed",
        value: { code: toProtoCode(Code.Internal), reason: "UPSTREAM_MALFORMED" },
      });
    }
  });

  it("ignores unknown event types and anything after the terminal", () => {
    const evs = run(message(0), { type: "response.future_thing", x: 1 }, text(0, "a"), completed(), text(0, "late"), completed());
    expect(kinds(evs)).toEqual(["textDelta", "usage", "completed"]);
  });

  it("finishes announced items from the completed response's output when their done events are missing", () => {
    const evs = run(
      message(0),
      fnAdded(1, "c1", "f"),
      completed({
        output: [
          {
            id: "msg_0",
            type: "message",
            content: [{ type: "output_text", text: "whole", annotations: [{ type: "url_citation", url: "https://x" }] }],
          },
          { id: "fc_1", type: "function_call", call_id: "c1", name: "f", arguments: '{"a":1}', status: "completed" },
        ],
      }),
    );
    expect(textOf(evs)).toBe("whole");
    expect(ofKind(evs, "toolCallCompleted").map((c) => c.argumentsJson)).toEqual(['{"a":1}']);
    expect(terminalEventOf(evs).providerMetadata).toEqual({
      id: "resp_1",
      annotations: [{ item_id: "msg_0", content_index: 0, annotations: [{ type: "url_citation", url: "https://x" }] }],
    });
  });

  it("keys items by item id when output_index is left out, keeping parallel calls apart", () => {
    const added = (id: string, callId: string) => ({
      type: "response.output_item.added",
      item: { id, type: "function_call", call_id: callId, name: "f", arguments: "" },
    });
    const delta = (id: string, d: string) => ({ type: "response.function_call_arguments.delta", item_id: id, delta: d });
    const evs = run(
      message(0),
      text(0, "x"),
      added("fc_a", "ca"),
      added("fc_b", "cb"),
      delta("fc_b", '{"b":'),
      delta("fc_a", '{"a":1}'),
      delta("fc_b", "2}"),
      { type: "response.function_call_arguments.done", item_id: "fc_a", arguments: '{"a":1}' },
      { type: "response.function_call_arguments.done", item_id: "fc_b", arguments: '{"b":2}' },
      completed(),
    );
    expect(ofKind(evs, "toolCallCompleted").map((c) => [c.callId, c.argumentsJson])).toEqual([
      ["ca", '{"a":1}'],
      ["cb", '{"b":2}'],
    ]);
    expect(textOf(evs)).toBe("x");
  });

  it("maps a call announced only by its output_item.done", () => {
    const evs = run(
      {
        type: "response.output_item.done",
        output_index: 0,
        item: { id: "fc_0", type: "function_call", call_id: "c9", name: "g", arguments: '{"x":true}', status: "completed" },
      },
      completed(),
    );
    expect(kinds(evs)).toEqual(["toolCallStarted", "toolCallDelta", "toolCallCompleted", "usage", "completed"]);
    expect(ofKind(evs, "toolCallCompleted")).toMatchObject([{ callId: "c9", name: "g", argumentsJson: '{"x":true}' }]);
  });
});
