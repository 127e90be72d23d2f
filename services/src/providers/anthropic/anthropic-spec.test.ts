import { GenerateRequestSchema, Role } from "@airwave/proto";
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { anthropicSpec } from "./anthropic-spec.js";

const req = create(GenerateRequestSchema, { messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }] });

describe("anthropicSpec", () => {
  it("posts to {base}/v1/messages with the key, the API version and the configured headers", () => {
    const r = anthropicSpec.request(req, "claude-haiku-4-5", {
      baseUrl: "https://proxy.example/anthropic/",
      apiKey: "sk-ant-test",
      headers: { "anthropic-beta": "mcp-client-2025-04-04" },
    });
    expect(r.url).toBe("https://proxy.example/anthropic/v1/messages");
    expect(r.method).toBe("POST");
    expect(r.headers).toMatchObject({
      "x-api-key": "sk-ant-test",
      "anthropic-version": "2023-06-01",
      "anthropic-beta": "mcp-client-2025-04-04",
      "content-type": "application/json",
    });
    expect(JSON.parse(r.body)).toMatchObject({ model: "claude-haiku-4-5", stream: true, max_tokens: 4096 });
    expect(anthropicSpec.requestIdHeader).toBe("request-id");
    expect(anthropicSpec.kind).toBe("anthropic");
  });

  it("defaults the base URL, sends no key header without a key, and honours options.defaultMaxTokens", () => {
    const r = anthropicSpec.request(req, "m", { baseUrl: "", options: { defaultMaxTokens: 256 } });
    expect(r.url).toBe("https://api.anthropic.com/v1/messages");
    expect(r.headers["x-api-key"]).toBeUndefined();
    expect(JSON.parse(r.body).max_tokens).toBe(256);
    expect(JSON.parse(anthropicSpec.request(req, "m", { baseUrl: "", options: { defaultMaxTokens: "x" } }).body).max_tokens).toBe(4096);
  });

  it("reads the caller-safe message of an error body", () => {
    expect(anthropicSpec.errorMessage(JSON.stringify({ type: "error", error: { type: "invalid_request_error", message: "bad" } }))).toBe(
      "bad",
    );
  });
});
