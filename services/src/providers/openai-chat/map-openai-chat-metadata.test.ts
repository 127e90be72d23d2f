import { describe, expect, it } from "vitest";
import { choiceMetadata, chunkMetadata, isPresent, mergeMetadata, usageMetadata } from "./map-openai-chat-metadata.js";

describe("openai-chat metadata", () => {
  it("keeps only present values", () => {
    expect([null, undefined, "", [], {}, { content: [], refusal: null }].map(isPresent)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect([0, false, "x", [1], { a: { b: 1 } }].map(isPresent)).toEqual([true, true, true, true, true]);
  });

  it("picks a choice's and its delta's extras by the provider's field names", () => {
    const choice = {
      index: 0,
      finish_reason: null,
      logprobs: null,
      stop_reason: 7,
      content_filter_results: { hate: { filtered: true, severity: "high" } },
    };
    expect(choiceMetadata(choice, { content: "x", token_id: 9, role: "assistant" })).toEqual({
      stop_reason: 7,
      content_filter_results: { hate: { filtered: true, severity: "high" } },
      token_id: 9,
    });
    expect(choiceMetadata({ index: 0, text: "dup", seed: null }, {})).toBeUndefined();
  });

  it("keeps chunk extras but drops obfuscation and identifiers", () => {
    expect(chunkMetadata({ id: "c", model: "m", obfuscation: "pad", system_fingerprint: "fp", moderation: { flagged: false } })).toEqual({
      system_fingerprint: "fp",
      moderation: { flagged: false },
    });
    expect(chunkMetadata({ id: "c", system_fingerprint: null, service_tier: "" })).toBeUndefined();
  });

  it("keeps the usage fields that are not counts", () => {
    expect(usageMetadata({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, cost: 0.5, cost_details: { x: null } })).toEqual({
      usage: { cost: 0.5 },
    });
    expect(usageMetadata({ prompt_tokens: 1, prompt_tokens_details: { cached_tokens: 0 } })).toBeUndefined();
    expect(usageMetadata(null)).toBeUndefined();
  });

  it("merges with the later keys winning", () => {
    expect(mergeMetadata({ a: 1, b: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
    expect(mergeMetadata(undefined, undefined)).toBeUndefined();
  });
});
