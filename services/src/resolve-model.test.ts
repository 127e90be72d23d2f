import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import type { Provider } from "./provider.js";
import { resolveModel } from "./resolve-model.js";

const provider = (name: string, o: Partial<Provider> = {}): Provider => ({
  name,
  async *generate() {},
  ...o,
});
const sim = provider("simulator", { defaultModel: "default", models: ["default", "fast"] });
const open = provider("openai-compatible");

function error(spec: string, providers: Provider[]): ConnectError {
  try {
    resolveModel(spec, providers);
  } catch (e) {
    expect(e).toBeInstanceOf(ConnectError);
    return e as ConnectError;
  }
  throw new Error("expected an error");
}

describe("resolveModel", () => {
  it("resolves <provider>/<model>, keeping slashes in the model", () => {
    expect(resolveModel("simulator/fast", [sim])).toEqual({ provider: sim, model: "fast" });
    expect(resolveModel("openai-compatible/meta-llama/Llama-3.1-8B", [sim, open]).model).toBe("meta-llama/Llama-3.1-8B");
  });

  it("resolves a bare provider name to its default model", () => {
    expect(resolveModel("simulator", [sim])).toEqual({ provider: sim, model: "default" });
    expect(error("openai-compatible", [open]).code).toBe(Code.InvalidArgument);
  });

  it("refuses unknown providers and models with NotFound listing what is available", () => {
    const e = error("acme/x", [sim, open]);
    expect(e.code).toBe(Code.NotFound);
    expect(e.rawMessage).toBe('unknown provider "acme" in model "acme/x"; available providers: simulator, openai-compatible');
    const m = error("simulator/huge", [sim]);
    expect(m.code).toBe(Code.NotFound);
    expect(m.rawMessage).toContain("simulator models: default, fast");
  });

  it("says how to configure a known provider that is not configured", () => {
    const e = error("openai-compatible/gpt-4o-mini", [sim]);
    expect(e.code).toBe(Code.NotFound);
    expect(e.rawMessage).toContain("OPENAI_BASE_URL");
    expect(e.rawMessage).toContain("available providers: simulator");
  });

  it("resolves aliases to their <provider>/<model>", () => {
    const aliases = { fast: "simulator/fast", big: "openai-compatible/gpt-4.1" };
    expect(resolveModel("fast", [sim, open], aliases)).toEqual({ provider: sim, model: "fast" });
    expect(resolveModel("big", [sim, open], aliases)).toEqual({ provider: open, model: "gpt-4.1" });
    // an alias is a bare name only; a provider prefix is never an alias
    expect(resolveModel("simulator/fast", [sim], { simulator: "x/y" }).model).toBe("fast");
  });

  it("refuses an unknown bare name with NotFound listing providers and aliases", () => {
    try {
      resolveModel("fastest", [sim], { fast: "simulator/fast" });
      expect.unreachable();
    } catch (e) {
      expect((e as ConnectError).code).toBe(Code.NotFound);
      expect((e as ConnectError).rawMessage).toBe(
        'unknown provider "fastest" in model "fastest"; available providers: simulator; aliases: fast',
      );
    }
  });

  it("says how to configure the anthropic, gemini and ollama shortcuts", () => {
    expect(error("anthropic/claude-haiku-4-5", [sim]).rawMessage).toContain("ANTHROPIC_API_KEY");
    expect(error("gemini/gemini-2.5-flash", [sim]).rawMessage).toContain("GEMINI_API_KEY");
    expect(error("ollama/llama3.2", [sim]).rawMessage).toContain("OLLAMA_HOST");
  });

  it("refuses an empty model part", () => {
    expect(error("simulator/", [sim]).code).toBe(Code.InvalidArgument);
  });
});
