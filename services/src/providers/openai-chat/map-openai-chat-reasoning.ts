import { ev, type StreamEvent, withExtras } from "@airwave/proto";
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import type { OpenAIChatDelta } from "./openai-chat-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";

/**
 * Maps the reasoning fields of one delta to `reasoning_delta` events:
 *
 * - `reasoning_content` (vLLM, DeepSeek, xAI, Z.ai, Qwen) or else
 *   `reasoning` (Groq, OpenRouter, newer vLLM) → the text, block 0. vLLM
 *   sends the same text in both fields: only one is used, never both.
 * - `reasoning_details[]` (OpenRouter), block = the entry's `index`:
 *   `reasoning.text` (`text`, `signature`) and `reasoning.summary`
 *   (`summary`) give their text only when the delta had no `reasoning`
 *   string (OpenRouter sends the same text in both), and their `signature`
 *   as an empty-text fragment carrying it; `reasoning.encrypted` (`data`,
 *   opaque) → an empty, `redacted` fragment whose `provider_metadata` is
 *   `{reasoning_details: [<the entry>]}`, so a client can send it back.
 *
 * @see https://docs.vllm.ai/en/latest/features/reasoning_outputs.html
 * @see https://api-docs.deepseek.com/guides/reasoning_model
 * @see https://console.groq.com/docs/reasoning
 * @see https://openrouter.ai/docs/use-cases/reasoning-tokens#reasoning-details-api-shape
 */
export function mapReasoning(delta: OpenAIChatDelta, out: StreamEvent[]): void {
  const text = nonEmpty(delta.reasoning_content) ?? nonEmpty(delta.reasoning);
  if (text) out.push(ev.reasoningDelta(text));
  for (const d of delta.reasoning_details ?? []) {
    if (!d) continue;
    const block = d.index !== null && d.index !== undefined && d.index >= 0 ? d.index : 0;
    const signature = nonEmpty(d.signature) ?? "";
    switch (d.type) {
      case "reasoning.encrypted":
        out.push(withExtras(ev.reasoningDelta("", block, signature, true), { metadata: { reasoning_details: [present(d)] } }));
        break;
      case "reasoning.text":
      case "reasoning.summary": {
        const t = text ? undefined : nonEmpty(d.type === "reasoning.text" ? d.text : d.summary);
        if (t || signature) out.push(ev.reasoningDelta(t ?? "", block, signature));
        break;
      }
      default:
        break;
    }
  }
}

/** The entry as JSON: without the fields the schema read as absent (of another type than documented). */
function present(entry: Readonly<Record<string, unknown>>): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(entry)) if (v !== undefined) out[k] = v as JsonValue;
  return out;
}
