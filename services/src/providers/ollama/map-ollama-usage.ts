import type { UsageInit } from "@airwave/proto";
import type { OllamaChunk } from "./ollama-chunk.js";

/**
 * Maps the counts of Ollama's last line (`done: true`) to token counts:
 *
 * | upstream | UsageInit |
 * |---|---|
 * | `prompt_eval_count` | inputTokens |
 * | `eval_count` | outputTokens |
 *
 * A count Ollama did not report (absent, null — e.g. `prompt_eval_count`
 * when the whole prompt came from its cache —, not a non-negative integer
 * below 2^32) stays unset, never 0; a reported 0 stays 0. Returns undefined
 * when no count was reported.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#response
 */
export function mapOllamaUsage(chunk: OllamaChunk): UsageInit | undefined {
  const out: UsageInit = {};
  const set = (k: keyof UsageInit, v: number | null | undefined) => {
    if (v != null && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) out[k] = v;
  };
  set("inputTokens", chunk.prompt_eval_count);
  set("outputTokens", chunk.eval_count);
  return Object.keys(out).length > 0 ? out : undefined;
}
