import { GenerateRequestSchema, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { toolCallPart as call, toolResultPart as result, text, weatherTools } from "../../testing/requests.js";
import { toAnthropicRequest } from "./to-anthropic-request.js";

describe("toAnthropicRequest", () => {
  it("maps system, messages, tool calls and results, tools, tool choice and sampling", () => {
    const req = create(GenerateRequestSchema, {
      model: "anthropic/claude",
      messages: [
        { role: Role.SYSTEM, parts: [text("be brief")] },
        { role: Role.USER, parts: [text("weather in"), text(""), text("Oslo?")], name: "ann" },
        {
          role: Role.ASSISTANT,
          parts: [text("Checking."), call("toolu_1", "get_weather", '{"city":"Oslo"}'), call("toolu_2", "get_time", "")],
        },
        { role: Role.TOOL, parts: [result("toolu_1", "sunny"), result("toolu_2", "clock broken", true)] },
        { role: Role.SYSTEM, parts: [text("answer in French")] },
        { role: Role.USER, parts: [text("and tomorrow?")] },
      ],
      tools: weatherTools,
      toolChoice: { choice: { case: "mode", value: ToolChoiceMode.REQUIRED } },
      temperature: 0.5,
      topP: 0.25,
      maxOutputTokens: 100,
      stopSequences: ["END"],
      seed: 7n,
      metadata: { user_id: "u-42", trace: "x" },
    });
    expect(toAnthropicRequest(req, "claude-sonnet-4-5")).toEqual({
      model: "claude-sonnet-4-5",
      max_tokens: 100,
      stream: true,
      system: "be brief\n\nanswer in French",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "weather in" },
            { type: "text", text: "Oslo?" },
          ],
        },
        {
          role: "assistant",
          content: [
            { type: "text", text: "Checking." },
            { type: "tool_use", id: "toolu_1", name: "get_weather", input: { city: "Oslo" } },
            { type: "tool_use", id: "toolu_2", name: "get_time", input: {} },
          ],
        },
        {
          // The TOOL message and the next USER message are one user turn, tool results first.
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: "sunny" },
            { type: "tool_result", tool_use_id: "toolu_2", content: "clock broken", is_error: true },
            { type: "text", text: "and tomorrow?" },
          ],
        },
      ],
      tools: [
        { name: "get_weather", description: "Weather", input_schema: { type: "object", properties: { city: { type: "string" } } } },
        { name: "get_time", input_schema: { type: "object", properties: {} } },
      ],
      tool_choice: { type: "any" },
      temperature: 0.5,
      top_p: 0.25,
      stop_sequences: ["END"],
      metadata: { user_id: "u-42" },
    });
  });

  it("puts tool results before text in a merged user turn", () => {
    const req = create(GenerateRequestSchema, {
      messages: [
        { role: Role.ASSISTANT, parts: [call("t1", "f", "{}")] },
        { role: Role.USER, parts: [text("also this")] },
        { role: Role.TOOL, parts: [result("t1", "done")] },
      ],
    });
    expect(toAnthropicRequest(req, "m").messages[1]?.content.map((b) => b.type)).toEqual(["tool_result", "text"]);
  });

  it("maps each tool choice, and leaves it out without tools", () => {
    const choice = (c: { case: "mode"; value: ToolChoiceMode } | { case: "toolName"; value: string }, tools = [{ name: "f" }]) =>
      toAnthropicRequest(
        create(GenerateRequestSchema, { messages: [{ role: Role.USER, parts: [text("hi")] }], tools, toolChoice: { choice: c } }),
        "m",
      ).tool_choice;
    expect(choice({ case: "mode", value: ToolChoiceMode.AUTO })).toEqual({ type: "auto" });
    expect(choice({ case: "mode", value: ToolChoiceMode.NONE })).toEqual({ type: "none" });
    expect(choice({ case: "mode", value: ToolChoiceMode.UNSPECIFIED })).toBeUndefined();
    expect(choice({ case: "toolName", value: "f" })).toEqual({ type: "tool", name: "f" });
    expect(choice({ case: "toolName", value: "f" }, [])).toBeUndefined();
  });

  it("defaults max_tokens (Anthropic requires it), configurable per endpoint", () => {
    const req = create(GenerateRequestSchema, { messages: [{ role: Role.USER, parts: [text("hi")] }] });
    expect(toAnthropicRequest(req, "m").max_tokens).toBe(4096);
    expect(toAnthropicRequest(req, "m", { defaultMax: 1000 }).max_tokens).toBe(1000);
    expect(toAnthropicRequest(req, "m").thinking).toBeUndefined();
  });

  it("maps reasoning effort to a thinking budget below max_tokens", () => {
    const req = (effort: ReasoningEffort, maxOutputTokens?: number) =>
      toAnthropicRequest(
        create(GenerateRequestSchema, {
          messages: [{ role: Role.USER, parts: [text("hi")] }],
          reasoning: { effort },
          ...(maxOutputTokens ? { maxOutputTokens } : {}),
        }),
        "m",
      );
    expect(req(ReasoningEffort.LOW)).toMatchObject({ thinking: { type: "enabled", budget_tokens: 2048 }, max_tokens: 4096 + 2048 });
    expect(req(ReasoningEffort.MEDIUM).thinking?.budget_tokens).toBe(8192);
    expect(req(ReasoningEffort.HIGH, 64000)).toMatchObject({ thinking: { type: "enabled", budget_tokens: 24576 }, max_tokens: 64000 });
    expect(req(ReasoningEffort.HIGH, 5000)).toMatchObject({ thinking: { type: "enabled", budget_tokens: 4999 }, max_tokens: 5000 });
    expect(req(ReasoningEffort.NONE).thinking).toBeUndefined();
    expect(req(ReasoningEffort.UNSPECIFIED).thinking).toBeUndefined();
    expect(() => req(ReasoningEffort.LOW, 1024)).toThrow(ConnectError);
    try {
      req(ReasoningEffort.LOW, 1024);
    } catch (e) {
      expect(ConnectError.from(e).code).toBe(Code.InvalidArgument);
    }
  });

  it("refuses tool call arguments that are not a JSON object", () => {
    for (const args of ["[1]", "{bad", '"text"']) {
      const req = create(GenerateRequestSchema, { messages: [{ role: Role.ASSISTANT, parts: [call("t", "f", args)] }] });
      expect(() => toAnthropicRequest(req, "m"), args).toThrow(/arguments_json/);
    }
  });

  it("drops messages left without content", () => {
    const req = create(GenerateRequestSchema, {
      messages: [
        { role: Role.USER, parts: [text("")] },
        { role: Role.USER, parts: [text("hi")] },
      ],
    });
    expect(toAnthropicRequest(req, "m").messages).toEqual([{ role: "user", content: [{ type: "text", text: "hi" }] }]);
  });
});
