import { toJson } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { CreateStreamRequestSchema, OnDetach, ReasoningEffort, ToolChoiceMode } from "@airwave/proto";
import { describe, expect, it } from "vitest";
import { openaiError } from "../errors/openai-error.js";
import { ignoredKeys, openaiParamOf, toCreateStreamRequest } from "./to-create-stream-request.js";

const hello = { model: "simulator", messages: [{ role: "user", content: "Hello" }] };

/** The error `toCreateStreamRequest` raises for `body`, as OpenAI's error object. */
function refusal(body: unknown, headers = {}) {
  try {
    toCreateStreamRequest(body, headers);
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    return openaiError(e as ConnectError);
  }
  throw new Error("not refused");
}

describe("toCreateStreamRequest: a Chat Completions request onto CreateStream", () => {
  it("maps a conversation with every role, content parts, tool calls and their results", () => {
    const p = toCreateStreamRequest({
      model: "simulator/fast",
      messages: [
        { role: "developer", content: "Be brief." },
        { role: "system", content: [{ type: "text", text: "Answer in English." }] },
        {
          role: "user",
          name: "ada",
          content: [
            { type: "text", text: "Weather " },
            { type: "text", text: "in Oslo?" },
          ],
        },
        {
          role: "assistant",
          content: null,
          reasoning_content: "ignored: the contract has no reasoning part",
          tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } }],
        },
        { role: "tool", tool_call_id: "call_1", content: [{ type: "text", text: '{"sky":"snow"}' }] },
        { role: "assistant", content: [{ type: "refusal", refusal: "I cannot." }] },
      ],
    });
    expect(toJson(CreateStreamRequestSchema, p.create)).toEqual({
      request: {
        model: "simulator/fast",
        messages: [
          { role: "ROLE_SYSTEM", parts: [{ text: "Be brief." }] },
          { role: "ROLE_SYSTEM", parts: [{ text: "Answer in English." }] },
          { role: "ROLE_USER", parts: [{ text: "Weather " }, { text: "in Oslo?" }], name: "ada" },
          { role: "ROLE_ASSISTANT", parts: [{ toolCall: { callId: "call_1", name: "get_weather", argumentsJson: '{"city":"Oslo"}' } }] },
          { role: "ROLE_TOOL", parts: [{ toolResult: { callId: "call_1", result: '{"sky":"snow"}' } }] },
          { role: "ROLE_ASSISTANT", parts: [{ text: "I cannot." }] },
        ],
      },
      onDetach: "ON_DETACH_CANCEL",
    });
    expect(p.stream).toBe(false);
    expect(p.includeUsage).toBe(false);
  });

  it("maps tools, tool choice, sampling, limits, stop, seed, metadata and reasoning effort", () => {
    const tool = {
      type: "function",
      function: { name: "get_weather", description: "Weather", parameters: { type: "object" }, strict: true },
    };
    const p = toCreateStreamRequest({
      ...hello,
      tools: [tool],
      tool_choice: { type: "function", function: { name: "get_weather" } },
      temperature: 0.5,
      top_p: 0.25,
      max_tokens: 99,
      max_completion_tokens: 64,
      stop: "END",
      seed: 42,
      n: 1,
      reasoning_effort: "minimal",
      metadata: { "simulator.tokens_per_s": "0" },
      stream: true,
      stream_options: { include_usage: true, include_obfuscation: false },
    });
    const r = p.create.request!;
    expect(r.tools).toMatchObject([{ name: "get_weather", description: "Weather", parameters: { type: "object" } }]);
    expect(r.toolChoice?.choice).toEqual({ case: "toolName", value: "get_weather" });
    expect(r.temperature).toBe(0.5);
    expect(r.topP).toBe(0.25);
    expect(r.maxOutputTokens).toBe(64); // max_completion_tokens wins over the deprecated max_tokens
    expect(r.stopSequences).toEqual(["END"]);
    expect(r.seed).toBe(42n);
    expect(r.reasoning?.effort).toBe(ReasoningEffort.LOW);
    expect(r.metadata).toEqual({ "simulator.tokens_per_s": "0" });
    expect(p).toMatchObject({ stream: true, includeUsage: true });

    const modes = (c: unknown) => toCreateStreamRequest({ ...hello, tools: [tool], tool_choice: c }).create.request?.toolChoice?.choice;
    expect(modes("none")).toEqual({ case: "mode", value: ToolChoiceMode.NONE });
    expect(modes("auto")).toEqual({ case: "mode", value: ToolChoiceMode.AUTO });
    expect(modes("required")).toEqual({ case: "mode", value: ToolChoiceMode.REQUIRED });
    const effort = (e: string) => toCreateStreamRequest({ ...hello, reasoning_effort: e }).create.request?.reasoning?.effort;
    expect(["none", "low", "medium", "high", "xhigh"].map(effort)).toEqual([
      ReasoningEffort.NONE,
      ReasoningEffort.LOW,
      ReasoningEffort.MEDIUM,
      ReasoningEffort.HIGH,
      ReasoningEffort.HIGH,
    ]);
    expect(toCreateStreamRequest({ ...hello, max_tokens: 7, stop: ["a", "b"] }).create.request).toMatchObject({
      maxOutputTokens: 7,
      stopSequences: ["a", "b"],
    });
  });

  it("include_usage only applies to a stream", () => {
    expect(toCreateStreamRequest({ ...hello, stream_options: { include_usage: true } }).includeUsage).toBe(false);
  });

  it("takes the detach policy and a client-chosen stream id from the Airwave headers; cancel by default", () => {
    expect(toCreateStreamRequest(hello).create.onDetach).toBe(OnDetach.CANCEL);
    const p = toCreateStreamRequest(hello, { onDetach: "Continue", streamId: "my-stream-id-0123456789ab" });
    expect(p.create).toMatchObject({ onDetach: OnDetach.CONTINUE, streamId: "my-stream-id-0123456789ab" });
    expect(toCreateStreamRequest(hello, { onDetach: "ON_DETACH_CANCEL_AFTER_GRACE" }).create.onDetach).toBe(OnDetach.CANCEL_AFTER_GRACE);
    expect(refusal(hello, { onDetach: "later" }).message).toMatch(/Airwave-On-Detach/);
  });

  it("accepts hints that change nothing, and the contract's missing settings at their defaults", () => {
    const hints = Object.fromEntries([...ignoredKeys].map((k) => [k, k === "parallel_tool_calls" || k === "store" ? false : "x"]));
    expect(() => toCreateStreamRequest({ ...hello, ...hints })).not.toThrow();
    const defaults = {
      frequency_penalty: 0,
      presence_penalty: null,
      logprobs: false,
      top_logprobs: 0,
      logit_bias: {},
      response_format: { type: "text" },
      modalities: ["text"],
      audio: null,
      functions: null,
    };
    expect(() => toCreateStreamRequest({ ...hello, ...defaults })).not.toThrow();
  });

  it("refuses what the contract cannot carry with OpenAI's 400, naming the parameter", () => {
    expect(refusal({ ...hello, n: 2 })).toMatchObject({ param: "n", code: "unsupported_value", type: "invalid_request_error" });
    expect(refusal({ ...hello, frequency_penalty: 0.4 })).toMatchObject({ param: "frequency_penalty", code: "unsupported_parameter" });
    expect(refusal({ ...hello, response_format: { type: "json_object" } })).toMatchObject({ param: "response_format" });
    expect(refusal({ ...hello, logprobs: true })).toMatchObject({ param: "logprobs" });
    expect(refusal({ ...hello, functions: [{ name: "f" }] })).toMatchObject({ param: "functions" });
    expect(refusal({ ...hello, guided_json: {} })).toMatchObject({
      param: "guided_json",
      code: "unknown_parameter",
      message: "Unrecognized request argument supplied: guided_json",
    });
    const image = { type: "image_url", image_url: { url: "https://example.com/cat.png" } };
    expect(refusal({ ...hello, messages: [{ role: "user", content: [{ type: "text", text: "What is it?" }, image] }] })).toMatchObject({
      param: "messages[0].content[1].type",
      code: "unsupported_value",
    });
    expect(refusal({ ...hello, tools: [{ type: "custom", custom: { name: "grep" } }] })).toMatchObject({ param: "tools[0].type" });
    expect(refusal({ ...hello, tool_choice: { type: "allowed_tools", allowed_tools: {} } })).toMatchObject({ param: "tool_choice" });
    expect(refusal({ ...hello, messages: [{ role: "function", name: "f", content: "1" }] })).toMatchObject({ param: "messages[0].role" });
    expect(refusal({ ...hello, reasoning_effort: "max" })).toMatchObject({ param: "reasoning_effort" });
  });

  it("refuses malformed requests with the parameter concerned", () => {
    expect(refusal([])).toMatchObject({ param: null });
    expect(refusal({ messages: hello.messages })).toMatchObject({ param: "model" });
    expect(refusal({ model: "simulator", messages: [] })).toMatchObject({ param: "messages" });
    expect(refusal({ model: "simulator", messages: [{ role: "user" }] })).toMatchObject({ param: "messages[0].content" });
    expect(refusal({ model: "simulator", messages: [{ role: "tool", content: "x" }] })).toMatchObject({
      param: "messages[0].tool_call_id",
    });
    const badCall = { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: {} } }] };
    expect(refusal({ model: "simulator", messages: [badCall] })).toMatchObject({ param: "messages[0].tool_calls[0].function.arguments" });
    expect(refusal({ ...hello, temperature: "hot" })).toMatchObject({ param: "temperature" });
    expect(refusal({ ...hello, max_completion_tokens: 0 })).toMatchObject({ param: "max_completion_tokens" });
    expect(refusal({ ...hello, seed: 1.5 })).toMatchObject({ param: "seed" });
    expect(refusal({ ...hello, stop: [1] })).toMatchObject({ param: "stop" });
    expect(refusal({ ...hello, metadata: { k: 1 } })).toMatchObject({ param: "metadata" });
    expect(refusal({ ...hello, stream: "yes" })).toMatchObject({ param: "stream" });
    expect(refusal({ ...hello, stream_options: { include_usage: 1 } })).toMatchObject({ param: "stream_options.include_usage" });
  });
});

describe("openaiParamOf: the OpenAI parameter of a contract validation error", () => {
  it("maps proto field paths to the request's parameter names", () => {
    expect(openaiParamOf("temperature: must be between 0 and 2")).toBe("temperature");
    expect(openaiParamOf("messages[3].parts: at least one part is required")).toBe("messages[3]");
    expect(openaiParamOf("tools[1].name: must match [A-Za-z0-9_-]{1,64}")).toBe("tools[1]");
    expect(openaiParamOf("max_output_tokens: must be at least 1")).toBe("max_completion_tokens");
    expect(openaiParamOf("stop_sequences[0]: must not be empty")).toBe("stop");
    expect(openaiParamOf("tool_choice.mode: REQUIRED needs at least one tool in tools")).toBe("tool_choice");
    expect(openaiParamOf('metadata["k"]: values must be at most 512 characters')).toBe("metadata");
    expect(openaiParamOf("stream_id: must match [A-Za-z0-9_-]{22,128}")).toBeNull();
    expect(openaiParamOf("malformed")).toBeNull();
  });
});
