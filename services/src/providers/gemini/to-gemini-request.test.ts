import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { GenerateRequestSchema, type MessageSchema, ReasoningEffort, Role, ToolChoiceMode } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { defaultGeminiBaseUrl, geminiSpec } from "./gemini-spec.js";
import { skipThoughtSignature, toGeminiRequest } from "./to-gemini-request.js";

const text = (role: Role, value: string): MessageInitShape<typeof MessageSchema> => ({ role, parts: [{ part: { case: "text", value } }] });
const request = (init: MessageInitShape<typeof GenerateRequestSchema>) => create(GenerateRequestSchema, { model: "gemini/x", ...init });

describe("toGeminiRequest (https://ai.google.dev/api/generate-content#request-body)", () => {
  it("maps roles: system → systemInstruction, assistant → model, tool results → functionResponse in a user turn", () => {
    const req = request({
      messages: [
        text(Role.SYSTEM, "Be brief."),
        text(Role.USER, "Weather in Paris?"),
        {
          role: Role.ASSISTANT,
          parts: [
            { part: { case: "text", value: "Checking." } },
            { part: { case: "toolCall", value: { callId: "c1", name: "weather", argumentsJson: '{"city":"Paris"}' } } },
            { part: { case: "toolCall", value: { callId: "c2", name: "time", argumentsJson: "" } } },
          ],
        },
        {
          role: Role.TOOL,
          parts: [
            { part: { case: "toolResult", value: { callId: "c1", result: '{"temp":21}' } } },
            { part: { case: "toolResult", value: { callId: "c2", result: "12:00" } } },
          ],
        },
        { role: Role.TOOL, parts: [{ part: { case: "toolResult", value: { callId: "c2", result: "boom", isError: true } } }] },
      ],
    });
    const body = toGeminiRequest(req, { callIds: true });
    expect(body.systemInstruction).toEqual({ parts: [{ text: "Be brief." }] });
    expect(body.contents).toEqual([
      { role: "user", parts: [{ text: "Weather in Paris?" }] },
      {
        role: "model",
        parts: [
          { text: "Checking." },
          { functionCall: { name: "weather", args: { city: "Paris" }, id: "c1" }, thoughtSignature: skipThoughtSignature },
          { functionCall: { name: "time", args: {}, id: "c2" } },
        ],
      },
      {
        role: "user",
        parts: [
          { functionResponse: { name: "weather", response: { temp: 21 }, id: "c1" } },
          { functionResponse: { name: "time", response: { output: "12:00" }, id: "c2" } },
          { functionResponse: { name: "time", response: { error: "boom" }, id: "c2" } },
        ],
      },
    ]);
    const vertex = toGeminiRequest(req, { callIds: false });
    expect(JSON.stringify(vertex)).not.toContain('"id"');
  });

  it("maps tools, tool choice, sampling and reasoning", () => {
    const base = {
      messages: [text(Role.USER, "hi")],
      tools: [
        { name: "weather", description: "Weather now", parameters: { type: "object", properties: { city: { type: "string" } } } },
        { name: "ping" },
      ],
      temperature: 0.5,
      topP: 0.9,
      maxOutputTokens: 100,
      stopSequences: ["END"],
      seed: 7n,
      reasoning: { effort: ReasoningEffort.HIGH },
    };
    const body = toGeminiRequest(request({ ...base, toolChoice: { choice: { case: "mode", value: ToolChoiceMode.REQUIRED } } }), {
      callIds: true,
    });
    expect(body.tools).toEqual([
      {
        functionDeclarations: [
          {
            name: "weather",
            description: "Weather now",
            parametersJsonSchema: { type: "object", properties: { city: { type: "string" } } },
          },
          { name: "ping" },
        ],
      },
    ]);
    expect(body.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY" } });
    expect(body.generationConfig).toEqual({
      temperature: 0.5,
      topP: 0.9,
      maxOutputTokens: 100,
      stopSequences: ["END"],
      seed: 7,
      thinkingConfig: { includeThoughts: true },
    });
    const named = toGeminiRequest(request({ ...base, toolChoice: { choice: { case: "toolName", value: "ping" } } }), { callIds: true });
    expect(named.toolConfig).toEqual({ functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["ping"] } });
    const none = toGeminiRequest(
      request({
        ...base,
        toolChoice: { choice: { case: "mode", value: ToolChoiceMode.NONE } },
        reasoning: { effort: ReasoningEffort.NONE },
      }),
      { callIds: true },
    );
    expect(none.toolConfig).toEqual({ functionCallingConfig: { mode: "NONE" } });
    expect(none.generationConfig?.thinkingConfig).toBeUndefined();
    const bare = toGeminiRequest(
      request({ messages: [text(Role.USER, "hi")], toolChoice: { choice: { case: "mode", value: ToolChoiceMode.REQUIRED } } }),
      { callIds: true },
    );
    expect(bare).toEqual({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
  });

  it("refuses what Gemini cannot take: a seed beyond int32, a result for an unknown call, arguments that are not JSON", () => {
    const bad = [
      request({ messages: [text(Role.USER, "hi")], seed: 2n ** 31n }),
      request({ messages: [{ role: Role.TOOL, parts: [{ part: { case: "toolResult", value: { callId: "nope", result: "x" } } }] }] }),
      request({
        messages: [
          { role: Role.ASSISTANT, parts: [{ part: { case: "toolCall", value: { callId: "c", name: "f", argumentsJson: "{oops" } } }] },
        ],
      }),
    ];
    for (const r of bad) {
      expect(() => toGeminiRequest(r, { callIds: true })).toThrow(ConnectError);
      try {
        toGeminiRequest(r, { callIds: true });
      } catch (e) {
        expect(ConnectError.from(e).code).toBe(Code.InvalidArgument);
      }
    }
  });
});

describe("geminiSpec.request", () => {
  const req = request({ messages: [text(Role.USER, "hi")] });

  it("posts to the Gemini API with x-goog-api-key, and the configured headers", () => {
    const r = geminiSpec.request(req, "gemini-2.5-flash", { baseUrl: "", apiKey: "k", headers: { "x-extra": "1" } });
    expect(r.url).toBe(`${defaultGeminiBaseUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse`);
    expect(r.method).toBe("POST");
    expect(r.headers).toMatchObject({ "x-goog-api-key": "k", "content-type": "application/json", "x-extra": "1" });
    expect(JSON.parse(r.body)).toEqual({ contents: [{ role: "user", parts: [{ text: "hi" }] }] });
    const noKey = geminiSpec.request(req, "m", { baseUrl: "http://127.0.0.1:9/", options: { apiVersion: "v1" } });
    expect(noKey.url).toBe("http://127.0.0.1:9/v1/models/m:streamGenerateContent?alt=sse");
    expect(noKey.headers["x-goog-api-key"]).toBeUndefined();
  });

  it("uses Vertex AI publisher URLs and bearer tokens when configured", () => {
    const baseUrl = "https://aiplatform.googleapis.com/v1/projects/p/locations/global/publishers/google";
    const r = geminiSpec.request(req, "gemini-2.5-pro", { baseUrl, apiKey: "tok", options: { vertex: true, auth: "bearer" } });
    expect(r.url).toBe(`${baseUrl}/models/gemini-2.5-pro:streamGenerateContent?alt=sse`);
    expect(r.headers).toMatchObject({ authorization: "Bearer tok" });
    expect(r.headers["x-goog-api-key"]).toBeUndefined();
  });

  it("keeps a model resource path with a slash, and escapes other model names", () => {
    expect(geminiSpec.request(req, "tunedModels/mine", { baseUrl: "http://h" }).url).toBe(
      "http://h/v1beta/tunedModels/mine:streamGenerateContent?alt=sse",
    );
    expect(geminiSpec.request(req, "a b?", { baseUrl: "http://h" }).url).toBe(
      "http://h/v1beta/models/a%20b%3F:streamGenerateContent?alt=sse",
    );
  });
});
