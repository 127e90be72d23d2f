import type { StreamEvent } from "@airwave/proto";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { adapt } from "../../adapt.js";
import { transformSseJson } from "../../transform-sse-json.js";
import { openAIResponsesMapper } from "./map-openai-responses-chunk.js";
import { openaiResponsesChunkSchema } from "./openai-responses-chunk.js";

/**
 * Bound on one buffered SSE event, in characters: 8 MiB (a finished
 * `image_generation_call` carries its base64 image in one event). A longer
 * event errors the stream (`EventSourceParserStream`'s `maxBufferSize`),
 * which the runtime reports as `failed` UPSTREAM_MALFORMED.
 */
export const maxResponsesSseEventChars = 8 * 1024 * 1024;

/**
 * Decodes a Responses API streaming body into airwave.v1 events (without
 * `started`): bytes → `TextDecoderStream` (UTF-8, code points split across
 * chunks are joined) → `EventSourceParserStream` (LF, CRLF; `event:` lines
 * optional) → JSON per `data`, checked against {@link openaiResponsesChunkSchema}
 * (a `data: [DONE]`, which OpenRouter sends, ends the stream) → {@link openAIResponsesMapper}. The output does not depend on
 * how the body is split into chunks, and ends with exactly one terminal event
 * unless the body itself errors (network failure, oversized event, abort).
 *
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */
export function decodeOpenAIResponsesStream(body: ReadableStream<Uint8Array>): ReadableStream<StreamEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ maxBufferSize: maxResponsesSseEventChars }))
    .pipeThrough(transformSseJson(openaiResponsesChunkSchema))
    .pipeThrough(adapt(openAIResponsesMapper));
}
