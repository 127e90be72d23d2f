import { create } from "@bufbuild/protobuf";
import { GenerateRequestSchema, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { text, weatherConversation, weatherTools } from "../../testing/requests.js";
import { toOpenAIRequest } from "./to-openai-chat-request.js";

describe("toOpenAIRequest", () => {
  it("maps messages, tools, tool choice and sampling settings", () => {
    const req = create(GenerateRequestSchema, {
      model: "openai-compatible/gpt-x",
      messages: weatherConversation(),
      tools: weatherTools,
      toolChoice: { choice: { case: "mode", value: ToolChoiceMode.REQUIRED } },
      temperature: 0.5,
      topP: 0.9,
      maxOutputTokens: 100,
      stopSequences: ["END"],
      seed: 7n,
      reasoning: { effort: ReasoningEffort.LOW },
      metadata: { trace: "x" },
    });
    expect(toOpenAIRequest(req, "gpt-x", { maxTokensField: "max_tokens" })).toEqual({
      model: "gpt-x",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "weather in\nOslo?", name: "ann" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "c1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
            { id: "c2", type: "function", function: { name: "get_time", arguments: "{}" } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
        { role: "tool", tool_call_id: "c2", content: "failed" },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: "Weather",
            parameters: { type: "object", properties: { city: { type: "string" } } },
          },
        },
        { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } },
      ],
      tool_choice: "required",
      temperature: 0.5,
      top_p: expect.closeTo(0.9, 5),
      max_tokens: 100,
      stop: ["END"],
      seed: 7,
      reasoning_effort: "low",
    });
  });

  it("uses the configured max tokens field, a named tool choice, and leaves unset things out", () => {
    const req = create(GenerateRequestSchema, {
      model: "m",
      messages: [{ role: Role.USER, parts: [text("hi")] }],
      tools: [{ name: "f" }],
      toolChoice: { choice: { case: "toolName", value: "f" } },
      maxOutputTokens: 9,
      reasoning: { effort: ReasoningEffort.NONE },
    });
    const body = toOpenAIRequest(req, "m", { maxTokensField: "max_completion_tokens" });
    expect(body.max_completion_tokens).toBe(9);
    expect(body).not.toHaveProperty("max_tokens");
    expect(body.tool_choice).toEqual({ type: "function", function: { name: "f" } });
    for (const k of ["temperature", "top_p", "stop", "seed", "reasoning_effort"]) expect(body).not.toHaveProperty(k);
    const noTools = create(GenerateRequestSchema, {
      model: "m",
      messages: [{ role: Role.USER, parts: [text("hi")] }],
      toolChoice: { choice: { case: "mode", value: ToolChoiceMode.NONE } },
    });
    expect(toOpenAIRequest(noTools, "m", { maxTokensField: "max_tokens" })).not.toHaveProperty("tool_choice");
  });

  it("refuses a seed JSON cannot carry exactly", () => {
    const req = create(GenerateRequestSchema, { model: "m", messages: [{ role: Role.USER, parts: [text("hi")] }], seed: 2n ** 60n });
    expect(() => toOpenAIRequest(req, "m", { maxTokensField: "max_tokens" })).toThrowError(ConnectError);
    try {
      toOpenAIRequest(req, "m", { maxTokensField: "max_tokens" });
    } catch (e) {
      expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    }
  });
});
