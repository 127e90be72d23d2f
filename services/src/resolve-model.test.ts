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

  it("refuses an empty model part", () => {
    expect(error("simulator/", [sim]).code).toBe(Code.InvalidArgument);
  });
});
