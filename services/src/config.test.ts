import { ConfigError } from "@airwave/proto/server";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";
import { createProviders } from "./create-providers.js";

describe("loadConfig", () => {
  it("has documented defaults", () => {
    expect(loadConfig({})).toEqual({
      host: "127.0.0.1",
      port: 50051,
      simTtftMs: 350,
      simTokensPerS: 40,
      openaiBaseUrl: undefined,
      openaiApiKey: undefined,
      openaiDefaultModel: undefined,
      anthropicApiKey: undefined,
      anthropicBaseUrl: undefined,
      geminiApiKey: undefined,
      ollamaHost: undefined,
      providersFile: undefined,
      upstream: {
        connectTimeoutMs: 10_000,
        firstByteTimeoutMs: 60_000,
        idleTimeoutMs: 60_000,
        totalTimeoutMs: 600_000,
        retries: 2,
        maxRetryAfterMs: 30_000,
      },
    });
  });

  it("reads every variable", () => {
    expect(
      loadConfig({
        AIRWAVE_SERVICES_HOST: "0.0.0.0",
        AIRWAVE_SERVICES_PORT: "0",
        AIRWAVE_SERVICES_METRICS_PORT: "9464",
        AIRWAVE_SIM_TTFT_MS: "0",
        AIRWAVE_SIM_TOKENS_PER_S: "12.5",
        OPENAI_BASE_URL: "http://localhost:11434/v1/",
        OPENAI_API_KEY: "k",
        OPENAI_DEFAULT_MODEL: "llama3.2",
        ANTHROPIC_API_KEY: "ak",
        ANTHROPIC_BASE_URL: "https://proxy.example/anthropic/",
        GEMINI_API_KEY: "gk",
        OLLAMA_HOST: "127.0.0.1:11434",
        AIRWAVE_PROVIDERS_FILE: "/etc/airwave/providers.json",
        AIRWAVE_UPSTREAM_CONNECT_TIMEOUT_MS: "1000",
        AIRWAVE_UPSTREAM_FIRST_BYTE_TIMEOUT_MS: "0",
        AIRWAVE_UPSTREAM_IDLE_TIMEOUT_MS: "5000",
        AIRWAVE_UPSTREAM_TOTAL_TIMEOUT_MS: "120000",
        AIRWAVE_UPSTREAM_RETRIES: "0",
        AIRWAVE_UPSTREAM_MAX_RETRY_AFTER_MS: "2000",
      }),
    ).toEqual({
      host: "0.0.0.0",
      port: 0,
      metricsPort: 9464,
      simTtftMs: 0,
      simTokensPerS: 12.5,
      openaiBaseUrl: "http://localhost:11434/v1",
      openaiApiKey: "k",
      openaiDefaultModel: "llama3.2",
      anthropicApiKey: "ak",
      anthropicBaseUrl: "https://proxy.example/anthropic",
      geminiApiKey: "gk",
      ollamaHost: "http://127.0.0.1:11434",
      providersFile: "/etc/airwave/providers.json",
      upstream: {
        connectTimeoutMs: 1000,
        firstByteTimeoutMs: 0,
        idleTimeoutMs: 5000,
        totalTimeoutMs: 120_000,
        retries: 0,
        maxRetryAfterMs: 2000,
      },
    });
  });

  it.each([
    ["AIRWAVE_SERVICES_PORT", "70000"],
    ["AIRWAVE_SERVICES_PORT", "http"],
    ["AIRWAVE_SERVICES_METRICS_PORT", "65536"],
    ["AIRWAVE_SIM_TTFT_MS", "1.5"],
    ["AIRWAVE_SIM_TOKENS_PER_S", "-1"],
    ["OPENAI_BASE_URL", "localhost:11434"],
    ["ANTHROPIC_BASE_URL", "ftp://x"],
    ["OLLAMA_HOST", "ftp://x"],
    ["AIRWAVE_UPSTREAM_CONNECT_TIMEOUT_MS", "0"],
    ["AIRWAVE_UPSTREAM_IDLE_TIMEOUT_MS", "1.5"],
    ["AIRWAVE_UPSTREAM_TOTAL_TIMEOUT_MS", "-1"],
    ["AIRWAVE_UPSTREAM_RETRIES", "11"],
  ])("refuses %s=%s naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});

describe("createProviders", () => {
  const names = (env: Record<string, string>) => createProviders(loadConfig(env)).map((p) => p.name);
  it("always has the simulator; openai-compatible needs a base URL or a key", () => {
    expect(names({})).toEqual(["simulator"]);
    expect(names({ OPENAI_BASE_URL: "http://localhost:8000/v1" })).toEqual(["simulator", "openai-compatible"]);
    expect(names({ OPENAI_API_KEY: "sk" })).toEqual(["simulator", "openai-compatible"]);
  });
  it("has shortcuts for anthropic, gemini and ollama", () => {
    expect(names({ ANTHROPIC_API_KEY: "a", GEMINI_API_KEY: "g", OLLAMA_HOST: "localhost:11434" })).toEqual([
      "simulator",
      "anthropic",
      "gemini",
      "ollama",
    ]);
  });
});
