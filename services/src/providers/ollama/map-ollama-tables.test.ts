import { FinishReason } from "@airwave/proto";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { mapOllamaError } from "./map-ollama-error.js";
import { errorBodyMessage } from "../../http-provider/error-body-message.js";
import { mapOllamaFinishReason } from "./map-ollama-finish-reason.js";
import { mapOllamaUsage } from "./map-ollama-usage.js";
import { ollamaChunkSchema } from "./ollama-chunk.js";
import { readOllamaOptions } from "./ollama-options.js";

describe("mapOllamaFinishReason", () => {
  it.each([
    ["stop", false, FinishReason.STOP],
    ["stop", true, FinishReason.TOOL_CALLS],
    ["length", false, FinishReason.LENGTH],
    ["length", true, FinishReason.LENGTH],
    ["load", false, FinishReason.UNSPECIFIED],
    ["unload", false, FinishReason.UNSPECIFIED],
    ["", false, FinishReason.UNSPECIFIED],
  ])("%s (tools called: %s) → %s", (raw, tools, want) => {
    expect(mapOllamaFinishReason(raw, tools)).toBe(want);
  });
});

describe("mapOllamaUsage", () => {
  it("maps prompt_eval_count and eval_count, keeping reported zeros", () => {
    expect(mapOllamaUsage({ done: true, prompt_eval_count: 26, eval_count: 0, eval_duration: 5 })).toEqual({
      inputTokens: 26,
      outputTokens: 0,
    });
  });

  it("leaves unreported counts unset, never 0", () => {
    // Ollama omits prompt_eval_count when the whole prompt came from its cache.
    expect(mapOllamaUsage({ done: true, eval_count: 290 })).toEqual({ outputTokens: 290 });
    expect(mapOllamaUsage({ done: true, prompt_eval_count: null, eval_count: null })).toBeUndefined();
    // A count of the wrong type already reads as absent in the parse stage.
    expect(mapOllamaUsage(ollamaChunkSchema.parse({ done: true, prompt_eval_count: 1.5, eval_count: "3" }))).toBeUndefined();
  });
});

describe("mapOllamaError", () => {
  it.each([
    ["model 'llama9' not found, try pulling it first", Code.NotFound, "UPSTREAM_REJECTED"],
    ["llama3.2 does not support thinking", Code.InvalidArgument, "UPSTREAM_REJECTED"],
    ["invalid options: num_ctx", Code.InvalidArgument, "UPSTREAM_REJECTED"],
    ["server busy, please try again.  maximum pending requests exceeded", Code.Unavailable, "UPSTREAM_OVERLOADED"],
    ["an error was encountered while running the model: unexpected EOF", Code.Unavailable, "UPSTREAM_ERROR"],
    [{ message: "model not found" }, Code.NotFound, "UPSTREAM_REJECTED"],
    [42, Code.Unavailable, "UPSTREAM_ERROR"],
  ])("%j → %s %s", (error, code, reason) => {
    expect(mapOllamaError(error)).toMatchObject({ code, reason });
  });

  it("shows Ollama's message only for errors about the request", () => {
    expect(mapOllamaError("model 'x' not found").message).toContain("model 'x' not found");
    expect(mapOllamaError("runner at /home/secret crashed").message).not.toContain("secret");
  });
});

describe("errorBodyMessage", () => {
  it("reads {error} bodies on one line", () => {
    expect(errorBodyMessage(JSON.stringify({ error: "model 'x' not found" }))).toBe("model 'x' not found");
    expect(errorBodyMessage(JSON.stringify({ error: { message: "a\n b" } }))).toBe("a b");
    expect(errorBodyMessage("not json")).toBeUndefined();
    expect(errorBodyMessage(JSON.stringify({ error: "" }))).toBeUndefined();
  });
});

describe("readOllamaOptions", () => {
  it("defaults to chat without think tags, and reads both options", () => {
    expect(readOllamaOptions(undefined)).toEqual({ api: "chat", thinkTags: false });
    expect(readOllamaOptions({ api: "generate", thinkTags: true })).toEqual({ api: "generate", thinkTags: true });
  });

  it("refuses other values as a configuration error (INTERNAL)", () => {
    expect(() => readOllamaOptions({ api: "embed" })).toThrow(expect.objectContaining({ code: Code.Internal }));
    expect(() => readOllamaOptions({ thinkTags: "yes" })).toThrow(/thinkTags/);
  });
});
