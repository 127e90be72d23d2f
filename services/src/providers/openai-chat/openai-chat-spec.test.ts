import { create } from "@bufbuild/protobuf";
import { GenerateRequestSchema, Role } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { parseOpenAIChatOptions } from "./openai-chat-options.js";
import { openAIChatSpec } from "./openai-chat-spec.js";

const req = create(GenerateRequestSchema, {
  model: "x",
  messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }],
  maxOutputTokens: 5,
});

describe("openAIChatSpec.request", () => {
  it("posts a streaming body to {baseUrl}/chat/completions with the bearer key and the endpoint's headers", () => {
    const r = openAIChatSpec.request(req, "llama3", { baseUrl: "http://127.0.0.1:11434/v1/", apiKey: "sk-1", headers: { "x-extra": "1" } });
    expect(r.url).toBe("http://127.0.0.1:11434/v1/chat/completions");
    expect(r.method).toBe("POST");
    expect(r.headers).toMatchObject({
      authorization: "Bearer sk-1",
      accept: "text/event-stream",
      "content-type": "application/json",
      "x-extra": "1",
    });
    expect(JSON.parse(r.body)).toMatchObject({ model: "llama3", stream: true, stream_options: { include_usage: true }, max_tokens: 5 });
    expect(openAIChatSpec.requestIdHeader).toBe("x-request-id");
  });

  it("uses max_completion_tokens for api.openai.com and sends no authorization without a key", () => {
    const r = openAIChatSpec.request(req, "gpt-4o", { baseUrl: "https://api.openai.com/v1" });
    expect(JSON.parse(r.body)).toMatchObject({ max_completion_tokens: 5 });
    expect(r.headers).not.toHaveProperty("authorization");
  });

  it("honours the endpoint options: streamOptions, maxTokensField, Azure's api-key and api-version", () => {
    const r = openAIChatSpec.request(req, "dep", {
      baseUrl: "https://res.openai.azure.com/openai/deployments/dep",
      apiKey: "az",
      options: { streamOptions: false, maxTokensField: "max_completion_tokens", apiKeyHeader: "api-key", apiVersion: "2024-10-21" },
    });
    expect(r.url).toBe("https://res.openai.azure.com/openai/deployments/dep/chat/completions?api-version=2024-10-21");
    expect(r.headers).toMatchObject({ "api-key": "az" });
    expect(r.headers).not.toHaveProperty("authorization");
    const body = JSON.parse(r.body);
    expect(body).not.toHaveProperty("stream_options");
    expect(body).toMatchObject({ stream: true, max_completion_tokens: 5 });
  });

  it("refuses invalid endpoint options with Code.Internal naming the option", () => {
    for (const options of [
      { thinkTags: "yes" },
      { streamOptions: "no" },
      { maxTokensField: "n" },
      { apiKeyHeader: "x" },
      { apiVersion: 3 },
    ]) {
      const e = (() => {
        try {
          openAIChatSpec.request(req, "m", { baseUrl: "http://h/v1", options });
        } catch (x) {
          return x;
        }
      })();
      expect(e).toBeInstanceOf(ConnectError);
      expect((e as ConnectError).code).toBe(Code.Internal);
      expect((e as ConnectError).rawMessage).toContain(Object.keys(options)[0]);
    }
  });
});

describe("parseOpenAIChatOptions", () => {
  it("reads thinkTags", () => {
    expect(parseOpenAIChatOptions(undefined).thinkTags).toBeUndefined();
    expect(parseOpenAIChatOptions({ thinkTags: false }).thinkTags).toBeUndefined();
    expect(parseOpenAIChatOptions({ thinkTags: true }).thinkTags).toEqual({});
    expect(parseOpenAIChatOptions({ thinkTags: "start-inside" }).thinkTags).toEqual({ startInside: true });
  });
});

describe("openAIChatSpec.errorMessage", () => {
  it("reads error.message", () => {
    expect(openAIChatSpec.errorMessage(JSON.stringify({ error: { message: "bad model" } }))).toBe("bad model");
    expect(openAIChatSpec.errorMessage("")).toBeUndefined();
  });
});
