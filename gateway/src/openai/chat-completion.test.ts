import { Code, ConnectError } from "@connectrpc/connect";
import { ev, FinishReason, type StreamEvent } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { chatCompletionOf } from "./chat-completion.js";
import { chatCompletionChunkEncoder } from "./chat-completion-chunks.js";

const header = { id: "chatcmpl-S", created: 1_800_000_000, model: "simulator" };

async function* from(events: StreamEvent[]): AsyncGenerator<StreamEvent> {
  yield* events;
}

describe("chatCompletionOf: the non-streaming answer from the same fold", () => {
  it("assembles content, reasoning, usage and the finish reason", async () => {
    const c = await chatCompletionOf(
      from([
        ev.started("default", "simulator"),
        ev.reasoningDelta("Think. "),
        ev.reasoningDelta("Done."),
        ev.textDelta("Hello"),
        ev.textDelta(", world"),
        ev.usage({ inputTokens: 4, outputTokens: 3 }),
        ev.completed(FinishReason.STOP),
      ]),
      header,
    );
    expect(c).toEqual({
      ...header,
      object: "chat.completion",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello, world", refusal: null, reasoning_content: "Think. Done." },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      usage: { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 },
    });
  });

  it("gives tool calls whole, content null when only tools were called, and what the chunks say", async () => {
    const events = () => [
      ev.started("default", "simulator"),
      ev.toolCallStarted("call_1", "get_weather", 0),
      ev.toolCallDelta("call_1", '{"city":'),
      ev.toolCallDelta("call_1", '"Oslo"}'),
      ev.toolCallCompleted("call_1", "get_weather", '{"city":"Oslo"}'),
      ev.completed(FinishReason.TOOL_CALLS),
    ];
    const c = await chatCompletionOf(from(events()), header);
    expect(c.choices[0]).toEqual({
      index: 0,
      message: {
        role: "assistant",
        content: null,
        refusal: null,
        tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
      },
      logprobs: null,
      finish_reason: "tool_calls",
    });
    expect(c.usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
    // The streamed chunks fold to the same arguments.
    const enc = chatCompletionChunkEncoder({ ...header, includeUsage: false });
    const streamed = events()
      .map((e, i) => enc.event(Object.assign(e, { epoch: "E", seq: i + 1 })))
      .join("")
      .match(/"arguments":"((?:[^"\\]|\\.)*)"/g)
      ?.map((a) => JSON.parse(`{${a}}`).arguments as string)
      .join("");
    expect(streamed).toBe('{"city":"Oslo"}');
  });

  it("raises a failed stream as its error", async () => {
    const err = await chatCompletionOf(
      from([
        ev.started("default", "simulator"),
        ev.textDelta("par"),
        ev.failed(Code.DeadlineExceeded, "too slow", "UPSTREAM_IDLE_TIMEOUT"),
      ]),
      header,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: Code.DeadlineExceeded, rawMessage: "too slow" });
  });
});
