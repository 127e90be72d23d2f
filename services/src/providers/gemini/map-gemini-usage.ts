import type { UsageInit } from "@airwave/proto";
import { asRecord } from "./gemini-chunk.js";

/**
 * Maps a Gemini `usageMetadata` object to token counts:
 *
 * | upstream | UsageInit |
 * |---|---|
 * | `promptTokenCount` + `toolUsePromptTokenCount` | inputTokens (so input + output = `totalTokenCount`) |
 * | `candidatesTokenCount` + `thoughtsTokenCount` | outputTokens (Gemini counts thoughts apart; Airwave's output includes reasoning) |
 * | `thoughtsTokenCount` | reasoningTokens |
 * | `cachedContentTokenCount` | cachedInputTokens (part of `promptTokenCount`) |
 *
 * A sum is set when at least one of its terms was reported; a count the
 * upstream did not report at all (absent, null, not a non-negative integer
 * below 2^32) stays unset, never 0. Returns undefined when `usage` is not an
 * object or reports no count (e.g. Vertex's early `{"trafficType": …}`).
 *
 * @see https://ai.google.dev/api/generate-content#UsageMetadata
 */
export function mapGeminiUsage(usage: unknown): UsageInit | undefined {
  const u = asRecord(usage);
  if (!u) return undefined;
  const count = (k: string): number | undefined => {
    const v = u[k];
    return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
  };
  const sum = (a: number | undefined, b: number | undefined) =>
    a === undefined && b === undefined ? undefined : Math.min((a ?? 0) + (b ?? 0), 0xffffffff);
  const thoughts = count("thoughtsTokenCount");
  const out: UsageInit = {};
  const input = sum(count("promptTokenCount"), count("toolUsePromptTokenCount"));
  const output = sum(count("candidatesTokenCount"), thoughts);
  const cached = count("cachedContentTokenCount");
  if (input !== undefined) out.inputTokens = input;
  if (output !== undefined) out.outputTokens = output;
  if (thoughts !== undefined) out.reasoningTokens = thoughts;
  if (cached !== undefined) out.cachedInputTokens = cached;
  return Object.keys(out).length > 0 ? out : undefined;
}
