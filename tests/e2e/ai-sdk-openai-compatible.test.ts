/**
 * The AI SDK against Airwave's OpenAI-compatible egress: `streamText` with
 * `@ai-sdk/openai-compatible` (only `baseURL` and `apiKey` pointed at the
 * gateway) streams text with reasoning and usage, and a tool call with the
 * tools passed; `generateText` reads the non-streaming answer.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { generateText, jsonSchema, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAirwave, type TestAirwave } from "../support/airwave.js";

const apiKey = "ai-sdk-user-key-000001";
let aw: TestAirwave;
let airwave: ReturnType<typeof createOpenAICompatible>;

beforeAll(async () => {
  aw = await startAirwave({ gateway: { apiKeys: [{ name: "ai-sdk", key: apiKey }], authMode: "required" } });
  airwave = createOpenAICompatible({ name: "airwave", baseURL: `${aw.url}/v1`, apiKey, includeUsage: true });
});
afterAll(async () => {
  await aw?.close();
});

const getWeather = tool({
  description: "The current weather in a city",
  inputSchema: jsonSchema<{ city: string }>({
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  }),
});

describe("streamText with @ai-sdk/openai-compatible against Airwave", () => {
  it("streams text after reasoning, finishes with stop and reports usage", async () => {
    const result = streamText({
      model: airwave.chatModel("simulator"),
      prompt: "How do tides work?",
      providerOptions: { airwave: { reasoningEffort: "low" } },
      maxRetries: 0,
    });
    const kinds: string[] = [];
    let text = "";
    for await (const part of result.fullStream) {
      if (part.type === "error") throw part.error;
      if (part.type === "text-delta") text += part.text;
      if (kinds.at(-1) !== part.type) kinds.push(part.type);
    }
    expect(text.split(" ").length).toBeGreaterThan(10);
    expect(kinds.indexOf("reasoning-delta")).toBeGreaterThan(-1);
    expect(kinds.indexOf("reasoning-delta")).toBeLessThan(kinds.indexOf("text-delta"));
    expect(await result.finishReason).toBe("stop");
    const usage = await result.usage;
    expect(usage.outputTokens).toBeGreaterThan(0);
    expect(usage.inputTokens).toBeGreaterThan(0);
    expect(await result.text).toBe(text);
  });

  it("streams a tool call with the tools passed and finishes with tool-calls", async () => {
    const result = streamText({
      model: airwave.chatModel("simulator"),
      prompt: "What is the weather in Paris? Use the get_weather tool.",
      tools: { get_weather: getWeather },
      maxRetries: 0,
    });
    const calls: { toolName: string; input: unknown }[] = [];
    for await (const part of result.fullStream) {
      if (part.type === "error") throw part.error;
      if (part.type === "tool-call") calls.push({ toolName: part.toolName, input: part.input });
    }
    expect(calls).toHaveLength(1);
    expect(calls[0]?.toolName).toBe("get_weather");
    expect(calls[0]?.input).toHaveProperty("city");
    expect(await result.finishReason).toBe("tool-calls");
  });

  it("generateText reads the non-streaming chat.completion", async () => {
    const r = await generateText({ model: airwave.chatModel("simulator/fast"), prompt: "Name three rivers.", maxRetries: 0 });
    expect(r.text.length).toBeGreaterThan(0);
    expect(r.finishReason).toBe("stop");
    expect(r.usage.outputTokens).toBeGreaterThan(0);
  });
});
