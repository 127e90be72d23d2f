import { Code, ConnectError } from "@connectrpc/connect";
import { ev, FinishReason, type StreamEvent, withExtras } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { ChatCompletionFold, chatCompletionChunkEncoder, finishReasonJson, streamIdOfCompletion } from "./chat-completion-chunks.js";

const header = { id: "chatcmpl-S", created: 1_800_000_000, model: "simulator" };

/** Positions events as the log does: stream S, epoch E, seq from 1. */
function logged(...events: StreamEvent[]): StreamEvent[] {
  return events.map((e, i) => Object.assign(e, { streamId: "S", epoch: "E", seq: i + 1 }));
}

/** SSE messages of the frames: [id, parsed data (or "[DONE]")]. */
function messages(frames: string): [string | undefined, unknown][] {
  return frames
    .split("\n\n")
    .filter((m) => m !== "")
    .map((m) => {
      const id = /^id: (.*)$/m.exec(m)?.[1];
      const data = /^data: (.*)$/m.exec(m)?.[1] ?? "";
      return [id, data === "[DONE]" ? data : JSON.parse(data)];
    });
}

const weatherCall = () => [
  ev.toolCallStarted("call_1", "get_weather", 0),
  ev.toolCallDelta("call_1", '{"ci'),
  ev.toolCallDelta("call_1", 'ty":"Oslo"}'),
  ev.toolCallCompleted("call_1", "get_weather", '{"city":"Oslo"}'),
];

describe("chatCompletionChunkEncoder: airwave.v1 events as Chat Completions chunks", () => {
  it("writes role, content and reasoning deltas, the finish chunk and [DONE], each message with its cursor id", () => {
    const enc = chatCompletionChunkEncoder({ ...header, includeUsage: false });
    const events = logged(
      ev.started("default", "simulator"),
      ev.reasoningDelta("Hm."),
      ev.textDelta("Hello"),
      ev.textDelta(""),
      ev.usage({ inputTokens: 3, outputTokens: 2 }),
      ev.completed(FinishReason.STOP, { inputTokens: 3, outputTokens: 2 }),
    );
    const out = events.map((e) => enc.event(e)).join("");
    const base = { id: "chatcmpl-S", object: "chat.completion.chunk", created: 1_800_000_000, model: "simulator" };
    const choice = (delta: object, finish: string | null = null) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    });
    expect(messages(out)).toEqual([
      ["E:1", choice({ role: "assistant", content: "" })],
      ["E:2", choice({ reasoning_content: "Hm." })],
      ["E:3", choice({ content: "Hello" })],
      ["E:5", choice({}, "stop")],
      ["E:6", "[DONE]"],
    ]);
    expect(enc.event(events[3]!)).toBe(""); // an empty delta writes nothing
    expect(enc.contentType).toMatch(/^text\/event-stream/);
    expect(enc.heartbeat()).toMatch(/^: heartbeat\n/); // a comment: invisible to OpenAI clients
  });

  it("with include_usage: usage null on every chunk, then a usage chunk with empty choices before [DONE]", () => {
    const enc = chatCompletionChunkEncoder({ ...header, includeUsage: true });
    const out = logged(
      ev.started("default", "simulator"),
      ev.textDelta("Hi"),
      ev.completed(FinishReason.LENGTH, { inputTokens: 5, outputTokens: 1, reasoningTokens: 0, cachedInputTokens: 2 }),
    )
      .map((e) => enc.event(e))
      .join("");
    const m = messages(out);
    expect(m.slice(0, 3).every(([, c]) => (c as { usage: unknown }).usage === null)).toBe(true);
    expect(m[2]).toEqual(["E:2", expect.objectContaining({ choices: [expect.objectContaining({ finish_reason: "length" })] })]);
    expect(m[3]).toEqual([
      "E:2",
      expect.objectContaining({
        choices: [],
        usage: {
          prompt_tokens: 5,
          completion_tokens: 1,
          total_tokens: 6,
          prompt_tokens_details: { cached_tokens: 2 },
          completion_tokens_details: { reasoning_tokens: 0 },
        },
      }),
    ]);
    expect(m[4]).toEqual(["E:3", "[DONE]"]);
  });

  it("streams tool calls by index: id, type and name first, then argument fragments; finish tool_calls", () => {
    const enc = chatCompletionChunkEncoder({ ...header, includeUsage: false });
    const out = logged(
      ev.started("default", "simulator"),
      ...weatherCall(),
      ev.toolCallStarted("call_2", "get_time", 1),
      ev.toolCallCompleted("call_2", "get_time", "{}"), // no deltas: the completion sends the arguments
      ev.completed(FinishReason.TOOL_CALLS),
    )
      .map((e) => enc.event(e))
      .join("");
    const calls = messages(out)
      .map(([, c]) => (c as { choices?: { delta: { tool_calls?: unknown[] } }[] }).choices?.[0]?.delta.tool_calls)
      .filter((t) => t !== undefined);
    expect(calls).toEqual([
      [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }],
      [{ index: 0, function: { arguments: '{"ci' } }],
      [{ index: 0, function: { arguments: 'ty":"Oslo"}' } }],
      [{ index: 1, id: "call_2", type: "function", function: { name: "get_time", arguments: "" } }],
      [{ index: 1, function: { arguments: "{}" } }],
    ]);
    expect(out).toContain('"finish_reason":"tool_calls"');
  });

  it("hides the calls the provider runs itself, and agents' status and input events", () => {
    const enc = chatCompletionChunkEncoder({ ...header, includeUsage: false });
    const hidden = [
      ev.toolCallStarted("srv", "web_search", 0, { providerExecuted: true }),
      ev.toolCallDelta("srv", "{}"),
      ev.toolCallCompleted("srv", "web_search", "{}", { providerExecuted: true }),
      ev.toolResult("srv", "[]"),
      ev.status("searching"),
      ev.heartbeat(),
    ];
    const events = logged(ev.started("default", "simulator"), ...hidden, ev.completed(FinishReason.TOOL_CALLS));
    const out = events.map((e) => enc.event(e));
    expect(out.slice(1, -1)).toEqual(hidden.map(() => ""));
    expect(out.at(-1)).toContain('"finish_reason":"stop"'); // no call the client can run
  });

  it("resumes after a cursor: the same bytes as the uncut stream from there on", () => {
    const events = () =>
      logged(
        ev.started("default", "simulator"),
        ev.textDelta("a"),
        ...weatherCall(),
        ev.completed(FinishReason.TOOL_CALLS, { outputTokens: 9 }),
      );
    const whole = chatCompletionChunkEncoder({ ...header, includeUsage: true });
    const full = events().map((e) => whole.event(e));
    for (let cut = 1; cut <= full.length; cut++) {
      const resumed = chatCompletionChunkEncoder({ ...header, includeUsage: true, after: { epoch: "E", seq: cut } });
      expect(events().map((e) => resumed.event(e))).toEqual([...full.slice(0, cut).map(() => ""), ...full.slice(cut)]);
    }
    const otherEpoch = chatCompletionChunkEncoder({ ...header, includeUsage: true, after: { epoch: "X", seq: 3 } });
    expect(events().map((e) => otherEpoch.event(e))).toEqual(full);
  });

  it("writes a failed stream as data: {error} in OpenAI's shape, then [DONE]; a watch error without [DONE]", () => {
    const enc = chatCompletionChunkEncoder({ ...header, includeUsage: false });
    const [started, failed] = logged(
      ev.started("default", "simulator"),
      ev.failed(Code.ResourceExhausted, "slow down", "UPSTREAM_RATE_LIMITED", { retryAfterMs: 1500 }),
    );
    enc.event(started!);
    expect(messages(enc.event(failed!) as string)).toEqual([
      ["E:1", { error: { message: "slow down", type: "requests", param: null, code: "rate_limit_exceeded" } }],
      ["E:2", "[DONE]"],
    ]);
    expect(enc.error(new ConnectError("the gateway is shutting down; retry", Code.Unavailable))).toBe(
      'data: {"error":{"message":"the gateway is shutting down; retry","type":"server_error","param":null,"code":"service_unavailable"}}\n\n',
    );
  });
});

describe("ChatCompletionFold", () => {
  it("opens other choices with their first delta and finishes each", () => {
    const fold = new ChatCompletionFold();
    fold.step(ev.started("m", "p"));
    expect(fold.step(withExtras(ev.textDelta("b"), { choice: 1 }))).toEqual({
      kind: "deltas",
      deltas: [{ index: 1, delta: { role: "assistant", content: "b" } }],
    });
    expect(fold.step(ev.completed(FinishReason.STOP))).toMatchObject({
      kind: "finish",
      choices: [
        { index: 0, finishReason: "stop" },
        { index: 1, finishReason: "stop" },
      ],
    });
  });

  it("sends the arguments of a call whose start it never saw, with its id, and its name at the end", () => {
    const fold = new ChatCompletionFold();
    expect(fold.step(ev.toolCallDelta("c", '{"a":'))).toMatchObject({
      deltas: [{ delta: { role: "assistant", tool_calls: [{ index: 0, id: "c", type: "function", function: { arguments: '{"a":' } }] } }],
    });
    expect(fold.step(ev.toolCallCompleted("c", "f", '{"a":1}'))).toMatchObject({
      deltas: [{ delta: { tool_calls: [{ index: 0, function: { name: "f", arguments: "1}" } }] } }],
    });
  });

  it("turns failed into its error with the reason and retry hint", () => {
    const step = new ChatCompletionFold().step(ev.failed(Code.Unavailable, "down", "UPSTREAM_UNAVAILABLE", { retryAfterMs: 250 }));
    expect(step?.kind).toBe("failed");
    const e = (step as { error: ConnectError }).error;
    expect([e.code, e.rawMessage, e.metadata.get("airwave-reason"), e.metadata.get("retry-after-ms")]).toEqual([
      Code.Unavailable,
      "down",
      "UPSTREAM_UNAVAILABLE",
      "250",
    ]);
  });
});

describe("finish reasons and completion ids", () => {
  it("maps every FinishReason onto OpenAI's four", () => {
    expect(finishReasonJson(FinishReason.STOP, false)).toBe("stop");
    expect(finishReasonJson(FinishReason.LENGTH, true)).toBe("length");
    expect(finishReasonJson(FinishReason.TOOL_CALLS, true)).toBe("tool_calls");
    expect(finishReasonJson(FinishReason.CONTENT_FILTER, false)).toBe("content_filter");
    expect(finishReasonJson(FinishReason.CANCELLED, true)).toBe("stop");
    expect(finishReasonJson(FinishReason.UNSPECIFIED, true)).toBe("tool_calls");
    expect(finishReasonJson(FinishReason.UNSPECIFIED, false)).toBe("stop");
  });

  it("takes a completion id or a bare stream id", () => {
    expect(streamIdOfCompletion("chatcmpl-abc")).toBe("abc");
    expect(streamIdOfCompletion("abc")).toBe("abc");
  });
});
