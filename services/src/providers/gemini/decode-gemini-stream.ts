import type { StreamEvent } from "@airwave/proto";
import { adapt } from "../../adapt.js";
import { frameGeminiSse } from "./frame-gemini-sse.js";
import { geminiChunkMapper } from "./map-gemini-chunk.js";

/**
 * Decodes a Gemini `streamGenerateContent?alt=sse` body (Gemini API or
 * Vertex AI) into airwave.v1 events (without `started`): bytes →
 * `TextDecoderStream` (UTF-8, code points split across chunks are joined) →
 * {@link frameGeminiSse} (SSE via eventsource-parser, plus bare JSON error
 * blocks; each checked against `geminiChunkSchema`) → {@link geminiChunkMapper}. The output does not depend on how the
 * body is split into chunks, and ends with exactly one terminal event unless
 * the body itself errors (network failure, abort) or a frame exceeds its
 * bound (`FramingError`).
 *
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */
export function decodeGeminiStream(body: ReadableStream<Uint8Array>): ReadableStream<StreamEvent> {
  return body.pipeThrough(new TextDecoderStream()).pipeThrough(frameGeminiSse()).pipeThrough(adapt(geminiChunkMapper));
}
