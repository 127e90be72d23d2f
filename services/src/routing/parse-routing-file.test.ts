import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { defaultBaseUrls } from "./default-base-urls.js";
import { parseRoutingFile } from "./parse-routing-file.js";

const kinds = ["openai-chat", "openai-responses", "anthropic", "gemini", "tgi", "ollama"];
const parse = (v: unknown) => parseRoutingFile(typeof v === "string" ? v : JSON.stringify(v), "providers.json", kinds, defaultBaseUrls);

function refusal(v: unknown): string {
  try {
    parse(v);
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    expect((e as ConnectError).code).toBe(Code.InvalidArgument);
    return (e as ConnectError).rawMessage;
  }
  throw new Error("expected a refusal");
}

describe("parseRoutingFile", () => {
  it("reads providers with every field, and aliases", () => {
    const f = parse({
      $comment: "one inference service, several providers",
      providers: {
        groq: {
          kind: "openai-chat",
          baseUrl: "https://api.groq.com/openai/v1/",
          apiKeyEnv: "GROQ_API_KEY",
          headers: { "x-team": "search" },
          options: { thinkTags: true },
          models: ["llama-3.3-70b-versatile", "qwen/qwen3-32b"],
          defaultModel: "llama-3.3-70b-versatile",
          limits: { firstByteTimeoutMs: 30000, retries: 0 },
        },
        anthropic: { kind: "anthropic", apiKeyEnv: "ANTHROPIC_API_KEY" },
      },
      aliases: { fast: "groq/llama-3.3-70b-versatile" },
    });
    expect(f.providers["groq"]).toEqual({
      kind: "openai-chat",
      baseUrl: "https://api.groq.com/openai/v1",
      apiKeyEnv: "GROQ_API_KEY",
      headers: { "x-team": "search" },
      options: { thinkTags: true },
      models: ["llama-3.3-70b-versatile", "qwen/qwen3-32b"],
      defaultModel: "llama-3.3-70b-versatile",
      limits: { firstByteTimeoutMs: 30000, retries: 0 },
    });
    expect(f.providers["anthropic"]).toEqual({ kind: "anthropic", apiKeyEnv: "ANTHROPIC_API_KEY" });
    expect(f.aliases).toEqual({ fast: "groq/llama-3.3-70b-versatile" });
  });

  it("accepts an empty file object", () => {
    expect(parse({})).toEqual({ providers: {}, aliases: {} });
  });

  it.each([
    ["not JSON", "{providers:", "providers.json: not valid JSON"],
    ["an array", [], "providers.json: want a JSON object"],
    ["an unknown top-level field", { provider: {} }, "providers.json: provider: unknown field"],
    [
      "a literal key",
      { providers: { o: { kind: "openai-chat", apiKey: "sk-123" } } },
      "providers.o.apiKey: keys come only from the environment",
    ],
    [
      "a literal token",
      { providers: { o: { kind: "openai-chat", token: "t" } } },
      "providers.o.token: keys come only from the environment",
    ],
    [
      "a key in a header",
      { providers: { o: { kind: "anthropic", headers: { "x-api-key": "k" } } } },
      "providers.o.headers.x-api-key: keys come only from the environment",
    ],
    [
      "an Authorization header",
      { providers: { o: { kind: "openai-chat", headers: { Authorization: "Bearer k" } } } },
      "providers.o.headers.Authorization: keys come only",
    ],
    [
      "a key in the URL",
      { providers: { g: { kind: "gemini", baseUrl: "https://x.example/?key=abc" } } },
      "providers.g.baseUrl: keys come only",
    ],
    [
      "credentials in the URL",
      { providers: { g: { kind: "tgi", baseUrl: "https://u:p@x.example" } } },
      "providers.g.baseUrl: keys come only",
    ],
    [
      "a key as apiKeyEnv",
      { providers: { o: { kind: "openai-chat", apiKeyEnv: "sk-proj-abc" } } },
      "providers.o.apiKeyEnv: want the NAME of an environment variable",
    ],
    ["an unknown field", { providers: { o: { kind: "openai-chat", baseURL: "https://x" } } }, "providers.o.baseURL: unknown field"],
    ["no kind", { providers: { o: {} } }, "providers.o.kind: required (kinds: openai-chat, openai-responses"],
    ["an unknown kind", { providers: { o: { kind: "cohere" } } }, 'providers.o.kind: unknown kind "cohere"'],
    [
      "a bad base URL",
      { providers: { o: { kind: "ollama", baseUrl: "localhost:11434" } } },
      "providers.o.baseUrl: want an http or https URL",
    ],
    ["tgi without a base URL", { providers: { t: { kind: "tgi" } } }, 'providers.t.baseUrl: required for kind "tgi"'],
    ["a bad provider name", { providers: { "my/provider": { kind: "ollama" } } }, "providers.my/provider: bad provider name"],
    ["the simulator's name", { providers: { simulator: { kind: "ollama" } } }, 'providers.simulator: the name "simulator" is reserved'],
    ["empty models", { providers: { o: { kind: "ollama", models: [] } } }, "providers.o.models: want a non-empty array"],
    [
      "a default model outside models",
      { providers: { o: { kind: "ollama", models: ["a"], defaultModel: "b" } } },
      'providers.o.defaultModel: "b" is not in "models"',
    ],
    ["an unknown limit", { providers: { o: { kind: "ollama", limits: { idleMs: 5 } } } }, "providers.o.limits.idleMs: unknown limit"],
    [
      "a limit out of range",
      { providers: { o: { kind: "ollama", limits: { retries: 50 } } } },
      "providers.o.limits.retries: want an integer from 0 to 10",
    ],
    [
      "a non-string header",
      { providers: { o: { kind: "ollama", headers: { "x-a": 1 } } } },
      "providers.o.headers.x-a: want a one-line string",
    ],
    ["an alias with a slash", { aliases: { "a/b": "x/y" } }, "aliases.a/b: an alias is a bare model name"],
    ["an alias without a provider", { aliases: { fast: "claude-haiku" } }, 'aliases.fast: want "<provider>/<model>"'],
    [
      "an alias that is a provider name",
      { providers: { o: { kind: "ollama" } }, aliases: { o: "o/llama3" } },
      'aliases.o: "o" is also a provider name',
    ],
  ])("refuses %s, naming the bad key", (_what, file, want) => {
    expect(refusal(file)).toContain(want);
  });

  it("never repeats a literal key in its message", () => {
    expect(refusal({ providers: { o: { kind: "openai-chat", apiKey: "sk-SECRET" } } })).not.toContain("sk-SECRET");
    expect(refusal({ providers: { o: { kind: "openai-chat", headers: { authorization: "Bearer sk-SECRET" } } } })).not.toContain(
      "sk-SECRET",
    );
  });
});
