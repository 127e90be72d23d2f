import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { asRecord } from "../../json-shape.js";
import type { OpenAIChatUsage } from "./openai-chat-chunk.js";

/**
 * Provider extras of a Chat Completions stream that have no event field of
 * their own, kept in `provider_metadata` under the provider's own field
 * names, and only when present (not null, not `""`, not `[]`, not an object
 * of only such values):
 *
 * | where | fields | goes to |
 * |---|---|---|
 * | `choices[]` | `logprobs` (OpenAI, vLLM), `content_filter_results` (Azure, Novita), `stop_reason`, `token_ids` (vLLM, Nebius), `native_finish_reason` (OpenRouter) | the events of that choice from that chunk (see the mapper) |
 * | `choices[].delta` | `token_id` (Together) | likewise |
 * | chunk | `system_fingerprint`, `service_tier`, `provider` (OpenRouter), `moderation` (OpenAI), `prompt_filter_results` (Azure), `prompt_token_ids` (vLLM), `citations`, `search_results` (Perplexity) | the terminal event (the last value of each) |
 * | `usage` | every field besides the mapped counts: `cost`, `cost_details`, `is_byok` (OpenRouter), `queue_time`, `total_time`, … (Groq), `num_sources_used`, `cost_in_usd_ticks` (xAI), `prompt_cache_miss_tokens` (DeepSeek) | the `usage` event, under `usage` |
 *
 * Dropped on purpose: `obfuscation` (OpenAI: random padding against
 * token-length side channels, it carries no information), `id`, `object`,
 * `created`, `model` (the `started` event names the model), Together's
 * duplicate `choices[].text` and `seed`, Groq's `x_groq.id` and
 * `delta.channel` (gpt-oss's `analysis` channel is what `reasoning` already says).
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 * @see https://learn.microsoft.com/azure/ai-foundry/openai/concepts/content-filter
 * @see https://docs.vllm.ai/en/latest/serving/openai_compatible_server.html
 * @see https://openrouter.ai/docs/api-reference/streaming
 */
export const openAIChatMetadataFields = {
  choice: ["logprobs", "content_filter_results", "stop_reason", "token_ids", "native_finish_reason"],
  delta: ["token_id"],
  chunk: [
    "system_fingerprint",
    "service_tier",
    "provider",
    "moderation",
    "prompt_filter_results",
    "prompt_token_ids",
    "citations",
    "search_results",
  ],
} as const;

/** Usage fields that become `UsageInit` counts (or are derived from them), so are not repeated as metadata. */
const mappedUsageFields = new Set([
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "prompt_tokens_details",
  "completion_tokens_details",
  "prompt_cache_hit_tokens",
]);

/** The extras of one choice entry of a chunk (its own fields and its delta's); undefined when none is present. */
export function choiceMetadata(
  choice: Readonly<Record<string, unknown>>,
  delta: Readonly<Record<string, unknown>>,
): JsonObject | undefined {
  return pick(delta, openAIChatMetadataFields.delta, pick(choice, openAIChatMetadataFields.choice));
}

/** The chunk-level extras of one chunk; undefined when none is present. */
export function chunkMetadata(chunk: Readonly<Record<string, unknown>>): JsonObject | undefined {
  return pick(chunk, openAIChatMetadataFields.chunk);
}

/** `{usage: {…}}` with the usage object's fields that are not mapped counts; undefined when there are none. */
export function usageMetadata(u: OpenAIChatUsage | null | undefined): JsonObject | undefined {
  if (!u) return undefined;
  const extra: JsonObject = {};
  for (const [k, v] of Object.entries(u)) if (!mappedUsageFields.has(k) && isPresent(v)) extra[k] = v as JsonValue;
  return Object.keys(extra).length > 0 ? { usage: extra } : undefined;
}

/** Merges `b` into `a` (later keys win); undefined when both are. */
export function mergeMetadata(a: JsonObject | undefined, b: JsonObject | undefined): JsonObject | undefined {
  if (!a) return b;
  if (!b) return a;
  return { ...a, ...b };
}

/** True for a value worth keeping: not null/undefined, `""`, `[]`, or an object of only such values. */
export function isPresent(v: unknown): boolean {
  if (v === null || v === undefined || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  const r = asRecord(v);
  return r ? Object.values(r).some(isPresent) : true;
}

function pick(from: Readonly<Record<string, unknown>>, keys: readonly string[], into?: JsonObject): JsonObject | undefined {
  let out = into;
  for (const k of keys) {
    const v = from[k];
    if (isPresent(v)) (out ??= {})[k] = v as JsonValue;
  }
  return out;
}
