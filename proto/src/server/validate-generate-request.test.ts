import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { type GenerateRequest, GenerateRequestSchema, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { validateGenerateRequest } from "./validate-generate-request.js";

type Init = Exclude<MessageInitShape<typeof GenerateRequestSchema>, GenerateRequest>;
const text = (value: string) => ({ part: { case: "text" as const, value } });
const base: Init = { model: "simulator", messages: [{ role: Role.USER, parts: [text("hi")] }] };
const req = (patch: Init = {}): GenerateRequest => create(GenerateRequestSchema, { ...base, ...patch });
const tool = (name: string) => ({ name, parameters: { type: "object", properties: {} } });

function refusal(r: GenerateRequest): string {
  try {
    validateGenerateRequest(r);
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    return (e as ConnectError).rawMessage;
  }
  throw new Error("expected the request to be refused");
}

describe("validateGenerateRequest", () => {
  it("accepts a complete, valid request", () => {
    expect(() =>
      validateGenerateRequest(
        req({
          model: "openai-compatible/meta-llama/Llama-3.1-8B:latest",
          messages: [
            { role: Role.SYSTEM, parts: [text("be brief")] },
            { role: Role.USER, parts: [text("weather?")], name: "ann" },
            {
              role: Role.ASSISTANT,
              parts: [
                text(""),
                { part: { case: "toolCall", value: { callId: "c1", name: "get_weather", argumentsJson: '{"city":"Oslo"}' } } },
              ],
            },
            { role: Role.TOOL, parts: [{ part: { case: "toolResult", value: { callId: "c1", result: "sunny" } } }] },
          ],
          tools: [tool("get_weather"), tool("search-2")],
          toolChoice: { choice: { case: "toolName", value: "search-2" } },
          temperature: 2,
          topP: 0,
          maxOutputTokens: 1,
          stopSequences: ["a", "b", "c", "d"],
          seed: -5n,
          metadata: Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, "v".repeat(512)])),
          reasoning: { effort: ReasoningEffort.HIGH },
        }),
      ),
    ).not.toThrow();
  });

  it.each<[string, Init, string]>([
    ["no model", { model: "" }, "model: is required"],
    ["a model with spaces", { model: "simulator /x" }, "model: must not contain whitespace or control characters"],
    ["no messages", { messages: [] }, "messages: at least one message is required"],
    ["an unspecified role", { messages: [{ parts: [text("x")] }] }, "messages[0].role: is required"],
    ["a message without parts", { messages: [{ role: Role.USER, parts: [] }] }, "messages[0].parts: at least one part is required"],
    [
      "a part without its oneof",
      { messages: [{ role: Role.USER, parts: [{}] }] },
      "messages[0].parts[0]: one of text, tool_call or tool_result must be set",
    ],
    [
      "a tool call in a user message",
      { messages: [{ role: Role.USER, parts: [{ part: { case: "toolCall", value: { callId: "c", name: "f" } } }] }] },
      "messages[0].parts[0].tool_call: is only allowed in assistant messages",
    ],
    [
      "tool call arguments that are not JSON",
      {
        messages: [
          { role: Role.ASSISTANT, parts: [{ part: { case: "toolCall", value: { callId: "c", name: "f", argumentsJson: "{" } } }] },
        ],
      },
      "messages[0].parts[0].tool_call.arguments_json: must be valid JSON",
    ],
    [
      "a tool result without call id",
      { messages: [{ role: Role.TOOL, parts: [{ part: { case: "toolResult", value: { result: "x" } } }] }] },
      "messages[0].parts[0].tool_result.call_id: is required",
    ],
    [
      "text in a tool message",
      { messages: [{ role: Role.TOOL, parts: [text("x")] }] },
      "messages[0].parts[0]: tool messages hold only tool_result parts",
    ],
    ["a bad tool name", { tools: [tool("has space")] }, "tools[0].name: must match [A-Za-z0-9_-]{1,64}"],
    ["a too long tool name", { tools: [tool("x".repeat(65))] }, "tools[0].name: must match [A-Za-z0-9_-]{1,64}"],
    ["duplicate tool names", { tools: [tool("f"), tool("f")] }, 'tools[1].name: duplicate tool name "f"'],
    [
      "a non-object schema",
      { tools: [{ name: "f", parameters: { type: "string" } }] },
      'tools[0].parameters: must be an object schema ("type": "object")',
    ],
    [
      "a tool choice naming no tool",
      { tools: [tool("f")], toolChoice: { choice: { case: "toolName", value: "g" } } },
      'tool_choice.tool_name: "g" is not one of tools',
    ],
    [
      "REQUIRED without tools",
      { toolChoice: { choice: { case: "mode", value: ToolChoiceMode.REQUIRED } } },
      "tool_choice.mode: REQUIRED needs at least one tool in tools",
    ],
    ["an empty tool choice", { toolChoice: {} }, "tool_choice: one of mode or tool_name must be set"],
    ["temperature above 2", { temperature: 2.5 }, "temperature: must be between 0 and 2"],
    ["negative temperature", { temperature: -0.1 }, "temperature: must be between 0 and 2"],
    ["NaN temperature", { temperature: Number.NaN }, "temperature: must be between 0 and 2"],
    ["top_p above 1", { topP: 1.01 }, "top_p: must be between 0 and 1"],
    ["max_output_tokens 0", { maxOutputTokens: 0 }, "max_output_tokens: must be at least 1"],
    ["5 stop sequences", { stopSequences: ["a", "b", "c", "d", "e"] }, "stop_sequences: at most 4 stop sequences are allowed"],
    ["an empty stop sequence", { stopSequences: [""] }, "stop_sequences[0]: must not be empty"],
    [
      "17 metadata entries",
      { metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, ""])) },
      "metadata: at most 16 entries are allowed",
    ],
    ["a long metadata key", { metadata: { ["k".repeat(65)]: "v" } }, `metadata["${"k".repeat(64)}"]: keys must have 1 to 64 characters`],
    ["a long metadata value", { metadata: { k: "v".repeat(513) } }, 'metadata["k"]: values must be at most 512 characters'],
    ["an unknown reasoning effort", { reasoning: { effort: 9 as ReasoningEffort } }, "reasoning.effort: unknown value"],
  ])("refuses %s", (_, patch, message) => {
    expect(refusal(req(patch))).toBe(message);
  });

  it("bounds the request's total text at 1 MiB of UTF-8", () => {
    const half = "é".repeat(256 * 1024); // 512 KiB of UTF-8
    expect(() => validateGenerateRequest(req({ messages: [{ role: Role.USER, parts: [text(half), text(half)] }] }))).not.toThrow();
    expect(refusal(req({ messages: [{ role: Role.USER, parts: [text(half), text(half), text("x")] }] }))).toMatch(
      /^messages: the request's text is 1048577 bytes/,
    );
  });
});
