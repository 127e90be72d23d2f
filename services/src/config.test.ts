import { Code, ConnectError } from "@connectrpc/connect";
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
    });
  });

  it("reads every variable", () => {
    expect(
      loadConfig({
        AIRWAVE_SERVICES_HOST: "0.0.0.0",
        AIRWAVE_SERVICES_PORT: "0",
        AIRWAVE_SIM_TTFT_MS: "0",
        AIRWAVE_SIM_TOKENS_PER_S: "12.5",
        OPENAI_BASE_URL: "http://localhost:11434/v1/",
        OPENAI_API_KEY: "k",
        OPENAI_DEFAULT_MODEL: "llama3.2",
      }),
    ).toEqual({
      host: "0.0.0.0",
      port: 0,
      simTtftMs: 0,
      simTokensPerS: 12.5,
      openaiBaseUrl: "http://localhost:11434/v1",
      openaiApiKey: "k",
      openaiDefaultModel: "llama3.2",
    });
  });

  it.each([
    ["AIRWAVE_SERVICES_PORT", "70000"],
    ["AIRWAVE_SERVICES_PORT", "http"],
    ["AIRWAVE_SIM_TTFT_MS", "1.5"],
    ["AIRWAVE_SIM_TOKENS_PER_S", "-1"],
    ["OPENAI_BASE_URL", "localhost:11434"],
  ])("refuses %s=%s naming the variable", (name, value) => {
    try {
      loadConfig({ [name]: value });
      expect.unreachable();
    } catch (e) {
      expect((e as ConnectError).code).toBe(Code.InvalidArgument);
      expect((e as ConnectError).rawMessage).toContain(name);
    }
  });
});

describe("createProviders", () => {
  const names = (env: Record<string, string>) => createProviders(loadConfig(env)).map((p) => p.name);
  it("always has the simulator; openai-compatible needs a base URL or a key", () => {
    expect(names({})).toEqual(["simulator"]);
    expect(names({ OPENAI_BASE_URL: "http://localhost:8000/v1" })).toEqual(["simulator", "openai-compatible"]);
    expect(names({ OPENAI_API_KEY: "sk" })).toEqual(["simulator", "openai-compatible"]);
  });
});
