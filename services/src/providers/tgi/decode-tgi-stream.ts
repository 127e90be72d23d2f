import type { StreamEvent } from "@airwave/proto";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { adapt } from "../../adapt.js";
import { transformSseJson } from "../../transform-sse-json.js";
import { tgiChunkMapper } from "./map-tgi-chunk.js";
import { tgiStreamEventSchema } from "./tgi-chunk.js";

/**
 * Bound on one buffered SSE event, in characters: 4 MiB. TGI's events are
 * one token each, the last one adding the generated text (and, with `return_full_text`, the prompt), so a longer event
 * is not TGI's: it errors the stream (`EventSourceParserStream`'s
 * `maxBufferSize`), which the runtime reports as `failed` UPSTREAM_MALFORMED.
 */
export const maxTgiEventChars = 4 * 1024 * 1024;

/**
 * Decodes a TGI `/generate_stream` body into airwave.v1 events (without
 * `started`): bytes → `TextDecoderStream` (UTF-8, code points split across
 * chunks are joined) → `EventSourceParserStream` (`data:` with or without a
 * space, LF or CRLF) → each `data` parsed and checked by
 * `tgiStreamEventSchema` (`transformSseJson`) → {@link tgiChunkMapper}.
 * The output does not depend on how the body is split into chunks, and ends
 * with exactly one terminal event unless the body itself errors (network
 * failure, oversized event, abort).
 *
 * @see https://huggingface.github.io/text-generation-inference/#/Text%20Generation%20Inference/generate_stream
 */
export function decodeTgiStream(body: ReadableStream<Uint8Array>): ReadableStream<StreamEvent> {
  return body
    .pipeThrough(new TextDecoderStream())
    .pipeThrough(new EventSourceParserStream({ maxBufferSize: maxTgiEventChars }))
    .pipeThrough(transformSseJson(tgiStreamEventSchema))
    .pipeThrough(adapt(tgiChunkMapper));
}
