/**
 * Text and reasoning of the Responses mapper: deltas of message and
 * reasoning items at block index `output_index`, catch-up from `.done`
 * events, and the end of message and reasoning items. @private
 *
 * @see https://platform.openai.com/docs/api-reference/responses-streaming/response/output_text/delta
 * @see https://platform.openai.com/docs/api-reference/responses-streaming/response/reasoning_summary_text/delta
 */
import type { JsonValue } from "@bufbuild/protobuf";
import { ev, type StreamEvent, withExtras } from "@airwave/proto";
import type { OpenAIResponsesChunk, OpenAIResponsesItem } from "./openai-responses-chunk.js";
import { nonEmpty } from "../../chunk-fields.js";
import { item, type ItemState, type OpenAIResponsesState } from "./openai-responses-state.js";

/** Makes the event for a text fragment of item `it`; `first` for the first fragment of its part. */
export type MakeEvent = (text: string, it: ItemState, first: boolean) => StreamEvent;

/** `text_delta` at the item's output index; the item's `phase` goes on its first delta as metadata. */
export const textEvent: MakeEvent = (text, it) => {
  const e = ev.textDelta(text, it.outputIndex);
  if (it.phase !== undefined) {
    withExtras(e, { metadata: { phase: it.phase } });
    it.phase = undefined;
  }
  return e;
};

/** `reasoning_delta` at the item's output index. */
export const reasoningEvent: MakeEvent = (text, it) => ev.reasoningDelta(text, it.outputIndex);

/** `reasoning_delta` of summary part `e.summary_index`; its first fragment carries `summary_index` as metadata. */
export function summaryEvent(e: OpenAIResponsesChunk): MakeEvent {
  return (text, it, first) => {
    const r = ev.reasoningDelta(text, it.outputIndex);
    return first ? withExtras(r, { metadata: { summary_index: e.summary_index ?? 0 } }) : r;
  };
}

/** `response.output_text.delta` → `text_delta`, with its non-empty `logprobs` as metadata. */
export function textDelta(s: OpenAIResponsesState, e: OpenAIResponsesChunk, out: StreamEvent[]): void {
  const logprobs = e.logprobs && e.logprobs.length > 0 ? (e.logprobs as JsonValue) : undefined;
  const make: MakeEvent = (text, it, first) => {
    const t = textEvent(text, it, first);
    return logprobs === undefined ? t : withExtras(t, { metadata: { ...(t.providerMetadata ?? {}), logprobs } });
  };
  emitText(item(s, e, "message"), `t:${e.content_index ?? 0}`, e.delta as string, out, make);
}

/** Emits `text` (when non-empty) as a delta of part `key` of `it`. */
export function emitText(it: ItemState, key: string, text: string, out: StreamEvent[], make: MakeEvent): void {
  if (text === "") return;
  const seen = it.texts.get(key);
  it.texts.set(key, (seen ?? "") + text);
  out.push(make(text, it, seen === undefined));
}

/** Emits what a `.done` event's whole text has beyond what was streamed of part `key`. */
export function catchUp(it: ItemState, key: string, full: string | null | undefined, out: StreamEvent[], make: MakeEvent): void {
  if (!full) return;
  const seen = it.texts.get(key) ?? "";
  if (full.length > seen.length && full.startsWith(seen)) emitText(it, key, full.slice(seen.length), out, make);
}

/** A finished message item: text not streamed yet, refusals, and non-empty `annotations` (kept for the terminal). */
export function messageDone(s: OpenAIResponsesState, it: ItemState, item: OpenAIResponsesItem, out: StreamEvent[]): void {
  item.content?.forEach((part, i) => {
    if (part?.type === "output_text") {
      catchUp(it, `t:${i}`, part.text, out, textEvent);
      const ann = part.annotations;
      if (ann && ann.length > 0) {
        s.annotations.push({ item_id: nonEmpty(item.id) ?? "", content_index: i, annotations: ann as JsonValue });
      }
    }
    if (part?.type === "refusal") {
      if (nonEmpty(part.refusal)) s.refused = true;
      catchUp(it, `r:${i}`, part.refusal, out, textEvent);
    }
  });
}

/** A finished reasoning item: text not streamed yet, then its `encrypted_content` as the signature of an empty `reasoning_delta`. */
export function reasoningDone(it: ItemState, item: OpenAIResponsesItem, out: StreamEvent[]): void {
  for (const [i, p] of (item.summary ?? []).entries()) catchUp(it, `s:${i}`, p?.text, out, summaryEvent({ summary_index: i }));
  for (const [i, p] of (item.content ?? []).entries()) catchUp(it, `c:${i}`, p?.text, out, reasoningEvent);
  const signature = nonEmpty(item.encrypted_content);
  if (signature) {
    const id = nonEmpty(item.id);
    out.push(withExtras(ev.reasoningDelta("", it.outputIndex, signature), { metadata: id ? { id } : undefined }));
  }
}
