import { ev, type StreamEvent, withExtras } from "@airwave/proto";
import { flushThinkTags, splitThinkTags, type ThinkPiece, type ThinkTagState } from "../../think-tags.js";
import type { OpenAIChatDelta } from "./openai-chat-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";

/**
 * Maps the answer fields of one delta:
 *
 * - `content` as a string → `text_delta`; as an array of parts (Mistral
 *   magistral) → `text_delta` for `{type: "text", text}` and
 *   `reasoning_delta` for `{type: "thinking", thinking: [{type: "text", text}] | string}`;
 * - with `think` state (endpoint option `thinkTags`), the text goes through
 *   {@link splitThinkTags}: `<think>…</think>` becomes `reasoning_delta`, the
 *   rest `text_delta`, the tags dropped;
 * - `refusal` → `text_delta` too (the refusal is the answer the user sees),
 *   marked with `provider_metadata` `{refusal: true}`; returns true then.
 *
 * Empty strings give nothing (role-only first chunks).
 *
 * @returns whether the delta carried refusal text.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming#chat-streaming/streaming-choices-delta
 * @see https://docs.mistral.ai/capabilities/reasoning/
 */
export function mapContent(delta: OpenAIChatDelta, think: ThinkTagState | undefined, out: StreamEvent[]): boolean {
  const c = delta.content;
  if (typeof c === "string") pushText(c, think, out);
  else if (c) {
    for (const p of c) {
      if (p?.type === "text" && p.text) pushText(p.text, think, out);
      if (p?.type === "thinking") {
        const t = p.thinking;
        const text = typeof t === "string" ? t : t ? t.map((x) => String(x?.text ?? "")).join("") : "";
        if (text !== "") out.push(ev.reasoningDelta(text));
      }
    }
  }
  const refusal = nonEmpty(delta.refusal);
  if (refusal) out.push(withExtras(ev.textDelta(refusal), { metadata: { refusal: true } }));
  return refusal !== undefined;
}

/** Ends a choice's text: the text held by the think-tag splitter (a possible tag start) is emitted. */
export function flushContent(think: ThinkTagState | undefined, out: StreamEvent[]): void {
  if (think) out.push(...flushThinkTags(think).map(toEvent));
}

function pushText(text: string, think: ThinkTagState | undefined, out: StreamEvent[]): void {
  if (text === "") return;
  if (!think) out.push(ev.textDelta(text));
  else out.push(...splitThinkTags(think, text).map(toEvent));
}

function toEvent(p: ThinkPiece): StreamEvent {
  return p.reasoning ? ev.reasoningDelta(p.text) : ev.textDelta(p.text);
}
