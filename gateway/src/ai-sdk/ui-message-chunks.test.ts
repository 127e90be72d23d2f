import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { ev, FinishReason, ResumeOutcome, type StreamEvent, StreamEventSchema } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { uiFinishReason, uiMessageChunkEncoder } from "./ui-message-chunks.js";

/** The SSE messages of every event's frame, in order: parsed chunk JSON, or "[DONE]". */
function chunksOf(events: StreamEvent[], messageId = "msg-S"): unknown[] {
  const enc = uiMessageChunkEncoder({ messageId });
  return events.flatMap((e) => messages(enc.event(e) as string));
}

function messages(frames: string): unknown[] {
  return frames
    .split("\n\n")
    .filter((m) => m !== "")
    .map((m) => {
      expect(m.startsWith("data: ")).toBe(true);
      const data = m.slice("data: ".length);
      return data === "[DONE]" ? data : JSON.parse(data);
    });
}

describe("uiMessageChunkEncoder: airwave.v1 events as AI SDK UI message chunks", () => {
  it("writes start, reasoning and text parts with ids, finish-step, finish and [DONE]", () => {
    const chunks = chunksOf([
      ev.started("default", "simulator"),
      ev.reasoningDelta("Hm"),
      ev.reasoningDelta("m."),
      ev.textDelta("Hello"),
      ev.textDelta(""),
      ev.textDelta(" world"),
      ev.usage({ inputTokens: 3, outputTokens: 2 }),
      ev.completed(FinishReason.STOP, { inputTokens: 3, outputTokens: 2 }),
    ]);
    expect(chunks).toEqual([
      { type: "start", messageId: "msg-S" },
      { type: "start-step" },
      { type: "reasoning-start", id: "reasoning-0" },
      { type: "reasoning-delta", id: "reasoning-0", delta: "Hm" },
      { type: "reasoning-delta", id: "reasoning-0", delta: "m." },
      { type: "reasoning-end", id: "reasoning-0" },
      { type: "text-start", id: "text-1" },
      { type: "text-delta", id: "text-1", delta: "Hello" },
      { type: "text-delta", id: "text-1", delta: " world" },
      { type: "text-end", id: "text-1" },
      { type: "finish-step" },
      { type: "finish", finishReason: "stop" },
      "[DONE]",
    ]);
  });

  it("writes a client tool call as tool-input-start, -delta and -available with the parsed input, then finish tool-calls", () => {
    const chunks = chunksOf([
      ev.started("default", "simulator"),
      ev.textDelta("Let me look."),
      ev.toolCallStarted("call_1", "get_weather", 0),
      ev.toolCallDelta("call_1", '{"ci'),
      ev.toolCallDelta("call_1", 'ty":"Oslo"}'),
      ev.toolCallCompleted("call_1", "get_weather", '{"city":"Oslo"}'),
      ev.completed(FinishReason.TOOL_CALLS),
    ]);
    expect(chunks.slice(2)).toEqual([
      { type: "text-start", id: "text-0" },
      { type: "text-delta", id: "text-0", delta: "Let me look." },
      { type: "text-end", id: "text-0" },
      { type: "tool-input-start", toolCallId: "call_1", toolName: "get_weather" },
      { type: "tool-input-delta", toolCallId: "call_1", inputTextDelta: '{"ci' },
      { type: "tool-input-delta", toolCallId: "call_1", inputTextDelta: 'ty":"Oslo"}' },
      { type: "tool-input-available", toolCallId: "call_1", toolName: "get_weather", input: { city: "Oslo" } },
      { type: "finish-step" },
      { type: "finish", finishReason: "tool-calls" },
      "[DONE]",
    ]);
  });

  it("writes a tool the agent ran itself with providerExecuted and its output (JSON parsed, text kept, errors as tool-output-error)", () => {
    const chunks = chunksOf([
      ev.started("agent", "simulator"),
      ev.toolCallStarted("c1", "search", 0, { providerExecuted: true }),
      ev.toolCallCompleted("c1", "search", '{"q":"tides"}', { providerExecuted: true }),
      ev.toolResult("c1", '{"results":[1]}', { name: "search" }),
      ev.toolCallStarted("c2", "search", 1, { providerExecuted: true }),
      ev.toolCallCompleted("c2", "search", "{}", { providerExecuted: true }),
      ev.toolResult("c2", "no index", { isError: true }),
      ev.toolResult("c3", "plain text", { name: "lookup" }),
    ]);
    expect(chunks.slice(2)).toEqual([
      { type: "tool-input-start", toolCallId: "c1", toolName: "search", providerExecuted: true },
      { type: "tool-input-available", toolCallId: "c1", toolName: "search", providerExecuted: true, input: { q: "tides" } },
      { type: "tool-output-available", toolCallId: "c1", output: { results: [1] }, providerExecuted: true },
      { type: "tool-input-start", toolCallId: "c2", toolName: "search", providerExecuted: true },
      { type: "tool-input-available", toolCallId: "c2", toolName: "search", providerExecuted: true, input: {} },
      { type: "tool-output-error", toolCallId: "c2", errorText: "no index", providerExecuted: true },
      // A result whose call is not in the stream gets a tool part to land in.
      { type: "tool-input-available", toolCallId: "c3", toolName: "lookup", input: null, providerExecuted: true },
      { type: "tool-output-available", toolCallId: "c3", output: "plain text", providerExecuted: true },
    ]);
  });

  it("writes a call the provider cut as tool-input-error with the raw text", () => {
    const chunks = chunksOf([
      ev.started("default", "simulator"),
      ev.toolCallStarted("c", "f", 0),
      ev.toolCallCompleted("c", "f", '{"a":', { incomplete: true }),
    ]);
    expect(chunks.at(-1)).toEqual({
      type: "tool-input-error",
      toolCallId: "c",
      toolName: "f",
      input: '{"a":',
      errorText: "the tool call was cut before its arguments were complete",
    });
  });

  it("keeps one open part per agent and ends it when that agent goes on with another kind or block", () => {
    const chunks = chunksOf([
      ev.started("agent", "simulator"),
      ev.byAgent("a", ev.textDelta("A1")),
      ev.byAgent("b", ev.textDelta("B1")),
      ev.byAgent("a", ev.textDelta("A2")),
      ev.byAgent("a", ev.textDelta("A3", 1)),
      ev.completed(FinishReason.STOP),
    ]);
    expect(chunks.slice(2, -3)).toEqual([
      { type: "text-start", id: "text-0" },
      { type: "text-delta", id: "text-0", delta: "A1" },
      { type: "text-start", id: "text-1" },
      { type: "text-delta", id: "text-1", delta: "B1" },
      { type: "text-delta", id: "text-0", delta: "A2" },
      { type: "text-end", id: "text-0" },
      { type: "text-start", id: "text-2" },
      { type: "text-delta", id: "text-2", delta: "A3" },
      { type: "text-end", id: "text-1" },
      { type: "text-end", id: "text-2" },
    ]);
  });

  it("writes a failed stream as an error chunk with the Connect JSON error, then finish error and [DONE]", () => {
    const chunks = chunksOf([
      ev.started("default", "simulator"),
      ev.textDelta("Hel"),
      ev.failed(Code.ResourceExhausted, "quota exceeded", "UPSTREAM_QUOTA_EXHAUSTED"),
    ]);
    expect(chunks.slice(-5)).toEqual([
      { type: "text-end", id: "text-0" },
      { type: "error", errorText: '{"code":"resource_exhausted","message":"quota exceeded"}' },
      { type: "finish-step" },
      { type: "finish", finishReason: "error" },
      "[DONE]",
    ]);
  });

  it("writes a cancelled stream as abort, not finish", () => {
    const chunks = chunksOf([ev.started("default", "simulator"), ev.textDelta("Hi"), ev.completed(FinishReason.CANCELLED)]);
    expect(chunks.slice(-3)).toEqual([{ type: "finish-step" }, { type: "abort", reason: "cancelled" }, "[DONE]"]);
  });

  it("opens with start and opens parts at their first delta when the log's first events were trimmed", () => {
    const resumed = create(StreamEventSchema, {
      event: { case: "resumed", value: { outcome: ResumeOutcome.TRIMMED, cursor: "E:7" } },
    });
    const chunks = chunksOf([resumed, ev.toolCallDelta("lost", '"x"}'), ev.textDelta("tail")]);
    expect(chunks).toEqual([
      { type: "start", messageId: "msg-S" },
      { type: "start-step" },
      { type: "text-start", id: "text-0" },
      { type: "text-delta", id: "text-0", delta: "tail" },
    ]);
  });

  it("writes nothing for status, inputs, usage, redacted reasoning and choices other than 0", () => {
    const other = ev.textDelta("second choice");
    other.choiceIndex = 1;
    const enc = uiMessageChunkEncoder({ messageId: "m" });
    enc.event(ev.started("default", "simulator"));
    for (const e of [ev.status("thinking"), ev.usage({ outputTokens: 1 }), ev.reasoningDelta("opaque", 0, "sig", true), other]) {
      expect(enc.event(e)).toBe("");
    }
  });

  it("writes a heartbeat as an SSE comment and a watch error as one error chunk without [DONE]", () => {
    const enc = uiMessageChunkEncoder({ messageId: "m" });
    expect(enc.heartbeat()).toMatch(/^: heartbeat\n/);
    expect(messages(enc.error(new ConnectError("fell behind; resume", Code.Aborted)) as string)).toEqual([
      { type: "error", errorText: '{"code":"aborted","message":"fell behind; resume"}' },
    ]);
    expect(messages(enc.error(new ConnectError("secret detail", Code.Internal)) as string)).toEqual([
      { type: "error", errorText: '{"code":"internal","message":"internal error"}' },
    ]);
    expect(enc.contentType).toBe("text/event-stream; charset=utf-8");
  });

  it("maps finish reasons", () => {
    expect(uiFinishReason(FinishReason.LENGTH)).toBe("length");
    expect(uiFinishReason(FinishReason.CONTENT_FILTER)).toBe("content-filter");
    expect(uiFinishReason(FinishReason.UNSPECIFIED)).toBe("other");
  });
});
