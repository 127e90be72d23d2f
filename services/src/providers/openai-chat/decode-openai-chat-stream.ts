import type { StreamEvent } from "@airwave/proto";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { adapt } from "../../adapt.js";
import type { ThinkTagOptions } from "../../think-tags.js";
import { transformSseJson } from "../../transform-sse-json.js";
import { createOpenAIChatChunkMapper } from "./map-openai-chat-chunk.js";
import { openaiChatChunkSchema } from "./openai-chat-chunk.js";

/**
 * Bound on one buffered SSE event, in characters: 4 MiB. A longer event errors
 * the stream (`EventSourceParserStream`'s `maxBufferSize` → `ParseError`),
 * which the runtime reports as `failed` UPSTREAM_MALFORMED.
 */
export const maxSseEventChars = 4 * 1024 * 1024;

/** Options of {@link decodeOpenAIChatStream}. */
export interface DecodeOpenAIChatOptions {
  /** Extract `<think>…</think>` from content; off when undefined. */
  readonly thinkTags?: ThinkTagOptions | undefined;
}

/**
 * Decodes a Chat Completions streaming body into airwave.v1 events (without
 * `started`): bytes → `TextDecoderStream` (UTF-8, code points split across
 * chunks are joined) → `EventSourceParserStream` (SSE comment lines such as
 * OpenRouter's `: OPENROUTER PROCESSING` are skipped, CRLF accepted) → JSON
 * per `data` until `[DONE]`, each checked against {@link openaiChatChunkSchema}
 * (`transformSseJson`) → the chunk mapper
 * ({@link createOpenAIChatChunkMapper}). The output does not depend on how
 * the body is split into chunks, and ends with exactly one terminal event
 * unless the body itself errors (network failure, an event over
 * {@link maxSseEventChars}, abort).
 */
export function decodeOpenAIChatStream(body: ReadableStream<Uint8Array>, o: DecodeOpenAIChatOptions = {}): ReadableStream<StreamEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ maxBufferSize: maxSseEventChars }))
    .pipeThrough(transformSseJson(openaiChatChunkSchema))
    .pipeThrough(adapt(createOpenAIChatChunkMapper({ thinkTags: o.thinkTags })));
}
