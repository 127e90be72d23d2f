import { create } from "@bufbuild/protobuf";
import { GenerateRequestSchema, Role, type StreamEvent } from "@airwave/proto";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import type { HttpProvider } from "../http-provider/create-http-provider.js";
import { headerReason } from "../http-provider/upstream-error.js";
import type { Provider } from "../provider.js";
import { resolveModel } from "../resolve-model.js";
import { startFakeUpstream } from "../testing/fake-upstream.js";
import { createRouting } from "./create-routing.js";

const req = create(GenerateRequestSchema, {
  model: "x",
  messages: [{ role: Role.USER, parts: [{ part: { case: "text", value: "hi" } }] }],
});

/** createRouting over a routing file given as an object (never on disk), with `env` as both the config and key environment. */
function routing(file: unknown, env: Record<string, string> = {}) {
  return createRouting(loadConfig({ ...env, AIRWAVE_PROVIDERS_FILE: "/etc/airwave/providers.json" }), {
    env,
    readFile: () => JSON.stringify(file),
  });
}

function refusal(f: () => unknown): ConnectError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    return e as ConnectError;
  }
  throw new Error("expected an error");
}

async function run(p: Provider, model: string) {
  const events: StreamEvent[] = [];
  try {
    for await (const e of p.generate(req, model, new AbortController().signal)) events.push(e);
    return { events, error: undefined };
  } catch (e) {
    return { events, error: e };
  }
}

const byName = (providers: Provider[], name: string): Provider => {
  const p = providers.find((x) => x.name === name);
  if (!p) throw new Error(`no provider ${name}`);
  return p;
};

describe("createRouting", () => {
  let upstream: Awaited<ReturnType<typeof startFakeUpstream>>;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    // An OpenAI Chat Completions stream, as its API reference shows one.
    upstream.handle((_req, res) => {
      res.writeHead(200, { "content-type": "text/event-stream", "x-request-id": "req-1" });
      res.end(
        'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}\n\n' +
          'data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n' +
          "data: [DONE]\n\n",
      );
    });
  });
  afterAll(() => upstream.close());

  it("serves the simulator, the shortcuts and the file's providers in that order; a file entry replaces a shortcut", () => {
    const r = routing(
      {
        providers: {
          local: { kind: "ollama", baseUrl: "http://127.0.0.1:11434", models: ["llama3.2", "qwen3"], defaultModel: "qwen3" },
          anthropic: { kind: "anthropic", apiKeyEnv: "ANTHROPIC_KEY_FOR_AIRWAVE" },
        },
        aliases: { fast: "anthropic/claude-haiku-4-5" },
      },
      { OPENAI_BASE_URL: "http://127.0.0.1:1/v1", ANTHROPIC_API_KEY: "from-shortcut", ANTHROPIC_KEY_FOR_AIRWAVE: "from-file" },
    );
    expect(r.providers.map((p) => p.name)).toEqual(["simulator", "openai-compatible", "anthropic", "local"]);
    const local = byName(r.providers, "local");
    expect(local.models).toEqual(["llama3.2", "qwen3"]);
    expect(local.defaultModel).toBe("qwen3");
    expect(r.aliases).toEqual({ fast: "anthropic/claude-haiku-4-5" });
    expect(resolveModel("fast", r.providers, r.aliases)).toMatchObject({ model: "claude-haiku-4-5", provider: { name: "anthropic" } });
  });

  it("merges the environment's limits with a provider's own", () => {
    const r = routing(
      { providers: { slow: { kind: "ollama", limits: { firstByteTimeoutMs: 300000, retries: 0 } } } },
      { AIRWAVE_UPSTREAM_IDLE_TIMEOUT_MS: "5000" },
    );
    expect((byName(r.providers, "slow") as HttpProvider).limits).toEqual({
      connectTimeoutMs: 10_000,
      firstByteTimeoutMs: 300_000,
      idleTimeoutMs: 5000,
      totalTimeoutMs: 600_000,
      retries: 0,
      maxRetryAfterMs: 30_000,
    });
  });

  it("reads the key from the variable apiKeyEnv names, sends the configured headers, and streams through createHttpProvider", async () => {
    const r = routing(
      {
        providers: {
          groq: { kind: "openai-chat", baseUrl: `${upstream.baseUrl}/openai/v1`, apiKeyEnv: "GROQ_API_KEY", headers: { "x-team": "t1" } },
        },
      },
      { GROQ_API_KEY: "gsk-test-key" },
    );
    upstream.requests.length = 0;
    const { events, error } = await run(byName(r.providers, "groq"), "llama-3.3-70b-versatile");
    expect(error).toBeUndefined();
    expect(events[0]?.event).toMatchObject({
      case: "started",
      value: { provider: "groq", model: "llama-3.3-70b-versatile", requestId: "req-1" },
    });
    expect(events.at(-1)?.event.case).toBe("completed");
    expect(upstream.requests[0]?.url).toBe("/openai/v1/chat/completions");
    expect(upstream.requests[0]?.headers["authorization"]).toBe("Bearer gsk-test-key");
    expect(upstream.requests[0]?.headers["x-team"]).toBe("t1");
  });

  it("keeps the OPENAI_* shortcut: openai-compatible, kind openai-chat, through createHttpProvider", async () => {
    const r = createRouting(
      loadConfig({ OPENAI_BASE_URL: `${upstream.baseUrl}/v1`, OPENAI_API_KEY: "sk-short", OPENAI_DEFAULT_MODEL: "gpt-x" }),
      { env: {} },
    );
    const p = byName(r.providers, "openai-compatible");
    expect(p.defaultModel).toBe("gpt-x");
    upstream.requests.length = 0;
    const { events } = await run(p, "gpt-x");
    expect(events[0]?.event).toMatchObject({ case: "started", value: { provider: "openai-compatible" } });
    expect(upstream.requests[0]?.headers["authorization"]).toBe("Bearer sk-short");
  });

  it("lists a provider whose key variable is unset, refusing its requests with FAILED_PRECONDITION naming the variable", async () => {
    const r = routing(
      { providers: { anthropic: { kind: "anthropic", apiKeyEnv: "MY_ANTHROPIC_KEY", defaultModel: "claude-haiku-4-5" } } },
      { MY_ANTHROPIC_KEY: " " },
    );
    const p = byName(r.providers, "anthropic");
    expect(p.defaultModel).toBe("claude-haiku-4-5");
    const { events, error } = await run(p, "claude-haiku-4-5");
    expect(events).toEqual([]);
    expect(error).toBeInstanceOf(ConnectError);
    const e = error as ConnectError;
    expect(e.code).toBe(Code.FailedPrecondition);
    expect(e.metadata.get(headerReason)).toBe("UPSTREAM_AUTH");
    expect(e.rawMessage).toContain("MY_ANTHROPIC_KEY is not set");
  });

  it("refuses an alias whose provider is not configured, or that shadows a shortcut provider", () => {
    const e = refusal(() => routing({ aliases: { fast: "anthropic/claude-haiku-4-5" } }));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.rawMessage).toBe(
      'AIRWAVE_PROVIDERS_FILE (/etc/airwave/providers.json): aliases.fast: provider "anthropic" is not configured (configured: simulator)',
    );
    expect(refusal(() => routing({ aliases: { ollama: "simulator/fast" } }, { OLLAMA_HOST: "localhost" })).rawMessage).toContain(
      'aliases.ollama: "ollama" is also a provider name',
    );
  });

  it("names the file when it cannot be read or is invalid", () => {
    const config = loadConfig({ AIRWAVE_PROVIDERS_FILE: "/nonexistent/providers.json" });
    const e = refusal(() => createRouting(config, { env: {} }));
    expect(e.code).toBe(Code.InvalidArgument);
    expect(e.rawMessage).toBe("AIRWAVE_PROVIDERS_FILE (/nonexistent/providers.json): cannot read it (ENOENT)");
    expect(refusal(() => routing({ providers: { o: { kind: "openai-chat", apiKey: "k" } } })).rawMessage).toMatch(
      /^AIRWAVE_PROVIDERS_FILE \(\/etc\/airwave\/providers.json\): providers\.o\.apiKey: keys come only from the environment/,
    );
  });
});
