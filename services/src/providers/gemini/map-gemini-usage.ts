import type { UsageInit } from "@airwave/proto";
import { geminiUsageMetadataSchema } from "./gemini-chunk.js";

/** `usageMetadata` read for its counts; anything but an object reads as no usage. */
const usageSchema = geminiUsageMetadataSchema.nullish().catch(undefined);

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
 * The object is read through `geminiUsageMetadataSchema` (the chunk keeps
 * it as sent, for the terminal's `provider_metadata`). A sum is set
 * when at least one of its terms was reported; a count the upstream did not
 * report at all (absent, null, not a non-negative integer below 2^32) stays
 * unset, never 0. Returns undefined when `usage` is not an object or reports
 * no count (e.g. Vertex's early `{"trafficType": …}`).
 *
 * @see https://ai.google.dev/api/generate-content#UsageMetadata
 */
export function mapGeminiUsage(usage: unknown): UsageInit | undefined {
  const u = usageSchema.parse(usage);
  if (!u) return undefined;
  const count = (v: number | null | undefined): number | undefined =>
    v != null && Number.isInteger(v) && v >= 0 && v <= 0xffffffff ? v : undefined;
  const sum = (a: number | undefined, b: number | undefined) =>
    a === undefined && b === undefined ? undefined : Math.min((a ?? 0) + (b ?? 0), 0xffffffff);
  const thoughts = count(u.thoughtsTokenCount);
  const out: UsageInit = {};
  const input = sum(count(u.promptTokenCount), count(u.toolUsePromptTokenCount));
  const output = sum(count(u.candidatesTokenCount), thoughts);
  const cached = count(u.cachedContentTokenCount);
  if (input !== undefined) out.inputTokens = input;
  if (output !== undefined) out.outputTokens = output;
  if (thoughts !== undefined) out.reasoningTokens = thoughts;
  if (cached !== undefined) out.cachedInputTokens = cached;
  return Object.keys(out).length > 0 ? out : undefined;
}
