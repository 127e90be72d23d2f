import { create } from "@bufbuild/protobuf";
import { GenerateRequestSchema, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { text, weatherConversation, weatherTools } from "../../testing/requests.js";
import { openAIResponsesSpec } from "./openai-responses-spec.js";
import { readOpenAIResponsesOptions, toOpenAIResponsesRequest } from "./to-openai-responses-request.js";

describe("toOpenAIResponsesRequest", () => {
  it("maps messages to input items, tools, tool choice, sampling and reasoning", () => {
    const req = create(GenerateRequestSchema, {
      model: "openai/gpt-x",
      messages: weatherConversation([text("Checking.")]),
      tools: weatherTools,
      toolChoice: { choice: { case: "mode", value: ToolChoiceMode.REQUIRED } },
      temperature: 0.5,
      maxOutputTokens: 100,
      seed: 7n,
      reasoning: { effort: ReasoningEffort.LOW },
      metadata: { trace: "x", "simulator.seed": "1" },
    });
    expect(toOpenAIResponsesRequest(req, "gpt-x")).toEqual({
      model: "gpt-x",
      stream: true,
      input: [
        { type: "message", role: "system", content: "be brief" },
        { type: "message", role: "user", content: "weather in\nOslo?" },
        { type: "message", role: "assistant", content: "Checking." },
        { type: "function_call", call_id: "c1", name: "get_weather", arguments: '{"city":"Oslo"}' },
        { type: "function_call", call_id: "c2", name: "get_time", arguments: "{}" },
        { type: "function_call_output", call_id: "c1", output: "sunny" },
        { type: "function_call_output", call_id: "c2", output: "failed" },
      ],
      tools: [
        {
          type: "function",
          name: "get_weather",
          description: "Weather",
          parameters: { type: "object", properties: { city: { type: "string" } } },
          strict: false,
        },
        { type: "function", name: "get_time", parameters: { type: "object", properties: {} }, strict: false },
      ],
      tool_choice: "required",
      temperature: 0.5,
      max_output_tokens: 100,
      reasoning: { effort: "low", summary: "auto" },
      metadata: { trace: "x" },
    });
  });

  it("applies the options and leaves unset things out", () => {
    const req = create(GenerateRequestSchema, {
      model: "m",
      messages: [{ role: Role.USER, parts: [text("hi")] }],
      tools: [{ name: "f" }],
      toolChoice: { choice: { case: "toolName", value: "f" } },
      reasoning: { effort: ReasoningEffort.HIGH },
    });
    const body = toOpenAIResponsesRequest(req, "m", {
      reasoningSummary: "none",
      store: false,
      include: ["reasoning.encrypted_content"],
      builtinTools: [{ type: "web_search" }],
    });
    expect(body.tool_choice).toEqual({ type: "function", name: "f" });
    expect(body.reasoning).toEqual({ effort: "high" });
    expect(body.store).toBe(false);
    expect(body.include).toEqual(["reasoning.encrypted_content"]);
    expect(body.tools?.at(-1)).toEqual({ type: "web_search" });
    for (const k of ["temperature", "top_p", "max_output_tokens", "metadata"]) expect(body).not.toHaveProperty(k);
    const none = create(GenerateRequestSchema, {
      model: "m",
      messages: [{ role: Role.USER, parts: [text("hi")] }],
      toolChoice: { choice: { case: "mode", value: ToolChoiceMode.NONE } },
      reasoning: { effort: ReasoningEffort.NONE },
    });
    const plain = toOpenAIResponsesRequest(none, "m");
    for (const k of ["tool_choice", "tools", "reasoning", "store", "include"]) expect(plain).not.toHaveProperty(k);
  });

  it("refuses stop sequences, which the Responses API cannot express", () => {
    const req = create(GenerateRequestSchema, { model: "m", messages: [{ role: Role.USER, parts: [text("hi")] }], stopSequences: ["END"] });
    expect(() => toOpenAIResponsesRequest(req, "m")).toThrow(ConnectError);
    try {
      toOpenAIResponsesRequest(req, "m");
    } catch (e) {
      expect(ConnectError.from(e).code).toBe(Code.InvalidArgument);
    }
  });

  it("rejects mistyped options as a configuration error", () => {
    expect(() => readOpenAIResponsesOptions({ store: "no" })).toThrow(/store/);
    expect(() => readOpenAIResponsesOptions({ reasoningSummary: "long" })).toThrow(/reasoningSummary/);
    expect(() => readOpenAIResponsesOptions({ builtinTools: ["web_search"] })).toThrow(/builtinTools/);
    expect(readOpenAIResponsesOptions({ include: ["a"], store: true })).toEqual({ include: ["a"], store: true });
  });
});

describe("openAIResponsesSpec.request", () => {
  it("posts to {baseUrl}/responses with the bearer key and configured headers", () => {
    const req = create(GenerateRequestSchema, { model: "m", messages: [{ role: Role.USER, parts: [text("hi")] }] });
    const r = openAIResponsesSpec.request(req, "gpt-x", {
      baseUrl: "https://api.openai.com/v1/",
      apiKey: "sk-test",
      headers: { "OpenAI-Organization": "org_1" },
    });
    expect(r.url).toBe("https://api.openai.com/v1/responses");
    expect(r.headers).toMatchObject({ authorization: "Bearer sk-test", "OpenAI-Organization": "org_1", accept: "text/event-stream" });
    expect(JSON.parse(r.body)).toMatchObject({ model: "gpt-x", stream: true });
    const anon = openAIResponsesSpec.request(req, "gpt-x", { baseUrl: "http://127.0.0.1:1/v1" });
    expect(anon.headers).not.toHaveProperty("authorization");
    expect(openAIResponsesSpec.requestIdHeader).toBe("x-request-id");
  });
});
