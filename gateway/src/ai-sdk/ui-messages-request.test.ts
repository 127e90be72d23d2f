import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CreateStreamRequestSchema } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { isChatId, toChatTurnRequest } from "./ui-messages-request.js";

/** What `DefaultChatTransport.sendMessages` posts, with the transport's `body` option `options`. */
function transportBody(messages: unknown[], options: Record<string, unknown> = { model: "simulator" }) {
  return { ...options, id: "chat-1", messages, trigger: "submit-message", messageId: undefined };
}

const user = (id: string, text: string) => ({ id, role: "user", parts: [{ type: "text", text }] });

/** The error `toChatTurnRequest` raises for `body`. */
function refusal(body: unknown): ConnectError {
  try {
    toChatTurnRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    return e as ConnectError;
  }
  throw new Error("not refused");
}

describe("toChatTurnRequest: the AI SDK transport's body onto CreateStream", () => {
  it("maps system and user text parts, the options through the Chat Completions mapping, and defaults to cancel_after_grace", () => {
    const turn = toChatTurnRequest(
      transportBody(
        [
          { id: "s", role: "system", parts: [{ type: "text", text: "Be brief." }] },
          {
            id: "u",
            role: "user",
            parts: [
              { type: "text", text: "Tides" },
              { type: "data-ui", data: { x: 1 } },
              { type: "text", text: "?" },
            ],
          },
        ],
        { model: "simulator/fast", temperature: 0.5, reasoning_effort: "low", metadata: { "simulator.output_tokens": "3" }, stream: true },
      ),
    );
    expect(turn.chatId).toBe("chat-1");
    expect(turn.continuesMessageId).toBeUndefined();
    expect(toJson(CreateStreamRequestSchema, turn.create)).toEqual({
      request: {
        model: "simulator/fast",
        messages: [
          { role: "ROLE_SYSTEM", parts: [{ text: "Be brief." }] },
          { role: "ROLE_USER", parts: [{ text: "Tides" }, { text: "?" }] },
        ],
        temperature: 0.5,
        reasoning: { effort: "REASONING_EFFORT_LOW" },
        metadata: { "simulator.output_tokens": "3" },
      },
      onDetach: "ON_DETACH_CANCEL_AFTER_GRACE",
    });
  });

  it("splits an assistant message into steps: text and tool calls, then one tool message per result; reasoning and UI-only parts dropped", () => {
    const turn = toChatTurnRequest(
      transportBody([
        user("u1", "Weather in Oslo?"),
        {
          id: "a1",
          role: "assistant",
          parts: [
            { type: "step-start" },
            { type: "reasoning", text: "The user wants weather." },
            { type: "text", text: "Let me check." },
            { type: "tool-get_weather", toolCallId: "c1", state: "output-available", input: { city: "Oslo" }, output: { sky: "snow" } },
            { type: "dynamic-tool", toolName: "lookup", toolCallId: "c2", state: "output-error", input: {}, errorText: "offline" },
            { type: "tool-get_time", toolCallId: "c3", state: "output-available", input: {}, output: "noon" },
            { type: "tool-draft", toolCallId: "c4", state: "input-streaming", input: { partial: true } },
            { type: "step-start" },
            { type: "source-url", sourceId: "s", url: "https://example.com" },
            { type: "text", text: "Snow, at noon." },
            { type: "step-start" },
          ],
        },
        user("u2", "Thanks"),
      ]),
    );
    expect((toJson(CreateStreamRequestSchema, turn.create) as { request?: unknown }).request).toMatchObject({
      messages: [
        { role: "ROLE_USER", parts: [{ text: "Weather in Oslo?" }] },
        {
          role: "ROLE_ASSISTANT",
          parts: [
            { text: "Let me check." },
            { toolCall: { callId: "c1", name: "get_weather", argumentsJson: '{"city":"Oslo"}' } },
            { toolCall: { callId: "c2", name: "lookup", argumentsJson: "{}" } },
            { toolCall: { callId: "c3", name: "get_time", argumentsJson: "{}" } },
          ],
        },
        { role: "ROLE_TOOL", parts: [{ toolResult: { callId: "c1", result: '{"sky":"snow"}' } }] },
        { role: "ROLE_TOOL", parts: [{ toolResult: { callId: "c2", result: "offline" } }] },
        { role: "ROLE_TOOL", parts: [{ toolResult: { callId: "c3", result: "noon" } }] },
        { role: "ROLE_ASSISTANT", parts: [{ text: "Snow, at noon." }] },
        { role: "ROLE_USER", parts: [{ text: "Thanks" }] },
      ],
    });
  });

  it("continues the last assistant message (a client tool result) under its id", () => {
    const turn = toChatTurnRequest(
      transportBody([
        user("u1", "Weather?"),
        {
          id: "a1",
          role: "assistant",
          parts: [{ type: "tool-get_weather", toolCallId: "c1", state: "output-available", input: { city: "Oslo" }, output: "snow" }],
        },
      ]),
    );
    expect(turn.continuesMessageId).toBe("a1");
    expect((toJson(CreateStreamRequestSchema, turn.create) as { request?: unknown }).request).toMatchObject({
      messages: [
        { role: "ROLE_USER" },
        { role: "ROLE_ASSISTANT" },
        { role: "ROLE_TOOL", parts: [{ toolResult: { callId: "c1", result: "snow" } }] },
      ],
    });
  });

  it("passes tools in OpenAI's function format and the Airwave headers on", () => {
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
    const turn = toChatTurnRequest(transportBody([user("u", "Hi")], { model: "simulator", tools, tool_choice: "required" }), {
      onDetach: "continue",
      streamId: "stream-id-chosen-by-the-client",
    });
    const json = toJson(CreateStreamRequestSchema, turn.create) as Record<string, unknown>;
    expect(json).toMatchObject({
      request: { tools: [{ name: "get_weather", parameters: { type: "object" } }], toolChoice: { mode: "TOOL_CHOICE_MODE_REQUIRED" } },
      streamId: "stream-id-chosen-by-the-client",
      onDetach: "ON_DETACH_CONTINUE",
    });
  });

  it("refuses what is not the transport's shape, naming the place", () => {
    expect(refusal([]).rawMessage).toMatch(/JSON object/);
    expect(refusal({ messages: [user("u", "Hi")], model: "simulator" }).rawMessage).toMatch(/^id:/);
    expect(refusal(transportBody([])).rawMessage).toMatch(/messages must be a non-empty array/);
    expect(refusal({ ...transportBody([user("u", "Hi")]), trigger: "resume-stream" }).rawMessage).toMatch(/trigger/);
    expect(refusal(transportBody([{ id: "x", role: "tool", parts: [] }])).rawMessage).toMatch(/messages\[0\]\.role/);
    expect(refusal(transportBody([{ id: "x", role: "user" }])).rawMessage).toMatch(/messages\[0\]\.parts must be an array/);
    expect(
      refusal(transportBody([{ id: "x", role: "user", parts: [{ type: "file", mediaType: "image/png", url: "data:," }] }])).rawMessage,
    ).toMatch(/messages\[0\]\.parts\[0\]: file parts are not supported/);
    expect(refusal(transportBody([{ id: "x", role: "assistant", parts: [{ type: "text" }] }])).rawMessage).toMatch(
      /messages\[0\]\.parts\[0\]\.text must be a string/,
    );
  });

  it("refuses request options as the Chat Completions mapping does", () => {
    expect(refusal(transportBody([user("u", "Hi")], {})).rawMessage).toMatch(/model is required/);
    expect(refusal(transportBody([user("u", "Hi")], { model: "simulator", colour: "blue" })).rawMessage).toMatch(
      /Unrecognized request argument supplied: colour/,
    );
  });

  it("accepts chat ids of 1 to 256 characters without control characters or '/'", () => {
    expect(isChatId("Zy3kq8aB1cD2eF3g")).toBe(true);
    expect(isChatId("3f0c1e9a-1b2c-4d5e-8f90-a1b2c3d4e5f6")).toBe(true);
    expect(isChatId("")).toBe(false);
    expect(isChatId("a".repeat(257))).toBe(false);
    expect(isChatId("a/b")).toBe(false);
    expect(isChatId("a\nb")).toBe(false);
  });
});
