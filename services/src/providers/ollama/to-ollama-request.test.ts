import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { GenerateRequestSchema, type MessageSchema, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ollamaSpec } from "./ollama-spec.js";
import { toOllamaChatRequest, toOllamaGenerateRequest } from "./to-ollama-request.js";

type MessageInit = MessageInitShape<typeof MessageSchema>;

const msg = (role: Role, ...texts: string[]): MessageInit => ({ role, parts: texts.map((t) => ({ part: { case: "text", value: t } })) });
const request = (init: MessageInitShape<typeof GenerateRequestSchema>) => create(GenerateRequestSchema, { model: "ollama/x", ...init });
const weather = { name: "get_weather", description: "Weather", parameters: { type: "object", properties: { city: { type: "string" } } } };

describe("toOllamaChatRequest", () => {
  it("maps roles, tool calls (arguments as objects) and tool results with the tool's name", () => {
    const body = toOllamaChatRequest(
      request({
        messages: [
          msg(Role.SYSTEM, "Be brief."),
          msg(Role.USER, "Weather in Paris", "and Rome?"),
          {
            role: Role.ASSISTANT,
            parts: [
              { part: { case: "text", value: "Checking." } },
              { part: { case: "toolCall", value: { callId: "call_0", name: "get_weather", argumentsJson: '{"city":"Paris"}' } } },
              { part: { case: "toolCall", value: { callId: "call_1", name: "get_time", argumentsJson: "" } } },
            ],
          },
          {
            role: Role.TOOL,
            parts: [
              { part: { case: "toolResult", value: { callId: "call_0", result: '{"temp":21}' } } },
              { part: { case: "toolResult", value: { callId: "unknown", result: "?" } } },
            ],
          },
        ],
        tools: [weather],
      }),
      "qwen3",
    );
    expect(body).toEqual({
      model: "qwen3",
      stream: true,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Weather in Paris\nand Rome?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { function: { name: "get_weather", arguments: { city: "Paris" } } },
            { function: { name: "get_time", arguments: {} } },
          ],
        },
        { role: "tool", content: '{"temp":21}', tool_name: "get_weather" },
        { role: "tool", content: "?" },
      ],
      tools: [{ type: "function", function: weather }],
    });
  });

  it("maps sampling to options and reasoning to think", () => {
    const body = toOllamaChatRequest(
      request({
        messages: [msg(Role.USER, "Hi")],
        temperature: 0,
        topP: 0.9,
        maxOutputTokens: 100,
        stopSequences: ["END"],
        seed: -7n,
        reasoning: { effort: ReasoningEffort.LOW },
      }),
      "m",
    );
    expect(body).toMatchObject({ think: true, options: { temperature: 0, top_p: 0.9, num_predict: 100, stop: ["END"], seed: -7 } });
    expect(toOllamaChatRequest(request({ messages: [msg(Role.USER, "Hi")], reasoning: { effort: ReasoningEffort.NONE } }), "m").think).toBe(
      false,
    );
    const plain = toOllamaChatRequest(request({ messages: [msg(Role.USER, "Hi")] }), "m");
    expect(plain).not.toHaveProperty("think");
    expect(plain).not.toHaveProperty("options");
  });

  it("sends no tools for tool choice NONE", () => {
    const body = toOllamaChatRequest(
      request({ messages: [msg(Role.USER, "Hi")], tools: [weather], toolChoice: { choice: { case: "mode", value: ToolChoiceMode.NONE } } }),
      "m",
    );
    expect(body).not.toHaveProperty("tools");
  });

  it("refuses tool arguments that are not a JSON object, and huge seeds", () => {
    const bad = request({
      messages: [
        msg(Role.USER, "x"),
        { role: Role.ASSISTANT, parts: [{ part: { case: "toolCall", value: { callId: "c", name: "f", argumentsJson: "[1]" } } }] },
      ],
    });
    expect(() => toOllamaChatRequest(bad, "m")).toThrow(expect.objectContaining({ code: Code.InvalidArgument }));
    expect(() => toOllamaChatRequest(request({ messages: [msg(Role.USER, "x")], seed: 2n ** 60n }), "m")).toThrow(/seed/);
  });
});

describe("toOllamaGenerateRequest", () => {
  it("puts system text in system and user text in prompt", () => {
    const body = toOllamaGenerateRequest(
      request({
        messages: [msg(Role.SYSTEM, "Rhyme."), msg(Role.USER, "Why is the sky blue?"), msg(Role.USER, "Briefly.")],
        maxOutputTokens: 5,
      }),
      "llama3.2",
    );
    expect(body).toEqual({
      model: "llama3.2",
      prompt: "Why is the sky blue?\n\nBriefly.",
      system: "Rhyme.",
      stream: true,
      options: { num_predict: 5 },
    });
  });

  it("refuses conversations, tools and prompts without a user message", () => {
    for (const r of [
      request({ messages: [msg(Role.USER, "a"), msg(Role.ASSISTANT, "b"), msg(Role.USER, "c")] }),
      request({ messages: [msg(Role.USER, "a")], tools: [weather] }),
      request({ messages: [msg(Role.SYSTEM, "a")] }),
    ]) {
      expect(() => toOllamaGenerateRequest(r, "m")).toThrow(expect.objectContaining({ code: Code.InvalidArgument }));
    }
  });
});

describe("ollamaSpec.request", () => {
  it("posts to /api/chat by default and /api/generate when configured, with optional bearer auth", () => {
    const req = request({ messages: [msg(Role.USER, "Hi")] });
    const chat = ollamaSpec.request(req, "llama3.2", { baseUrl: "http://127.0.0.1:11434" });
    expect(chat.url).toBe("http://127.0.0.1:11434/api/chat");
    expect(chat.headers).not.toHaveProperty("authorization");
    expect(JSON.parse(chat.body)).toMatchObject({ model: "llama3.2", messages: [{ role: "user", content: "Hi" }], stream: true });
    const gen = ollamaSpec.request(req, "llama3.2", { baseUrl: "https://ollama.example", apiKey: "k", options: { api: "generate" } });
    expect(gen.url).toBe("https://ollama.example/api/generate");
    expect(gen.headers).toMatchObject({ authorization: "Bearer k", "content-type": "application/json" });
    expect(JSON.parse(gen.body)).toEqual({ model: "llama3.2", prompt: "Hi", stream: true });
    expect(ollamaSpec.request(req, "m", { baseUrl: "" }).url).toBe("http://127.0.0.1:11434/api/chat");
  });
});
