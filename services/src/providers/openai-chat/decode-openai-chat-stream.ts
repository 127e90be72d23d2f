import type { StreamEvent } from "@airwave/proto";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { adapt } from "../../adapt.js";
import { transformSseJson } from "../../transform-sse-json.js";
import { openAIChatChunkMapper } from "./map-openai-chunk.js";

/**
 * Bound on one buffered SSE event, in characters: 4 MiB. A longer event errors
 * the stream (`EventSourceParserStream`'s `maxBufferSize`), which the
 * provider reports as `failed` UPSTREAM_MALFORMED.
 */
export const maxSseEventChars = 4 * 1024 * 1024;

/**
 * Decodes a Chat Completions streaming body into airwave.v1 events (without
 * `started`): bytes → `TextDecoderStream` (UTF-8, code points split across
 * chunks are joined) → `EventSourceParserStream` → JSON per `data` (until
 * `[DONE]`) → {@link openAIChatChunkMapper}. The output does not depend on
 * how the body is split into chunks, and ends with exactly one terminal event
 * unless the body itself errors (network failure, oversized event, abort).
 */
export function decodeOpenAIStream(body: ReadableStream<Uint8Array>): ReadableStream<StreamEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ maxBufferSize: maxSseEventChars }))
    .pipeThrough(transformSseJson())
    .pipeThrough(adapt(openAIChatChunkMapper));
}
